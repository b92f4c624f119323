"""Notifications of a group's instance launches and terminations, in AWS's form.

A group's notification configurations name topics and the event types each wants
(``autoscaling:EC2_INSTANCE_LAUNCH``, ``..._LAUNCH_ERROR``, ``..._TERMINATE``,
``..._TERMINATE_ERROR``, and ``autoscaling:TEST_NOTIFICATION``, sent once when a topic is
configured).  AWS publishes to SNS topics; this cloud has none, so a topic is an
``http://`` or ``https://`` URL and the notification is POSTed to it: the JSON document
SNS subscribers of AWS Auto Scaling read (``Service``, ``Event``, ``AccountId``,
``AutoScalingGroupName``, ``AutoScalingGroupARN``, ``ActivityId``, ``Description``,
``Cause``, ``StartTime``, ``EndTime``, ``StatusCode``, ``StatusMessage``, ``Progress``,
``EC2InstanceId``, ``RequestId``, ``Details``).

``events`` turns the activities a scaling step ended into the notifications to send.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from cfn_gateway.domain import groups as g
from cfn_gateway.domain.periods import iso_millis

LAUNCH = "autoscaling:EC2_INSTANCE_LAUNCH"
LAUNCH_ERROR = "autoscaling:EC2_INSTANCE_LAUNCH_ERROR"
TERMINATE = "autoscaling:EC2_INSTANCE_TERMINATE"
TERMINATE_ERROR = "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"
TEST = "autoscaling:TEST_NOTIFICATION"
SERVICE = "AWS Auto Scaling"
MAX_TOPICS = 10


def is_topic(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _event(activity: g.Activity) -> str | None:
    launching = activity.description.startswith("Launching")
    terminating = activity.description.startswith("Terminating")
    if activity.status_code == g.ACTIVITY_SUCCESSFUL:
        return LAUNCH if launching else TERMINATE if terminating else None
    if activity.status_code == g.ACTIVITY_FAILED:
        return LAUNCH_ERROR if launching else TERMINATE_ERROR if terminating else None
    return None


def _instance_id(activity: g.Activity) -> str:
    return activity.description.rsplit(": ", 1)[-1]


def account_of(group: g.Group) -> str:
    return group.arn.split(":")[4]


def message(group: g.Group, event: str, activity: g.Activity) -> str:
    body = {
        "Progress": activity.progress,
        "AccountId": account_of(group),
        "Description": activity.description,
        "RequestId": str(uuid.uuid4()),
        "EndTime": iso_millis(activity.end_time) if activity.end_time else None,
        "AutoScalingGroupARN": group.arn,
        "ActivityId": activity.activity_id,
        "StartTime": iso_millis(activity.start_time),
        "Service": SERVICE,
        "Time": iso_millis(activity.end_time or activity.start_time),
        "EC2InstanceId": _instance_id(activity),
        "StatusCode": activity.status_code,
        "StatusMessage": activity.status_message or "",
        "Details": json.loads(activity.details),
        "AutoScalingGroupName": group.name,
        "Cause": activity.cause,
        "Event": event,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def test_message(group: g.Group, now: datetime) -> str:
    return json.dumps({
        "AccountId": account_of(group), "RequestId": str(uuid.uuid4()),
        "AutoScalingGroupARN": group.arn, "AutoScalingGroupName": group.name,
        "Service": SERVICE, "Event": TEST, "Time": iso_millis(now)},
        separators=(",", ":"))


def events(group: g.Group, ended: Iterable[g.Activity]) -> tuple[tuple[str, str], ...]:
    """(topic, message) of every notification the ended activities call for."""
    out = []
    for activity in ended:
        event = _event(activity)
        if event is None:
            continue
        for topic, types in group.notification_configurations:
            if event in types:
                out.append((topic, message(group, event, activity)))
    return tuple(out)
