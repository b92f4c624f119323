"""Running scheduled actions at their time, through the one scaling path.

``ScheduleRunner.run(now)`` takes the actions due (their next run at or before ``now``)
and claims each by moving its next run on (``GroupStore.advance_scheduled_action``, a
compare-and-set: of several engines exactly one runs it); an action that will not run
again goes.  The claimed action then changes the group's bounds and desired capacity as
UpdateAutoScalingGroup would (``domain.capacity.resize``), with AWS's cause, for the
engine's next step.  A group whose ``ScheduledActions`` process is suspended skips its actions (they
move on all the same, as on AWS); one being deleted too.  An action whose sizes the
group cannot take (a minimum above the maximum) is skipped and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from cfn_gateway.backends.groups import GroupGone, GroupStore
from cfn_gateway.domain import activity_causes as causes
from cfn_gateway.domain import capacity
from cfn_gateway.domain import scheduled_actions as s
from cfn_gateway.domain.groups import STATUS_DELETING, Group
from cfn_gateway.engine.scaling import GroupScaler

LOG = logging.getLogger(__name__)

SCHEDULED_ACTIONS_PROCESS = "ScheduledActions"
DUE_BATCH = 200


class ScheduleRunner:
    def __init__(self, scaler: GroupScaler, clock: Callable[[], datetime]) -> None:
        self.scaler = scaler
        self.groups: GroupStore = scaler.groups
        self.clock = clock

    def run(self, now: datetime) -> int:
        """Run every action due at ``now``; returns how many ran."""
        ran = 0
        while True:
            due = self.groups.due_scheduled_actions(now, DUE_BATCH)
            for project_id, scheduled, next_run in due:
                following = s.next_run(scheduled, max(now, next_run))
                if not self.groups.advance_scheduled_action(
                        project_id, scheduled.group_name, scheduled.name, next_run,
                        following):
                    continue  # another engine has it
                try:
                    ran += self._run(project_id, scheduled)
                except Exception:  # one action's trouble must not stop the others
                    LOG.exception("scheduled action %r of group %r failed", scheduled.name,
                                  scheduled.group_name)
            if len(due) < DUE_BATCH:
                return ran

    def _run(self, project_id: str, scheduled: s.ScheduledAction) -> int:
        def change(group: Group) -> Group | None:
            if group.status == STATUS_DELETING or \
                    SCHEDULED_ACTIONS_PROCESS in group.suspended_processes:
                return None
            try:
                min_size, max_size, desired = capacity.resize(
                    group.min_size, group.max_size, group.desired_capacity,
                    scheduled.min_size, scheduled.max_size, scheduled.desired_capacity)
            except capacity.CapacityOutOfRange as exc:
                LOG.warning("scheduled action %r of group %r skipped: %s", scheduled.name,
                            group.name, exc)
                return None
            return replace(group, min_size=min_size, max_size=max_size,
                           desired_capacity=desired)

        def cause(old: Group, new: Group) -> str | None:
            if new.desired_capacity == old.desired_capacity:
                return None
            return causes.scheduled_update(self.clock(), new.min_size, new.max_size,
                                           new.desired_capacity, old.desired_capacity)

        try:
            old, new = self.scaler.revise(project_id, scheduled.group_name, change, cause)
        except GroupGone:
            return 0
        return 0 if old is new else 1
