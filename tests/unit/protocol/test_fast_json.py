"""The msgspec fast path for JSON bodies accepts only what the reference path accepts, with
exactly the same params (same repr: keys, key order, types, values).

The reference is ``compiled_document.parse_json`` + ``compiled_validation.validate_params``
(themselves checked against the interpretive walks in ``test_compiled``).  Bodies: random
documents for every operation of both models (valid ones, the edge-probing and mutated ones
of ``shapedocs``, members in any order, ASCII or raw UTF-8), botocore's own requests, the
edge values of every scalar kind, hand-written bodies; the fast path must also really take
the common requests (PutMetricData, GetMetricStatistics, GetMetricData, PutMetricAlarm).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from typing import Any

import pytest
from botocore.model import ServiceModel, Shape
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cfn_gateway import errors
from cfn_gateway.context import CBOR, CLOUDWATCH, JSON, QUERY, AWSRequest
from cfn_gateway.protocol import (
    codegen,
    compiled_document,
    compiled_validation,
    fast_json,
    parse_valid_json,
    patterns,
)
from cfn_gateway.protocol.limits import INT_RANGES
from cfn_gateway.protocol.models import operation_model

from .shapedocs import UNKNOWN, documents
from .shapegen import STRING_CANDIDATES, Generator, utf16_length
from .test_compiled import (
    DIFFERENTIAL,
    EDGES,
    OPERATIONS,
    RECURSIVE,
    SCALARS,
    outcome,
    serializable,
    tree,
)

UTC = dt.UTC


def reference(payload: bytes, op: Any) -> dict[str, Any]:
    params = compiled_document.parse_json(payload, op)
    compiled_validation.validate_params(op, params)
    return params


def agrees(payload: bytes, op: Any) -> bool:
    """Whether the fast path accepted ``payload``; when it did, the reference accepts it
    with the same params."""
    fast = fast_json.parse_json(payload, op)
    if fast is None:
        return False
    assert outcome(lambda: reference(payload, op)) == ("value", repr(fast)), payload[:300]
    return True


def to_json(document: Any, ascii_only: bool = True) -> bytes:
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# ------------------------------------------------------------------ valid documents
# Values every constraint of the model accepts (text in the BMP), so that the fast path
# has something to accept for every shape; ``shapedocs`` brings the edges and the junk.

BMP_TEXT = st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",))
_VALID: dict[tuple[str, str, str], st.SearchStrategy[Any]] = {}


def valid(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    key = codegen.shape_key(shape)
    found = _VALID.get((*key[:2], f"{key[2]}{depth}"))
    if found is None:
        found = _VALID[(*key[:2], f"{key[2]}{depth}")] = getattr(
            _Valid, shape.type_name)(shape, depth)
    return found


class _Valid:
    @staticmethod
    def structure(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        members = {member.serialization.get("name", name): (name, member)
                   for name, member in shape.members.items()}
        if depth > 5:
            members = {wire: item for wire, item in members.items()
                       if item[0] in shape.required_members}
        values = {wire: valid(member, depth + 1) for wire, (_, member) in members.items()}
        if shape.is_tagged_union:
            return st.sampled_from(sorted(values)).flatmap(
                lambda wire: st.fixed_dictionaries({wire: values[wire]}))
        required = {wire: values[wire] for wire, (name, _) in members.items()
                    if name in shape.required_members}
        optional = {wire: strategy for wire, strategy in values.items() if wire not in required}
        return st.fixed_dictionaries(required, optional=optional)

    @staticmethod
    def list(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 3)
        return st.lists(valid(shape.member, depth + 1), min_size=low,
                        max_size=max(low, min(high, 3)))

    @staticmethod
    def map(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 3)
        return st.dictionaries(valid(shape.key, depth + 1), valid(shape.value, depth + 1),
                               min_size=low, max_size=max(low, min(high, 3)))

    @staticmethod
    def string(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        enum = shape.metadata.get("enum")
        if enum:
            return st.sampled_from(enum)
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 10_000)
        pattern = shape.metadata.get("pattern")

        def fits(text: str) -> bool:
            return low <= utf16_length(text) <= high and (
                not pattern or patterns.matches(pattern, text))

        fitting = [text for text in (*STRING_CANDIDATES, "x" * low, "x" * high)
                   if fits(text) and text.isascii()]
        if pattern:
            return st.sampled_from(fitting or [Generator().gen_string(shape, 0)])
        return st.one_of(st.text(BMP_TEXT, min_size=low, max_size=min(high, max(low, 12))),
                         st.sampled_from(fitting))

    @staticmethod
    def integer(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        low, high = INT_RANGES[shape.type_name]
        return st.integers(max(low, shape.metadata.get("min", low)),
                           min(high, shape.metadata.get("max", high)))

    long = integer

    @staticmethod
    def double(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
        ints = st.integers(-(2**70) if low is None else int(low),
                           2**70 if high is None else int(high))
        return st.one_of(floats, ints, st.sampled_from([0, -0.0, 0.1, 1e-300, 2**53 + 1]).filter(
            lambda x: (low is None or x >= low) and (high is None or x <= high)))

    float = double

    @staticmethod
    def boolean(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        return st.booleans()

    @staticmethod
    def timestamp(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        return st.one_of(st.integers(-(10**11), 10**11), st.floats(-6e10, 2.5e11),
                         st.sampled_from([0, -0.0, 1.5, 1717171717.123, -62135596800,
                                          253402300799, 253402300799.9999994]))

    @staticmethod
    def blob(shape: Any, depth: int) -> st.SearchStrategy[Any]:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 8)
        return st.binary(min_size=low, max_size=max(low, min(high, 8))).map(
            lambda data: base64.b64encode(data).decode())


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same document with the members of every object in another order."""
    if isinstance(value, dict):
        items = [(key, shuffled(item, rng)) for key, item in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


def without_unknown(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_unknown(item) for key, item in value.items() if key != UNKNOWN}
    if isinstance(value, list):
        return [without_unknown(item) for item in value]
    return value


@DIFFERENTIAL
@given(data=st.data(), case=st.sampled_from(OPERATIONS),
       kind=st.sampled_from(["valid", "edges", "edges-known", "mutated"]),
       shuffle=st.booleans(), ascii_only=st.booleans())
def test_random_documents_are_accepted_only_as_the_reference_accepts_them(
        data, case, kind, shuffle, ascii_only):
    op = operation_model(*case)
    if kind == "valid":
        document = data.draw(valid(op.input_shape), label="document")
    else:
        document = data.draw(documents(op.input_shape, False, kind == "mutated"),
                             label="document")
        if kind == "edges-known":
            document = without_unknown(document)
    if shuffle:
        document = shuffled(document, data.draw(st.randoms(use_true_random=False)))
    accepted = agrees(to_json(document, ascii_only), op)
    event(f"{kind}: {'fast path' if accepted else 'reference'}")


@pytest.mark.parametrize(("service", "name"), OPERATIONS,
                         ids=[f"{service}-{name}" for service, name in OPERATIONS])
def test_botocore_requests_of_every_operation_agree(service, name):
    op = operation_model(service, name)
    assert fast_json.decoder(op) is not None
    params = Generator().value(op.input_shape)
    client_op = serializable(service).operation_model(name)
    body = create_serializer("json").serialize_to_request(params, client_op)["body"]
    agrees(body, op)
    # The same request with its text in ASCII only (the generator's text has non-BMP
    # characters, which are always left to the reference).
    agrees(to_json(json.loads(body)), op)


T0 = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
DIMENSIONS = [{"Name": "AutoScalingGroupName", "Value": "web"},
              {"Name": "InstanceId", "Value": "i-0123456789abcdef0"}]
METRIC = {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": DIMENSIONS}
COMMON_REQUESTS = {
    "PutMetricData": {"Namespace": "App/Web", "MetricData": [
        {"MetricName": "Latency", "Dimensions": DIMENSIONS, "Timestamp": T0, "Value": 12.5,
         "Unit": "Milliseconds", "StorageResolution": 1},
        {"MetricName": "Requests", "Timestamp": T0 + dt.timedelta(seconds=1),
         "StatisticValues": {"SampleCount": 3.0, "Sum": 6.0, "Minimum": 1.0, "Maximum": 3.0},
         "Unit": "Count"},
        {"MetricName": "Sizes", "Values": [1.0, 2.5, 1e300], "Counts": [1.0, 2.0, 3.0],
         "Unit": "Bytes", "Timestamp": dt.datetime(2024, 1, 1, tzinfo=UTC)},
        {"MetricName": "naïve ünïcode ✓", "Value": 0.0},
    ], "StrictEntityValidation": False},
    "GetMetricStatistics": {**METRIC, "StartTime": T0, "EndTime": T0 + dt.timedelta(hours=1),
                            "Period": 300, "Statistics": ["Average", "Maximum"],
                            "ExtendedStatistics": ["p99"], "Unit": "Percent"},
    "GetMetricData": {"MetricDataQueries": [
        {"Id": "m1", "MetricStat": {"Metric": METRIC, "Period": 60, "Stat": "Average",
                                    "Unit": "Percent"}, "ReturnData": False},
        {"Id": "e1", "Expression": "m1 * 2", "Label": "Doubled", "Period": 60},
    ], "StartTime": T0, "EndTime": T0 + dt.timedelta(days=1), "ScanBy": "TimestampDescending",
        "MaxDatapoints": 1000, "LabelOptions": {"Timezone": "+0130"}},
    "PutMetricAlarm": {**METRIC, "AlarmName": "cpu-high", "AlarmDescription": "CPU > 80%",
                       "ActionsEnabled": True,
                       "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:topic"],
                       "OKActions": [], "Statistic": "Average", "Period": 60,
                       "Unit": "Percent", "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
                       "Threshold": 80, "ComparisonOperator": "GreaterThanThreshold",
                       "TreatMissingData": "missing",
                       "Tags": [{"Key": "team", "Value": "web"}],
                       "EvaluationWindow": {"SlidingWindow": {}}},
}


@pytest.mark.parametrize("name", sorted(COMMON_REQUESTS))
def test_common_botocore_requests_take_the_fast_path(name):
    op = operation_model(CLOUDWATCH, name)
    client_op = serializable(CLOUDWATCH).operation_model(name)
    params = COMMON_REQUESTS[name]
    body = create_serializer("json").serialize_to_request(params, client_op)["body"]
    assert agrees(body, op), body
    fast = fast_json.parse_json(body, op)
    assert fast["MetricData" if name == "PutMetricData" else "EndTime" if name in (
        "GetMetricStatistics", "GetMetricData") else "Threshold"] is not None
    if name == "PutMetricAlarm":
        assert fast["Threshold"] == 80.0 and type(fast["Threshold"]) is float
    # Members in another order than the model's: the params keep the model's order.
    reordered = to_json(dict(reversed(list(json.loads(body).items()))), ascii_only=False)
    assert agrees(reordered, op)
    assert list(fast_json.parse_json(reordered, op)) == list(fast)


def put_metric_data(namespace: str) -> bytes:
    return to_json({"Namespace": namespace, "MetricData": [{"MetricName": "m"}]})


@pytest.mark.parametrize("ascii_only", [True, False])
def test_non_bmp_text_at_a_length_limit_is_left_to_the_reference(ascii_only):
    op = operation_model(CLOUDWATCH, "PutMetricData")  # Namespace: 1-255 UTF-16 units
    fits = "x" * 253 + "\U0001F600"  # 254 code points, 255 UTF-16 units
    too_long = "x" * 254 + "\U0001F600"  # 255 code points, 256 UTF-16 units
    for namespace in (fits, too_long):
        body = to_json({"Namespace": namespace, "MetricData": [{"MetricName": "m"}]},
                       ascii_only)
        assert fast_json.parse_json(body, op) is None
    assert reference(to_json({"Namespace": fits, "MetricData": [{"MetricName": "m"}]},
                             ascii_only), op)["Namespace"] == fits
    with pytest.raises(errors.ValidationError) as caught:
        reference(to_json({"Namespace": too_long, "MetricData": [{"MetricName": "m"}]},
                          ascii_only), op)
    assert "have length less than or equal to 255" in caught.value.message
    assert fast_json.parse_json(put_metric_data("x" * 255), op) is not None
    assert fast_json.parse_json(put_metric_data("x" * 256), op) is None
    assert fast_json.parse_json(put_metric_data("\u00e9" * 255), op) is not None


PUT = b'{"Namespace": "ns", "MetricData": [%s]}'
EDGE_BODIES: list[tuple[bytes, bool | None]] = [
    # (body, whether the fast path must take it; None: either way, as long as it agrees)
    (PUT % b'{"MetricName": "m", "Value": 1}', True),
    (PUT % b'{"MetricName": "m", "Value": -0}', True),
    (PUT % b'{"MetricName": "m", "Value": -0.0}', True),
    (PUT % b'{"MetricName": "m", "Value": 18446744073709551617}', True),
    (PUT % b'{"MetricName": "m", "Value": 1e308}', True),
    (PUT % b'{"MetricName": "m", "Value": 1e400}', False),
    (PUT % (b'{"MetricName": "m", "Value": 1%s}' % (b"0" * 400)), False),
    (PUT % b'{"MetricName": "m", "Value": "NaN"}', False),
    (PUT % b'{"MetricName": "m", "Value": "Infinity"}', False),
    (PUT % b'{"MetricName": "m", "Value": NaN}', False),
    (PUT % b'{"MetricName": "m", "Value": true}', False),
    (PUT % b'{"MetricName": "m", "Value": null}', False),
    (PUT % b'{"MetricName": "m", "StorageResolution": 1.0}', False),
    (PUT % b'{"MetricName": "m", "StorageResolution": 2147483648}', False),
    (PUT % b'{"MetricName": "m", "StorageResolution": 0}', False),
    (PUT % b'{"MetricName": "m", "Timestamp": 1717171717}', True),
    (PUT % b'{"MetricName": "m", "Timestamp": 1717171717.1234567}', True),
    (PUT % b'{"MetricName": "m", "Timestamp": -62135596800}', True),
    (PUT % b'{"MetricName": "m", "Timestamp": -62135596801}', False),
    (PUT % b'{"MetricName": "m", "Timestamp": 253402300799.9999995}', False),
    (PUT % b'{"MetricName": "m", "Timestamp": 1e30}', False),
    (PUT % b'{"MetricName": "m", "Timestamp": "2024-01-01T00:00:00Z"}', False),
    (PUT % b'{"MetricName": "m", "Timestamp": 5, "Timestamp": 6.5}', True),
    (PUT % b'{"MetricName": "m", "MetricName": "n"}', True),
    (PUT % b'{"MetricName": "m", "Unit": "Count"}', True),
    (PUT % b'{"MetricName": "m", "Unit": "count"}', False),
    (PUT % b'{"MetricName": "m", "Unknown": 1}', False),
    (PUT % b'{"MetricName": "m", "Dimensions": [{"Name": "a", "Value": "b"}, null]}', False),
    (PUT % b'{"MetricName": ""}', False),
    (PUT % b'{"Value": 1}', False),
    (PUT % b'{"Metric\\u004eame": "m"}', None),
    (PUT % b'{"MetricName": "\\u00e9\\n\\"\\\\\\/"}', True),
    (PUT % b'{"MetricName": "\\ud800"}', False),
    (PUT % b'{"MetricName": "\\ud83d\\ude00"}', False),
    (PUT % b'{"MetricName": "\xed\xa0\x80"}', False),
    (PUT % b'{"MetricName": "\xff"}', False),
    (PUT % b'{"MetricName": "a\tb"}', False),
    (PUT % b'{"MetricName": "m"}' + b" \r\n\t", True),
    (b" \t\r\n" + PUT % b'{"MetricName": "m"}', True),
    (PUT % b'{"MetricName": "m"}' + b"x", False),
    (b"\xef\xbb\xbf" + PUT % b'{"MetricName": "m"}', False),
    ((PUT % b'{"MetricName": "m"}').decode().encode("utf-16-le"), False),
    ((PUT % b'{"MetricName": "m"}').decode().encode("utf-16"), False),
    (b'{"Namespace": ":ns", "MetricData": [{"MetricName": "m"}]}', False),
    (b'{"Namespace": "n\\ns", "MetricData": [{"MetricName": "m"}]}', False),
    (b'{"Namespace": "ns", "MetricData": []}', True),
    (b'{"Namespace": "ns", "MetricData": [], "Namespace": "other"}', True),
    (b'{"Namespace": "ns"}', True),
    (b'{"Namespace": "ns", "MetricData": [], "EntityMetricData": [{"Entity": '
     b'{"KeyAttributes": {"Type": "Service", "Name": "web", "Type": "AWS::Resource"}}}]}',
     True),
    (b'{"Namespace": "ns", "MetricData": [], "EntityMetricData": [{"Entity": '
     b'{"KeyAttributes": {"": "Service"}}}]}', False),
    (b"", False),
    (b"  ", False),
    (b"{}", False),
    (b"[]", False),
    (b"null", False),
]


@pytest.mark.parametrize(("body", "fast"), EDGE_BODIES)
def test_edge_bodies_agree(body, fast):
    accepted = agrees(body, operation_model(CLOUDWATCH, "PutMetricData"))
    if fast is not None:
        assert accepted == fast


@pytest.mark.parametrize("evaluation_window", [
    {}, {"SlidingWindow": {}, "WallClockWindow": {}}, {"SlidingWindow": None},
    {"WallClockWindow": {"Timezone": "UTC"}}, {"SlidingWindow": {}},
])
def test_unions_need_exactly_one_member(evaluation_window):
    op = operation_model(CLOUDWATCH, "PutMetricAlarm")
    body = to_json({"AlarmName": "a", "EvaluationWindow": evaluation_window})
    accepted = agrees(body, op)
    set_members = [value for value in evaluation_window.values() if value is not None]
    assert accepted == (len(evaluation_window) == len(set_members) == 1)


@pytest.mark.parametrize("member", list(SCALARS.operation_model("Probe").input_shape.members))
def test_every_edge_value_of_every_kind_agrees(member):
    op = SCALARS.operation_model("Probe")
    wire = op.input_shape.members[member].serialization.get("name", member)
    taken = 0
    for value in EDGES:
        for ascii_only in (True, False):
            taken += agrees(to_json({wire: value}, ascii_only), op)
    assert taken or member == "Wired"  # a renamed member is left to the reference


EXAMPLES = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(root=tree(3), service=st.sampled_from(sorted(RECURSIVE)))
def test_recursive_shapes_agree(root, service):
    agrees(to_json({"Root": root}), RECURSIVE[service].operation_model("Plant"))


# A model of our own whose timestamps, blobs and unions sit deeper than one generated
# function holds, and whose map keys and values need converting.
DEPTH = codegen.MAX_INDENT + 3
DEEP = ServiceModel({
    "metadata": {"protocol": "json", "serviceId": "Deep", "endpointPrefix": "deep",
                 "apiVersion": "2020-01-01", "jsonVersion": "1.0", "targetPrefix": "Deep"},
    "operations": {"Dig": {"name": "Dig", "input": {"shape": "DigInput"},
                           "http": {"method": "POST", "requestUri": "/"}}},
    "shapes": {
        "DigInput": {"type": "structure", "members": {
            "Chain": {"shape": "Chain0"}, "Times": {"shape": "TimeMap"},
            "Path": {"shape": "Path"}, "Paths": {"shape": "PathMap"}}},
        "Time": {"type": "timestamp"},
        "Data": {"type": "blob", "min": 1, "max": 3},
        "Path": {"type": "string", "min": 1, "max": 5, "pattern": "[\\p{L}]+"},
        "TimeMap": {"type": "map", "key": {"shape": "Path"}, "value": {"shape": "Times"}},
        "Times": {"type": "list", "member": {"shape": "Time"}},
        "PathMap": {"type": "map", "key": {"shape": "Path"}, "value": {"shape": "Data"}},
        "Either": {"type": "structure", "union": True, "members": {
            "At": {"shape": "Time"}, "Data": {"shape": "Data"}}},
        **{f"Chain{level}": {"type": "list", "member": {"shape": f"Link{level}"}}
           for level in range(DEPTH)},
        **{f"Link{level}": {"type": "structure", "members": {
            "Next": {"shape": f"Chain{level + 1}" if level + 1 < DEPTH else "Either"},
            "At": {"shape": "Time"}}} for level in range(DEPTH)},
    },
}, service_name="deep")


def chain(level: int) -> Any:
    if level == DEPTH:
        return st.sampled_from([{"At": 1}, {"Data": "AAE="}, {"Data": "**"}, {},
                                {"At": 1, "Data": "AAE="}, {"At": 1e30}])
    return st.lists(st.fixed_dictionaries({}, optional={
        "Next": chain(level + 1), "At": st.sampled_from([1, 2.5, -1, 10**20])}), max_size=2)


@EXAMPLES
@given(deep=chain(0), times=st.dictionaries(st.sampled_from(["abc", "é", "a1", ""]),
                                            st.lists(st.sampled_from([0, 1.5, 10**20]))),
       paths=st.dictionaries(st.sampled_from(["abc", "é", "a1"]),
                             st.sampled_from(["AAE=", "", "AAECAwQ=", "**"])),
       path=st.sampled_from(["abc", "ab1", None]))
def test_values_converted_deep_down_agree(deep, times, paths, path):
    op = DEEP.operation_model("Dig")
    document = {"Chain": deep, "Times": times, "Paths": paths, "Path": path}
    accepted = agrees(to_json(document, ascii_only=False), op)
    event(f"fast path: {accepted}")


def test_deep_values_take_the_fast_path():
    op = DEEP.operation_model("Dig")
    document: Any = {"Next": {"Data": "AAE="}}
    for _ in range(DEPTH - 1):
        document = {"Next": [document], "At": 1.5}
    document = {"Chain": [document], "Times": {"é": [0, 1.5]}, "Paths": {"abc": "AAE="}}
    body = to_json(document, ascii_only=False)
    assert agrees(body, op)
    params = fast_json.parse_json(body, op)
    innermost = params["Chain"][0]
    for _ in range(DEPTH - 1):
        assert innermost["At"] == dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
        innermost = innermost["Next"][0]
    assert innermost == {"Next": {"Data": b"\x00\x01"}}
    assert params["Times"] == {"é": [dt.datetime(1970, 1, 1, tzinfo=UTC),
                                     dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)]}
    assert params["Paths"] == {"abc": b"\x00\x01"}


def test_decoders_are_cached_per_operation():
    op = operation_model(CLOUDWATCH, "PutMetricData")
    assert fast_json.decoder(op) is fast_json.decoder(op)
    assert fast_json.decoder(operation_model(CLOUDWATCH, "DescribeAlarms")) is not None


def aws_request(protocol: str, payload: bytes) -> AWSRequest:
    return AWSRequest(service=CLOUDWATCH, protocol=protocol, operation="PutMetricData",
                      method="POST", host="localhost", path="/", query_string="", headers={},
                      body=payload, payload=payload)


@pytest.mark.parametrize("protocol", [QUERY, CBOR])
def test_only_json_requests_take_the_fast_path(protocol):
    op = operation_model(CLOUDWATCH, "PutMetricData")
    body = put_metric_data("ns")
    assert parse_valid_json(aws_request(protocol, body), op) is None
    assert parse_valid_json(aws_request(JSON, body), op) == {
        "Namespace": "ns", "MetricData": [{"MetricName": "m"}]}
