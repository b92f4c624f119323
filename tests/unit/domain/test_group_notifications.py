"""Group notifications: which ended activities call for which events, and their form."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from cfn_gateway.domain import group_notifications as n
from cfn_gateway.domain import groups as g

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
GROUP = g.Group(name="web", arn="arn:aws:autoscaling:r:proj:autoScalingGroup:u:"
                "autoScalingGroupName/web", launch_configuration_name="lc", min_size=0,
                max_size=2, desired_capacity=1, created_at=NOW,
                notification_configurations=(("http://x/a", (n.LAUNCH, n.TERMINATE_ERROR)),
                                             ("http://x/b", (n.LAUNCH_ERROR,))))


def activity(description: str, status: str) -> g.Activity:
    return g.Activity("a-1", "web", description, "cause", NOW, status, 100, NOW,
                      details='{"Availability Zone":"nova"}')


def test_events_go_to_the_topics_that_want_them():
    ended = [activity("Launching a new EC2 instance: i-1", g.ACTIVITY_SUCCESSFUL),
             activity("Launching a new EC2 instance: i-2", g.ACTIVITY_FAILED),
             activity("Terminating EC2 instance: i-3", g.ACTIVITY_SUCCESSFUL),
             activity("Moving EC2 instance to Standby: i-4", g.ACTIVITY_SUCCESSFUL)]
    sent = [(topic, json.loads(body)) for topic, body in n.events(GROUP, ended)]
    assert [(t, b["Event"], b["EC2InstanceId"]) for t, b in sent] == [
        ("http://x/a", n.LAUNCH, "i-1"), ("http://x/b", n.LAUNCH_ERROR, "i-2")]
    body = sent[0][1]
    assert (body["AccountId"], body["Service"], body["Details"]) == (
        "proj", "AWS Auto Scaling", {"Availability Zone": "nova"})
    assert n.events(replace(GROUP, notification_configurations=()), ended) == ()
