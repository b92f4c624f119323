"""Cooldowns and activities in progress: when a scaling request must wait.

Facts from the Amazon EC2 Auto Scaling user guide ("Scaling cooldowns"):

- A cooldown starts when a scaling activity of the group ends (``Group.
  scaling_finished_at``) and lasts the policy's ``Cooldown``, or the group's
  ``DefaultCooldown`` when the policy has none.  While it lasts, simple scaling policies
  (and SetDesiredCapacity or ExecutePolicy with ``HonorCooldown``) do not scale.
- While an activity of the group is in progress, a request that honours cooldowns is
  refused with ScalingActivityInProgress, naming the activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cfn_gateway.domain.groups import Activity, Group


def cooldown_ends(group: Group, cooldown_seconds: int | None) -> datetime | None:
    """When the group's cooldown ends (None when it never scaled)."""
    if group.scaling_finished_at is None:
        return None
    seconds = group.default_cooldown if cooldown_seconds is None else cooldown_seconds
    return group.scaling_finished_at + timedelta(seconds=seconds)


def in_cooldown(group: Group, cooldown_seconds: int | None, now: datetime) -> bool:
    ends = cooldown_ends(group, cooldown_seconds)
    return ends is not None and now < ends


def blocking_activity(open_activities: Sequence[Activity]) -> Activity | None:
    """The activity in progress that blocks a request honouring cooldowns, if any."""
    return min(open_activities, key=lambda a: (a.start_time, a.activity_id), default=None)
