"""Paste filter ``faultwrap``: the one place where errors become HTTP responses.

An ``AWSError`` raised anywhere inside is rendered in the request's own protocol (what the
route filter learnt of service and protocol; Query XML for CloudWatch when it learnt
nothing).  Any other exception is logged with its traceback and answered as
``InternalFailure`` (500) with a generic message: no traceback leaves the process.  So is
the failure of a write that commits after the pipeline returned (``common.deferral``):
the answer then replaces the one the inner layers gave.
"""

from __future__ import annotations

import logging
from typing import Any

from cfn_gateway.common import deferral
from cfn_gateway.context import (
    CLOUDWATCH,
    ENV_PROTOCOL_HINT,
    ENV_REQUEST_ID,
    QUERY,
    ProtocolHint,
)
from cfn_gateway.errors import AWSError, InternalFailure
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp, reply
from cfn_gateway.protocol import HTTPReply, render_error

LOG = logging.getLogger(__name__)

DEFAULT_HINT = ProtocolHint(service=CLOUDWATCH, protocol=QUERY)


class FaultWrap:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        try:
            # Inner layers return complete bodies (lists); materialising keeps errors
            # raised while iterating inside this try.
            result = list(self.app(environ, start_response))
        except Exception as exc:
            http = _error_reply(environ, exc)
            return reply(start_response, http.status, http.headers, http.body)
        deferred = deferral.current()
        if deferred is not None and deferred.waiting:
            # A write of the request commits later: should it fail, that is the answer.
            def failed(error: BaseException | None) -> None:
                if error is not None:
                    http = _error_reply(environ, error)
                    deferred.answer = b"".join(
                        reply(start_response, http.status, http.headers, http.body))
            deferred.when_settled(failed)
        return result


def _error_reply(environ: Environ, exc: BaseException) -> HTTPReply:
    """``exc`` in the request's protocol (any error but an AWS one: InternalFailure)."""
    request_id = environ.get(ENV_REQUEST_ID, "")
    if isinstance(exc, AWSError):
        error = exc
    else:
        LOG.error("unhandled error in request %s", request_id, exc_info=exc)
        error = InternalFailure("An internal error occurred.")
    hint = environ.get(ENV_PROTOCOL_HINT) or DEFAULT_HINT
    try:
        return render_error(hint.service, hint.protocol, error, request_id)
    except Exception:
        LOG.exception("could not render %s for request %s", error.code, request_id)
        return render_error(CLOUDWATCH, QUERY, InternalFailure("An internal error "
                                                               "occurred."), request_id)


def filter_factory(global_conf: dict, **local_conf: str):
    return FaultWrap
