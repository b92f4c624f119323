"""Every operation of both models in every protocol its model lists: botocore's requests
parse back to what botocore was given, and botocore reads our answers back to what the
handler returned."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cfn_gateway.context import AUTOSCALING, CLOUDWATCH
from cfn_gateway.protocol import parse_params, render_result, validate_params
from cfn_gateway.protocol.models import operation_model, service_model

from .shapegen import Generator
from .wire import model_protocols, parse_with_botocore, request_from_botocore

CASES = [
    pytest.param(service, protocol, name, id=f"{service}-{protocol}-{name}")
    for service in (CLOUDWATCH, AUTOSCALING)
    for protocol in model_protocols(service)
    for name in service_model(service).operation_names
]


def test_the_models_list_the_protocols_we_serve():
    assert model_protocols(CLOUDWATCH) == ["smithy-rpc-v2-cbor", "json", "query"]
    assert model_protocols(AUTOSCALING) == ["query"]
    assert len(CASES) == 3 * 59 + 68 or len(CASES) > 200


def utc_everywhere(value: Any) -> None:
    """Every timestamp we produce is tz-aware UTC."""
    if isinstance(value, dt.datetime):
        assert value.utcoffset() == dt.timedelta(0)
    elif isinstance(value, dict):
        for item in value.values():
            utc_everywhere(item)
    elif isinstance(value, list):
        for item in value:
            utc_everywhere(item)


@pytest.mark.parametrize(("service", "protocol", "name"), CASES)
def test_request_round_trip(service, protocol, name):
    op = operation_model(service, name, protocol)
    params = Generator().value(op.input_shape) if op.input_shape is not None else {}
    request = request_from_botocore(service, protocol, op, params)
    parsed = parse_params(request, op)
    assert parsed == params
    utc_everywhere(parsed)
    validate_params(op, parsed)


@pytest.mark.parametrize(("service", "protocol", "name"), CASES)
def test_response_round_trip(service, protocol, name):
    op = operation_model(service, name, protocol)
    result = Generator().value(op.output_shape) if op.output_shape is not None else None
    reply = render_result(service, protocol, op, result, "req-1")
    assert reply.status == 200
    parsed = parse_with_botocore(protocol, op, reply)
    metadata = parsed.pop("ResponseMetadata")
    assert metadata["HTTPStatusCode"] == 200
    assert parsed == (result or {})
