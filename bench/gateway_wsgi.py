"""The WSGI entry point every benchmarked server imports: the gateway's real paste pipeline.

``bench/wsgi_servers.py`` starts each candidate server with this folder on ``PYTHONPATH`` and
the target ``gateway_wsgi:application``.  The module does in each worker process what
``cfn-gateway serve`` does: fill ``CONF`` (data folder, paste file), send the
``cfn_gateway`` loggers to stderr at the level production uses (INFO, so the access log line
of every request is written, as in production), then build the pipeline with
``cfn_gateway.cmd.serve.load_pipeline`` (``paste.deploy.loadapp`` on ``api-paste.ini``).

Environment (set by the benchmark):

- ``CFN_BENCH_DATA_DIR``      the server's own temporary data folder (required);
- ``CFN_BENCH_PASTE_CONFIG``  another paste file (default: the one shipped with the gateway);
- ``CFN_BENCH_LOG_LEVEL``     level of the ``cfn_gateway`` loggers (default ``INFO``).

Every server is configured to import this module in its workers, after the fork (gunicorn
without ``--preload``, granian's worker processes, uWSGI ``--lazy-apps``), so no SQLite
connection crosses a fork.  As a safety net the pipeline is rebuilt if the process id ever
differs from the one that built it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from cfn_gateway.cmd.serve import load_pipeline
from cfn_gateway.common.logs import LOG_FORMAT, OneLineFormatter
from cfn_gateway.config import CONF

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def configure() -> None:
    """Fill ``CONF`` and the log handlers the way ``cfn-gateway serve`` does."""
    data_dir = os.environ["CFN_BENCH_DATA_DIR"]
    CONF([], project="cfn-gateway", default_config_files=[])
    CONF.set_override("data_dir", data_dir)
    paste_config = os.environ.get("CFN_BENCH_PASTE_CONFIG")
    if paste_config:
        CONF.set_override("api_paste_config", paste_config)
    # One explicit handler, so that the result does not depend on whether the server has
    # already configured the root logger (granian does, gunicorn and uWSGI do not).
    logger = logging.getLogger("cfn_gateway")
    logger.handlers[:] = []
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(os.environ.get("CFN_BENCH_LOG_LEVEL", "INFO").upper())
    logger.propagate = False


class PerProcessPipeline:
    """The paste pipeline, built once per process (rebuilt if used after a fork)."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._app: WSGIApp = load_pipeline()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._app = load_pipeline()
        return self._app(environ, start_response)


configure()
application = PerProcessPipeline()
