"""The compiled Query answers are byte for byte the lxml tree's (``query_render``'s
reference), or the same error.

For every operation of both models with an output shape: random results built from the
output shapes (values of the shape's own type and many that are not, ``None`` in lists and
maps, unknown members; with ``mutate``, values the renderers refuse).  Also models of our
own: every scalar kind, flattened and renamed lists and maps, shapes that contain
themselves or nest deeper than one generated function holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.model import OperationModel, ServiceModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfn_gateway.context import AUTOSCALING, CLOUDWATCH, QUERY
from cfn_gateway.protocol import compiled_query_render, query_render
from cfn_gateway.protocol.models import operation_model, service_model

from .shaperesults import results
from .test_compiled import DEPTH, DIFFERENTIAL, outcome
from .test_compiled_render import EDGES, RECURSIVE

OPERATIONS = [
    (service, name)
    for service in (CLOUDWATCH, AUTOSCALING)
    for name in service_model(service).operation_names
    if service_model(service).operation_model(name).output_shape is not None
]


def same_answers(service: str, op: OperationModel, result: Any,
                 request_id: str = "9d5b2a8e-0c3f-4b7e-8f21-3c2d1e0f9a8b") -> None:
    expected = outcome(lambda: query_render.reference_result(
        service, op, result, request_id).body)
    compiled = compiled_query_render.renderer(service, op)
    assert outcome(lambda: compiled(result, request_id)) == expected


@DIFFERENTIAL
@given(data=st.data(), case=st.sampled_from(OPERATIONS), mutate=st.booleans())
def test_random_results_answer_alike(data, case, mutate):
    op = operation_model(*case, QUERY)
    result = data.draw(results(op.output_shape, mutate), label="result")
    same_answers(case[0], op, result)


@pytest.mark.parametrize("request_id", ["", "a<b>&\r", "id\x00\ud800", "plain-id"])
def test_request_ids_and_empty_results(request_id):
    op = operation_model(CLOUDWATCH, "DescribeAlarms", QUERY)
    for result in (None, {}, {"MetricAlarms": []}, {"MetricAlarms": [None, {}]}):
        same_answers(CLOUDWATCH, op, result, request_id)


def test_a_day_of_datapoints():
    op = operation_model(CLOUDWATCH, "GetMetricStatistics", QUERY)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    datapoints = [{"Timestamp": start + dt.timedelta(minutes=i), "SampleCount": 70.0,
                   "Average": i / 7, "Sum": 3493.0, "Minimum": 0.1, "Maximum": 99.9,
                   "Unit": "Milliseconds", "ExtendedStatistics": {"p99": 98.5}}
                  for i in range(1440)]
    same_answers(CLOUDWATCH, op, {"Label": "Latency <ms> & more", "Datapoints": datapoints})


def query_model(model: ServiceModel) -> ServiceModel:
    """``model`` as a Query service."""
    definition = {"metadata": {**model.metadata, "protocol": "query",
                               "xmlNamespace": "https://edges.test/doc/"},
                  "operations": {name: model._service_description["operations"][name]
                                 for name in model.operation_names},
                  "shapes": model._shape_resolver._shape_map}
    return ServiceModel(definition, service_name=model.service_name)


# Flattened and renamed lists and maps, as Query models may declare them.
SHAPES = ServiceModel({
    "metadata": {"protocol": "query", "serviceId": "Shapes", "endpointPrefix": "shapes",
                 "apiVersion": "2020-01-01", "xmlNamespace": "https://shapes.test/doc/"},
    "operations": {"Op": {"name": "Op", "output": {"shape": "Out", "resultWrapper": "R"},
                          "http": {"method": "POST", "requestUri": "/"}}},
    "shapes": {
        "Out": {"type": "structure", "members": {
            "Flat": {"shape": "FlatList"}, "FlatNamed": {"shape": "FlatNamedList"},
            "Renamed": {"shape": "RenamedList"}, "FlatMap": {"shape": "FlatMap"},
            "RenamedMap": {"shape": "RenamedMap"}, "Plain": {"shape": "PlainMap"},
            "Wired": {"shape": "String", "locationName": "wired"}}},
        "FlatList": {"type": "list", "flattened": True, "member": {"shape": "String"}},
        "FlatNamedList": {"type": "list", "flattened": True,
                          "member": {"shape": "String", "locationName": "Item"}},
        "RenamedList": {"type": "list", "member": {"shape": "Struct", "locationName": "it"}},
        "FlatMap": {"type": "map", "flattened": True, "key": {"shape": "String"},
                    "value": {"shape": "Integer"}},
        "RenamedMap": {"type": "map", "key": {"shape": "String", "locationName": "K"},
                       "value": {"shape": "Struct", "locationName": "V"}},
        "PlainMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
        "Struct": {"type": "structure",
                   "members": {"A": {"shape": "String", "locationName": "a"},
                               "B": {"shape": "FlatList"}}},
        "String": {"type": "string"},
        "Integer": {"type": "integer"},
    },
}, service_name="shapes")


@pytest.mark.parametrize("model", [SHAPES, query_model(EDGES)], ids=["shapes", "edges"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), mutate=st.booleans())
def test_every_kind_of_shape_answers_alike(model, data, mutate):
    op = model.operation_model(model.operation_names[0])
    same_answers(model.service_name, op, data.draw(results(op.output_shape, mutate)))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), mutate=st.booleans())
def test_recursive_and_deep_shapes_answer_alike(data, mutate):
    model = query_model(RECURSIVE)
    op = model.operation_model("Plant")
    shapes = op.output_shape.members
    result = {
        "Root": data.draw(results(shapes["Root"], mutate, max_depth=6, max_items=2)),
        "Deep": data.draw(results(shapes["Deep"], mutate, max_depth=2 * DEPTH + 2,
                                  max_items=1)),
    }
    same_answers(model.service_name, op, result)
