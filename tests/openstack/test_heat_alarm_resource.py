"""Heat stacks whose alarms live in the gateway: ``OS::CfnGateway::Alarm``, end to end.

heat-engine on the test bed loads the gateway's resource plugin (``cfn_gateway.heat_plugin``
through ``tools/testbed/heat-plugins/cfngw_gateway_resources.py``) and calls the gateway at
``[cfn_gateway] url``, where this module runs an OpenStack-mode gateway.  Stacks are made
as a tenant user with python-heatclient; what they made is read back through the gateway's
API with that tenant's EC2 keys.  The last test closes the loop of Heat's own scaling: the
gateway's alarm (evaluated by Aodh with the gateway's rule type) calls the pre-signed
``alarm_url`` of an ``OS::Heat::ScalingPolicy`` through Heat's CloudFormation API, and the
``OS::Heat::AutoScalingGroup`` grows.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from tests.functional.server import Credentials
from tests.openstack.conftest import StoppedHeartbeats
from tests.openstack.heat_stacks import STACK_WAIT, agent_sandbox, output, unique, wait_for

pytestmark = pytest.mark.functional


def alarm_template(resource_type: str = "OS::CfnGateway::Alarm",
                   threshold: str = "50", period: str = "60") -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"CPUAlarmHigh": {"Type": resource_type, "Properties": {
            "AlarmDescription": "Scale up if CPU > 50% for 2 minutes",
            "MetricName": "CPUUtilization", "Namespace": "system/linux",
            "Statistic": "Average", "Period": period, "EvaluationPeriods": "2",
            "Threshold": threshold, "ComparisonOperator": "GreaterThanThreshold",
            "Units": "Percent",
            "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web"}]}}},
        "Outputs": {"Name": {"Value": {"Ref": "CPUAlarmHigh"}},
                    "Arn": {"Value": {"Fn::GetAtt": ["CPUAlarmHigh", "Arn"]}}},
    }


def only_alarm(cw, name: str) -> dict[str, Any]:
    found = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert len(found) == 1, found
    return found[0]


def test_a_stack_alarm_lives_in_the_gateway_until_the_stack_is_deleted(plugin_cw, heat, stacks):
    stack = stacks.create(alarm_template())
    name = output(stack, "Name")
    assert name.startswith(f"{stack.stack_name}-CPUAlarmHigh-")
    alarm = only_alarm(plugin_cw, name)
    assert output(stack, "Arn") == alarm["AlarmArn"]
    assert (alarm["MetricName"], alarm["Namespace"], alarm["Statistic"], alarm["Period"],
            alarm["EvaluationPeriods"], alarm["Threshold"], alarm["ComparisonOperator"],
            alarm["Unit"], alarm["Dimensions"], alarm["ActionsEnabled"]) == (
        "CPUUtilization", "system/linux", "Average", 60, 2, 50.0, "GreaterThanThreshold",
        "Percent", [{"Name": "AutoScalingGroupName", "Value": "web"}], True)
    tags = {t["Key"]: t["Value"]
            for t in plugin_cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]}
    assert tags["heat-stack-id"] == stack.id and tags["heat-logical-id"] == "CPUAlarmHigh"

    heat.stacks.update(stack.id, template=alarm_template(threshold="70"))
    stacks.settle(stack.id, "UPDATE_COMPLETE")
    assert only_alarm(plugin_cw, name)["Threshold"] == 70.0  # in place: the same alarm

    heat.actions.suspend(stack.id)
    stacks.settle(stack.id, "SUSPEND_COMPLETE")
    assert only_alarm(plugin_cw, name)["ActionsEnabled"] is False
    heat.actions.resume(stack.id)
    stacks.settle(stack.id, "RESUME_COMPLETE")
    assert only_alarm(plugin_cw, name)["ActionsEnabled"] is True

    stacks.delete(stack.id)
    assert plugin_cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_the_aws_type_maps_to_the_gateway_through_the_environment(plugin_cw, stacks):
    environment = {"resource_registry": {"AWS::CloudWatch::Alarm": "OS::CfnGateway::Alarm"}}
    stack = stacks.create(alarm_template("AWS::CloudWatch::Alarm"), environment)
    assert only_alarm(plugin_cw, output(stack, "Name"))["Threshold"] == 50.0


def test_an_alarm_the_gateway_refuses_fails_the_stack_with_the_aws_error(plugin_cw, stacks):
    stack = stacks.create(alarm_template(period="7"), expect="CREATE_FAILED")
    assert "ValidationError" in stack.stack_status_reason
    assert "Period" in stack.stack_status_reason
    left = [a for a in plugin_cw.describe_alarms(AlarmNamePrefix=stack.stack_name)["MetricAlarms"]]
    assert left == []


def test_an_alarm_of_the_gateway_scales_a_heat_group_through_its_alarm_url(plugin_cw, heat, stacks):
    namespace = unique("Test/HeatLoop")
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "group": {"type": "OS::Heat::AutoScalingGroup", "properties": {
                "min_size": 1, "max_size": 3, "desired_capacity": 1,
                "resource": {"type": "OS::Heat::None"}}},
            "scale_up": {"type": "OS::Heat::ScalingPolicy", "properties": {
                "auto_scaling_group_id": {"get_resource": "group"},
                "adjustment_type": "change_in_capacity", "scaling_adjustment": 1,
                "cooldown": 600}},
            "busy": {"type": "OS::CfnGateway::Alarm", "properties": {
                "MetricName": "Load", "Namespace": namespace, "Statistic": "Maximum",
                "Period": 60, "EvaluationPeriods": 1, "Threshold": 50,
                "ComparisonOperator": "GreaterThanThreshold",
                "AlarmActions": [{"get_attr": ["scale_up", "alarm_url"]}]}},
        },
        "outputs": {"size": {"value": {"get_attr": ["group", "current_size"]}},
                    "alarm": {"value": {"get_resource": "busy"}}},
    }
    stack = stacks.create(template)
    assert output(stack, "size") == 1
    name = output(stack, "alarm")
    assert only_alarm(plugin_cw, name)["AlarmActions"][0].startswith("http://127.0.0.1:8000/v1/signal/")

    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    plugin_cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Load", "Value": 90.0, "Timestamp": minute}])
    wait_for(f"{name} in ALARM", lambda: only_alarm(plugin_cw, name)["StateValue"] == "ALARM", 60)
    grown = wait_for("the group at 2", lambda: (
        s if output(s := heat.stacks.get(stack.id), "size") == 2 else None), STACK_WAIT)
    assert grown.stack_status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    actions = plugin_cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert actions["AlarmHistoryItems"], "the alarm's action left no history"


def test_a_heartbeat_alarm_is_in_alarm_without_heartbeats(plugin_gateway, plugin_cw, stacks,
                                                          stopped_heartbeats):
    """WordPress_Single_Instance_With_IHA's HeartbeatFailureAlarm, unmodified but for its
    action, fed as its server feeds it: the real ``cfn-push-stats --watch
    {Ref: HeartbeatFailureAlarm} --heartbeat`` (the logical name, as Heat 27 resolves it)
    with the stack user's keys, every 15 s as a cron would.  Without heartbeats in its
    evaluation range the alarm is in ALARM (a count of nothing is 0 < 1, as in Heat's own
    alarms: compat H1); while they come it is OK.  After the last heartbeat it goes back
    to ALARM once that heartbeat's minute has left the evaluation range (N + 2 = 3
    periods: AWS bridges gaps with older datapoints), three to four minutes later:
    ``test_heat_stopped_heartbeats.py`` looks then, the stack handed over to it."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "CfnUser": {"Type": "AWS::IAM::User"},
            "Keys": {"Type": "AWS::IAM::AccessKey",
                     "Properties": {"UserName": {"Ref": "CfnUser"}}},
            "HeartbeatFailureAlarm": {"Type": "OS::CfnGateway::Alarm", "Properties": {
                "AlarmDescription": "Restart the WikiDatabase if we miss a heartbeat",
                "MetricName": "Heartbeat", "Namespace": "system/linux",
                "Statistic": "SampleCount", "Period": "60", "EvaluationPeriods": "1",
                "Threshold": "1", "ComparisonOperator": "LessThanThreshold"}}},
        "Outputs": {"Name": {"Value": {"Ref": "HeartbeatFailureAlarm"}},
                    "AccessKey": {"Value": {"Ref": "Keys"}},
                    "SecretKey": {"Value": {"Fn::GetAtt": ["Keys", "SecretAccessKey"]}}},
    }
    stack = stacks.create(template)
    name = output(stack, "Name")
    assert only_alarm(plugin_cw, name)["TreatMissingData"] == "breaching"

    def state() -> str:
        return only_alarm(plugin_cw, name)["StateValue"]

    wait_for(f"{name} in ALARM before any heartbeat", lambda: state() == "ALARM", 60)
    keys = Credentials(output(stack, "AccessKey"), output(stack, "SecretKey"), "")
    server = unique("server")
    with agent_sandbox(plugin_gateway, keys) as agent:
        deadline = time.monotonic() + STACK_WAIT
        while state() != "OK":
            run = agent.run("--heartbeat", "--watch", "HeartbeatFailureAlarm",
                            instance_id=server)
            assert run.returncode == 0, run.explain()
            assert time.monotonic() < deadline, f"{name} stayed {state()} with heartbeats"
            wait_for("the next heartbeat", lambda: state() == "OK", 15.0, quiet=True)
    stopped_heartbeats.append(StoppedHeartbeats(name, stack.id, time.time()))
    stacks.made.remove(stack.id)  # deleted by the module that sees the alarm fire
