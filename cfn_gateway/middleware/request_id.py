"""Paste filter ``request_id``: gives every request an id.

The id is stored at ``environ[ENV_REQUEST_ID]`` and returned in the ``x-amzn-RequestId``
header (what botocore reads into ``ResponseMetadata.RequestId``).
"""

from __future__ import annotations

import uuid
from typing import Any

from cfn_gateway.context import ENV_REQUEST_ID
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp


class RequestId:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        request_id = str(uuid.uuid4())
        environ[ENV_REQUEST_ID] = request_id

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            headers = [h for h in headers if h[0].lower() != "x-amzn-requestid"]
            headers.append(("x-amzn-RequestId", request_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_id)


def filter_factory(global_conf: dict, **local_conf: str):
    return RequestId
