"""Paste filter ``route``: recognise which AWS operation an HTTP request calls.

It reads the body once (bounded), undoes gzip ``Content-Encoding`` while keeping the bytes
as received for signature hashing, and decides service, protocol and operation:

- ``X-Amz-Target: GraniteServiceVersion20100801.<Op>``            -> CloudWatch, JSON 1.0
- path ``.../service/GraniteServiceVersion20100801/operation/<Op>`` -> CloudWatch, RPC v2 CBOR
- ``Action=<Op>`` in the query string or form body                 -> Query; the service by
  ``Version``, else the SigV4 scope's service name, else the only model naming the action.

Any path prefix is accepted (cfn-push-stats posts to ``/v1/``).  The result is an
``AWSRequest`` at ``environ[ENV_AWS_REQUEST]``; a ``ProtocolHint`` is stored as soon as
the protocol is known so that errors are rendered the way the client reads them.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from cfn_gateway import errors
from cfn_gateway.config import CONF
from cfn_gateway.context import (
    AUTOSCALING,
    CBOR,
    CLOUDWATCH,
    ENV_AWS_REQUEST,
    ENV_PROTOCOL_HINT,
    JSON,
    QUERY,
    AWSRequest,
    ProtocolHint,
)
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp
from cfn_gateway.protocol.models import operation_model, service_model

CLOUDWATCH_TARGET_PREFIX = "GraniteServiceVersion20100801"
CBOR_PATH = re.compile(r"/service/(?P<service>[^/]+)/operation/(?P<operation>[^/]+)$")
QUERY_VERSIONS = {"2010-08-01": CLOUDWATCH, "2011-01-01": AUTOSCALING}
SIGNING_NAMES = {"monitoring": CLOUDWATCH, "autoscaling": AUTOSCALING}
GZIP_MAGIC = b"\x1f\x8b"
SCOPE_SERVICE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]*/(?P<service>[^/,\s]+)/")


def read_body(environ: Environ) -> bytes:
    """The request body as sent, refusing one larger than the configured limit."""
    limit = CONF.max_request_body_size
    length_text = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length_text:
        try:
            length = int(length_text)
        except ValueError as exc:
            raise errors.MalformedQueryString("Content-Length is not a number.") from exc
        if length > limit:
            raise errors.RequestEntityTooLarge(
                f"Request size {length} exceeded {limit} bytes"
            )
        return stream.read(length) if length > 0 else b""
    body = stream.read(limit + 1)  # chunked: read up to one byte past the limit
    if len(body) > limit:
        raise errors.RequestEntityTooLarge(f"Request size exceeded {limit} bytes")
    return body


def decode_body(body: bytes, content_encoding: str) -> bytes:
    """Undo ``Content-Encoding: gzip`` within the decompressed-size limit."""
    if not content_encoding:  # (most requests)
        return body
    encodings = [e.strip().lower() for e in content_encoding.split(",") if e.strip()]
    payload = body
    for encoding in reversed(encodings):
        if encoding == "identity":
            continue
        if encoding != "gzip":
            raise errors.InvalidParameterValue(
                f"Unsupported Content-Encoding: {encoding}."
            )
        payload = gunzip(payload)
    return payload


def gunzip(data: bytes) -> bytes:
    """Every member of a gzip stream (RFC 1952 allows several, concatenated), within the
    decompressed-size limit; anything after the last member is refused."""
    limit = CONF.max_decompressed_body_size
    out = bytearray()
    remaining = data
    while True:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(remaining, limit + 1 - len(out))
        except zlib.error as exc:
            raise errors.InvalidParameterValue("The request body is not valid gzip data.") from exc
        if len(out) > limit or inflater.unconsumed_tail:
            raise errors.RequestEntityTooLarge(f"Decompressed request exceeded {limit} bytes")
        if not inflater.eof:
            raise errors.InvalidParameterValue("The request body is not valid gzip data.")
        remaining = inflater.unused_data
        if not remaining:
            return bytes(out)
        if not remaining.startswith(GZIP_MAGIC):
            raise errors.InvalidParameterValue(
                "The request body has data after the end of its gzip stream."
            )


def parse_pairs(text: bytes | str) -> list[tuple[str, str]]:
    """The name/value pairs of a query string or form, in order; malformed encodings are
    refused as AWS does.  The pairs ``urllib.parse.parse_qsl(text, keep_blank_values=True,
    errors="strict")`` gives, in half its time: parts without ``+`` or ``%`` are taken as
    they are, and the decoding of the others is remembered (the data of a request repeat
    their time stamps, units and dimension values)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        pairs = []
        for part in text.split("&") if text else ():
            if not part:
                continue
            name, _, value = part.partition("=")
            if "+" in name:
                name = name.replace("+", " ")
            if "%" in name:
                name = _unquoted(name)
            if "+" in value:
                value = value.replace("+", " ")
            if "%" in value:
                value = _unquoted(value)
            pairs.append((name, value))
        return pairs
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.MalformedQueryString("The query string is malformed.") from exc


@lru_cache(maxsize=1024)
def _unquoted(text: str) -> str:
    return unquote(text, errors="strict")


def parse_form(text: bytes | str) -> dict[str, str]:
    """Query-protocol parameters; malformed encodings are refused as AWS does."""
    return dict(parse_pairs(text))


def request_headers(environ: Environ) -> dict[str, str]:
    """The headers by lower-case name (dashes for underscores), as the environ holds them
    now: a filter before this one may have changed them (a proxy filter setting Host)."""
    headers = {_header_name(key): value for key, value in environ.items()
               if key[:5] == "HTTP_"}
    for key, name in _CGI_HEADERS:
        value = environ.get(key)
        if value:
            headers[name] = value
    return headers


_CGI_HEADERS = (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length"))


@lru_cache(maxsize=1024)
def _header_name(key: str) -> str:
    return key[5:].replace("_", "-").lower()


def raw_path(environ: Environ) -> str:
    """The path exactly as the client sent it (servers unquote PATH_INFO)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw:  # absolute-form request target
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        return raw.split("?", 1)[0] or "/"
    return _quoted_path(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))


@lru_cache(maxsize=256)
def _quoted_path(path: str) -> str:
    return quote(path.encode("latin-1"), safe="/~!$&'()*+,;=:@%") or "/"


def query_service(params: dict[str, str], headers: dict[str, str]) -> str:
    version = params.get("Version")
    if version in QUERY_VERSIONS:
        return QUERY_VERSIONS[version]
    scope = SCOPE_SERVICE.search(headers.get("authorization", "")) or SCOPE_SERVICE.search(
        "Credential=" + params.get("X-Amz-Credential", "")
    )
    if scope and scope.group("service") in SIGNING_NAMES:
        return SIGNING_NAMES[scope.group("service")]
    action = params.get("Action", "")
    owners = [s for s in (CLOUDWATCH, AUTOSCALING) if action in service_model(s).operation_names]
    if len(owners) == 1:
        return owners[0]
    if version:
        raise errors.NoSuchVersion(f"The requested version ({version}) is not valid.")
    return CLOUDWATCH


class Route:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        environ[ENV_AWS_REQUEST] = self.recognise(environ)
        return self.app(environ, start_response)

    @staticmethod
    def recognise(environ: Environ) -> AWSRequest:
        headers = request_headers(environ)
        path = raw_path(environ)
        query_string = environ.get("QUERY_STRING", "")
        target = headers.get("x-amz-target")
        cbor_path = CBOR_PATH.search(path)
        if target is not None:
            service, protocol = CLOUDWATCH, JSON
        elif cbor_path is not None:
            service, protocol = CLOUDWATCH, CBOR
        else:
            service, protocol = CLOUDWATCH, QUERY
        environ[ENV_PROTOCOL_HINT] = ProtocolHint(service, protocol)

        body = read_body(environ)
        payload = decode_body(body, headers.get("content-encoding", ""))
        query_pairs = parse_pairs(query_string)
        params = dict(query_pairs)

        if protocol == JSON:
            prefix, _, operation = (target or "").partition(".")
            if prefix != CLOUDWATCH_TARGET_PREFIX or not operation:
                raise errors.UnknownOperationException(f"Unknown operation target {target}.")
        elif protocol == CBOR:
            assert cbor_path is not None
            operation = cbor_path.group("operation")
            if cbor_path.group("service") != CLOUDWATCH_TARGET_PREFIX:
                raise errors.UnknownOperationException(
                    f"Unknown service {cbor_path.group('service')}."
                )
        else:
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if payload and content_type in ("", "application/x-www-form-urlencoded"):
                params.update(parse_form(payload))
            operation = params.get("Action", "")
            if not operation:
                raise errors.MissingAction("Could not find operation in the request.")
            service = query_service(params, headers)
            environ[ENV_PROTOCOL_HINT] = ProtocolHint(service, protocol)

        model = operation_model(service, operation, protocol)  # refuses an unknown one
        return AWSRequest(
            service=service,
            protocol=protocol,
            operation=operation,
            method=environ.get("REQUEST_METHOD", "GET"),
            host=headers.get("host", ""),
            path=path,
            query_string=query_string,
            headers=headers,
            body=body,
            payload=payload,
            params=params,
            query_pairs=query_pairs,
            operation_model=model,
        )


def filter_factory(global_conf: dict, **local_conf: str):
    for service in (CLOUDWATCH, AUTOSCALING):
        service_model(service)  # load the models now, not in the first request
    return Route
