"""Scheduled actions fire at their time (once, and by cron recurrence), suspended processes
hold them and the other scaling, and DescribeAccountLimits counts: both modes."""

from __future__ import annotations

import datetime as dt
import re

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

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_scheduled_actions_fire_once_and_by_recurrence(autoscaling):
    once = create_group(autoscaling, unique("once"), MinSize=0, MaxSize=4)
    every = create_group(autoscaling, unique("every"), MinSize=0, MaxSize=4)
    autoscaling.put_scheduled_update_group_action(
        AutoScalingGroupName=once, ScheduledActionName="morning",
        StartTime=now() + dt.timedelta(seconds=3), DesiredCapacity=2)
    autoscaling.put_scheduled_update_group_action(
        AutoScalingGroupName=every, ScheduledActionName="each-minute", Recurrence="* * * * *",
        MinSize=1, TimeZone="Europe/Paris")
    (listed,) = autoscaling.describe_scheduled_actions(
        AutoScalingGroupName=every)["ScheduledUpdateGroupActions"]
    assert listed["Recurrence"] == "* * * * *" and listed["MinSize"] == 1
    assert listed["TimeZone"] == "Europe/Paris"
    assert listed["ScheduledActionARN"].endswith(
        f":autoScalingGroupName/{every}:scheduledActionName/each-minute")
    # A recurring action's StartTime is its next firing: the next whole minute.
    assert listed["StartTime"].second == 0 and listed["StartTime"] > now()

    wait_settled(autoscaling, once, 2)
    cause = autoscaling.describe_scaling_activities(
        AutoScalingGroupName=once)["Activities"][0]["Cause"]
    assert re.match(f"At {TIME} a scheduled action update of AutoScalingGroup constraints "
                    "to min: 0, max: 4, desired: 2 changing the desired capacity from 0 to "
                    "2.", cause), cause
    # A one-time action goes once it ran.
    assert autoscaling.describe_scheduled_actions(
        AutoScalingGroupName=once)["ScheduledUpdateGroupActions"] == []

    # The minimum moves to 1 at the next minute, and the desired capacity with it.
    wait_for(lambda: describe_group(autoscaling, every)["MinSize"] == 1, timeout=90)
    wait_settled(autoscaling, every, 1)
    assert autoscaling.describe_scheduled_actions(
        AutoScalingGroupName=every)["ScheduledUpdateGroupActions"]  # it stays
    delete_group(autoscaling, once)
    delete_group(autoscaling, every)


def test_scheduled_action_refusals_and_batches(autoscaling):
    name = create_group(autoscaling, unique("sched"))
    later = now() + dt.timedelta(hours=1)
    assert error_of(autoscaling.put_scheduled_update_group_action, AutoScalingGroupName=name,
                    ScheduledActionName="past", StartTime=now() - dt.timedelta(hours=1),
                    DesiredCapacity=1)["message"] == "Given start time is in the past"
    assert error_of(autoscaling.put_scheduled_update_group_action, AutoScalingGroupName=name,
                    ScheduledActionName="nothing", StartTime=later)["code"] == \
        "ValidationError"
    assert error_of(autoscaling.put_scheduled_update_group_action, AutoScalingGroupName=name,
                    ScheduledActionName="bad", Recurrence="61 * * * *",
                    MinSize=1)["code"] == "ValidationError"
    failed = autoscaling.batch_put_scheduled_update_group_action(
        AutoScalingGroupName=name, ScheduledUpdateGroupActions=[
            {"ScheduledActionName": "a", "StartTime": later, "DesiredCapacity": 1},
            {"ScheduledActionName": "b", "Recurrence": "0 9 * * MON-FRI", "MinSize": 1},
            {"ScheduledActionName": "c", "Recurrence": "0 9 * *", "MinSize": 1},
        ])["FailedScheduledUpdateGroupActions"]
    assert [(f["ScheduledActionName"], f["ErrorCode"]) for f in failed] == [
        ("c", "ValidationError")]
    # Putting again updates: what is left out keeps its value.
    autoscaling.put_scheduled_update_group_action(AutoScalingGroupName=name,
                                                  ScheduledActionName="b", MaxSize=3)
    listed = {a["ScheduledActionName"]: a for a in autoscaling.describe_scheduled_actions(
        AutoScalingGroupName=name)["ScheduledUpdateGroupActions"]}
    assert sorted(listed) == ["a", "b"]
    assert (listed["b"]["MinSize"], listed["b"]["MaxSize"]) == (1, 3)
    failed = autoscaling.batch_delete_scheduled_action(
        AutoScalingGroupName=name, ScheduledActionNames=["a", "zzz"])["FailedScheduledActions"]
    assert [f["ScheduledActionName"] for f in failed] == ["zzz"]
    autoscaling.delete_scheduled_action(AutoScalingGroupName=name, ScheduledActionName="b")
    assert autoscaling.describe_scheduled_actions(
        AutoScalingGroupName=name)["ScheduledUpdateGroupActions"] == []
    delete_group(autoscaling, name)


def test_suspended_processes(autoscaling):
    name = create_group(autoscaling, unique("susp"), MinSize=0, MaxSize=3, DesiredCapacity=1)
    wait_settled(autoscaling, name, 1)
    autoscaling.suspend_processes(AutoScalingGroupName=name, ScalingProcesses=["Launch"])
    (process,) = describe_group(autoscaling, name)["SuspendedProcesses"]
    assert process["ProcessName"] == "Launch"
    assert re.fullmatch(r"User suspended at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        process["SuspensionReason"]), process
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=2)
    group = describe_group(autoscaling, name)
    assert len(group["Instances"]) == 1  # Launch is suspended
    assert error_of(autoscaling.suspend_processes, AutoScalingGroupName=name,
                    ScalingProcesses=["Nonsense"])["code"] == "ValidationError"
    autoscaling.resume_processes(AutoScalingGroupName=name)
    assert describe_group(autoscaling, name)["SuspendedProcesses"] == []
    wait_settled(autoscaling, name, 2)
    delete_group(autoscaling, name)


def test_account_limits(autoscaling):
    before = autoscaling.describe_account_limits()
    assert before["MaxNumberOfAutoScalingGroups"] == 500
    assert before["MaxNumberOfLaunchConfigurations"] == 200
    name = create_group(autoscaling, unique("limits"))
    after = autoscaling.describe_account_limits()
    assert after["NumberOfAutoScalingGroups"] == before["NumberOfAutoScalingGroups"] + 1
    assert after["NumberOfLaunchConfigurations"] == \
        before["NumberOfLaunchConfigurations"] + 1
    delete_group(autoscaling, name)


def test_group_metrics_are_published_once_a_minute(gateway, creds, autoscaling):
    from tests.functional.clients import boto3_client

    name = create_group(autoscaling, unique("metrics"), MinSize=1, MaxSize=3,
                        DesiredCapacity=2)
    wait_settled(autoscaling, name, 2)
    autoscaling.enable_metrics_collection(
        AutoScalingGroupName=name, Granularity="1Minute",
        Metrics=["GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize"])
    assert sorted(m["Metric"] for m in describe_group(autoscaling, name)["EnabledMetrics"]) \
        == ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize"]
    cloudwatch = boto3_client("cloudwatch", gateway.endpoint, creds)

    def published() -> dict[str, float] | None:
        found = {}
        for metric in ("GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize"):
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/AutoScaling", MetricName=metric,
                Dimensions=[{"Name": "AutoScalingGroupName", "Value": name}],
                StartTime=now() - dt.timedelta(minutes=5),
                EndTime=now() + dt.timedelta(minutes=1), Period=60,
                Statistics=["Maximum"])["Datapoints"]
            if not points:
                return None
            found[metric] = max(p["Maximum"] for p in points)
        return found

    assert wait_for(published, timeout=150, interval=3) == {
        "GroupDesiredCapacity": 2.0, "GroupInServiceInstances": 2.0, "GroupMaxSize": 3.0}
    autoscaling.disable_metrics_collection(AutoScalingGroupName=name)
    assert describe_group(autoscaling, name)["EnabledMetrics"] == []
    assert error_of(autoscaling.enable_metrics_collection, AutoScalingGroupName=name,
                    Granularity="5Minute")["code"] == "ValidationError"
    delete_group(autoscaling, name)


def test_notifications_reach_http_topics(autoscaling):
    from tests.functional.alarm_support import WebhookReceiver

    receiver = WebhookReceiver()
    try:
        name = create_group(autoscaling, unique("notify"), MinSize=0, MaxSize=2)
        topic = receiver.url("/asg")
        autoscaling.put_notification_configuration(
            AutoScalingGroupName=name, TopicARN=topic,
            NotificationTypes=["autoscaling:EC2_INSTANCE_LAUNCH",
                               "autoscaling:EC2_INSTANCE_TERMINATE"])
        assert autoscaling.describe_notification_configurations(
            AutoScalingGroupNames=[name])["NotificationConfigurations"] == [
            {"AutoScalingGroupName": name, "TopicARN": topic,
             "NotificationType": "autoscaling:EC2_INSTANCE_LAUNCH"},
            {"AutoScalingGroupName": name, "TopicARN": topic,
             "NotificationType": "autoscaling:EC2_INSTANCE_TERMINATE"}]
        (test,) = wait_for(lambda: receiver.to("/asg"))
        assert (test["Event"], test["AutoScalingGroupName"]) == (
            "autoscaling:TEST_NOTIFICATION", name)

        autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
        (instance,) = [i["InstanceId"] for i in wait_settled(autoscaling, name, 1)["Instances"]]
        launch = wait_for(lambda: [b for b in receiver.to("/asg")
                                   if b["Event"] == "autoscaling:EC2_INSTANCE_LAUNCH"])[0]
        assert (launch["EC2InstanceId"], launch["StatusCode"], launch["Service"]) == (
            instance, "Successful", "AWS Auto Scaling")
        assert launch["Description"] == f"Launching a new EC2 instance: {instance}"
        autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=0)
        wait_for(lambda: [b for b in receiver.to("/asg")
                          if b["Event"] == "autoscaling:EC2_INSTANCE_TERMINATE"])
        autoscaling.delete_notification_configuration(AutoScalingGroupName=name,
                                                      TopicARN=topic)
        assert autoscaling.describe_notification_configurations(
            AutoScalingGroupNames=[name])["NotificationConfigurations"] == []
        assert error_of(autoscaling.put_notification_configuration,
                        AutoScalingGroupName=name, TopicARN="arn:aws:sns:us-east-1:1:t",
                        NotificationTypes=["autoscaling:EC2_INSTANCE_LAUNCH"])["code"] == \
            "ValidationError"
        delete_group(autoscaling, name)
    finally:
        receiver.close()
