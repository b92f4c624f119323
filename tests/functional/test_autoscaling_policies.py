"""Scaling policies end to end: ExecutePolicy, cooldowns, step choice, and alarms that
really evaluate metrics pushed with PutMetricData running a policy, in both modes."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from tests.functional.autoscaling_support import (
    create_group,
    delete_group,
    describe_group,
    error_of,
    scaling_story,
    unique,
    wait_for,
    wait_settled,
)
from tests.functional.clients import aws_cli, boto3_client

pytestmark = pytest.mark.functional

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def test_simple_policy_execute_and_cooldown(autoscaling, creds):
    name = create_group(autoscaling, unique("simple"), MinSize=1, MaxSize=5,
                        DesiredCapacity=1, DefaultCooldown=600)
    wait_settled(autoscaling, name, 1)
    arn = autoscaling.put_scaling_policy(
        AutoScalingGroupName=name, PolicyName="out", AdjustmentType="ChangeInCapacity",
        ScalingAdjustment=2)["PolicyARN"]
    assert re.fullmatch(f"arn:aws:autoscaling:us-east-1:{creds.project}:scalingPolicy:"
                        f"[0-9a-f-]{{36}}:autoScalingGroupName/{name}:policyName/out", arn)
    # Putting it again keeps its ARN.
    assert autoscaling.put_scaling_policy(
        AutoScalingGroupName=name, PolicyName="out", AdjustmentType="ChangeInCapacity",
        ScalingAdjustment=1)["PolicyARN"] == arn
    (policy,) = autoscaling.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"]
    assert {k: policy[k] for k in ("PolicyName", "PolicyARN", "PolicyType", "AdjustmentType",
                                   "ScalingAdjustment", "Enabled")} == {
        "PolicyName": "out", "PolicyARN": arn, "PolicyType": "SimpleScaling",
        "AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": 1, "Enabled": True}

    autoscaling.execute_policy(AutoScalingGroupName=name, PolicyName="out")
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 2
    wait_settled(autoscaling, name, 2)
    newest = autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"][0]
    assert re.fullmatch(
        f"At {TIME} a user request executed policy out changing the desired capacity from 1 "
        f"to 2.  At {TIME} an instance was started in response to a difference between "
        "desired and actual capacity, increasing the capacity from 1 to 2.", newest["Cause"])
    # The group's 600 s cooldown started when that launch ended.
    refused = error_of(autoscaling.execute_policy, AutoScalingGroupName=name,
                       PolicyName=arn, HonorCooldown=True)
    assert refused["code"] == "ScalingActivityInProgress"
    autoscaling.execute_policy(AutoScalingGroupName=name, PolicyName=arn)  # not honoured
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 3
    wait_settled(autoscaling, name, 3)

    autoscaling.delete_policy(AutoScalingGroupName=name, PolicyName="out")
    assert autoscaling.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"] == []
    assert error_of(autoscaling.execute_policy, AutoScalingGroupName=name,
                    PolicyName="out")["code"] == "ValidationError"
    delete_group(autoscaling, name)


def test_percent_and_exact_policies_clamp(autoscaling):
    name = create_group(autoscaling, unique("pct"), MinSize=1, MaxSize=6, DesiredCapacity=4)
    autoscaling.put_scaling_policy(AutoScalingGroupName=name, PolicyName="in",
                                   AdjustmentType="PercentChangeInCapacity",
                                   ScalingAdjustment=-30)
    autoscaling.execute_policy(AutoScalingGroupName=name, PolicyName="in")
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 3  # -1.2 -> -1
    autoscaling.put_scaling_policy(AutoScalingGroupName=name, PolicyName="max",
                                   AdjustmentType="ExactCapacity", ScalingAdjustment=50)
    autoscaling.execute_policy(AutoScalingGroupName=name, PolicyName="max")
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 6  # clamped
    delete_group(autoscaling, name)


def test_step_policy_chooses_its_step(autoscaling):
    name = create_group(autoscaling, unique("step"), MinSize=0, MaxSize=10, DesiredCapacity=1)
    autoscaling.put_scaling_policy(
        AutoScalingGroupName=name, PolicyName="steps", PolicyType="StepScaling",
        AdjustmentType="ChangeInCapacity", MetricAggregationType="Average",
        StepAdjustments=[
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10,
             "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 3}])
    autoscaling.execute_policy(AutoScalingGroupName=name, PolicyName="steps",
                               MetricValue=75.0, BreachThreshold=60.0)
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 4
    autoscaling.execute_policy(AutoScalingGroupName=name, PolicyName="steps",
                               MetricValue=65.0, BreachThreshold=60.0)
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 5
    assert error_of(autoscaling.execute_policy, AutoScalingGroupName=name,
                    PolicyName="steps")["message"] == (
        "Both MetricValue and BreachThreshold are required for a step scaling policy.")
    assert error_of(autoscaling.put_scaling_policy, AutoScalingGroupName=name,
                    PolicyName="bad", PolicyType="StepScaling",
                    AdjustmentType="ChangeInCapacity",
                    StepAdjustments=[{"MetricIntervalLowerBound": 0,
                                      "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
                                     {"MetricIntervalLowerBound": 20,
                                      "ScalingAdjustment": 2}])["message"] == (
        "The ranges of step adjustments cannot have gaps.")
    delete_group(autoscaling, name)


def test_alarm_runs_policy_from_pushed_metrics(gateway, creds, autoscaling, request):
    """PutMetricData -> an alarm that really evaluates -> its action runs the policy ->
    the group launches an instance."""
    name = create_group(autoscaling, unique("alarmed"), MinSize=1, MaxSize=2,
                        DesiredCapacity=1)
    wait_settled(autoscaling, name, 1)
    # No cooldown: the group's default one (300 s) started when its first launch ended.
    arn = autoscaling.put_scaling_policy(
        AutoScalingGroupName=name, PolicyName="cpu-high", AdjustmentType="ChangeInCapacity",
        ScalingAdjustment=1, Cooldown=0)["PolicyARN"]
    cloudwatch = boto3_client("cloudwatch", gateway.endpoint, creds)
    namespace = f"Test/{uuid.uuid4().hex[:10]}"
    dimensions = [{"Name": "AutoScalingGroupName", "Value": name}]
    alarm = unique("cpu-high")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm, Namespace=namespace, MetricName="CPUUtilization",
        Dimensions=dimensions, Statistic="Average", Period=10, EvaluationPeriods=1,
        Threshold=70.0, ComparisonOperator="GreaterThanThreshold", AlarmActions=[arn])
    request.addfinalizer(lambda: cloudwatch.delete_alarms(AlarmNames=[alarm]))

    def push() -> bool:
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{
            "MetricName": "CPUUtilization", "Dimensions": dimensions, "Value": 95.0,
            "Unit": "Percent", "StorageResolution": 1,
            "Timestamp": dt.datetime.now(dt.UTC)}])
        return describe_group(autoscaling, name)["DesiredCapacity"] == 2

    wait_for(push, timeout=150, interval=2)
    group = wait_settled(autoscaling, name, 2)
    causes = [a["Cause"] for a in autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"]]
    assert any(re.match(f"At {TIME} a monitor alarm {alarm} in state ALARM triggered policy "
                        "cpu-high changing the desired capacity from 1 to 2.", c)
               for c in causes), causes
    # The alarm's repeated runs stop at the group's maximum.
    assert group["DesiredCapacity"] == 2
    history = cloudwatch.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action")
    assert any(arn in item["HistorySummary"] for item in history["AlarmHistoryItems"])
    cloudwatch.delete_alarms(AlarmNames=[alarm])
    delete_group(autoscaling, name)


def test_aws_cli_policies(gateway, creds, autoscaling):
    name = create_group(autoscaling, unique("cli-pol"), MinSize=0, MaxSize=3)
    done = aws_cli(gateway.endpoint, creds, "autoscaling", "put-scaling-policy",
                   "--auto-scaling-group-name", name, "--policy-name", "up",
                   "--adjustment-type", "ExactCapacity", "--scaling-adjustment", "2")
    assert done.returncode == 0, done.stderr
    done = aws_cli(gateway.endpoint, creds, "autoscaling", "execute-policy",
                   "--auto-scaling-group-name", name, "--policy-name", "up")
    assert done.returncode == 0, done.stderr
    wait_settled(autoscaling, name, 2)
    delete_group(autoscaling, name)


def test_target_tracking_policy_owns_its_alarms(gateway, creds, autoscaling):
    name = create_group(autoscaling, unique("track"), MinSize=1, MaxSize=6, DesiredCapacity=2)
    wait_settled(autoscaling, name, 2)
    cloudwatch = boto3_client("cloudwatch", gateway.endpoint, creds)
    put = autoscaling.put_scaling_policy(
        AutoScalingGroupName=name, PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 50.0})
    high, low = put["Alarms"]
    assert high["AlarmName"].startswith(f"TargetTracking-{name}-AlarmHigh-")
    assert low["AlarmName"].startswith(f"TargetTracking-{name}-AlarmLow-")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(
        AlarmNames=[high["AlarmName"], low["AlarmName"]])["MetricAlarms"]}
    shape = {k: alarms[high["AlarmName"]][k] for k in (
        "Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods",
        "Threshold", "ComparisonOperator", "AlarmActions")}
    assert shape == {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                     "Dimensions": [{"Name": "AutoScalingGroupName", "Value": name}],
                     "Statistic": "Average", "Period": 60, "EvaluationPeriods": 3,
                     "Threshold": 50.0, "ComparisonOperator": "GreaterThanThreshold",
                     "AlarmActions": [put["PolicyARN"]]}
    assert (alarms[low["AlarmName"]]["Threshold"],
            alarms[low["AlarmName"]]["EvaluationPeriods"]) == (45.0, 15)
    assert alarms[high["AlarmName"]]["AlarmDescription"].startswith("DO NOT EDIT OR DELETE.")
    (policy,) = autoscaling.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"]
    assert policy["TargetTrackingConfiguration"]["TargetValue"] == 50.0
    assert [a["AlarmName"] for a in policy["Alarms"]] == [high["AlarmName"],
                                                          low["AlarmName"]]

    # The high alarm goes off with the metric at 150 (three times the target): the
    # policy triples the capacity, 2 -> 6.
    cloudwatch.set_alarm_state(
        AlarmName=high["AlarmName"], StateValue="ALARM", StateReason="test",
        StateReasonData='{"version":"1.0","recentDatapoints":[150.0],"threshold":50.0}')
    wait_for(lambda: describe_group(autoscaling, name)["DesiredCapacity"] == 6,
             explain=lambda: scaling_story(autoscaling, cloudwatch, name))
    # The low alarm at 20: scale in proportionally, 6 -> ceil(6 x 20 / 50) = 3.
    cloudwatch.set_alarm_state(
        AlarmName=low["AlarmName"], StateValue="ALARM", StateReason="test",
        StateReasonData='{"version":"1.0","recentDatapoints":[20.0],"threshold":45.0}')
    wait_for(lambda: describe_group(autoscaling, name)["DesiredCapacity"] == 3,
             explain=lambda: scaling_story(autoscaling, cloudwatch, name))

    # DisableScaleIn drops the low alarm; deleting the policy drops the other.
    again = autoscaling.put_scaling_policy(
        AutoScalingGroupName=name, PolicyName="cpu50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 60.0, "DisableScaleIn": True})
    assert [a["AlarmName"] for a in again["Alarms"]] == [high["AlarmName"]]
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms(
        AlarmNamePrefix=f"TargetTracking-{name}-")["MetricAlarms"]] == [high["AlarmName"]]
    assert error_of(autoscaling.put_scaling_policy, AutoScalingGroupName=name,
                    PolicyName="alb", PolicyType="TargetTrackingScaling",
                    TargetTrackingConfiguration={
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": "ALBRequestCountPerTarget",
                            "ResourceLabel": "app/x/y/targetgroup/z/w"},
                        "TargetValue": 10.0})["code"] == "ValidationError"
    autoscaling.delete_policy(AutoScalingGroupName=name, PolicyName="cpu50")
    assert cloudwatch.describe_alarms(
        AlarmNamePrefix=f"TargetTracking-{name}-")["MetricAlarms"] == []
    delete_group(autoscaling, name)
