"""GatewayClient against a real HTTP server: botocore's Query bodies go out with the
session's token, Query XML answers come back parsed, errors become GatewayError."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from cfn_gateway.heat_plugin import client as gw
from tests.unit.heat_plugin.fake_gateway import AS_NS, error, success

TOKEN = "gAAAA-owner-token"


def client_for(url: str | None, *, endpoint: str | None = None, sleeps=None,
               timeout: float = 5.0, attempts: int = 4, **kwargs) -> gw.GatewayClient:
    auth = token_endpoint.Token(endpoint or url or "http://127.0.0.1:9/", TOKEN)
    sleeps = [] if sleeps is None else sleeps
    return gw.GatewayClient(ks_session.Session(auth=auth), url, timeout, attempts=attempts,
                            sleep=sleeps.append, **kwargs)


def closed_port_url() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/"


ALARM = {
    "AlarmName": "web-MEMAlarmHigh-abc", "MetricName": "MemoryUtilization",
    "Namespace": "system/linux", "Statistic": "Average", "Period": 60,
    "EvaluationPeriods": 1, "Threshold": 50.0, "ComparisonOperator": "GreaterThanThreshold",
    "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web-group"}],
    "AlarmActions": ["arn:aws:autoscaling:RegionOne:p:scalingPolicy:x", "http://h/signal?a=b&c=%2F"],
    "ActionsEnabled": True, "Tags": [{"Key": "heat-stack-id", "Value": "s-1"}],
}


def test_body_is_botocores_query_form_and_token_is_sent(fake_gateway):
    assert client_for(fake_gateway.url).call("cloudwatch", "PutMetricAlarm", ALARM) == {}
    [req] = fake_gateway.requests
    assert req.method == "POST" and req.path == "/"
    assert req.headers["X-Auth-Token"] == TOKEN
    assert req.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert "Authorization" not in req.headers          # nothing signed
    assert req.form == {
        "Action": "PutMetricAlarm", "Version": "2010-08-01",
        "AlarmName": "web-MEMAlarmHigh-abc", "MetricName": "MemoryUtilization",
        "Namespace": "system/linux", "Statistic": "Average", "Period": "60",
        "EvaluationPeriods": "1", "Threshold": "50.0",
        "ComparisonOperator": "GreaterThanThreshold",
        "Dimensions.member.1.Name": "AutoScalingGroupName",
        "Dimensions.member.1.Value": "web-group",
        "AlarmActions.member.1": "arn:aws:autoscaling:RegionOne:p:scalingPolicy:x",
        "AlarmActions.member.2": "http://h/signal?a=b&c=%2F",
        "ActionsEnabled": "true",
        "Tags.member.1.Key": "heat-stack-id", "Tags.member.1.Value": "s-1",
    }
    # spaces and slashes percent-encoded as AWS SDKs do (not '+')
    assert b"system%2Flinux" in req.body


def test_auto_scaling_version_and_parsed_answer(fake_gateway):
    result = ("<AutoScalingGroups><member><AutoScalingGroupName>g</AutoScalingGroupName>"
              "<MinSize>1</MinSize><MaxSize>3</MaxSize><DesiredCapacity>2</DesiredCapacity>"
              "<Instances/></member></AutoScalingGroups>")
    fake_gateway.script = [(200, success("DescribeAutoScalingGroups", result, AS_NS), 0.0)]
    answer = client_for(fake_gateway.url).call(
        "autoscaling", "DescribeAutoScalingGroups", {"AutoScalingGroupNames": ["g"]})
    assert answer["AutoScalingGroups"][0]["AutoScalingGroupName"] == "g"
    assert answer["AutoScalingGroups"][0]["MaxSize"] == 3           # typed by the model
    assert "ResponseMetadata" not in answer
    assert fake_gateway.requests[0].form == {
        "Action": "DescribeAutoScalingGroups", "Version": "2011-01-01",
        "AutoScalingGroupNames.member.1": "g"}


def test_describe_alarms_answer(fake_gateway):
    result = ("<MetricAlarms><member><AlarmName>a</AlarmName>"
              "<AlarmArn>arn:aws:cloudwatch:RegionOne:p:alarm:a</AlarmArn>"
              "<Threshold>50.0</Threshold><StateValue>OK</StateValue>"
              "<StateUpdatedTimestamp>2026-11-30T10:00:00Z</StateUpdatedTimestamp>"
              "</member></MetricAlarms>")
    fake_gateway.script = [(200, success("DescribeAlarms", result), 0.0)]
    [alarm] = client_for(fake_gateway.url).call(
        "cloudwatch", "DescribeAlarms", {"AlarmNames": ["a"]})["MetricAlarms"]
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:RegionOne:p:alarm:a"
    assert alarm["Threshold"] == 50.0
    assert alarm["StateUpdatedTimestamp"].year == 2026


@pytest.mark.parametrize("status, code", [
    (400, "ValidationError"), (403, "MissingAuthenticationToken"), (404, "ResourceNotFound"),
])
def test_error_answer_is_not_retried(fake_gateway, status, code):
    fake_gateway.script = [(status, error(code, "what went wrong"), 0.0)]
    sleeps: list[float] = []
    with pytest.raises(gw.GatewayError) as info:
        client_for(fake_gateway.url, sleeps=sleeps).call(
            "cloudwatch", "DeleteAlarms", {"AlarmNames": ["a"]})
    exc = info.value
    assert (exc.code, exc.message, exc.status) == (code, "what went wrong", status)
    assert exc.operation == "DeleteAlarms" and exc.request_id == "req-e"
    assert str(exc) == (f"cfn-gateway answered to DeleteAlarms: {code}, HTTP {status}: "
                        "what went wrong")
    assert not isinstance(exc, gw.GatewayConnectionError)
    assert len(fake_gateway.requests) == 1 and sleeps == []


def test_503_is_retried_with_backoff(fake_gateway):
    fake_gateway.script = [(503, error("ServiceUnavailable", "busy", "Receiver"), 0.0),
                           (500, error("InternalFailure", "oops", "Receiver"), 0.0),
                           (200, success("PutMetricAlarm"), 0.0)]
    sleeps: list[float] = []
    assert client_for(fake_gateway.url, sleeps=sleeps, first_delay=0.25).call(
        "cloudwatch", "PutMetricAlarm", ALARM) == {}
    assert len(fake_gateway.requests) == 3 and sleeps == [0.25, 0.5]
    assert fake_gateway.requests[0].body == fake_gateway.requests[2].body


def test_throttling_is_retried_then_reported(fake_gateway):
    fake_gateway.script = [(400, error("Throttling", "Rate exceeded"), 0.0)]
    sleeps: list[float] = []
    with pytest.raises(gw.GatewayError) as info:
        client_for(fake_gateway.url, sleeps=sleeps, attempts=3).call(
            "cloudwatch", "PutMetricAlarm", ALARM)
    assert info.value.code == "Throttling" and info.value.status == 400
    assert len(fake_gateway.requests) == 3 and len(sleeps) == 2


def test_non_aws_error_page(fake_gateway):
    fake_gateway.script = [(502, "<html><body>Bad gateway from the proxy</body></html>", 0.0)]
    with pytest.raises(gw.GatewayError) as info:
        client_for(fake_gateway.url, attempts=1).call("cloudwatch", "PutMetricAlarm", ALARM)
    assert info.value.status == 502 and info.value.code == "502"
    assert "Bad gateway from the proxy" in info.value.message


def test_success_status_with_garbage_body(fake_gateway):
    fake_gateway.script = [(200, "not xml at all", 0.0)]
    with pytest.raises(gw.GatewayError) as info:
        client_for(fake_gateway.url).call("cloudwatch", "PutMetricAlarm", ALARM)
    assert info.value.code == "InvalidResponse" and "not xml at all" in info.value.message
    assert len(fake_gateway.requests) == 1


def test_connection_refused_is_retried_then_clear():
    url = closed_port_url()
    sleeps: list[float] = []
    with pytest.raises(gw.GatewayConnectionError) as info:
        client_for(url, sleeps=sleeps, attempts=3).call("cloudwatch", "PutMetricAlarm", ALARM)
    exc = info.value
    assert exc.code == "ConnectionFailure" and exc.status is None
    assert exc.request_sent is False                # refused: the gateway did nothing
    assert str(exc).startswith(f"cfn-gateway unreachable (PutMetricAlarm): ConnectionFailure: "
                               f"cannot connect to {url}")
    assert len(sleeps) == 2


def test_timeout(fake_gateway):
    fake_gateway.script = [(200, success("PutMetricAlarm"), 1.5)]
    with pytest.raises(gw.GatewayConnectionError) as info:
        client_for(fake_gateway.url, timeout=0.3, attempts=1).call(
            "cloudwatch", "PutMetricAlarm", ALARM)
    assert info.value.code == "Timeout" and "0.3 s" in info.value.message
    assert info.value.request_sent is True          # the gateway may have acted


def test_url_from_the_catalog(fake_gateway):
    c = client_for(None, endpoint=fake_gateway.url,
                   endpoint_filter={"service_type": "cfn-gateway", "interface": "public"})
    c.call("cloudwatch", "PutMetricAlarm", ALARM)
    assert c.url == fake_gateway.url and len(fake_gateway.requests) == 1


class _NoCatalog:
    def get_endpoint(self, **kwargs):
        return None


def test_no_endpoint_in_catalog_is_not_retried():
    sleeps: list[float] = []
    c = gw.GatewayClient(_NoCatalog(), None, endpoint_filter={"service_type": "cfn-gateway"},
                         sleep=sleeps.append)
    with pytest.raises(gw.GatewayConnectionError) as info:
        c.call("cloudwatch", "DescribeAlarms", {})
    assert info.value.code == "EndpointNotFound" and info.value.request_sent is False
    assert "service_type=cfn-gateway" in info.value.message
    assert "[cfn_gateway] url" in info.value.message
    assert sleeps == []
