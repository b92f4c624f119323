"""Requests signed by real clients (botocore, boto 2.49), as the gateway receives them.

Each helper signs with the client's own code and turns what would go on the wire (method,
request target, headers including the Host header the HTTP library adds, body) into the
``AWSRequest`` the route filter would hand to ec2auth.
"""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto.auth
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session
from boto.connection import HTTPRequest
from botocore.config import Config

from cfn_gateway.context import CBOR, CLOUDWATCH, JSON, QUERY, AWSRequest

REGION = "us-east-1"


def to_aws_request(
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    protocol: str = QUERY,
    service: str = CLOUDWATCH,
) -> AWSRequest:
    """What the route filter makes of one HTTP request (``target`` = path?query as sent)."""
    path, _, query_string = target.partition("?")
    headers = {name.lower(): value for name, value in headers.items()}
    payload = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if protocol == QUERY and payload and content_type in ("", "application/x-www-form-urlencoded"):
        params.update(parse_qsl(payload.decode("utf-8"), keep_blank_values=True))
    return AWSRequest(
        service=service,
        protocol=protocol,
        operation=params.get("Action", "PutMetricData"),
        method=method,
        host=headers.get("host", ""),
        path=path or "/",
        query_string=query_string,
        headers=headers,
        body=body,
        payload=payload,
        params=params,
    )


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def wire_host(url: str) -> str:
    """The Host header http.client / urllib3 send for ``url``."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname or ""
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def from_prepared(prepared: Any, protocol: str = QUERY) -> AWSRequest:
    """A botocore ``AWSPreparedRequest`` as it goes on the wire."""
    parts = urlsplit(prepared.url)
    headers = {name: _text(value) for name, value in prepared.headers.items()}
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not any(name.lower() == "host" for name in headers):
        headers["Host"] = wire_host(prepared.url)
    if body and not any(name.lower() == "content-length" for name in headers):
        headers["Content-Length"] = str(len(body))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return to_aws_request(prepared.method, target, headers, body, protocol)


def botocore_credentials(access_key: str, secret_key: str) -> botocore.credentials.Credentials:
    return botocore.credentials.Credentials(access_key, secret_key)


def botocore_signed(
    signer: botocore.auth.BaseSigner,
    method: str,
    url: str,
    *,
    params: dict[str, str] | None = None,
    data: Any = None,
    headers: dict[str, str] | None = None,
    protocol: str = QUERY,
) -> AWSRequest:
    """Sign a botocore ``AWSRequest`` with ``signer`` (SigV4Auth, SigV4QueryAuth, SigV2Auth)."""
    request = botocore.awsrequest.AWSRequest(
        method=method, url=url, params=params or {}, data=data, headers=headers or {}
    )
    signer.add_auth(request)
    return from_prepared(request.prepare(), protocol)


# --- a real botocore CloudWatch client, stopped just before sending --------------------------


class Captured(Exception):
    """Raised by the before-send hook once the signed request is in hand."""


def botocore_client_request(
    endpoint: str,
    access_key: str,
    secret_key: str,
    call: str,
    kwargs: dict[str, Any],
    model_path: Path | None = None,
    **config: Any,
) -> AWSRequest:
    """The request a botocore CloudWatch client sends for ``call(**kwargs)``."""
    session = botocore.session.Session()
    if model_path is not None:
        session.get_component("data_loader").search_paths.insert(0, str(model_path))
    client = session.create_client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 0}, **config),
    )
    captured: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        captured.append(request)
        raise Captured()

    client.meta.events.register("before-send", capture)
    with contextlib.suppress(Captured):
        getattr(client, call)(**kwargs)
    prepared = captured[0]
    headers = {name.lower() for name in prepared.headers}
    if "x-amz-target" in headers:  # decided as the route filter decides
        protocol = JSON
    elif "/service/" in urlsplit(prepared.url).path:
        protocol = CBOR
    else:
        protocol = QUERY
    return from_prepared(prepared, protocol)


# --- boto 2.49 ------------------------------------------------------------------------------


def boto2_provider(access_key: str, secret_key: str) -> SimpleNamespace:
    return SimpleNamespace(access_key=access_key, secret_key=secret_key, security_token=None)


def boto2_v4_handler(host: str, access_key: str, secret_key: str) -> boto.auth.HmacAuthV4Handler:
    return boto.auth.HmacAuthV4Handler(host, None, boto2_provider(access_key, secret_key))


def boto2_v2_handler(
    host: str, access_key: str, secret_key: str, sha1: bool = False
) -> boto.auth.QuerySignatureV2AuthHandler:
    handler = boto.auth.QuerySignatureV2AuthHandler(
        host, None, boto2_provider(access_key, secret_key)
    )
    if sha1:  # what boto 2 does where hashlib has no sha256
        handler._hmac_256 = None
    return handler


def boto2_signed(
    handler: Any,
    method: str,
    host: str,
    port: int,
    path: str,
    params: dict[str, str],
    headers: dict[str, str] | None = None,
) -> AWSRequest:
    """Sign as boto 2's ``AWSAuthConnection._mexe`` does and return the wire request."""
    request = HTTPRequest(method, "http", host, port, path, None, dict(params), headers or {}, "")
    request.authorize(connection=SimpleNamespace(_auth_handler=handler))
    if not request.headers.get("Host"):  # AWSAuthConnection.set_host_header
        try:
            request.headers["Host"] = handler.host_header(host, request)
        except AttributeError:
            request.headers["Host"] = host.split(":", 1)[0]
    body = request.body if isinstance(request.body, bytes) else request.body.encode("utf-8")
    return to_aws_request(method, request.path, dict(request.headers), body)


def rewire(
    request: AWSRequest,
    *,
    method: str | None = None,
    target: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> AWSRequest:
    """``request`` with some wire parts changed (as a tampering proxy would change them)."""
    query = f"?{request.query_string}" if request.query_string else ""
    return to_aws_request(
        method or request.method,
        target if target is not None else request.path + query,
        headers if headers is not None else dict(request.headers),
        body if body is not None else request.body,
        request.protocol,
        request.service,
    )
