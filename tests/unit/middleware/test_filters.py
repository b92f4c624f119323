"""request_id, access_log, healthcheck and faultwrap filters on plain WSGI calls."""

from __future__ import annotations

import logging
import uuid

from lxml import etree

from cfn_gateway import errors
from cfn_gateway.context import (
    ENV_AWS_REQUEST,
    ENV_IDENTITY,
    ENV_PROTOCOL_HINT,
    ENV_REQUEST_ID,
    JSON,
    AWSRequest,
    Identity,
    ProtocolHint,
)
from cfn_gateway.middleware.access_log import AccessLog
from cfn_gateway.middleware.faultwrap import FaultWrap
from cfn_gateway.middleware.healthcheck import HealthCheck
from cfn_gateway.middleware.request_id import RequestId, new_request_id
from cfn_gateway.middleware.wsgi import reply


class Recorder:
    def __init__(self) -> None:
        self.status = ""
        self.headers: dict[str, str] = {}

    def __call__(self, status, headers, exc_info=None):
        self.status = status
        self.headers = dict(headers)


def ok_app(environ, start_response):
    return reply(start_response, 200, [("Content-Type", "text/plain")], b"fine")


def raising(error: Exception):
    def app(environ, start_response):
        raise error

    return app


def call(app, environ=None):
    recorder = Recorder()
    body = b"".join(app(environ if environ is not None else {}, recorder))
    return recorder, body


def test_request_id_header_and_environ():
    seen = {}

    def app(environ, start_response):
        seen["id"] = environ[ENV_REQUEST_ID]
        return ok_app(environ, start_response)

    recorder, _ = call(RequestId(app))
    assert recorder.headers["x-amzn-RequestId"] == seen["id"]
    assert len(seen["id"]) == 36


def test_request_ids_are_random_version_4_uuids():
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_access_log_line(caplog):
    request = AWSRequest("cloudwatch", JSON, "ListMetrics", "POST", "h", "/", "", {}, b"", b"")
    environ = {ENV_REQUEST_ID: "rid-1", ENV_AWS_REQUEST: request,
               ENV_IDENTITY: Identity("proj-1", "AKIA"), "REQUEST_METHOD": "POST",
               "PATH_INFO": "/"}
    with caplog.at_level(logging.INFO, logger="cfn_gateway.access"):
        call(AccessLog(ok_app), environ)
    line = caplog.records[-1].getMessage()
    for part in ("request_id=rid-1", "tenant=proj-1", "service=cloudwatch",
                 "action=ListMetrics", "status=200", "latency_ms="):
        assert part in line


def test_healthcheck_answers_without_calling_the_app():
    recorder, body = call(HealthCheck(raising(RuntimeError("not reached"))),
                          {"PATH_INFO": "/healthcheck", "REQUEST_METHOD": "GET"})
    assert recorder.status.startswith("200") and body == b"OK\n"


def test_faultwrap_renders_aws_error_in_query_by_default():
    recorder, body = call(FaultWrap(raising(errors.InvalidParameterValue("bad thing"))),
                          {ENV_REQUEST_ID: "rid-2"})
    assert recorder.status.startswith("400")
    root = etree.fromstring(body)
    assert root.findtext("{*}Error/{*}Code") == "InvalidParameterValue"
    assert root.findtext("{*}Error/{*}Message") == "bad thing"
    assert root.findtext("{*}RequestId") == "rid-2"


def test_faultwrap_renders_in_the_hinted_protocol():
    environ = {ENV_REQUEST_ID: "rid-3", ENV_PROTOCOL_HINT: ProtocolHint("cloudwatch", JSON)}
    recorder, _ = call(FaultWrap(raising(errors.MissingParameter("x"))), environ)
    assert recorder.headers["x-amzn-query-error"] == "MissingParameter;Sender"


def test_faultwrap_hides_unexpected_exceptions(caplog):
    recorder, body = call(FaultWrap(raising(KeyError("secret detail"))), {ENV_REQUEST_ID: "r"})
    assert recorder.status.startswith("500")
    assert b"secret detail" not in body
    assert b"InternalFailure" in body
    assert "secret detail" in caplog.text


def test_access_log_fields_are_single_printable_tokens(caplog):
    environ = {ENV_REQUEST_ID: "rid-2", "REQUEST_METHOD": "GET",
               "PATH_INFO": "/x\nINFO forged status=200\x1b[31m \u00e9"}
    with caplog.at_level(logging.INFO, logger="cfn_gateway.access"):
        call(AccessLog(ok_app), environ)
    line = caplog.records[-1].getMessage()
    assert "\n" not in line and "\x1b" not in line
    assert line.endswith("path=/x%0AINFO%20forged%20status=200%1B[31m%20%E9")
    assert line.count("status=") == 2  # the real field, and the one inside the path token


def test_log_field_keeps_printable_ascii_and_encodes_the_rest():
    from cfn_gateway.middleware.access_log import log_field

    assert log_field("/v1/") == "/v1/"
    assert log_field("") == "-"
    assert log_field("a b%c") == "a%20b%25c"
    assert log_field("\u20ac") == "%E2%82%AC"  # not a WSGI latin-1 string: UTF-8
