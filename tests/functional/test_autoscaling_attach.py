"""DetachInstances and AttachInstances end to end through boto3, boto2 and the AWS CLI, in
both modes: a detached instance runs on outside any group (standalone: the no-cloud
driver; OpenStack: Heat lets its server go) and joins another group as the same instance
(adopted, not launched again).  What Heat does with the server is checked at the driver
(tests/openstack/test_heat_instances.py).
"""

from __future__ import annotations

import re

import pytest

from tests.functional import boto2_clients
from tests.functional.autoscaling_support import (
    create_group,
    delete_group,
    describe_group,
    error_of,
    unique,
    wait_for,
    wait_settled,
)
from tests.functional.clients import aws_cli

pytestmark = pytest.mark.functional

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def ids(group: dict) -> set[str]:
    return {i["InstanceId"] for i in group["Instances"]}


def activity_of(client, name: str, description: str) -> dict:
    return next(a for a in client.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"] if a["Description"] == description)


def replaced(client, name: str, instance_id: str) -> dict | None:
    """The group once one instance other than ``instance_id`` is all it has, in service."""
    group = describe_group(client, name)
    states = [(i["InstanceId"] != instance_id, i["LifecycleState"])
              for i in group["Instances"]]
    return group if states == [(True, "InService")] else None


def test_detached_instance_runs_on_and_joins_another_group(gateway, creds, autoscaling):
    source = create_group(autoscaling, unique("detach"), MinSize=1, MaxSize=3,
                          DesiredCapacity=2)
    target = create_group(autoscaling, unique("attach"), MinSize=0, MaxSize=1,
                          DesiredCapacity=0)
    staying, leaving = sorted(ids(wait_settled(autoscaling, source, 2)))

    # Detach with decrement (boto3): no replacement.
    (activity,) = autoscaling.detach_instances(
        AutoScalingGroupName=source, InstanceIds=[leaving],
        ShouldDecrementDesiredCapacity=True)["Activities"]
    assert activity["Description"] == f"Detaching EC2 instance: {leaving}"
    assert re.fullmatch(f"At {TIME} instance {leaving} was detached in response to a user "
                        "request, shrinking the capacity from 2 to 1.", activity["Cause"])
    assert activity["StatusCode"] == "InProgress"
    assert describe_group(autoscaling, source)["DesiredCapacity"] == 1
    group = wait_settled(autoscaling, source, 1)
    assert ids(group) == {staying}
    assert wait_for(lambda: activity_of(autoscaling, source, activity["Description"])[
        "StatusCode"] == "Successful")
    assert autoscaling.describe_auto_scaling_instances(
        InstanceIds=[leaving])["AutoScalingInstances"] == []

    # Attach it elsewhere (AWS CLI): the same instance, in service there.
    cli = lambda *args: aws_cli(gateway.endpoint, creds, "autoscaling", *args)  # noqa: E731
    done = cli("attach-instances", "--auto-scaling-group-name", target, "--instance-ids",
               leaving)
    assert done.returncode == 0, done.stderr
    assert describe_group(autoscaling, target)["DesiredCapacity"] == 1
    group = wait_settled(autoscaling, target, 1)
    assert ids(group) == {leaving}
    (member,) = group["Instances"]
    assert member["LaunchConfigurationName"] == source  # what it was launched from
    attached = activity_of(autoscaling, target, f"Attaching an existing EC2 instance: {leaving}")
    assert re.fullmatch(f"At {TIME} instance {leaving} was attached in response to a user "
                        "request, increasing the capacity from 0 to 1.", attached["Cause"])
    wait_for(lambda: activity_of(autoscaling, target, attached["Description"])[
        "StatusCode"] == "Successful")
    (seen,) = autoscaling.describe_auto_scaling_instances(
        InstanceIds=[leaving])["AutoScalingInstances"]
    assert (seen["AutoScalingGroupName"], seen["LifecycleState"]) == (target, "InService")

    # It is no longer free, and the group is full.
    refused = error_of(autoscaling.attach_instances, AutoScalingGroupName=source,
                       InstanceIds=[leaving])
    assert refused == {"code": "ValidationError", "status": 400, "message":
                       f"The instance {leaving} is already part of Auto Scaling group "
                       f"{target}."}
    done = cli("attach-instances", "--auto-scaling-group-name", target, "--instance-ids",
               "i-0123456789abcdef0")
    assert done.returncode != 0 and "ValidationError" in done.stderr
    assert "Invalid instance ID: i-0123456789abcdef0" in done.stderr

    # Detach without decrement (boto2): the group launches a replacement.
    conn = boto2_clients.autoscale(gateway.endpoint, creds)
    # (boto2 reads the activity's StatusCode, InProgress, as its answer: False, as with AWS.)
    conn.detach_instances(source, [staying], decrement_capacity=False)
    group = wait_for(lambda: replaced(autoscaling, source, staying))
    assert group["DesiredCapacity"] == 1
    # The group being full, the detached instance cannot come back...
    refused = error_of(autoscaling.attach_instances, AutoScalingGroupName=target,
                       InstanceIds=[staying])
    assert refused["message"] == (
        f"AutoScalingGroup {target} has min-size=0, max-size=1, and desired-size=1. To "
        "attach 1 instance, please update the AutoScalingGroup sizes appropriately.")
    # ... until it grows.
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=target, MaxSize=2)
    autoscaling.attach_instances(AutoScalingGroupName=target, InstanceIds=[staying])
    assert ids(wait_settled(autoscaling, target, 2)) == {leaving, staying}
    delete_group(autoscaling, target)
    delete_group(autoscaling, source)


def test_detach_refusals(autoscaling):
    name = create_group(autoscaling, unique("detach-no"), MinSize=1, MaxSize=2,
                        DesiredCapacity=1)
    (only,) = ids(wait_settled(autoscaling, name, 1))
    assert error_of(autoscaling.detach_instances, AutoScalingGroupName=name,
                    InstanceIds=[only], ShouldDecrementDesiredCapacity=True) == {
        "code": "ValidationError", "status": 400, "message":
        f"AutoScalingGroup {name} has min-size=1, max-size=2, and desired-size=1. To detach "
        "1 instance, please update the AutoScalingGroup sizes appropriately."}
    assert error_of(autoscaling.detach_instances, AutoScalingGroupName=name,
                    InstanceIds=["i-0123456789abcdef0"],
                    ShouldDecrementDesiredCapacity=False)["message"] == (
        f"The instance i-0123456789abcdef0 is not part of Auto Scaling group {name}.")
    assert error_of(autoscaling.detach_instances, AutoScalingGroupName=name,
                    InstanceIds=[f"i-{n:017x}" for n in range(21)],
                    ShouldDecrementDesiredCapacity=False)["code"] == "ValidationError"
    assert error_of(autoscaling.detach_instances, AutoScalingGroupName="no-such-group",
                    InstanceIds=[only], ShouldDecrementDesiredCapacity=False)["message"] == (
        "AutoScalingGroup name not found - AutoScalingGroup no-such-group not found")
    assert error_of(autoscaling.attach_instances, AutoScalingGroupName=name,
                    InstanceIds=[only])["message"] == (
        f"The instance {only} is already part of Auto Scaling group {name}.")
    # Nothing changed.
    group = describe_group(autoscaling, name)
    assert ids(group) == {only} and group["DesiredCapacity"] == 1
    assert group["Instances"][0]["LifecycleState"] == "InService"
    delete_group(autoscaling, name)
