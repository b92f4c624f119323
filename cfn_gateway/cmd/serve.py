"""``cfn-gateway serve``: the paste pipeline under gunicorn.

gunicorn was chosen by measurement (see bench/wsgi_servers.py).  Each worker builds its own
pipeline after the fork, so no SQLite connection is shared between processes.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from gunicorn.app.base import BaseApplication
from paste.deploy import loadapp

from cfn_gateway.config import CONF

LOG = logging.getLogger("cfn_gateway")
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"


def paste_config_path() -> str:
    return CONF.api_paste_config or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api-paste.ini"
    )


def load_pipeline() -> Any:
    return loadapp("config:" + paste_config_path(), name="main")


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)


def startup_message() -> str:
    data_dir = os.path.abspath(CONF.data_dir)
    return (
        f"cfn-gateway ({CONF.mode}) listening on http://{CONF.host}:{CONF.port}/ "
        f"with {CONF.workers} workers: CloudWatch 2010-08-01 (Query, JSON, RPC v2 CBOR) and "
        f"Auto Scaling 2011-01-01 (Query); data in {data_dir}. Health check: "
        f"GET /healthcheck. Credentials: cfn-gateway credentials create --project NAME "
        f"--data-dir {data_dir} --json"
    )


class GatewayServer(BaseApplication):
    def __init__(self) -> None:
        self.options = {
            "bind": f"{CONF.host}:{CONF.port}",
            "workers": CONF.workers,
            "worker_class": "sync",
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "when_ready": lambda server: LOG.info("%s", startup_message()),
            "post_fork": lambda server, worker: setup_logging(),
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return load_pipeline()


def serve() -> int:
    setup_logging()
    os.makedirs(CONF.data_dir, exist_ok=True)
    GatewayServer().run()
    return 0
