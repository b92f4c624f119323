"""The compiled Query walk answers exactly the reference's params, or leaves the request to
the reference (None); it must really take what clients send.

The reference is ``query_parser.parse_query``.  Parameters: botocore's Query serialization
of rich valid input for every operation of both services (and of a synthetic model with
flattened, renamed and map shapes), then the same parameters mutated the ways a broken or
hostile client could: keys dropped, renumbered, given leading zeros or unknown members,
values replaced by junk, containers given values.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cfn_gateway.context import AUTOSCALING, CLOUDWATCH, QUERY
from cfn_gateway.dispatch import LEGACY_QUERY_SPELLINGS
from cfn_gateway.protocol import compiled_query
from cfn_gateway.protocol.models import operation_model, service_model
from cfn_gateway.protocol.query_parser import parse_query

from .shapegen import Generator
from .test_compiled import outcome
from .test_query_parser import synthetic_model

OPERATIONS = [
    (service, name)
    for service in (CLOUDWATCH, AUTOSCALING)
    for name in service_model(service).operation_names
    if service_model(service).operation_model(name).input_shape is not None
]
SPELLINGS = [{}, LEGACY_QUERY_SPELLINGS[CLOUDWATCH]]


def wire_params(op: Any, params: dict[str, Any]) -> dict[str, str]:
    """The form botocore sends for ``params``, as the route hands it over."""
    body = create_serializer(QUERY).serialize_to_request(params, op)["body"]
    return dict(parse_qsl(urlencode(body), keep_blank_values=True))


def same_or_left(params: dict[str, str], op: Any, spellings: Any = None) -> bool:
    """Whether the compiled walk answered; when it did, its params are the reference's."""
    spellings = spellings or {}
    compiled = compiled_query.parse_query(params, op, spellings)
    if compiled is None:
        return False
    assert outcome(lambda: parse_query(params, op.input_shape, spellings)) == (
        "value", repr(compiled)), sorted(params.items())[:40]
    return True


def rich(service: str, name: str) -> tuple[Any, dict[str, str]]:
    op = operation_model(service, name, QUERY)
    return op, wire_params(op, Generator().value(op.input_shape))


@pytest.mark.parametrize("spellings", SPELLINGS, ids=["exact", "legacy-units"])
@pytest.mark.parametrize(("service", "name"), OPERATIONS)
def test_botocore_forms_are_taken_with_the_references_params(service, name, spellings):
    op, params = rich(service, name)
    params |= {"Action": name, "Version": op.service_model.api_version}
    assert same_or_left(params, op, spellings)


def test_legacy_units_are_respelled_as_the_reference_does():
    op = operation_model(CLOUDWATCH, "PutMetricData", QUERY)
    params = {"Namespace": "ns", "MetricData.member.1.MetricName": "m",
              "MetricData.member.1.Value": "1", "MetricData.member.1.Unit": "Counter",
              "MetricData.member.2.MetricName": "m", "MetricData.member.2.Value": "2",
              "MetricData.member.2.Unit": "megabytes"}
    spellings = LEGACY_QUERY_SPELLINGS[CLOUDWATCH]
    assert same_or_left(params, op, spellings)
    units = [datum["Unit"] for datum in compiled_query.parse_query(params, op, spellings)[
        "MetricData"]]
    assert units == ["Count", "Megabytes"]


def test_the_synthetic_model_of_every_serialization():
    op = synthetic_model().operation_model("Op")
    params = {"Tags": {"k1": "v1", "k 2": "v<2>"}, "Flat": ["a", "b", "c"],
              "FlatNamed": ["x", "y"], "FlatMap": {"one": 1, "two": 2},
              "Renamed": [{"A": "first"}, {"A": "second"}], "RenamedMap": {"a": "b"},
              "Data": b"\x00\x01binary\xff"}
    assert same_or_left(wire_params(op, params), op)


@pytest.mark.parametrize(("extra", "taken"), [
    ({}, True),
    ({"Foo": "bar"}, True),  # an unknown parameter: ignored by both
    ({"Statistics": ""}, False),  # a value beside the list's items
    ({"Statistics.member.01": "Sum"}, False),  # a leading zero: the reference refuses
    ({"Statistics.member.4": "Sum"}, False),  # a gap: the reference sorts
    ({"Dimensions.member.1.Bogus": "x"}, False),  # an unknown member of an item
    ({"Period": "abc"}, False),  # refused by the conversion
    ({"StartTime": "yesterday"}, False),
    ({"Period.member.1": "60"}, False),  # a list where a scalar is
    ({"Dimensions": "x"}, False),  # a value where a list is
    ({"Dimensions": ""}, True),  # the empty list botocore sends
])
def test_off_the_common_form_goes_to_the_reference(extra, taken):
    op = operation_model(CLOUDWATCH, "GetMetricStatistics", QUERY)
    params = {"Action": "GetMetricStatistics", "Version": "2010-08-01", "Namespace": "ns",
              "MetricName": "m", "Period": "60", "StartTime": "2024-01-01T00:00:00Z",
              "EndTime": "2024-01-01T01:00:00Z", "Statistics.member.1": "Sum",
              "Statistics.member.2": "Average", **extra}
    assert same_or_left(params, op) is taken


def test_map_entries_need_their_key_and_value():
    op = synthetic_model().operation_model("Op")
    assert same_or_left({"Tags.entry.1.key": "a", "Tags.entry.1.value": "1"}, op)
    assert not same_or_left({"Tags.entry.1.key": "a"}, op)
    assert not same_or_left({"Tags.entry.1.value": "a"}, op)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Any, dict[str, str]]:
    service, name = draw(st.sampled_from(OPERATIONS))
    op, params = rich(service, name)
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["drop", "junk", "empty", "renumber", "zero", "child",
                                    "parent", "unknown"]))
        if not params:
            break
        key = draw(st.sampled_from(sorted(params)))
        parts = key.split(".")
        digits = [i for i, part in enumerate(parts) if part.isdigit()]
        if how == "drop":
            params.pop(key, None)
        elif how == "junk":
            params[key] = draw(st.sampled_from(["abc", "", "1e400", "NaN", "2024-13-01",
                                                "-5", "true", " 7", "1_0"]))
        elif how == "empty":
            params[".".join(parts[:-1]) or key] = ""
        elif how in ("renumber", "zero") and digits:
            i = draw(st.sampled_from(digits))
            parts[i] = "0" + parts[i] if how == "zero" else str(int(parts[i]) + 1)
            params[".".join(parts)] = params.pop(key)
        elif how == "child":
            params[key + ".member.1"] = "x"
        elif how == "parent" and len(parts) > 1:
            params[".".join(parts[:-1])] = draw(st.sampled_from(["", "x"]))
        elif how == "unknown":
            params[".".join([*parts[:-1], "Bogus"])] = "x"
    return op, params


@given(mutated(), st.sampled_from(SPELLINGS))
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_parameters_agree_or_go_to_the_reference(case, spellings):
    op, params = case
    event("taken" if same_or_left(params, op, spellings) else "left to the reference")
