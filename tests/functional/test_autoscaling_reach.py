"""Auto Scaling requests from boto3 and boto2 reach the router and get AWS answers."""

from __future__ import annotations

import pytest
from boto.exception import BotoServerError
from botocore.exceptions import ClientError

from tests.functional import boto2_clients
from tests.functional.clients import aws_cli, boto3_client

pytestmark = pytest.mark.functional

EXPECTED_TYPES = ["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"]


def test_boto3_describe_adjustment_types(gateway, creds):
    client = boto3_client("autoscaling", gateway.endpoint, creds)
    types = client.describe_adjustment_types()["AdjustmentTypes"]
    assert [t["AdjustmentType"] for t in types] == EXPECTED_TYPES


def test_boto3_unimplemented_action_is_a_clear_error(gateway, creds):
    client = boto3_client("autoscaling", gateway.endpoint, creds)
    with pytest.raises(ClientError) as caught:
        client.describe_warm_pool(AutoScalingGroupName="web")
    error = caught.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert "DescribeWarmPool" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501


@pytest.mark.parametrize("signature", ["v4", "v2"])
def test_boto2_reaches_autoscaling(gateway, creds, signature):
    conn = boto2_clients.autoscale(gateway.endpoint, creds, signature)
    with pytest.raises(BotoServerError) as caught:
        conn.get_status("DescribeWarmPool", {"AutoScalingGroupName": "web"})
    assert caught.value.status == 501
    assert caught.value.error_code == "NotImplemented"
    # A signed call that does have a handler answers.
    body = conn.make_request("DescribeAdjustmentTypes", {}, verb="GET").read()
    for name in EXPECTED_TYPES:
        assert name.encode() in body


def test_aws_cli_autoscaling(gateway, creds):
    done = aws_cli(gateway.endpoint, creds, "autoscaling", "describe-adjustment-types")
    assert done.returncode == 0, done.stderr
    assert "PercentChangeInCapacity" in done.stdout


def test_boto3_catalogues(gateway, creds):
    client = boto3_client("autoscaling", gateway.endpoint, creds)
    processes = [p["ProcessName"] for p in client.describe_scaling_process_types()["Processes"]]
    assert processes == ["AZRebalance", "AddToLoadBalancer", "AlarmNotification",
                         "HealthCheck", "InstanceRefresh", "Launch", "ReplaceUnhealthy",
                         "ScheduledActions", "Terminate"]
    assert client.describe_termination_policy_types()["TerminationPolicyTypes"] == [
        "AllocationStrategy", "ClosestToNextInstanceHour", "Default", "NewestInstance",
        "OldestInstance", "OldestLaunchConfiguration", "OldestLaunchTemplate"]
    assert client.describe_lifecycle_hook_types()["LifecycleHookTypes"] == [
        "autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"]
    assert client.describe_auto_scaling_notification_types()[
        "AutoScalingNotificationTypes"][-1] == "autoscaling:TEST_NOTIFICATION"
    metrics = client.describe_metric_collection_types()
    names = [m["Metric"] for m in metrics["Metrics"]]
    assert names[:3] == ["GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity"]
    assert "GroupTotalInstances" in names and not any("WarmPool" in n for n in names)
    assert metrics["Granularities"] == [{"Granularity": "1Minute"}]


def test_boto2_catalogues(gateway, creds):
    conn = boto2_clients.autoscale(gateway.endpoint, creds)
    assert "OldestInstance" in conn.get_termination_policies()
    assert "Launch" in [p.process_name for p in conn.get_all_scaling_process_types()]
    collection = conn.get_all_metric_collection_types()
    assert "GroupMinSize" in [m.val for m in collection.metrics]
    assert [g.val for g in collection.granularities] == ["1Minute"]
