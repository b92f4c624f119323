"""Lifecycle hooks hold instances until their actions are completed or time out: both
modes, completed by instance id and by token, with heartbeats."""

from __future__ import annotations

import time

import pytest

from tests.functional.autoscaling_support import (
    create_group,
    delete_group,
    describe_group,
    error_of,
    unique,
    wait_for,
    wait_settled,
)

pytestmark = pytest.mark.functional

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"


def states(client, name: str) -> list[tuple[str, str]]:
    return [(i["InstanceId"], i["LifecycleState"])
            for i in describe_group(client, name)["Instances"]]


def held(client, name: str, state: str) -> str | None:
    """The group's one instance, once it is in ``state``."""
    found = states(client, name)
    return found[0][0] if len(found) == 1 and found[0][1] == state else None


def test_hooks_hold_launch_and_termination_until_completed(autoscaling):
    name = create_group(
        autoscaling, unique("hooked"), MinSize=0, MaxSize=2, DesiredCapacity=0,
        LifecycleHookSpecificationList=[{"LifecycleHookName": "setup",
                                         "LifecycleTransition": LAUNCHING,
                                         "HeartbeatTimeout": 300,
                                         "DefaultResult": "ABANDON"}])
    autoscaling.put_lifecycle_hook(AutoScalingGroupName=name, LifecycleHookName="drain",
                                   LifecycleTransition=TERMINATING, HeartbeatTimeout=300,
                                   NotificationMetadata="drain me")
    hooks = {x["LifecycleHookName"]: x for x in autoscaling.describe_lifecycle_hooks(
        AutoScalingGroupName=name)["LifecycleHooks"]}
    assert hooks["setup"]["GlobalTimeout"] == 30000
    assert (hooks["drain"]["DefaultResult"], hooks["drain"]["NotificationMetadata"]) == (
        "ABANDON", "drain me")

    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    instance = wait_for(lambda: held(autoscaling, name, "Pending:Wait"))
    activity = autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"][0]
    assert activity["StatusCode"] == "MidLifecycleAction"
    time.sleep(2)
    assert held(autoscaling, name, "Pending:Wait") == instance  # it stays held
    autoscaling.record_lifecycle_action_heartbeat(
        AutoScalingGroupName=name, LifecycleHookName="setup", InstanceId=instance)
    autoscaling.complete_lifecycle_action(
        AutoScalingGroupName=name, LifecycleHookName="setup", InstanceId=instance,
        LifecycleActionResult="CONTINUE")
    wait_settled(autoscaling, name, 1)
    assert autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"][0]["StatusCode"] == "Successful"
    assert error_of(autoscaling.complete_lifecycle_action, AutoScalingGroupName=name,
                    LifecycleHookName="setup", InstanceId=instance,
                    LifecycleActionResult="CONTINUE")["message"] == (
        f"No active Lifecycle Action found with instance ID {instance}")

    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=0)
    assert wait_for(lambda: held(autoscaling, name, "Terminating:Wait")) == instance
    time.sleep(2)
    assert held(autoscaling, name, "Terminating:Wait") == instance
    autoscaling.complete_lifecycle_action(
        AutoScalingGroupName=name, LifecycleHookName="drain", InstanceId=instance,
        LifecycleActionResult="ABANDON")
    wait_for(lambda: states(autoscaling, name) == [])

    autoscaling.delete_lifecycle_hook(AutoScalingGroupName=name, LifecycleHookName="drain")
    assert [x["LifecycleHookName"] for x in autoscaling.describe_lifecycle_hooks(
        AutoScalingGroupName=name)["LifecycleHooks"]] == ["setup"]
    delete_group(autoscaling, name)


def test_abandoned_launch_is_replaced_and_timeouts_give_the_default(autoscaling):
    name = create_group(autoscaling, unique("abandon"), MinSize=0, MaxSize=2)
    autoscaling.put_lifecycle_hook(AutoScalingGroupName=name, LifecycleHookName="check",
                                   LifecycleTransition=LAUNCHING, HeartbeatTimeout=30,
                                   DefaultResult="CONTINUE")
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    first = wait_for(lambda: held(autoscaling, name, "Pending:Wait"))
    autoscaling.complete_lifecycle_action(
        AutoScalingGroupName=name, LifecycleHookName="check", InstanceId=first,
        LifecycleActionResult="ABANDON")
    # The abandoned instance goes; a new one launches (after the launch back-off) and,
    # left alone, goes in service when its heartbeat timeout passes (DefaultResult).
    second = wait_for(lambda: (i := held(autoscaling, name, "Pending:Wait")) != first and i)
    activities = autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"]
    assert any(a["StatusCode"] == "Failed" and first in a["Description"] for a in activities)
    group = wait_settled(autoscaling, name, 1)
    assert [i["InstanceId"] for i in group["Instances"]] == [second]
    assert error_of(autoscaling.put_lifecycle_hook, AutoScalingGroupName=name,
                    LifecycleHookName="bad", LifecycleTransition=LAUNCHING,
                    HeartbeatTimeout=10)["code"] == "ValidationError"
    assert error_of(autoscaling.put_lifecycle_hook, AutoScalingGroupName=name,
                    LifecycleHookName="sns", LifecycleTransition=LAUNCHING,
                    NotificationTargetARN="arn:aws:sns:us-east-1:1:t",
                    RoleARN="arn:aws:iam::1:role/r")["code"] == "ValidationError"
    delete_group(autoscaling, name)
