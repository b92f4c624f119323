"""``cfn-gateway serve``: the paste pipeline under granian.

granian was chosen by measurement (bench/wsgi_servers.py, results in bench/README.md): a
third of gunicorn's server CPU per request, keep-alive without pinning a worker, and the
only candidate that kept serving while clients stalled in their headers.  One Python
thread per worker by default (more threads hurt tail latency on the SQLite write path);
OpenStack mode, where requests wait on Keystone and Gnocchi, defaults to more threads.

Each worker builds its own pipeline after the fork (``factory=True``), so no SQLite
connection or HTTP session crosses processes.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from paste.deploy import loadapp

from cfn_gateway.cmd import preflight
from cfn_gateway.common.logs import setup_logging
from cfn_gateway.config import CONF

LOG = logging.getLogger("cfn_gateway")
# How a worker that did not inherit CONF (a spawned, not forked, process) rebuilds it.
CONF_ENV = "CFN_GATEWAY_SERVE_CONF"
THREADS_BY_MODE = {"standalone": 1, "openstack": 8}
SERVE_OPTIONS = ("host", "port", "workers", "threads", "data_dir")
_conf_loaded = False  # true in serve()'s process and in the workers it forks


def paste_config_path() -> str:
    return CONF.api_paste_config or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api-paste.ini"
    )


def load_pipeline() -> Any:
    return loadapp("config:" + paste_config_path(), name="main")


def worker_app() -> Any:
    """granian's factory: the pipeline, built inside the worker process."""
    setup_logging()
    if not _conf_loaded and CONF_ENV in os.environ:
        saved = json.loads(os.environ[CONF_ENV])
        CONF([], project="cfn-gateway", default_config_files=saved["config_files"])
        for option, value in saved["overrides"].items():
            CONF.set_override(option, value)
    return load_pipeline()


def worker_threads() -> int:
    return CONF.threads or THREADS_BY_MODE[CONF.mode]


def startup_message() -> str:
    data_dir = os.path.abspath(CONF.data_dir)
    return (
        f"cfn-gateway ({CONF.mode}) listening on http://{CONF.host}:{CONF.port}/ "
        f"with {CONF.workers} workers x {worker_threads()} threads: CloudWatch 2010-08-01 "
        f"(Query, JSON, RPC v2 CBOR) and Auto Scaling 2011-01-01 (Query); data in {data_dir}. "
        f"Health check: GET /healthcheck. Credentials: cfn-gateway credentials create "
        f"--project NAME --data-dir {data_dir} --json"
    )


def serve() -> int:
    from granian import Granian
    from granian.constants import Interfaces

    global _conf_loaded
    _conf_loaded = True
    setup_logging()
    try:
        preflight.check()
    except preflight.StartupError as problem:
        LOG.error("cfn-gateway cannot start in %s mode: %s", CONF.mode, problem)
        return 2
    os.environ[CONF_ENV] = json.dumps({
        "config_files": list(CONF.config_file or []),
        "overrides": {option: CONF[option] for option in SERVE_OPTIONS},
    })
    LOG.info("%s", startup_message())
    Granian(
        "cfn_gateway.cmd.serve:worker_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=CONF.host,
        port=CONF.port,
        workers=CONF.workers,
        blocking_threads=worker_threads(),
        respawn_failed_workers=True,
        workers_kill_timeout=10,
        log_level="warning",
        log_access=False,
    ).serve()
    return 0
