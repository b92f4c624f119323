"""Legacy unit spellings (what cfn-push-stats sends) in Query requests, and nowhere else.

Every member of CloudWatch's ``StandardUnit`` shape, in every operation, is read through
``cfn_gateway.domain.units.standard_unit_for`` when the request is Query and the option
``query_legacy_units`` is on (the default); JSON and CBOR keep AWS's exact enum check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from cfn_gateway import errors
from cfn_gateway.config import CONF
from cfn_gateway.context import (
    CBOR,
    CLOUDWATCH,
    ENV_AWS_REQUEST,
    ENV_IDENTITY,
    ENV_REQUEST_ID,
    JSON,
    QUERY,
    Identity,
)
from cfn_gateway.dispatch import LEGACY_QUERY_SPELLINGS, Gateway, app_factory
from cfn_gateway.protocol import HTTPReply, parse_params, validate_params
from cfn_gateway.protocol.models import operation_model, service_model

from .shapegen import Generator
from .wire import parse_with_botocore, request_from_botocore

UNIT_SHAPE = "StandardUnit"
SPELLINGS = LEGACY_QUERY_SPELLINGS[CLOUDWATCH]


def reaches_unit(shape: Shape, seen: frozenset[str] = frozenset()) -> bool:
    if shape.name == UNIT_SHAPE:
        return True
    if shape.name in seen:
        return False
    seen = seen | {shape.name}
    if isinstance(shape, StructureShape):
        return any(reaches_unit(member, seen) for member in shape.members.values())
    if isinstance(shape, ListShape):
        return reaches_unit(shape.member, seen)
    if isinstance(shape, MapShape):
        return reaches_unit(shape.value, seen)
    return False


UNIT_OPERATIONS = sorted(
    name for name in service_model(CLOUDWATCH).operation_names
    if (shape := operation_model(CLOUDWATCH, name).input_shape) is not None
    and reaches_unit(shape)
)


def units_in(value: Any, shape: Shape, replace: Callable[[str], str] | None = None
             ) -> list[str]:
    """Every StandardUnit value inside ``value``, after ``replace`` (in place) if given."""
    found: list[str] = []
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            if name not in value:
                continue
            if member.name == UNIT_SHAPE:
                if replace is not None:
                    value[name] = replace(value[name])
                found.append(value[name])
            else:
                found += units_in(value[name], member, replace)
    elif isinstance(shape, ListShape):
        for item in value:
            found += units_in(item, shape.member, replace)
    elif isinstance(shape, MapShape):
        for item in value.values():
            found += units_in(item, shape.value, replace)
    return found


def request_with_unit(operation: str, protocol: str, spelling: str):
    """botocore's request for a rich input of ``operation`` with every unit = ``spelling``."""
    op = operation_model(CLOUDWATCH, operation, protocol)
    params = Generator().value(op.input_shape)
    assert units_in(params, op.input_shape, lambda _: spelling), operation
    return op, request_from_botocore(CLOUDWATCH, protocol, op, params)


def test_every_operation_with_a_unit_is_covered():
    assert {"PutMetricData", "GetMetricStatistics", "GetMetricData", "PutMetricAlarm",
            "DescribeAlarmsForMetric"} <= set(UNIT_OPERATIONS)


@pytest.mark.parametrize("operation", UNIT_OPERATIONS)
@pytest.mark.parametrize(("spelling", "unit"), [
    ("Counter", "Count"), ("counter", "Count"), ("megabytes", "Megabytes"),
    ("gigabytes", "Gigabytes"), ("PERCENT", "Percent"), ("bytes/second", "Bytes/Second"),
    ("none", "None"), ("Seconds", "Seconds"),
])
def test_query_reads_legacy_spellings_as_aws_units(operation, spelling, unit):
    op, request = request_with_unit(operation, QUERY, spelling)
    parsed = parse_params(request, op, SPELLINGS)
    assert set(units_in(parsed, op.input_shape)) == {unit}
    validate_params(op, parsed)


@pytest.mark.parametrize("operation", UNIT_OPERATIONS)
@pytest.mark.parametrize("protocol", [JSON, CBOR])
def test_json_and_cbor_keep_aws_rules(operation, protocol):
    op, request = request_with_unit(operation, protocol, "Counter")
    parsed = parse_params(request, op, SPELLINGS)  # Query spellings do not apply here
    assert set(units_in(parsed, op.input_shape)) == {"Counter"}
    with pytest.raises(errors.ValidationError, match=r"'Counter' at .*enum value set"):
        validate_params(op, parsed)


@pytest.mark.parametrize("operation", UNIT_OPERATIONS)
def test_query_without_legacy_spellings_keeps_aws_rules(operation):
    op, request = request_with_unit(operation, QUERY, "megabytes")
    with pytest.raises(errors.ValidationError, match=r"'megabytes' at .*enum value set"):
        validate_params(op, parse_params(request, op))


@pytest.mark.parametrize("spelling", ["Widgets", "Counters", "", "\u212ailobytes"])
def test_unknown_units_are_still_refused(spelling):
    op, request = request_with_unit("PutMetricData", QUERY, spelling)
    with pytest.raises(errors.ValidationError, match="enum value set"):
        validate_params(op, parse_params(request, op, SPELLINGS))


def test_other_enums_are_not_respelled():
    op = operation_model(CLOUDWATCH, "SetAlarmState")
    params = {"AlarmName": "a", "StateValue": "alarm", "StateReason": "r"}
    parsed = parse_params(request_from_botocore(CLOUDWATCH, QUERY, op, params), op, SPELLINGS)
    with pytest.raises(errors.ValidationError, match="'alarm' at 'stateValue'"):
        validate_params(op, parsed)


# The option, as the paste pipeline builds the app.

@pytest.fixture
def configured(tmp_path) -> Iterator[Callable[[bool], Gateway]]:
    gateways: list[Gateway] = []

    def build(legacy_units: bool) -> Gateway:
        CONF.set_override("query_legacy_units", legacy_units)
        gateway = app_factory({})
        gateways.append(gateway)
        return gateway

    CONF.set_override("data_dir", str(tmp_path))
    try:
        yield build
    finally:
        CONF.clear_override("query_legacy_units")
        CONF.clear_override("data_dir")
        for gateway in gateways:
            gateway.close()


def call(gateway: Gateway, protocol: str, operation: str, params: dict[str, Any]):
    op = operation_model(CLOUDWATCH, operation, protocol)
    request = request_from_botocore(CLOUDWATCH, protocol, op, params)
    environ = {ENV_AWS_REQUEST: request, ENV_REQUEST_ID: "req-1",
               ENV_IDENTITY: Identity(project_id="project-a", access_key="AKIA-A")}
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        answer.update(status=int(status.split()[0]), headers=headers)

    body = b"".join(gateway(environ, start_response))
    return parse_with_botocore(protocol, op, HTTPReply(answer["status"], answer["headers"],
                                                       body))


def heartbeat(unit: str) -> dict[str, Any]:
    return {"Namespace": "system/linux",
            "MetricData": [{"MetricName": "Heartbeat", "Value": 1.0, "Unit": unit,
                            "Dimensions": [{"Name": "AlarmName", "Value": "web"}]}]}


def statistics(unit: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {"Namespace": "system/linux", "MetricName": "Heartbeat",
            "Dimensions": [{"Name": "AlarmName", "Value": "web"}],
            "StartTime": now - dt.timedelta(minutes=5), "EndTime": now + dt.timedelta(minutes=1),
            "Period": 60, "Statistics": ["SampleCount", "Sum"], "Unit": unit}


def test_option_on_by_default_stores_and_reads_the_aws_unit(configured):
    assert CONF.query_legacy_units is True
    gateway = configured(True)
    call(gateway, QUERY, "PutMetricData", heartbeat("Counter"))
    for protocol, unit in ((QUERY, "counter"), (JSON, "Count"), (CBOR, "Count")):
        points = call(gateway, protocol, "GetMetricStatistics", statistics(unit))["Datapoints"]
        assert [(p["Unit"], p["SampleCount"], p["Sum"]) for p in points] == [
            ("Count", 1.0, 1.0)], protocol
    with pytest.raises(errors.ValidationError, match="'Counter'"):
        call(gateway, JSON, "PutMetricData", heartbeat("Counter"))


def test_option_off_refuses_legacy_units(configured):
    gateway = configured(False)
    with pytest.raises(errors.ValidationError, match=r"'Counter' at 'metricData\.1\.member\.unit'"):
        call(gateway, QUERY, "PutMetricData", heartbeat("Counter"))
    with pytest.raises(errors.ValidationError, match="'megabytes' at 'unit'"):
        call(gateway, QUERY, "GetMetricStatistics", statistics("megabytes"))
