"""JSON and CBOR bodies: well-formed ones parse, anything else is SerializationException."""

from __future__ import annotations

import datetime as dt
import json
import math

import cbor2
import pytest

from cfn_gateway import errors
from cfn_gateway.context import CBOR, CLOUDWATCH, JSON, AWSRequest
from cfn_gateway.protocol import parse_params
from cfn_gateway.protocol.models import operation_model

UTC = dt.UTC


def parse(protocol: str, payload: bytes, operation: str = "GetMetricStatistics") -> dict:
    op = operation_model(CLOUDWATCH, operation, protocol)
    request = AWSRequest(CLOUDWATCH, protocol, operation, "POST", "h", "/", "", {}, payload,
                         payload)
    return parse_params(request, op)


def encode(protocol: str, document: object) -> bytes:
    return json.dumps(document).encode() if protocol == JSON else cbor2.dumps(document)


BOTH = pytest.mark.parametrize("protocol", [JSON, CBOR])
PUT = {"Namespace": "ns", "MetricData": [{"MetricName": "m", "Value": 1.0}]}


@BOTH
def test_empty_body_is_empty_input(protocol):
    assert parse(protocol, b"") == {}


def test_whitespace_json_body_is_empty_input():
    assert parse(JSON, b" \n") == {}


@BOTH
def test_unknown_members_are_ignored_and_null_is_absent(protocol):
    document = {**PUT, "Bogus": [1, 2], "StrictEntityValidation": None}
    assert parse(protocol, encode(protocol, document), "PutMetricData") == PUT


@pytest.mark.parametrize("payload", [
    b"{not json", b"[]", b'"text"', b"42", b"null", b"\xff\xfe{}", b'{"a": NaN}',
    b'{"Namespace": "\\ud800"}', b"[" * 100_000 + b"]" * 100_000,
])
def test_bad_json(payload):
    with pytest.raises(errors.SerializationException):
        parse(JSON, payload, "PutMetricData")


@pytest.mark.parametrize("payload", [
    b"\xff\x00\x13", cbor2.dumps([1]), cbor2.dumps("text"), cbor2.dumps({}) + b"\x00",
    b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff", b"\x81" * 100_000 + b"\x00", b"\xa1",
    cbor2.dumps({"Namespace": b"bytes"}),
])
def test_bad_cbor(payload):
    with pytest.raises(errors.SerializationException):
        parse(CBOR, payload, "PutMetricData")


@BOTH
@pytest.mark.parametrize("document", [
    {"Namespace": 5},
    {"MetricData": "not a list"},
    {"MetricData": {"not": "a list"}},
    {"MetricData": [None]},
    {"MetricData": ["text"]},
    {"MetricData": [{"Value": "one"}]},
    {"MetricData": [{"Value": True}]},
    {"MetricData": [{"StorageResolution": 1.5}]},
    {"MetricData": [{"StorageResolution": 2**31}]},
    {"MetricData": [{"StorageResolution": False}]},
    {"MetricData": [{"Timestamp": "2024-01-01T00:00:00Z"}]},
    {"MetricData": [{"Dimensions": [{"Name": ["x"]}]}]},
    {"StrictEntityValidation": "true"},
])
def test_wrong_types(protocol, document):
    with pytest.raises(errors.SerializationException):
        parse(protocol, encode(protocol, document), "PutMetricData")


@BOTH
def test_huge_integer(protocol):
    document = {"Namespace": "n", "MetricName": "m", "Period": 2**70}
    with pytest.raises(errors.SerializationException, match="Period"):
        parse(protocol, encode(protocol, document))


@BOTH
def test_special_doubles(protocol):
    document = {"Namespace": "n", "MetricData": [
        {"MetricName": "a", "Value": "NaN"}, {"MetricName": "b", "Value": "Infinity"},
        {"MetricName": "c", "Value": "-Infinity"}, {"MetricName": "d", "Value": 3}]}
    values = [d["Value"] for d in parse(protocol, encode(protocol, document),
                                        "PutMetricData")["MetricData"]]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf, 3.0]
    assert isinstance(values[3], float)


def test_json_timestamps_are_epoch_seconds():
    parsed = parse(JSON, b'{"StartTime": 1704164645, "EndTime": 1704164645.25}')
    assert parsed == {"StartTime": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                      "EndTime": dt.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)}


def test_cbor_timestamps_are_tag_1():
    payload = cbor2.dumps({"StartTime": cbor2.CBORTag(1, 1704164645),
                           "EndTime": cbor2.CBORTag(1, 1704164645.25)})
    parsed = parse(CBOR, payload)
    assert parsed == {"StartTime": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                      "EndTime": dt.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)}


@BOTH
def test_timestamp_out_of_range(protocol):
    document = {"StartTime": 1e300}
    with pytest.raises(errors.SerializationException):
        parse(protocol, encode(protocol, document))


def test_json_blob_must_be_base64():
    # no input blob in the models: an operation's output shape stands in for one
    from cfn_gateway.protocol.document_parser import parse_json
    shape = operation_model(CLOUDWATCH, "GetMetricWidgetImage").output_shape
    assert parse_json(b'{"MetricWidgetImage": "AAE="}', shape) == {
        "MetricWidgetImage": b"\x00\x01"}
    with pytest.raises(errors.SerializationException):
        parse_json(b'{"MetricWidgetImage": "**"}', shape)


def test_cbor_blob_is_a_byte_string():
    from cfn_gateway.protocol.document_parser import parse_cbor
    shape = operation_model(CLOUDWATCH, "GetMetricWidgetImage").output_shape
    assert parse_cbor(cbor2.dumps({"MetricWidgetImage": b"\x00"}), shape) == {
        "MetricWidgetImage": b"\x00"}
    with pytest.raises(errors.SerializationException):
        parse_cbor(cbor2.dumps({"MetricWidgetImage": "AA=="}), shape)


def test_cbor_undefined_is_absent():
    payload = cbor2.dumps({"Namespace": "n", "MetricName": cbor2.undefined})
    assert parse(CBOR, payload) == {"Namespace": "n"}


@pytest.mark.parametrize("text", ["9999-12-31T23:00:00-02:00", "0001-01-01T00:30:00+02:00"])
def test_cbor_tag_0_outside_years_1_to_9999_in_utc(text):
    payload = cbor2.dumps({"StartTime": cbor2.CBORTag(0, text)})
    with pytest.raises(errors.SerializationException, match="StartTime is out of range"):
        parse(CBOR, payload)


def test_cbor_tag_0_with_offset_is_converted_to_utc():
    payload = cbor2.dumps({"StartTime": cbor2.CBORTag(0, "2024-01-02T05:04:05+02:00")})
    assert parse(CBOR, payload) == {"StartTime": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}
