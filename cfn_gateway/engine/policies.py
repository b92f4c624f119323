"""Running scaling policies: ExecutePolicy and alarm actions, through the one scaling path.

``PolicyRunner.execute`` computes the desired capacity the policy asks for
(``domain.policies``) and writes it as a compare-and-set on the group, with the activity
cause AWS writes for a user request or an alarm; the engine's next step carries it out
(``GroupScaler``).
Cooldowns (``domain.cooldowns``) hold simple scaling policies: ExecutePolicy with
HonorCooldown is refused (ScalingActivityInProgress), an alarm's run is skipped; step
policies have no cooldown.  A suspended ``AlarmNotification`` process skips alarm runs.

``PolicyRunner`` is also the alarm engine's ``ScalingPolicies``: an alarm action naming a
policy ARN runs it here, and its outcome goes into the alarm's history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from cfn_gateway.backends.groups import GroupGone
from cfn_gateway.domain import activity_causes as causes
from cfn_gateway.domain import cooldowns
from cfn_gateway.domain.groups import STATUS_DELETING, Group
from cfn_gateway.domain.policies import SIMPLE_SCALING, CannotRun, ScalingPolicy, desired_after
from cfn_gateway.engine.actions import ActionFailed
from cfn_gateway.engine.scaling import GroupScaler

ALARM_NOTIFICATION_PROCESS = "AlarmNotification"


class Blocked(Exception):
    """A cooldown or an activity in progress holds the run (the message says which)."""


@dataclass(frozen=True)
class Outcome:
    old: int
    new: int


class PolicyRunner:
    def __init__(self, scaler: GroupScaler, clock: Callable[[], datetime]) -> None:
        self.scaler = scaler
        self.groups = scaler.groups
        self.clock = clock

    def execute(self, project_id: str, policy: ScalingPolicy, honor_cooldown: bool,
                metric_value: float | None, breach_threshold: float | None,
                alarm_name: str | None = None) -> Outcome | None:
        """Run ``policy``; None when it asks for no change.  Raises ``Blocked`` (cooldown
        or activity in progress, when honoured), ``CannotRun``, ``GroupGone`` or
        ``StaleGroup``."""
        now = self.clock()

        def run(group: Group) -> Group | None:
            if group.status == STATUS_DELETING:
                raise GroupGone(group.name)
            if honor_cooldown and policy.policy_type == SIMPLE_SCALING:
                blocking = cooldowns.blocking_activity(
                    self.groups.open_activities(project_id, group.name))
                if blocking is not None:
                    raise Blocked(f"Scaling activity {blocking.activity_id} is in progress "
                                  "and blocks this action")
                if cooldowns.in_cooldown(group, policy.cooldown, now):
                    raise Blocked(f"The cooldown period of AutoScalingGroup {group.name} is "
                                  "in effect and blocks this action")
            new = desired_after(policy, group.desired_capacity, group.min_size,
                                group.max_size, metric_value, breach_threshold)
            if new is None or new == group.desired_capacity:
                return None
            return replace(group, desired_capacity=new)

        def cause(old: Group, new: Group) -> str:
            before, after = old.desired_capacity, new.desired_capacity
            return (causes.alarm_triggered(now, alarm_name, policy.name, before, after)
                    if alarm_name else causes.policy_executed(now, policy.name, before,
                                                              after))

        old, new = self.scaler.revise(project_id, policy.group_name, run, cause)
        if old is new:
            return None
        return Outcome(old.desired_capacity, new.desired_capacity)

    # --- ScalingPolicies (alarm actions) --------------------------------------------------

    def execute_from_alarm(self, project_id: str, policy_arn: str, alarm_name: str,
                           state_value: str, message: str) -> None:
        policy = self.groups.get_policy(project_id, None, policy_arn)
        if policy is None:
            raise ActionFailed(f"No scaling policy {policy_arn} exists.")
        stored = self.groups.get(project_id, policy.group_name)
        if stored is None:
            raise ActionFailed(f"The group of policy {policy_arn} is gone.")
        if ALARM_NOTIFICATION_PROCESS in stored.group.suspended_processes or \
                not policy.enabled:
            return
        metric_value, threshold = breach_of(message)
        try:
            self.execute(project_id, policy, True, metric_value, threshold, alarm_name)
        except Blocked:
            return  # AWS skips an alarm's run during a cooldown
        except (CannotRun, GroupGone) as exc:
            raise ActionFailed(str(exc)) from None


def breach_of(message: str) -> tuple[float | None, float | None]:
    """The metric value and threshold of an alarm's state change message: the newest of
    the alarm's recent data points and its threshold (``NewStateReasonData``)."""
    try:
        reason = json.loads(json.loads(message)["NewStateReasonData"])
        return float(reason["recentDatapoints"][-1]), float(reason["threshold"])
    except (ValueError, KeyError, TypeError, IndexError):
        return None, None
