"""Paste filter ``healthcheck``: answers ``GET /healthcheck`` for load balancers.

It answers 200 with ``OK`` when the process serves requests; no signature is needed.
"""

from __future__ import annotations

from typing import Any

from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp, reply

HEALTHCHECK_PATH = "/healthcheck"


class HealthCheck:
    def __init__(self, app: WSGIApp, path: str = HEALTHCHECK_PATH) -> None:
        self.app = app
        self.path = path

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        if environ.get("PATH_INFO") == self.path and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            body = b"" if environ["REQUEST_METHOD"] == "HEAD" else b"OK\n"
            return reply(start_response, 200, [("Content-Type", "text/plain")], body)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict, **local_conf: str):
    path = local_conf.get("path", HEALTHCHECK_PATH)
    return lambda app: HealthCheck(app, path)
