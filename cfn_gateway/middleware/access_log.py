"""Paste filter ``access_log``: one log line per request.

The line names the request id, the tenant (project), service, action, HTTP status and
latency, so that an operator can follow one client call through the logs.  Every field is
one printable token whatever the client sent: spaces, ``%``, control and non-ASCII
characters are percent-encoded (a path holding ``%0a`` and a fake log line stays on this
request's line, and ``%1b[31m`` reaches no terminal raw).  A request whose write commits
after the pipeline returned (``common.deferral``) gets its line once the commit is done,
with the status it is answered and a latency that includes the commit.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from cfn_gateway.common import deferral
from cfn_gateway.context import ENV_AWS_REQUEST, ENV_IDENTITY, ENV_REQUEST_ID
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp

LOG = logging.getLogger("cfn_gateway.access")
_NOT_PRINTABLE_TOKEN = re.compile(r"[^\x21-\x24\x26-\x7e]+")


def log_field(value: object) -> str:
    """``value`` as one printable, space-free token (``-`` when empty)."""
    text = str(value)
    if not text:
        return "-"
    return _NOT_PRINTABLE_TOKEN.sub(_percent_encoded, text)


def _percent_encoded(match: re.Match[str]) -> str:
    text = match.group()
    try:
        raw = text.encode("latin-1")  # WSGI strings carry the request's bytes as latin-1
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return "".join(f"%{byte:02X}" for byte in raw)


class AccessLog:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        started = time.perf_counter()
        status_seen: list[str] = []

        def recording_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            status_seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording_start)
        finally:
            def log(error: BaseException | None = None) -> None:
                self._log(environ, status_seen[-1] if status_seen else "-", started)

            deferred = deferral.current()
            if deferred is not None and deferred.waiting:  # answered once committed
                deferred.when_settled(log)
            else:
                log()

    @staticmethod
    def _log(environ: Environ, status: str, started: float) -> None:
        aws_request = environ.get(ENV_AWS_REQUEST)
        identity = environ.get(ENV_IDENTITY)
        LOG.info(
            "request_id=%s tenant=%s service=%s action=%s protocol=%s status=%s "
            "latency_ms=%.1f method=%s path=%s",
            # id, service, action, protocol and status are the gateway's own tokens (an
            # action is a name of the model); the rest comes from outside.
            environ.get(ENV_REQUEST_ID, "-"),
            log_field(identity.project_id if identity else "-"),
            aws_request.service if aws_request else "-",
            aws_request.operation if aws_request else "-",
            aws_request.protocol if aws_request else "-",
            status,
            (time.perf_counter() - started) * 1000.0,
            log_field(environ.get("REQUEST_METHOD", "-")),
            log_field(environ.get("PATH_INFO", "-")),
        )


def filter_factory(global_conf: dict, **local_conf: str):
    return AccessLog
