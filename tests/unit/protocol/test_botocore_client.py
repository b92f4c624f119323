"""A real botocore client per protocol, its HTTP sends answered by the protocol layer.

The client's copy of the model lists only the protocol under test (as the architecture
notes describe), so the same calls go out as Query, JSON and CBOR; a ``before-send``
hook turns each prepared request into an ``AWSRequest`` and answers it through
parse/validate/render without a server.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CBOR, CLOUDWATCH, JSON, QUERY, AWSRequest
from cfn_gateway.protocol import parse_params, render_error, render_result, validate_params
from cfn_gateway.protocol.models import _loader, operation_model, service_model

UTC = dt.UTC


class ResourceNotFound(errors.AWSError):
    status = 404


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any):
        yield self.body


class Gateway:
    """The protocol layer around fake handlers, answering a client's prepared requests."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def handle(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        self.calls.append((name, params))
        if name == "GetMetricStatistics":
            return {"Label": params["MetricName"], "Datapoints": [
                {"Timestamp": params["StartTime"], "Sum": 42.0, "Unit": "Count"}]}
        if name == "SetAlarmState":
            raise ResourceNotFound(f"Alarm {params['AlarmName']} does not exist.")
        if name == "DescribeAutoScalingGroups":
            return {"AutoScalingGroups": [{
                "AutoScalingGroupName": "web", "MinSize": 1, "MaxSize": 3,
                "DesiredCapacity": 2, "DefaultCooldown": 300, "HealthCheckType": "EC2",
                "AvailabilityZones": ["nova"], "CreatedTime": dt.datetime(2024, 1, 2, tzinfo=UTC),
                "Instances": [{"InstanceId": "i-1", "AvailabilityZone": "nova",
                               "LifecycleState": "InService", "HealthStatus": "Healthy",
                               "ProtectedFromScaleIn": False}]}]}
        return None

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v
                   for k, v in request.headers.items()}
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if "x-amz-target" in headers:
            protocol, name = JSON, headers["x-amz-target"].split(".", 1)[1]
        elif "/operation/" in url.path:
            protocol, name = CBOR, url.path.rsplit("/", 1)[1]
        else:
            protocol = QUERY
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
            name = params["Action"]
        aws_request = AWSRequest(self.service, protocol, name, request.method, url.netloc,
                                 url.path, url.query, headers, body, body, params)
        try:
            op = operation_model(self.service, name, protocol)
            parsed = parse_params(aws_request, op)
            validate_params(op, parsed)
            reply = render_result(self.service, protocol, op, self.handle(name, parsed), "rid")
        except errors.AWSError as error:
            reply = render_error(self.service, protocol, error, "rid")
        response_headers = dict(reply.headers) | {"x-amzn-RequestId": "rid"}
        return AWSResponse(request.url, reply.status, response_headers, _Raw(reply.body))


def make_client(service: str, protocol: str, tmp_path, gateway: Gateway):
    description = json.loads(json.dumps(_loader().load_service_model(service, "service-2")))
    description["metadata"]["protocols"] = [protocol]
    description["metadata"]["protocol"] = protocol
    folder = tmp_path / service / service_model(service).api_version
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(description))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(tmp_path))
    client = session.create_client(service, region_name="us-east-1",
                                   endpoint_url="http://gateway.test",
                                   aws_access_key_id="AKIDEXAMPLE",
                                   aws_secret_access_key="secret")
    assert client.meta.service_model.resolved_protocol == protocol
    client.meta.events.register("before-send", gateway)
    return client


@pytest.mark.parametrize("protocol", [QUERY, JSON, CBOR])
def test_cloudwatch_client(protocol, tmp_path):
    gateway = Gateway(CLOUDWATCH)
    client = make_client(CLOUDWATCH, protocol, tmp_path, gateway)
    stamp = dt.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
    datum = {"MetricName": "CPU", "Value": 12.5, "Unit": "Percent", "Timestamp": stamp,
             "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}]}
    client.put_metric_data(Namespace="system/linux", MetricData=[datum])
    assert gateway.calls[-1] == ("PutMetricData",
                                 {"Namespace": "system/linux", "MetricData": [datum]})

    answer = client.get_metric_statistics(
        Namespace="system/linux", MetricName="CPU", StartTime=stamp,
        EndTime=stamp + dt.timedelta(hours=1), Period=60, Statistics=["Sum"])
    assert answer["Label"] == "CPU"
    assert answer["Datapoints"] == [{"Timestamp": stamp, "Sum": 42.0, "Unit": "Count"}]

    with pytest.raises(client.exceptions.ResourceNotFound) as caught:
        client.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="test")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFound"
    assert caught.value.response["Error"]["Message"] == "Alarm nope does not exist."
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    with pytest.raises(ClientError) as caught:
        client.set_alarm_state(AlarmName="a", StateValue="INVALID", StateReason="test")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert caught.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy "
        "constraint: Member must satisfy enum value set: [OK, ALARM, INSUFFICIENT_DATA]")


def test_autoscaling_client(tmp_path):
    gateway = Gateway(AUTOSCALING)
    client = make_client(AUTOSCALING, QUERY, tmp_path, gateway)
    groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])
    assert gateway.calls[-1] == ("DescribeAutoScalingGroups",
                                 {"AutoScalingGroupNames": ["web"]})
    group = groups["AutoScalingGroups"][0]
    assert (group["AutoScalingGroupName"], group["DesiredCapacity"]) == ("web", 2)
    assert group["CreatedTime"] == dt.datetime(2024, 1, 2, tzinfo=UTC)
    assert group["Instances"][0]["ProtectedFromScaleIn"] is False
    with pytest.raises(ClientError) as caught:
        client.delete_auto_scaling_group(AutoScalingGroupName="x" * 256)
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert "Member must have length less than or equal to 255" in (
        caught.value.response["Error"]["Message"])
