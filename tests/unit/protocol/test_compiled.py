"""The compiled parsers and validators answer exactly as the interpretive walks they replace.

For every operation of both models, in both document flavours: the same params (same
types, same order, NaN included) or the same error class with the same message, from
random documents built from the input shapes (valid, and mutated), from botocore's own
requests, and from a recursive model of our own.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import linecache
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from botocore.model import ServiceModel
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CLOUDWATCH
from cfn_gateway.protocol import (
    codegen,
    compiled_document,
    compiled_validation,
    document_parser,
    models,
    validation,
)
from cfn_gateway.protocol.models import operation_model, service_model

from .shapedocs import EPOCH_EDGES, documents
from .shapegen import Generator

OPERATIONS = [
    (service, name)
    for service in (CLOUDWATCH, AUTOSCALING)
    for name in service_model(service).operation_names
    if service_model(service).operation_model(name).input_shape is not None
]
DIFFERENTIAL = settings(max_examples=400, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow,
                                               HealthCheck.data_too_large])


def outcome(call: Callable[[], Any]) -> tuple[str, ...]:
    """What a call answered, comparable across implementations (repr keeps NaN, types
    and key order)."""
    try:
        return ("value", repr(call()))
    except Exception as error:  # any answer must be the same answer
        return ("error", type(error).__name__, str(error))


def reference_parse(payload: bytes, op: Any, cbor: bool) -> dict[str, Any]:
    parse = document_parser.parse_cbor if cbor else document_parser.parse_json
    return parse(payload, op.input_shape)


def compiled_parse(payload: bytes, op: Any, cbor: bool) -> dict[str, Any]:
    parse = compiled_document.parse_cbor if cbor else compiled_document.parse_json
    return parse(payload, op)


def encode(document: Any, cbor: bool, timestamps_as_numbers: bool = True) -> bytes:
    if cbor:
        return cbor2.dumps(document, datetime_as_timestamp=timestamps_as_numbers)
    return json.dumps(document).encode()


def tuples(value: Any) -> Any:
    """The same value with every list a tuple (the validator accepts both)."""
    if isinstance(value, list):
        return tuple(tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: tuples(item) for key, item in value.items()}
    return value


def same_answers(op: Any, payload: bytes, cbor: bool) -> Any:
    """Both parsers, then (when they parsed) both validators, answer alike."""
    reference = outcome(lambda: reference_parse(payload, op, cbor))
    assert outcome(lambda: compiled_parse(payload, op, cbor)) == reference
    if reference[0] != "value":
        return None
    params = reference_parse(payload, op, cbor)
    same_validation(op, params)
    return params


def same_validation(op: Any, params: Any) -> None:
    expected = outcome(lambda: validation.validate_params(op, params))
    assert outcome(lambda: compiled_validation.validate_params(op, params)) == expected


@DIFFERENTIAL
@given(data=st.data(), case=st.sampled_from(OPERATIONS), cbor=st.booleans(),
       mutate=st.booleans())
def test_random_documents_answer_alike(data, case, cbor, mutate):
    op = operation_model(*case)
    document = data.draw(documents(op.input_shape, cbor, mutate), label="document")
    try:
        payload = encode(document, cbor, data.draw(st.booleans(), label="cbor epoch"))
    except (ValueError, TypeError, cbor2.CBOREncodeError):
        assume(False)
    same_answers(op, payload, cbor)
    # The validators also meet values no parser lets through (wrong types, tuples).
    same_validation(op, document)
    same_validation(op, tuples(document))


@functools.cache
def serializable(service: str) -> ServiceModel:
    """The model with what botocore's JSON and CBOR serializers need (Auto Scaling's
    speaks Query only)."""
    description = copy.deepcopy(models._loader().load_service_model(service, "service-2"))
    description["metadata"].setdefault("targetPrefix", service)
    description["metadata"].setdefault("jsonVersion", "1.0")
    return ServiceModel(description, service_name=service)


@pytest.mark.parametrize(("service", "name"), OPERATIONS,
                         ids=[f"{service}-{name}" for service, name in OPERATIONS])
def test_botocore_requests_answer_alike(service, name):
    op = operation_model(service, name)
    params = Generator().value(op.input_shape)
    client_op = serializable(service).operation_model(name)
    for protocol, cbor in (("json", False), ("smithy-rpc-v2-cbor", True)):
        body = create_serializer(protocol).serialize_to_request(params, client_op)["body"]
        parsed = same_answers(op, body, cbor)
        assert parsed == params
    same_validation(op, params)


def test_decoders_and_checkers_are_cached_per_operation_and_flavour():
    op = operation_model(CLOUDWATCH, "PutMetricData")
    assert compiled_document.decoder(op, False) is compiled_document.decoder(op, False)
    assert compiled_document.decoder(op, False) is not compiled_document.decoder(op, True)
    assert compiled_validation.checker(op) is compiled_validation.checker(op)


def test_the_generated_source_shows_in_tracebacks():
    op = operation_model(CLOUDWATCH, "PutMetricData")
    decode = compiled_document.decoder(op, False)
    lines = linecache.getlines(decode.__code__.co_filename)
    assert lines and lines[0].startswith("def decode(document):")


T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("params", [
    {"Namespace": "ns", "MetricData": [{"MetricName": "m"}, None, {}, {"MetricName": ""}]},
    {"MetricData": [{"MetricName": "x" * 256, "Dimensions": [{"Name": ""}] * 31,
                     "Unit": "Bogus", "StorageResolution": 0, "Value": True}]},
    {"Namespace": ":bad", "MetricData": ("not", "dicts"), "StrictEntityValidation": 1},
    {"Namespace": "ns", "EntityMetricData": [{"Entity": {"KeyAttributes": {"": None},
                                                         "Attributes": {1: "x"}}}]},
])
def test_cloudwatch_cases_answer_alike(params):
    same_validation(operation_model(CLOUDWATCH, "PutMetricData"), params)


@pytest.mark.parametrize(("operation", "params"), [
    ("PutMetricAlarm", {"AlarmName": "a", "EvaluationWindow": {}}),
    ("PutMetricAlarm", {"AlarmName": "a", "EvaluationWindow": {"WallClockWindow": {},
                                                               "SlidingWindow": {}}}),
    ("PutMetricAlarm", {"AlarmName": "a", "EvaluationWindow": {"WallClockWindow": None,
                                                               "SlidingWindow": {}}}),
    ("PutMetricDataQueryDefinition", {"Path": "p", "Type": "SQL",
                                      "Expression": "x" * 70_000, "Id": 5}),
    ("PutMetricDataQueryDefinition", {"Path": "p", "Type": "SQL", "Expression": 5}),
    ("GetMetricStatistics", {"Namespace": "ns", "MetricName": "m", "StartTime": "now",
                             "EndTime": T0, "Period": 2**31, "Statistics": ["Sum", "x"]}),
])
def test_unions_sensitive_values_and_ranges_answer_alike(operation, params):
    same_validation(operation_model(CLOUDWATCH, operation), params)


@pytest.mark.parametrize("params", [
    {},
    {"AutoScalingGroupName": "", "MinSize": -1, "MaxSize": 2**31, "LaunchTemplate": {}},
    {"AutoScalingGroupName": "g", "MinSize": 1, "MaxSize": 1,
     "Tags": [{"Key": None}, None], "AvailabilityZones": []},
])
def test_autoscaling_cases_answer_alike(params):
    same_validation(operation_model(AUTOSCALING, "CreateAutoScalingGroup"), params)


# A model of our own whose shapes contain themselves, and a chain nested deeper than
# one generated function holds.
DEPTH = codegen.MAX_INDENT + 4
TREE = {
    "metadata": {"protocol": "json", "serviceId": "Tree", "endpointPrefix": "tree",
                 "apiVersion": "2020-01-01", "jsonVersion": "1.0",
                 "targetPrefix": "Tree"},
    "operations": {"Plant": {"name": "Plant", "input": {"shape": "PlantInput"},
                             "http": {"method": "POST", "requestUri": "/"}}},
    "shapes": {
        "PlantInput": {"type": "structure", "required": ["Root"], "members": {
            "Root": {"shape": "Node"}, "Deep": {"shape": "Chain0"}}},
        "Node": {"type": "structure", "required": ["Name"], "members": {
            "Name": {"shape": "Name"}, "Size": {"shape": "Size"},
            "Children": {"shape": "Nodes"}, "Named": {"shape": "NodeMap"},
            "Self": {"shape": "Node", "locationName": "self"}}},
        "Nodes": {"type": "list", "member": {"shape": "Node", "locationName": "child"},
                  "max": 3},
        "NodeMap": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Node"}},
        "Name": {"type": "string", "min": 1, "max": 5, "pattern": "[a-z]+"},
        "Size": {"type": "integer", "min": 0, "max": 9},
        **{f"Chain{level}": {"type": "list", "member": {"shape": f"Link{level}"}}
           for level in range(DEPTH)},
        **{f"Link{level}": {"type": "structure", "members": {
            "Next": {"shape": f"Chain{level + 1}" if level + 1 < DEPTH else "Size"},
            "At": {"shape": "Size"}}} for level in range(DEPTH)},
    },
}
# Served as if it were CloudWatch's too, for its MissingParameter answers (query paths).
RECURSIVE = {service: ServiceModel(TREE, service_name=service)
             for service in ("tree", CLOUDWATCH)}


def tree(depth: int, breadth: int = 2) -> st.SearchStrategy[Any]:
    leaf = st.fixed_dictionaries({}, optional={
        "Name": st.sampled_from(["a", "abcdef", "A", "", 3]),
        "Size": st.sampled_from([0, 9, 10, -1, "1", 2**31]),
    })
    if depth == 0:
        return leaf
    inner = tree(depth - 1, breadth)
    return st.fixed_dictionaries({}, optional={
        "Name": st.sampled_from(["a", "abcdef", "A", None]),
        "Size": st.sampled_from([0, 10, None]),
        "Children": st.lists(st.one_of(inner, st.none()), max_size=breadth + 2),
        "Named": st.dictionaries(st.sampled_from(["k", "", "KEY"]), inner, max_size=2),
        "self": inner,
    })


def chain(level: int) -> Any:
    if level == DEPTH:
        return st.sampled_from([1, 10, "x"])
    return st.lists(st.fixed_dictionaries({}, optional={
        "Next": chain(level + 1), "At": st.sampled_from([1, -1, None])}), max_size=1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(root=tree(4), deep=chain(0), cbor=st.booleans(),
       service=st.sampled_from(sorted(RECURSIVE)))
def test_recursive_and_deep_shapes_answer_alike(root, deep, cbor, service):
    op = RECURSIVE[service].operation_model("Plant")
    document = {"Root": root, "Deep": deep}
    same_answers(op, encode(document, cbor), cbor)
    same_validation(op, document)


def test_a_recursive_shape_gets_a_function_that_calls_itself():
    op = RECURSIVE["tree"].operation_model("Plant")
    document = {"Root": {"Name": "a"}}
    for _ in range(30):
        document = {"Root": {"Name": "b", "Children": [document["Root"]]}}
    document["Root"]["Children"][0]["Size"] = 10
    params = compiled_document.parse_document(document, op, cbor=False)
    assert params == document_parser.walker(False).t_structure(document, op.input_shape, "")
    with pytest.raises(errors.ValidationError) as caught:
        compiled_validation.validate_params(op, params)
    assert caught.value.message == (
        "1 validation error detected: Value '10' at 'root.children.1.member.size' failed to"
        " satisfy constraint: Member must have value less than or equal to 9")
    same_validation(op, params)
    source = compiled_validation.checker(op).__code__.co_filename
    assert "def check_" in "".join(linecache.getlines(source))
    del params["Root"]["Children"][0]["Children"][0]["Name"]
    cloudwatch_op = RECURSIVE[CLOUDWATCH].operation_model("Plant")
    with pytest.raises(errors.MissingParameter) as caught:
        compiled_validation.validate_params(cloudwatch_op, params)
    assert caught.value.message == (
        "The parameter Root.Children.child.1.Children.child.1.Name is required.")
    same_validation(cloudwatch_op, params)


# A model of our own with one member of every scalar kind, each with constraints, to
# meet every edge value in both flavours.
SCALARS = ServiceModel({
    "metadata": {"protocol": "json", "serviceId": "Edges", "endpointPrefix": "edges",
                 "apiVersion": "2020-01-01", "jsonVersion": "1.0", "targetPrefix": "Edges"},
    "operations": {"Probe": {"name": "Probe", "input": {"shape": "ProbeInput"},
                             "http": {"method": "POST", "requestUri": "/"}}},
    "shapes": {
        "ProbeInput": {"type": "structure", "members": {
            "Text": {"shape": "Text"}, "Secret": {"shape": "Secret"},
            "Choice": {"shape": "Choice"}, "Count": {"shape": "Count"},
            "Big": {"shape": "Big"}, "Ratio": {"shape": "Ratio"},
            "Single": {"shape": "Single"}, "Flag": {"shape": "Flag"},
            "At": {"shape": "At"}, "Data": {"shape": "Data"},
            "Items": {"shape": "Items"}, "Pairs": {"shape": "Pairs"},
            "Wired": {"shape": "Text", "locationName": "wired"}}},
        "Text": {"type": "string", "min": 2, "max": 4, "pattern": "[a-z\u00e9\U0001F600]+"},
        "Secret": {"type": "string", "max": 3, "sensitive": True},
        "Choice": {"type": "string", "enum": ["A", "B"]},
        "Count": {"type": "integer", "min": 1, "max": 10},
        "Big": {"type": "long"},
        "Ratio": {"type": "double", "min": -1.5, "max": 2.5},
        "Single": {"type": "float"},
        "Flag": {"type": "boolean"},
        "At": {"type": "timestamp"},
        "Data": {"type": "blob", "min": 1, "max": 3},
        "Items": {"type": "list", "member": {"shape": "Count"}, "min": 1, "max": 2},
        "Pairs": {"type": "map", "key": {"shape": "Text"}, "value": {"shape": "Count"},
                  "max": 1},
    },
}, service_name="edges")
EDGES: list[Any] = [
    None, True, False, 0, 1, -1, 10, 11, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1,
    2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**400, 0.5, -0.0, 2.5, 2.75, -1.5, -1.75,
    1e308, "NaN", "Infinity", "-Infinity", "nan", "", "a", "ab", "abcde", "\u00e9\u00e9",
    "\U0001F600", "\U0001F600\U0001F600", "\U0001F600\U0001F600\U0001F600", "a\ud800",
    "AAE=", "AAECAw==", "**", "A", "B", "b", [], [1], [None], [0], [1, 2, 3], {}, {"ab": 1},
    {"ab": None}, {"": 1}, {"ab": 1, "cd": 2}, *EPOCH_EDGES,
]
CBOR_EDGES: list[Any] = [
    b"", b"ab", b"abcd", float("nan"), float("inf"), float("-inf"), cbor2.undefined,
    [cbor2.undefined], {"ab": cbor2.undefined}, {1: 2},
    dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=2))),
    dt.datetime(1, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
]
PYTHON_EDGES: list[Any] = [
    bytearray(b"ab"), (), (1,), (1, 2, 3), dt.datetime(2024, 1, 1), 1.5 + 0j, object,
]


@pytest.mark.parametrize("member", list(SCALARS.operation_model("Probe").input_shape.members))
def test_every_edge_value_of_every_kind_answers_alike(member):
    op = SCALARS.operation_model("Probe")
    wire = op.input_shape.members[member].serialization.get("name", member)
    for value in EDGES:
        same_answers(op, encode({wire: value}, cbor=False), cbor=False)
        same_validation(op, {member: value})
    for value in EDGES + CBOR_EDGES:
        try:
            payload = encode({wire: value}, cbor=True, timestamps_as_numbers=False)
        except (ValueError, TypeError, cbor2.CBOREncodeError):
            continue
        same_answers(op, payload, cbor=True)
        same_validation(op, {member: value})
    for value in PYTHON_EDGES:
        same_validation(op, {member: value})
