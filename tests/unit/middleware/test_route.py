"""The route filter: service, protocol and operation from raw WSGI environs."""

from __future__ import annotations

import gzip
import io

import pytest

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CBOR, CLOUDWATCH, ENV_PROTOCOL_HINT, JSON, QUERY
from cfn_gateway.middleware.route import Route


def environ(method="POST", path="/", query="", body=b"", **headers) -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "127.0.0.1:8080",
    }
    for name, value in headers.items():
        key = name.upper()
        env[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    return env


def test_json_target():
    env = environ(body=b"{}", X_AMZ_TARGET="GraniteServiceVersion20100801.ListMetrics")
    request = Route.recognise(env)
    assert (request.service, request.protocol, request.operation) == (
        CLOUDWATCH, JSON, "ListMetrics")


def test_cbor_path_with_prefix():
    env = environ(path="/v1/service/GraniteServiceVersion20100801/operation/ListMetrics")
    request = Route.recognise(env)
    assert (request.service, request.protocol, request.operation) == (
        CLOUDWATCH, CBOR, "ListMetrics")


@pytest.mark.parametrize(
    ("params", "service"),
    [
        ("Action=ListMetrics&Version=2010-08-01", CLOUDWATCH),
        ("Action=DescribeAutoScalingGroups&Version=2011-01-01", AUTOSCALING),
        ("Action=DescribeAutoScalingGroups", AUTOSCALING),  # only one model has it
    ],
)
def test_query_service(params, service):
    request = Route.recognise(environ(method="GET", path="/v1/", query=params))
    assert (request.service, request.protocol) == (service, QUERY)


def test_query_service_from_sigv4_scope():
    auth = ("AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/autoscaling/aws4_request, "
            "SignedHeaders=host, Signature=00")
    request = Route.recognise(environ(body=b"Action=DescribeAdjustmentTypes",
                                      AUTHORIZATION=auth))
    assert request.service == AUTOSCALING


def test_form_body_merges_with_query_string():
    request = Route.recognise(environ(query="Version=2010-08-01", body=b"Action=ListMetrics",
                                      CONTENT_TYPE="application/x-www-form-urlencoded"))
    assert request.params == {"Version": "2010-08-01", "Action": "ListMetrics"}


def test_gzip_body_kept_as_sent_and_decoded():
    raw = gzip.compress(b"Action=ListMetrics&Version=2010-08-01")
    request = Route.recognise(environ(body=raw, CONTENT_ENCODING="gzip"))
    assert request.body == raw
    assert request.operation == "ListMetrics"


def test_unknown_query_action():
    env = environ(body=b"Action=Nope&Version=2010-08-01")
    with pytest.raises(errors.InvalidAction):
        Route.recognise(env)
    assert env[ENV_PROTOCOL_HINT].protocol == QUERY


def test_unknown_json_target():
    with pytest.raises(errors.UnknownOperationException):
        Route.recognise(environ(body=b"{}", X_AMZ_TARGET="Other_20100801.ListMetrics"))


def test_missing_action():
    with pytest.raises(errors.MissingAction):
        Route.recognise(environ(body=b"Version=2010-08-01"))


def test_bad_percent_encoding():
    with pytest.raises(errors.MalformedQueryString):
        Route.recognise(environ(body=b"Action=%FF%FE"))


def test_body_over_limit():
    env = environ(body=b"x")
    env["CONTENT_LENGTH"] = str(10**9)
    with pytest.raises(errors.RequestEntityTooLarge):
        Route.recognise(env)


def test_corrupt_gzip():
    with pytest.raises(errors.InvalidParameterValue):
        Route.recognise(environ(body=b"\x1f\x8bnot gzip", CONTENT_ENCODING="gzip"))


def test_gzip_of_several_members_is_decoded_whole():
    raw = gzip.compress(b"Action=ListMetrics&Version=2010") + gzip.compress(b"-08-01")
    request = Route.recognise(environ(body=raw, CONTENT_ENCODING="gzip"))
    assert request.body == raw
    assert request.params["Version"] == "2010-08-01"


@pytest.mark.parametrize("trailing", [b"x", b"\x00", b"\x1f", b"\x1f\x8b\x08"])
def test_bytes_after_the_last_gzip_member_are_refused(trailing):
    raw = gzip.compress(b"Action=ListMetrics&Version=2010-08-01") + trailing
    with pytest.raises(errors.InvalidParameterValue):
        Route.recognise(environ(body=raw, CONTENT_ENCODING="gzip"))


def test_decompressed_limit_counts_every_member():
    from cfn_gateway.config import CONF

    CONF.set_override("max_decompressed_body_size", 1024)
    try:
        raw = gzip.compress(b"a" * 600) + gzip.compress(b"b" * 600)
        with pytest.raises(errors.RequestEntityTooLarge):
            Route.recognise(environ(body=raw, CONTENT_ENCODING="gzip"))
    finally:
        CONF.clear_override("max_decompressed_body_size")
