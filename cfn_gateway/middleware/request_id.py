"""Paste filter ``request_id``: gives every request an id.

The id is stored at ``environ[ENV_REQUEST_ID]`` and returned in the ``x-amzn-RequestId``
header (what botocore reads into ``ResponseMetadata.RequestId``).
"""

from __future__ import annotations

import os
from typing import Any

from cfn_gateway.context import ENV_REQUEST_ID
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp


def new_request_id() -> str:
    """A random (version 4) UUID in its usual text form; ``str(uuid.uuid4())`` makes a UUID
    object first and takes twice as long."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class RequestId:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        request_id = new_request_id()
        environ[ENV_REQUEST_ID] = request_id

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            headers = [h for h in headers if h[0].lower() != "x-amzn-requestid"]
            headers.append(("x-amzn-RequestId", request_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_id)


def filter_factory(global_conf: dict, **local_conf: str):
    return RequestId
