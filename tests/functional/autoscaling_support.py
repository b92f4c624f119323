"""Helpers of the Auto Scaling functional tests: groups made for a test, waiting for them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

#: Long enough for Heat to run a stack update on the test bed.
SETTLE_SECONDS = 120.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return {"code": response["Error"]["Code"], "message": response["Error"]["Message"],
            "status": response["ResponseMetadata"]["HTTPStatusCode"]}


def wait_for(check: Callable[[], Any], timeout: float = SETTLE_SECONDS,
             interval: float = 0.5, explain: Callable[[], Any] | None = None) -> Any:
    """``check()``'s first truthy answer; fails the test after ``timeout`` seconds, with
    what ``explain()`` then says (what would tell why, in a CI log)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            why = f"; {explain()!r}" if explain is not None else ""
            pytest.fail(f"still not so after {timeout} s: last answer {answer!r}{why}")
        time.sleep(interval)


def describe_group(client: Any, name: str) -> dict[str, Any]:
    (group,) = client.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return group


def settled(client: Any, name: str, count: int) -> dict[str, Any] | None:
    """The group once it holds exactly ``count`` instances, all InService."""
    group = describe_group(client, name)
    states = [i["LifecycleState"] for i in group["Instances"]]
    return group if states == ["InService"] * count else None


def wait_settled(client: Any, name: str, count: int) -> dict[str, Any]:
    return wait_for(lambda: settled(client, name, count))


def create_group(client: Any, name: str, zones: list[str] | None = None,
                 **kwargs: Any) -> str:
    """A launch configuration and a group of that name using it."""
    client.create_launch_configuration(LaunchConfigurationName=name, ImageId="cirros",
                                       InstanceType="m1.tiny")
    args: dict[str, Any] = {"MinSize": 0, "MaxSize": 4, "DesiredCapacity": 0}
    args.update(kwargs)
    client.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=name,
                                     AvailabilityZones=zones or ["nova"], **args)
    return name


def delete_group(client: Any, name: str) -> None:
    """ForceDelete the group, wait until it is gone, delete its launch configuration."""
    client.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    wait_for(lambda: not client.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"])
    client.delete_launch_configuration(LaunchConfigurationName=name)


def scaling_story(autoscaling: Any, cloudwatch: Any, name: str) -> dict[str, Any]:
    """What happened to the group ``name`` and its policies' alarms, for a failure message:
    its capacity, its latest activities and the alarms' states and action outcomes."""
    group = describe_group(autoscaling, name)
    activities = autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name, MaxRecords=5)["Activities"]
    alarms = [alarm["AlarmName"] for policy in autoscaling.describe_policies(
        AutoScalingGroupName=name)["ScalingPolicies"] for alarm in policy.get("Alarms", [])]
    return {
        "DesiredCapacity": group["DesiredCapacity"],
        "Instances": [i["LifecycleState"] for i in group["Instances"]],
        "Activities": [(a["StatusCode"], a["Description"], a.get("StatusMessage"))
                       for a in activities],
        "Alarms": {alarm: (cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
                           or [{}])[0].get("StateValue") for alarm in alarms},
        "Actions": [item["HistorySummary"] + " " + item.get("HistoryData", "")[-200:]
                    for alarm in alarms for item in cloudwatch.describe_alarm_history(
                        AlarmName=alarm, HistoryItemType="Action",
                        MaxRecords=5)["AlarmHistoryItems"]],
    }
