"""Group value types: capacity counting, instance ids, the group codec."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cfn_gateway.domain import groups as g

NOW = datetime(2026, 11, 29, 12, 0, 0, 250000, tzinfo=UTC)


def instance(state: str) -> g.Instance:
    return g.Instance(g.new_instance_id(), "web", "nova", state, "lc", "m1.small", NOW)


def test_actual_capacity_counts_launching_and_in_service_instances():
    states = [g.PENDING, g.PENDING_WAIT, g.PENDING_PROCEED, g.IN_SERVICE, g.TERMINATING,
              g.TERMINATING_WAIT, g.TERMINATED, g.STANDBY, g.ENTERING_STANDBY, g.DETACHING,
              g.DETACHED]
    assert g.actual_capacity(instance(s) for s in states) == 4


def test_instance_ids_look_like_ec2s():
    ids = {g.new_instance_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"i-[0-9a-f]{17}", i) for i in ids)


GROUP = g.Group(
    name="web", arn="arn:aws:autoscaling:r:p:autoScalingGroup:u:autoScalingGroupName/web",
    launch_configuration_name="lc", min_size=1, max_size=4, desired_capacity=2,
    created_at=NOW, availability_zones=("nova", "az2"), vpc_zone_identifier="subnet-1",
    tags=(g.GroupTag("Name", "web", True), g.GroupTag("team")),
    suspended_processes=("AZRebalance",), enabled_metrics=("GroupMinSize",),
    max_instance_lifetime=86400, default_instance_warmup=60, status=None)


@pytest.mark.parametrize("group", [GROUP, replace(GROUP, tags=(), vpc_zone_identifier=None,
                                                  status="Delete in progress")])
def test_group_round_trip(group):
    assert g.group_from_json(g.group_to_json(group)) == group


def test_group_codec_refusals():
    data = json.loads(g.group_to_json(GROUP))
    with pytest.raises(ValueError):
        g.group_from_json(json.dumps({**data, "v": 9}))
    del data["min_size"]
    with pytest.raises(ValueError):
        g.group_from_json(json.dumps(data))
