"""The dispatcher leaves a Heat stack user PutMetricData only, in every protocol, before it
parses anything; other callers are not affected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from cfn_gateway import errors
from cfn_gateway.config import CONF
from cfn_gateway.context import (
    AUTOSCALING,
    CBOR,
    CLOUDWATCH,
    ENV_AWS_REQUEST,
    ENV_IDENTITY,
    ENV_REQUEST_ID,
    JSON,
    QUERY,
    Identity,
)
from cfn_gateway.dispatch import Gateway, app_factory
from cfn_gateway.protocol.models import operation_model

from .wire import request_from_botocore

OWNER = "0123456789abcdef0123456789abcdef"
STACK_USER = Identity(project_id=OWNER, access_key="AKIA-SERVER", user_id="server-user",
                      stack_user_project="stack-user-project")
TENANT = replace(STACK_USER, stack_user_project="")
HEARTBEAT = {"Namespace": "system/linux", "MetricData": [{"MetricName": "Heartbeat",
                                                          "Value": 1.0, "Unit": "Count"}]}


@pytest.fixture
def gateway(tmp_path) -> Iterator[Gateway]:
    CONF.set_override("data_dir", str(tmp_path))
    app = app_factory({})
    try:
        yield app
    finally:
        app.close()
        CONF.clear_override("data_dir")


def call(gateway: Gateway, identity: Identity, service: str, protocol: str, operation: str,
         params: dict[str, Any], payload: bytes | None = None) -> int:
    request = request_from_botocore(service, protocol,
                                    operation_model(service, operation, protocol), params)
    if payload is not None:
        request.payload = request.body = payload
    environ = {ENV_AWS_REQUEST: request, ENV_REQUEST_ID: "req-1", ENV_IDENTITY: identity}
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info=None) -> None:
        answer["status"] = int(status.split()[0])

    b"".join(gateway(environ, start_response))
    return answer["status"]


@pytest.mark.parametrize("protocol", [QUERY, JSON, CBOR])
def test_a_stack_user_may_put_metric_data_and_nothing_else(gateway, protocol):
    assert call(gateway, STACK_USER, CLOUDWATCH, protocol, "PutMetricData", HEARTBEAT) == 200
    for operation, params in [("DescribeAlarms", {}), ("ListMetrics", {}),
                              ("DeleteAlarms", {"AlarmNames": ["a"]})]:
        with pytest.raises(errors.AccessDenied, match=f"cloudwatch:{operation}$"):
            call(gateway, STACK_USER, CLOUDWATCH, protocol, operation, params)
        assert call(gateway, TENANT, CLOUDWATCH, protocol, operation, params) == 200


def test_refused_before_parsing_and_in_auto_scaling(gateway):
    with pytest.raises(errors.AccessDenied, match="cloudwatch:DescribeAlarms"):
        call(gateway, STACK_USER, CLOUDWATCH, JSON, "DescribeAlarms", {}, payload=b"{not json")
    with pytest.raises(errors.AccessDenied,
                       match="autoscaling:DescribeAutoScalingGroups"):
        call(gateway, STACK_USER, AUTOSCALING, QUERY, "DescribeAutoScalingGroups", {})
    with pytest.raises(errors.AWSError) as caught:  # what the same body gives a tenant
        call(gateway, TENANT, CLOUDWATCH, JSON, "DescribeAlarms", {}, payload=b"{not json")
    assert not isinstance(caught.value, errors.AccessDenied)
