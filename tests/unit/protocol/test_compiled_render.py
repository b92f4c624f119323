"""The compiled JSON / CBOR answer renderers answer exactly as the converter they replace.

For every operation of both models with an output shape, in both flavours: the same
document (same types, same key order, NaN and CBOR tags included) or the same error class
with the same message, from random results built from the output shapes; then the same
body from ``render_document_result``.  Also models of our own: one member of every scalar
kind, and shapes that contain themselves or nest deeper than one generated function holds.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import linecache
from typing import Any

import cbor2
import pytest
from botocore.model import OperationModel, ServiceModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfn_gateway.context import AUTOSCALING, CLOUDWATCH
from cfn_gateway.protocol import compiled_render, document_render, timestamps
from cfn_gateway.protocol.models import operation_model, service_model

from .shaperesults import Moment, results
from .test_compiled import DEPTH, DIFFERENTIAL, TREE, outcome

OPERATIONS = [
    (service, name)
    for service in (CLOUDWATCH, AUTOSCALING)
    for name in service_model(service).operation_names
    if service_model(service).operation_model(name).output_shape is not None
]


def reference_body(document: dict[str, Any], cbor: bool) -> Any:
    """The body as ``render_document_result`` serialized it before it was compiled: CBOR's
    bytes, or the value of the JSON text (the encoder changed since; the JSON value, and so
    what every client reads, did not)."""
    if cbor:
        return cbor2.dumps(document)
    return json.loads(json.dumps(document, separators=(",", ":"), allow_nan=False))


def body_value(body: bytes, cbor: bool) -> Any:
    """What ``reference_body`` compares: CBOR's bytes, or the value of the UTF-8 JSON."""
    return body if cbor else json.loads(body.decode("utf-8"))


def same_answers(op: OperationModel, result: Any, cbor: bool) -> None:
    converter = document_render._Converter(cbor)
    reference = outcome(lambda: converter.structure(result or {}, op.output_shape))
    compiled = compiled_render.renderer(op, converter)
    assert outcome(lambda: compiled(result or {})) == reference
    if reference[0] == "value":
        document = converter.structure(result or {}, op.output_shape)
        expected = outcome(lambda: reference_body(document, cbor))
        assert outcome(lambda: body_value(document_render.render_document_result(
            op, result, cbor).body, cbor)) == expected


@DIFFERENTIAL
@given(data=st.data(), case=st.sampled_from(OPERATIONS), cbor=st.booleans(),
       mutate=st.booleans())
def test_random_results_answer_alike(data, case, cbor, mutate):
    op = operation_model(*case)
    result = data.draw(results(op.output_shape, mutate), label="result")
    same_answers(op, result, cbor)


SCALAR_MEMBERS = {name: {"shape": name} for name in (
    "Text", "Choice", "Count", "Big", "Ratio", "Single", "Flag", "At", "Data", "Odd")}


def with_output(model: dict[str, Any], name: str, output: str, service: str) -> ServiceModel:
    """A copy of a test model whose operation ``name`` answers the shape ``output``."""
    model = copy.deepcopy(model)
    model["operations"][name]["output"] = {"shape": output}
    return ServiceModel(model, service_name=service)


RECURSIVE = with_output(TREE, "Plant", "PlantInput", "tree")
# Every kind of shape once, as a member, in a list, a map and a nested structure; a member
# with a wire name of its own; a shape type no renderer knows.
EDGES = ServiceModel({
    "metadata": {"protocol": "json", "serviceId": "Edges", "endpointPrefix": "edges",
                 "apiVersion": "2020-01-01", "jsonVersion": "1.0", "targetPrefix": "Edges"},
    "operations": {"Probe": {"name": "Probe", "output": {"shape": "ProbeOutput"},
                             "http": {"method": "POST", "requestUri": "/"}}},
    "shapes": {
        "ProbeOutput": {"type": "structure", "members": {
            **SCALAR_MEMBERS, "Items": {"shape": "Items"}, "Stamps": {"shape": "Stamps"},
            "Pairs": {"shape": "Pairs"}, "Nested": {"shape": "Nested"},
            "Wired": {"shape": "Text", "locationName": "wired"}}},
        "Nested": {"type": "structure", "members": SCALAR_MEMBERS},
        "Text": {"type": "string"}, "Choice": {"type": "string", "enum": ["A", "B"]},
        "Count": {"type": "integer"}, "Big": {"type": "long"}, "Ratio": {"type": "double"},
        "Single": {"type": "float"}, "Flag": {"type": "boolean"},
        "At": {"type": "timestamp"}, "Data": {"type": "blob"}, "Odd": {"type": "bigdecimal"},
        "Items": {"type": "list", "member": {"shape": "Count"}},
        "Stamps": {"type": "list", "member": {"shape": "At"}},
        "Pairs": {"type": "map", "key": {"shape": "Text"}, "value": {"shape": "Ratio"}},
    },
}, service_name="edges")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), cbor=st.booleans(), mutate=st.booleans())
def test_every_kind_of_scalar_answers_alike(data, cbor, mutate):
    op = EDGES.operation_model("Probe")
    result = data.draw(results(op.output_shape, mutate), label="result")
    same_answers(op, result, cbor)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), cbor=st.booleans(), mutate=st.booleans())
def test_recursive_and_deep_shapes_answer_alike(data, cbor, mutate):
    op = RECURSIVE.operation_model("Plant")
    shapes = op.output_shape.members
    result = {
        "Root": data.draw(results(shapes["Root"], mutate, max_depth=6, max_items=2),
                          label="root"),
        "Deep": data.draw(results(shapes["Deep"], mutate, max_depth=2 * DEPTH + 2,
                                  max_items=2), label="deep"),
    }
    same_answers(op, result, cbor)


def test_a_recursive_shape_gets_a_function_that_calls_itself():
    op = RECURSIVE.operation_model("Plant")
    result: dict[str, Any] = {"Root": {"Name": "a", "Size": 1}}
    for level in range(30):
        result = {"Root": {"Name": "b", "Children": [result["Root"], None],
                           "Named": {level: {"Name": "c"}}, "Self": {"Size": level}}}
    deep: Any = 5
    for _ in range(DEPTH):
        deep = [{"Next": deep, "At": 1}]
    result["Deep"] = deep
    for cbor in (False, True):
        same_answers(op, result, cbor)
    render = compiled_render.renderer(op, document_render._Converter(False))
    source = "".join(linecache.getlines(render.__code__.co_filename))
    assert source.startswith("def render(result):")
    assert "def render_" in source


T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
STATISTICS = {"SampleCount": 3.0, "Average": 2.5, "Sum": 7.5, "Minimum": 0.5, "Maximum": 4.0}


def test_get_metric_statistics_datapoints():
    op = operation_model(CLOUDWATCH, "GetMetricStatistics")
    points = [{"Timestamp": T0 + dt.timedelta(minutes=i, microseconds=250_000 * i),
               "Unit": "Count", **STATISTICS, "Extra": 1} for i in range(3)]
    points[2]["Maximum"] = float("inf")
    result = {"Label": "CPU", "Datapoints": [*points, None]}
    for cbor in (False, True):
        same_answers(op, result, cbor)
    body = document_render.render_document_result(op, result, cbor=False).body
    assert body.startswith(
        b'{"Label":"CPU","Datapoints":[{"Timestamp":1704067200,"SampleCount":3.0,'
        b'"Average":2.5,"Sum":7.5,"Minimum":0.5,"Maximum":4.0,"Unit":"Count"},'
        b'{"Timestamp":1704067260.25,')
    assert body.endswith(b'"Maximum":"Infinity","Unit":"Count"}]}')
    cbor_body = document_render.render_document_result(op, result, cbor=True).body
    decoded = cbor2.loads(cbor_body)
    assert [point["Timestamp"] for point in decoded["Datapoints"]] == [
        T0, T0 + dt.timedelta(seconds=60.25), T0 + dt.timedelta(seconds=120.5)]
    assert decoded["Datapoints"][2]["Maximum"] == float("inf")


@pytest.mark.parametrize("result", [None, {}, {"Label": None, "Datapoints": None}])
def test_empty_results(result):
    op = operation_model(CLOUDWATCH, "GetMetricStatistics")
    for cbor in (False, True):
        same_answers(op, result, cbor)
    assert document_render.render_document_result(op, result, cbor=False).body == b"{}"
    assert document_render.render_document_result(op, result, cbor=True).body == b"\xa0"


def test_an_operation_without_output_shape():
    op = operation_model(CLOUDWATCH, "PutMetricData")
    assert op.output_shape is None
    json_reply = document_render.render_document_result(op, None, cbor=False)
    assert (json_reply.body, json_reply.headers) == (
        b"{}", [("Content-Type", document_render.JSON_CONTENT_TYPE)])
    cbor_reply = document_render.render_document_result(op, {"Ignored": 1}, cbor=True)
    assert (cbor_reply.body, cbor_reply.headers) == (b"", document_render.CBOR_HEADERS)
    with pytest.raises(AssertionError):
        compiled_render.renderer(op, document_render._Converter(False))


def test_renderers_are_cached_per_operation_and_flavour():
    op = operation_model(CLOUDWATCH, "GetMetricData")
    json_reference, cbor_reference = (document_render._Converter(cbor)
                                      for cbor in (False, True))
    assert compiled_render.renderer(op, json_reference) is compiled_render.renderer(
        op, document_render._Converter(False))
    assert compiled_render.renderer(op, json_reference) is not compiled_render.renderer(
        op, cbor_reference)


ZONES = [dt.UTC, dt.timezone(dt.timedelta(0)), dt.timezone(dt.timedelta(hours=-2)), None]


@pytest.mark.parametrize("moment", [
    dt.datetime.min, dt.datetime.max, dt.datetime(1969, 12, 31, 23, 59, 59, 999_999),
    dt.datetime(1970, 1, 1), dt.datetime(1970, 1, 1, 0, 0, 0, 1),
    dt.datetime(1600, 2, 29, 12, 0, 0, 500_000), dt.datetime(2038, 1, 19, 3, 14, 8, 123_456),
])
def test_timestamps_as_to_epoch_gives_them(moment):
    op = operation_model(CLOUDWATCH, "GetMetricData")
    for zone in ZONES:
        for value in (moment.replace(tzinfo=zone),
                      Moment.fromisoformat(moment.replace(tzinfo=zone).isoformat())):
            result = {"MetricDataResults": [{"Timestamps": [value]}]}
            for cbor in (False, True):
                same_answers(op, result, cbor)
            if zone is dt.UTC:
                render = compiled_render.renderer(op, document_render._Converter(False))
                (seconds,) = render(result)["MetricDataResults"][0]["Timestamps"]
                assert repr(seconds) == repr(timestamps.to_epoch(value))
