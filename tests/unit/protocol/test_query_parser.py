"""Query parameters: what real clients send, and what they must not."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from botocore.model import ServiceModel
from botocore.serialize import create_serializer

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CLOUDWATCH, QUERY, AWSRequest
from cfn_gateway.protocol import parse_params
from cfn_gateway.protocol.models import operation_model
from cfn_gateway.protocol.query_parser import parse_query

UTC = dt.UTC


def query(operation: str, service: str = CLOUDWATCH, **params: str) -> dict:
    op = operation_model(service, operation)
    request = AWSRequest(service, QUERY, operation, "POST", "h", "/", "", {}, b"", b"",
                         {"Action": operation, "Version": "2010-08-01", **params})
    return parse_params(request, op)


def stats(**params: str) -> dict:
    base = {"Namespace": "ns", "MetricName": "m", "Period": "60",
            "StartTime": "2024-01-01T00:00:00Z", "EndTime": "2024-01-01T01:00:00Z",
            "Statistics.member.1": "Sum"}
    return query("GetMetricStatistics", **(base | params))


def test_signature_and_unknown_parameters_are_ignored():
    parsed = stats(AWSAccessKeyId="AKIA", Signature="x", SignatureMethod="HmacSHA256",
                   SignatureVersion="2", Timestamp="2024-01-01T00:00:00",
                   **{"X-Amz-Credential": "a/b", "X-Amz-Signature": "s", "Foo": "bar",
                      "Dimensions.member.1.Bogus": "x"})
    assert parsed == {
        "Namespace": "ns", "MetricName": "m", "Period": 60,
        "StartTime": dt.datetime(2024, 1, 1, tzinfo=UTC),
        "EndTime": dt.datetime(2024, 1, 1, 1, tzinfo=UTC), "Statistics": ["Sum"],
        "Dimensions": [{}],
    }


def test_list_items_in_index_order_with_gaps():
    parsed = stats(**{"Statistics.member.10": "Maximum", "Statistics.member.2": "Average",
                      "Statistics.member.1": "Sum"})
    assert parsed["Statistics"] == ["Sum", "Average", "Maximum"]


def test_empty_list_as_botocore_sends_it():
    assert query("DescribeAlarms", **{"AlarmNames": ""})["AlarmNames"] == []


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),  # boto2
    ("2024-01-02T03:04:05.123456", dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
    ("2024-01-02T03:04:05.123Z", dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)),
    ("2024-01-02T03:04:05.1234567891Z", dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
    ("2024-01-02T05:04:05+02:00", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-02T01:34:05-0130", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-02 03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04Z", dt.datetime(2024, 1, 2, 3, 4, tzinfo=UTC)),
    ("2024-01-02", dt.datetime(2024, 1, 2, tzinfo=UTC)),
    ("1704164645", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("1704164645.5", dt.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
])
def test_timestamp_variants(text, expected):
    value = stats(StartTime=text)["StartTime"]
    assert value == expected
    assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01T25:00:00Z",
                                  "2024-01-01T00:00:00+25:00", "", "1e5", "99999999999999999"])
def test_bad_timestamps(text):
    with pytest.raises(errors.InvalidParameterValue, match="parameter StartTime"):
        stats(StartTime=text)


@pytest.mark.parametrize("text", ["abc", "1.5", "", " 60", "0x10", "99999999999", "1_000"])
def test_bad_integers(text):
    with pytest.raises(errors.InvalidParameterValue) as caught:
        stats(Period=text)
    assert caught.value.message.startswith(f"Value {text} for parameter Period is invalid.")


def test_long_accepts_int64_and_refuses_more():
    op = operation_model(AUTOSCALING, "DescribeAutoScalingGroups")
    assert op.input_shape.members["MaxRecords"].type_name == "integer"
    with pytest.raises(errors.InvalidParameterValue):
        query("DescribeAutoScalingGroups", AUTOSCALING, MaxRecords=str(2**31))
    assert query("DescribeAutoScalingGroups", AUTOSCALING,
                 MaxRecords=str(2**31 - 1))["MaxRecords"] == 2**31 - 1


def datum(**fields: str) -> dict:
    params = {"Namespace": "ns", "MetricData.member.1.MetricName": "m"}
    params.update({f"MetricData.member.1.{k}": v for k, v in fields.items()})
    return query("PutMetricData", **params)["MetricData"][0]


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1.0), ("-2.5", -2.5), ("1e-07", 1e-07), ("1.5E+300", 1.5e300), (".5", 0.5),
    ("Infinity", math.inf), ("-Infinity", -math.inf),
])
def test_doubles(text, expected):
    assert datum(Value=text)["Value"] == expected


def test_nan_parses():
    assert math.isnan(datum(Value="NaN")["Value"])


@pytest.mark.parametrize("text", ["abc", "1,5", "nan", "inf", "1_0", "", "0x1p3"])
def test_bad_doubles(text):
    with pytest.raises(errors.InvalidParameterValue, match=r"MetricData\.member\.1\.Value"):
        datum(Value=text)


def test_booleans():
    assert query("PutMetricAlarm", ActionsEnabled="true")["ActionsEnabled"] is True
    assert query("PutMetricAlarm", ActionsEnabled="False")["ActionsEnabled"] is False
    with pytest.raises(errors.InvalidParameterValue):
        query("PutMetricAlarm", ActionsEnabled="yes")


@pytest.mark.parametrize("params", [
    {"Statistics.member.x": "Sum"},
    {"Statistics.member.0": "Sum"},
    {"Statistics.item.1": "Sum"},
    {"ExtendedStatistics": "p99"},
    {"Namespace.member.1": "ns"},
    {"Dimensions.member.1": "abc"},
    {"Dimensions.member.1.Name.Value": "abc"},
])
def test_shapes_that_contradict_the_model(params):
    with pytest.raises(errors.MalformedInput):
        stats(**params)


def test_maps_and_wrong_map_entries():
    model = synthetic_model()
    op = model.operation_model("Op")
    parsed = parse_query({"Tags.entry.1.key": "a", "Tags.entry.1.value": "1",
                          "Tags.entry.2.key": "b", "Tags.entry.2.value": "2"}, op.input_shape)
    assert parsed == {"Tags": {"a": "1", "b": "2"}}
    with pytest.raises(errors.MalformedInput):
        parse_query({"Tags.entry.1.key": "a"}, op.input_shape)
    with pytest.raises(errors.MalformedInput):
        parse_query({"Tags.1.key": "a", "Tags.1.value": "b"}, op.input_shape)


def synthetic_model() -> ServiceModel:
    """Query features the two models do not use (yet): flattened lists and maps, renamed
    members and list items, blobs in input."""
    return ServiceModel({
        "metadata": {"protocol": "query", "apiVersion": "2020-01-01",
                     "xmlNamespace": "http://example.com/doc/"},
        "operations": {"Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/"},
                              "input": {"shape": "OpInput"}}},
        "shapes": {
            "OpInput": {"type": "structure", "members": {
                "Tags": {"shape": "TagMap"},
                "Flat": {"shape": "FlatList"},
                "FlatNamed": {"shape": "FlatNamedList"},
                "FlatMap": {"shape": "FlatMap"},
                "Renamed": {"shape": "RenamedList", "locationName": "Other"},
                "RenamedMap": {"shape": "RenamedMap"},
                "Data": {"shape": "Blob"},
            }},
            "TagMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
            "FlatList": {"type": "list", "member": {"shape": "String"}, "flattened": True},
            "FlatNamedList": {"type": "list", "flattened": True,
                              "member": {"shape": "String", "locationName": "Item"}},
            "FlatMap": {"type": "map", "flattened": True, "key": {"shape": "String"},
                        "value": {"shape": "Integer"}},
            "RenamedList": {"type": "list", "member": {"shape": "Struct", "locationName": "it"}},
            "RenamedMap": {"type": "map", "key": {"shape": "String", "locationName": "K"},
                           "value": {"shape": "String", "locationName": "V"}},
            "Struct": {"type": "structure",
                       "members": {"A": {"shape": "String", "locationName": "a"}}},
            "String": {"type": "string"},
            "Integer": {"type": "integer"},
            "Blob": {"type": "blob"},
        },
    }, service_name="synthetic")


def test_everything_botocore_query_serializer_emits_parses_back():
    op = synthetic_model().operation_model("Op")
    params = {
        "Tags": {"k1": "v1", "k 2": "v<2>"},
        "Flat": ["a", "b", "c"],
        "FlatNamed": ["x", "y"],
        "FlatMap": {"one": 1, "two": 2},
        "Renamed": [{"A": "first"}, {"A": "second"}],
        "RenamedMap": {"a": "b"},
        "Data": b"\x00\x01binary\xff",
    }
    body = create_serializer(QUERY).serialize_to_request(params, op)["body"]
    assert "Item.1" in body and "Other.it.2.a" in body and "FlatMap.1.key" in body
    flat = {k: str(v) for k, v in body.items()}
    assert parse_query(flat, op.input_shape) == params


def test_bad_base64_blob():
    op = synthetic_model().operation_model("Op")
    with pytest.raises(errors.InvalidParameterValue, match="Data"):
        parse_query({"Data": "not base64!"}, op.input_shape)


def test_operation_without_input_ignores_parameters():
    assert query("DescribeAccountLimits", AUTOSCALING, Foo="bar") == {}
