"""Heat stacks whose Auto Scaling group lives in the gateway, end to end.

An environment maps the AWS types of a classic template (launch configuration, group,
scaling policies, memory alarms on the group) to ``OS::CfnGateway::*``; the rest of it (a
stack user and its keys, the load balancer, ``Fn::GetAZs``) stays Heat's own.  The gateway then
holds the launch configuration, the group (whose members it launches in a Heat stack of
its own, fake servers on the test bed), the policy and the alarm; the alarm, evaluated by
Aodh with the gateway's rule type, runs the policy (an Auto Scaling ARN action).  The
pushes are the real cfn-push-stats' with what cfn-init writes on a member (the stack
user's keys, the cron lines' ``--watch`` names): the group grows on high memory and
shrinks on low.  Deleting the stack removes every one of them from the gateway.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.clients import boto3_client
from tests.functional.conftest import tenant_credentials
from tests.functional.server import Credentials
from tests.functional.test_cfn_push_stats import PushStats
from tests.openstack.heat_stacks import STACK_WAIT, agent_sandbox, output

pytestmark = pytest.mark.functional

GATEWAY_TYPES = {"resource_registry": {
    f"AWS::{kind}": f"OS::CfnGateway::{kind.split('::')[1]}"
    for kind in ("CloudWatch::Alarm", "AutoScaling::LaunchConfiguration",
                 "AutoScaling::AutoScalingGroup", "AutoScaling::ScalingPolicy")}}


def classic_template(namespace: str) -> dict[str, Any]:
    """The shape of heat-templates' AutoScalingMultiAZSample: a stack user and its keys
    for cfn-push-stats, a launch configuration whose cfn-init metadata installs them and
    the agent's cron line, a group in every zone behind a load balancer, scale-up and
    scale-down policies, high and low memory alarms on the group (on a namespace of the
    test's own, so that other tests' data stay out)."""
    def alarm(operator: str, threshold: str, policy: str) -> dict[str, Any]:
        return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": f"Scale if MEM {operator} {threshold}% for 1 minute",
            "MetricName": "MemoryUtilization", "Namespace": namespace,
            "Statistic": "Average", "Period": "60", "EvaluationPeriods": "1",
            "Threshold": threshold, "ComparisonOperator": operator,
            "AlarmActions": [{"Ref": policy}],
            "Dimensions": [{"Name": "AutoScalingGroupName",
                            "Value": {"Ref": "WebServerGroup"}}]}}

    def policy(adjustment: str) -> dict[str, Any]:
        return {"Type": "AWS::AutoScaling::ScalingPolicy", "Properties": {
            "AdjustmentType": "ChangeInCapacity",
            "AutoScalingGroupName": {"Ref": "WebServerGroup"},
            "Cooldown": "60", "ScalingAdjustment": adjustment}}

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "CfnUser": {"Type": "AWS::IAM::User"},
            "WebServerKeys": {"Type": "AWS::IAM::AccessKey",
                              "Properties": {"UserName": {"Ref": "CfnUser"}}},
            "ElasticLoadBalancer": {
                "Type": "AWS::ElasticLoadBalancing::LoadBalancer",
                "Properties": {
                    "AvailabilityZones": {"Fn::GetAZs": ""},
                    "Listeners": [{"LoadBalancerPort": "80", "InstancePort": "80",
                                   "Protocol": "HTTP"}],
                    "HealthCheck": {"Target": "HTTP:80/", "HealthyThreshold": "3",
                                    "UnhealthyThreshold": "5", "Interval": "30",
                                    "Timeout": "5"}}},
            "LaunchConfig": {
                "Type": "AWS::AutoScaling::LaunchConfiguration",
                "Metadata": {"AWS::CloudFormation::Init": {"config": {"files": {
                    "/etc/cfn/cfn-credentials": {"content": {"Fn::Join": ["", [
                        "AWSAccessKeyId=", {"Ref": "WebServerKeys"}, "\n",
                        "AWSSecretKey=", {"Fn::GetAtt": ["WebServerKeys", "SecretAccessKey"]},
                        "\n"]]}, "mode": "000400", "owner": "root", "group": "root"},
                    "/tmp/stats-crontab.txt": {"content": {"Fn::Join": ["", [
                        "* * * * * /opt/aws/bin/cfn-push-stats --watch ",
                        {"Ref": "MEMAlarmHigh"}, " --mem-util\n",
                        "* * * * * /opt/aws/bin/cfn-push-stats --watch ",
                        {"Ref": "MEMAlarmLow"}, " --mem-util\n"]]}}}}}},
                "Properties": {"ImageId": "F17-x86_64-cfntools", "InstanceType": "m1.small",
                               "KeyName": "testbed",
                               "UserData": {"Fn::Base64": "#!/bin/sh\necho ready\n"}}},
            "WebServerGroup": {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {"AvailabilityZones": {"Fn::GetAZs": ""},
                               "LaunchConfigurationName": {"Ref": "LaunchConfig"},
                               "MinSize": "1", "MaxSize": "3",
                               "LoadBalancerNames": [{"Ref": "ElasticLoadBalancer"}]}},
            "WebServerScaleUpPolicy": policy("1"),
            "WebServerScaleDownPolicy": policy("-1"),
            "MEMAlarmHigh": alarm("GreaterThanThreshold", "50", "WebServerScaleUpPolicy"),
            "MEMAlarmLow": alarm("LessThanThreshold", "15", "WebServerScaleDownPolicy"),
        },
        "Outputs": {
            "LaunchConfig": {"Value": {"Ref": "LaunchConfig"}},
            "Group": {"Value": {"Ref": "WebServerGroup"}},
            "Policy": {"Value": {"Ref": "WebServerScaleUpPolicy"}},
            "DownPolicy": {"Value": {"Ref": "WebServerScaleDownPolicy"}},
            "Alarm": {"Value": {"Ref": "MEMAlarmHigh"}},
            "LowAlarm": {"Value": {"Ref": "MEMAlarmLow"}},
        },
    }


@pytest.fixture(scope="module")
def plugin_autoscaling(plugin_gateway, heat_testbed):
    return boto3_client("autoscaling", plugin_gateway.endpoint,
                        tenant_credentials(heat_testbed, 0))


def in_service(autoscaling, group: str) -> list[str]:
    [found] = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[group])["AutoScalingGroups"]
    return [i["InstanceId"] for i in found["Instances"] if i["LifecycleState"] == "InService"]


def what_cfn_init_writes(heat, stack: Any) -> tuple[Credentials, list[str]]:
    """The launch configuration's resolved metadata, as cfn-init on a member writes it:
    the agent's credentials file, and the ``--watch`` value of each cron line."""
    files = heat.resources.metadata(stack.id, "LaunchConfig")[
        "AWS::CloudFormation::Init"]["config"]["files"]
    keys = dict(line.split("=", 1) for line in
                files["/etc/cfn/cfn-credentials"]["content"].splitlines() if "=" in line)
    watched = [line.split("--watch ", 1)[1].split()[0]
               for line in files["/tmp/stats-crontab.txt"]["content"].splitlines()]
    return Credentials(keys["AWSAccessKeyId"], keys["AWSSecretKey"], ""), watched


def push_memory_until(agent: PushStats, watched: list[str], percent: float,
                      instance_id: str, group: str, done: Callable[[], bool]) -> None:
    """What the members' cron does: each of its lines, ``cfn-push-stats --watch <alarm>``
    with the memory in use, about every 15 s, until ``done``.  (``--mem-util`` itself
    fails on current psutil; ``--metric`` sends the same metric, unit and dimensions.)"""
    deadline = time.monotonic() + 2 * STACK_WAIT  # a minute to close, cooldowns, Heat
    while True:
        for watch in watched:
            run = agent.run("--watch", watch, "--metric", "MemoryUtilization",
                            "--units", "Percent", "--value", str(percent),
                            instance_id=instance_id,
                            server_metadata={"metering.AutoScalingGroupName": group})
            assert run.returncode == 0, run.explain()
        pause_until = time.monotonic() + 15
        while time.monotonic() < pause_until:
            if done():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"cfn-push-stats at {percent} %: the group did not "
                                     f"follow")
            time.sleep(1)


def test_a_classic_template_scales_with_cfn_push_stats_and_leaves_nothing(
        plugin_gateway, plugin_cw, plugin_autoscaling, heat, stacks):
    stack = stacks.create(classic_template("system/linux"), GATEWAY_TYPES)
    group, policy = output(stack, "Group"), output(stack, "Policy")
    lc, alarm = output(stack, "LaunchConfig"), output(stack, "Alarm")
    low, down = output(stack, "LowAlarm"), output(stack, "DownPolicy")

    [config] = plugin_autoscaling.describe_launch_configurations(
        LaunchConfigurationNames=[lc])["LaunchConfigurations"]
    assert (config["ImageId"], config["InstanceType"]) == ("F17-x86_64-cfntools", "m1.small")
    [held] = plugin_autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[group])["AutoScalingGroups"]
    assert (held["MinSize"], held["MaxSize"], held["LaunchConfigurationName"]) == (1, 3, lc)
    [first] = in_service(plugin_autoscaling, group)  # the stack waited for it
    tags = {t["Key"]: t["Value"] for t in held["Tags"]}
    assert tags["metering.AutoScalingGroupName"] == group
    adjustments = {p["PolicyARN"]: p["ScalingAdjustment"] for p in
                   plugin_autoscaling.describe_policies(
                       AutoScalingGroupName=group)["ScalingPolicies"]}
    assert adjustments == {policy: 1, down: -1}
    watching = {a["AlarmName"]: a for a in plugin_cw.describe_alarms(
        AlarmNames=[alarm, low])["MetricAlarms"]}
    assert watching[alarm]["AlarmActions"] == [policy]
    assert watching[low]["AlarmActions"] == [down]
    for each in watching.values():
        assert each["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": group}]

    # The members' agent, with the stack user's keys and the cron lines cfn-init writes
    # (on Heat 27, --watch carries the alarms' logical names).
    keys, watched = what_cfn_init_writes(heat, stack)
    assert watched == ["MEMAlarmHigh", "MEMAlarmLow"]
    sizes = [1]

    def size() -> int:
        sizes.append(len(in_service(plugin_autoscaling, group)))
        return sizes[-1]

    with agent_sandbox(plugin_gateway, keys) as agent:
        push_memory_until(agent, watched, 90.0, first, group, lambda: size() >= 2)
        # High memory may still add one more before the low values close a minute.
        push_memory_until(agent, watched, 5.0, first, group, lambda: size() < max(sizes))

    causes = [a.get("Cause", "") for a in plugin_autoscaling.describe_scaling_activities(
        AutoScalingGroupName=group)["Activities"]]
    assert any(alarm in c for c in causes) and any(low in c for c in causes), causes
    for name, state in ((alarm, "ALARM"), (low, "ALARM")):
        updates = plugin_cw.describe_alarm_history(
            AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
        assert any(f"to {state}" in u["HistorySummary"] for u in updates), updates
        actions = plugin_cw.describe_alarm_history(
            AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
        assert actions, f"{name} ran no action"

    stacks.delete(stack.id)
    assert plugin_cw.describe_alarms(AlarmNames=[alarm, low])["MetricAlarms"] == []
    assert plugin_autoscaling.describe_policies(
        PolicyNames=[policy, down])["ScalingPolicies"] == []
    assert plugin_autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[group])["AutoScalingGroups"] == []
    assert plugin_autoscaling.describe_launch_configurations(
        LaunchConfigurationNames=[lc])["LaunchConfigurations"] == []
