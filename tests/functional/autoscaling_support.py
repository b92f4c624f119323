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
             interval: float = 0.5) -> Any:
    """``check()``'s first truthy answer; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"still not so after {timeout} s: last answer {answer!r}")
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
