"""One step of a group toward its desired capacity: what the scaling engine decides.

``plan_step`` is pure: from the group, its instances, their open activities and what the
instance driver reports, it returns the ``GroupChanges`` to write and the instances the
cloud should hold.  Each step, in order:

1. What the cloud did: a launching instance the driver reports running goes
   ``InService`` (its activity succeeds); one reported failed is a failed launch (its
   activity fails, the instance goes, and launches back off: 10 s, doubling up to 5
   minutes, reset by the next launch that succeeds).  A terminating instance the driver no
   longer reports is ``Terminated`` (its activity succeeds; the instance goes).  An
   instance in service that the driver reports failed or gone is ``Unhealthy``.  A
   detaching instance the driver says it keeps (``kept``: it will run on once it leaves
   the group) leaves the group as a detached instance (its activity succeeds).
2. Unhealthy instances in service are taken out of service (``Terminating``), unless
   the ``ReplaceUnhealthy`` process is suspended; capacity then falls short and step 3
   launches their replacements.
3. Capacity against desired: missing instances are launched (``Pending``) in the zone
   that has the fewest, unless ``Launch`` is suspended or launches are backing off;
   surplus ones are chosen by ``domain.termination`` (zone balance, termination policies,
   protection) and taken out of service, unless ``Terminate`` is suspended.  A group
   being deleted terminates every instance, protected or not.

Every launch and termination is one activity, worded as AWS words it
(``domain.activity_causes``); ``cause`` is the clause of what changed the desired
capacity, when this step follows such a change.  The group's ``scaling_finished_at``
moves to the step's time when its last open activity ends (cooldowns count from it).
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cfn_gateway.domain import activity_causes as causes
from cfn_gateway.domain import group_notifications, termination
from cfn_gateway.domain import groups as g
from cfn_gateway.domain import lifecycle_hooks as hooks

LAUNCH_PROCESS = "Launch"
TERMINATE_PROCESS = "Terminate"
REPLACE_UNHEALTHY_PROCESS = "ReplaceUnhealthy"

FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(minutes=5)

#: Driver reports (``backends.instances``), repeated so that the domain imports nothing
#: outside itself.
BOOTING = "booting"
RUNNING = "running"
FAILED = "failed"

#: States of instances the cloud keeps (a terminating instance is deleted from it).
IN_CLOUD = frozenset({g.PENDING, g.PENDING_WAIT, g.PENDING_PROCEED, g.IN_SERVICE,
                       g.TERMINATING_WAIT, g.ENTERING_STANDBY, g.STANDBY, g.DETACHING})
_LAUNCHING = frozenset({g.PENDING, g.PENDING_WAIT, g.PENDING_PROCEED})
#: Instances that can be taken out of service (not already on their way out).
TERMINABLE = IN_CLOUD - {g.TERMINATING_WAIT, g.DETACHING}
_GOING = frozenset({g.TERMINATING, g.TERMINATING_PROCEED})
#: States an instance stays in until something changes it.
_STEADY = frozenset({g.IN_SERVICE, g.STANDBY})


@dataclass(frozen=True)
class LaunchSpec:
    """What a new instance of the group launches from: the group's launch configuration
    (its name, instance type and creation time)."""

    name: str
    instance_type: str
    created_at: datetime


@dataclass(frozen=True)
class Step:
    changes: g.GroupChanges
    #: The group's instances after this step.
    instances: tuple[g.Instance, ...]
    #: The instances the cloud should hold after this step.
    members: tuple[g.Instance, ...]
    #: Whether ``members`` differ from what the cloud was asked for before (an instance
    #: added or gone, or one to keep running once it leaves).
    membership_changed: bool


def in_cloud(instances: Sequence[g.Instance]) -> tuple[g.Instance, ...]:
    return tuple(i for i in instances if i.lifecycle_state in IN_CLOUD)


def membership(members: Sequence[g.Instance]) -> frozenset[tuple[str, bool]]:
    """What the cloud is asked for: each member's id, and whether it is to run on once
    it leaves the group (a detaching instance)."""
    return frozenset((i.instance_id, i.lifecycle_state == g.DETACHING) for i in members)


def _retry_delay(failures: int) -> timedelta:
    return min(LONGEST_RETRY, FIRST_RETRY * 2 ** max(0, failures - 1))


class Planner:
    """A step being planned: the instances and activities as they change (also used by
    ``domain.instance_requests``)."""

    def __init__(self, group: g.Group, instances: Sequence[g.Instance],
                 activities: Mapping[str, g.Activity], now: datetime) -> None:
        self.group = group
        self.now = now
        self.instances = {i.instance_id: i for i in instances}
        self.activities = dict(activities)
        self.changed_instances: dict[str, g.Instance] = {}
        self.removed: list[str] = []
        self.changed_activities: dict[str, g.Activity] = {}

    def put(self, instance: g.Instance) -> None:
        self.instances[instance.instance_id] = instance
        self.changed_instances[instance.instance_id] = instance

    def remove(self, instance_id: str) -> None:
        del self.instances[instance_id]
        self.changed_instances.pop(instance_id, None)
        self.removed.append(instance_id)

    def end_activity(self, instance: g.Instance, status: str,
                     message: str | None = None) -> None:
        activity = self.activities.get(instance.activity_id or "")
        if activity is None or activity.end_time is not None:
            return
        ended = replace(activity, status_code=status, progress=100, end_time=self.now,
                        status_message=message)
        self.activities[activity.activity_id] = ended
        self.changed_activities[activity.activity_id] = ended

    def start_activity(self, instance_id: str, zone: str, description: str,
                       cause: str) -> str:
        activity = g.Activity(
            activity_id=str(uuid.uuid4()), group_name=self.group.name,
            description=description, cause=cause, start_time=self.now,
            status_code=g.ACTIVITY_IN_PROGRESS,
            details=json.dumps({"Availability Zone": zone}, separators=(",", ":")))
        self.activities[activity.activity_id] = activity
        self.changed_activities[activity.activity_id] = activity
        return activity.activity_id

    def set_activity_status(self, instance: g.Instance, status: str) -> None:
        activity = self.activities.get(instance.activity_id or "")
        if activity is None or activity.status_code == status:
            return
        changed = replace(activity, status_code=status)
        self.activities[activity.activity_id] = changed
        self.changed_activities[activity.activity_id] = changed

    def take_out(self, instance: g.Instance, activity_id: str | None) -> None:
        """Out of service: into Terminating:Wait while the group has terminating hooks,
        else Terminating."""
        waits = hooks.start_waits(self.group.lifecycle_hooks, hooks.TERMINATING, self.now)
        out = replace(instance, lifecycle_state=g.TERMINATING_WAIT if waits else
                      g.TERMINATING, activity_id=activity_id, waits=waits)
        self.put(out)
        if waits:
            self.set_activity_status(out, g.ACTIVITY_MID_LIFECYCLE_ACTION)

    def capacity(self) -> int:
        return g.actual_capacity(self.instances.values())


def refuse_launches(group: g.Group, instances: Sequence[g.Instance],
                    activities: Mapping[str, g.Activity], observed: Mapping[str, str],
                    reason: str, now: datetime) -> g.GroupChanges | None:
    """The cloud refused the members it was told (``reason``, in its words): the launches
    it does not show yet fail (their activities with AWS's "... Launching EC2 instance
    failed." message, the instances gone) and launches back off, as after any failed
    launch.  None when no launch is under way (the refusal is then not theirs)."""
    plan = Planner(group, instances, activities, now)
    refused = [i for i in instances
               if i.lifecycle_state == g.PENDING and i.instance_id not in observed]
    if not refused:
        return None
    reason = reason.strip()
    message = f"{reason}{'' if reason.endswith('.') else '.'} Launching EC2 instance failed."
    for instance in refused:
        plan.end_activity(instance, g.ACTIVITY_FAILED, message)
        plan.remove(instance.instance_id)
    failures = group.launch_failures + 1
    ended = list(plan.changed_activities.values())
    return g.GroupChanges(
        group=replace(group, launch_failures=failures,
                      launch_retry_at=now + _retry_delay(failures)),
        removed_instances=tuple(plan.removed), activities=tuple(ended),
        notifications=group_notifications.events(group, ended))


def plan_step(group: g.Group, instances: Sequence[g.Instance],
              activities: Mapping[str, g.Activity], observed: Mapping[str, str],
              launch: LaunchSpec | None, configuration_times: Mapping[str, datetime],
              zones: Sequence[str], now: datetime, rng: random.Random,
              cause: str | None = None, kept: Mapping[str, str] | None = None) -> Step:
    """The next step of ``group``.  ``cause``: the clause of what changed its desired
    capacity (the group's ``pending_cause`` when None); ``activities``: its open
    activities by id; ``observed``: the driver's report; ``launch``: what new instances
    launch from (None when the group's launch configuration is gone: nothing launches);
    ``configuration_times``: when each launch configuration its instances use was
    created (termination policies); ``zones``: the zones the group launches into;
    ``kept``: the cloud ids of the detaching instances the driver keeps running once
    they leave."""
    plan = Planner(group, instances, activities, now)
    cause = cause or group.pending_cause
    kept = kept or {}
    before = membership(in_cloud(instances))
    detached = []
    failures, retry_at = group.launch_failures, group.launch_retry_at
    suspended = set(group.suspended_processes)

    # 1. What the cloud did.
    for instance in list(plan.instances.values()):
        report = observed.get(instance.instance_id)
        state = instance.lifecycle_state
        if state == g.PENDING and report == RUNNING:
            failures, retry_at = 0, None
            waits = hooks.start_waits(group.lifecycle_hooks, hooks.LAUNCHING, now)
            if waits:
                held = replace(instance, lifecycle_state=g.PENDING_WAIT, waits=waits)
                plan.put(held)
                plan.set_activity_status(held, g.ACTIVITY_MID_LIFECYCLE_ACTION)
            else:
                plan.end_activity(instance, g.ACTIVITY_SUCCESSFUL)
                plan.put(replace(instance, lifecycle_state=g.IN_SERVICE, activity_id=None))
        elif state == g.PENDING_WAIT and report != FAILED:
            result = hooks.outcome(instance.waits, now)
            if result == hooks.CONTINUE:
                plan.end_activity(instance, g.ACTIVITY_SUCCESSFUL)
                plan.put(replace(instance, lifecycle_state=g.IN_SERVICE, activity_id=None,
                                 waits=()))
            elif result == hooks.ABANDON:
                plan.end_activity(instance, g.ACTIVITY_FAILED,
                                  f"Instance {instance.instance_id} failed to complete its "
                                  "lifecycle action: the lifecycle action was abandoned.")
                plan.put(replace(instance, lifecycle_state=g.TERMINATING, activity_id=None,
                                 waits=()))
                failures += 1
                retry_at = now + _retry_delay(failures)
        elif state == g.TERMINATING_WAIT and (
                group.status == g.STATUS_DELETING or hooks.outcome(instance.waits, now)):
            going = replace(instance, lifecycle_state=g.TERMINATING, waits=())
            plan.put(going)
            plan.set_activity_status(going, g.ACTIVITY_IN_PROGRESS)
        elif state in _LAUNCHING and report == FAILED:
            plan.end_activity(instance, g.ACTIVITY_FAILED,
                              f"Instance {instance.instance_id} failed to launch.")
            plan.remove(instance.instance_id)
            failures += 1
            retry_at = now + _retry_delay(failures)
        elif state in _GOING and report is None:
            plan.end_activity(instance, g.ACTIVITY_SUCCESSFUL)
            plan.remove(instance.instance_id)
        elif state == g.DETACHING and instance.instance_id in kept:
            plan.end_activity(instance, g.ACTIVITY_SUCCESSFUL)
            plan.remove(instance.instance_id)
            detached.append(g.DetachedInstance(
                instance.instance_id, instance.availability_zone,
                instance.launch_configuration_name, instance.instance_type,
                instance.launched_at, kept[instance.instance_id], group.name))
        elif (state == g.IN_SERVICE and report in (None, FAILED)
              and instance.health_status == g.HEALTHY):
            plan.put(replace(instance, health_status=g.UNHEALTHY))

    deleting = group.status == g.STATUS_DELETING
    # 2. Unhealthy instances out of service.
    if REPLACE_UNHEALTHY_PROCESS not in suspended and not deleting:
        for instance in list(plan.instances.values()):
            if instance.lifecycle_state == g.IN_SERVICE and \
                    instance.health_status == g.UNHEALTHY:
                reason = (causes.instance_unhealthy(now)
                          if observed.get(instance.instance_id) in (None, FAILED)
                          else causes.instance_user_unhealthy(now))
                plan.take_out(instance, plan.start_activity(
                    instance.instance_id, instance.availability_zone,
                    causes.terminating(instance.instance_id), reason))

    # 3. Capacity against desired.
    current = plan.capacity()
    desired = 0 if deleting else group.desired_capacity
    if deleting:
        for instance in list(plan.instances.values()):
            if instance.lifecycle_state in TERMINABLE:
                activity = plan.start_activity(
                    instance.instance_id, instance.availability_zone,
                    causes.terminating(instance.instance_id),
                    causes.cause(cause or causes.group_deleting(now, current),
                                 causes.instance_selected(now, instance.instance_id)))
                plan.put(replace(instance, lifecycle_state=g.TERMINATING,
                                 activity_id=activity, waits=()))
    elif desired > current and launch is not None and zones and \
            LAUNCH_PROCESS not in suspended and (retry_at is None or now >= retry_at):
        clause = causes.instance_started(now, current, desired)
        text = causes.cause(cause, clause) if cause else clause
        per_zone = Counter({zone: 0 for zone in zones})
        per_zone.update(i.availability_zone for i in plan.instances.values()
                        if i.lifecycle_state in g.CAPACITY_STATES
                        and i.availability_zone in per_zone)
        for _ in range(desired - current):
            zone = min(zones, key=lambda z: per_zone[z])
            per_zone[zone] += 1
            instance_id = g.new_instance_id()
            activity = plan.start_activity(instance_id, zone, causes.launching(instance_id),
                                           text)
            plan.put(g.Instance(
                instance_id=instance_id, group_name=group.name, availability_zone=zone,
                lifecycle_state=g.PENDING, launch_configuration_name=launch.name,
                instance_type=launch.instance_type, launched_at=now,
                protected_from_scale_in=group.new_instances_protected_from_scale_in,
                activity_id=activity))
    elif desired < current and TERMINATE_PROCESS not in suspended:
        candidates = [termination.Member(
            i.instance_id, i.availability_zone, i.launched_at,
            configuration_times.get(i.launch_configuration_name or ""),
            i.protected_from_scale_in)
            for i in plan.instances.values() if i.lifecycle_state in g.CAPACITY_STATES]
        victims = termination.choose(candidates, current - desired,
                                     group.termination_policies, now, rng)
        if victims:
            shrink = causes.instance_taken_out(now, current, current - len(victims))
            for instance_id in victims:
                instance = plan.instances[instance_id]
                text = causes.cause(*(c for c in (cause, shrink) if c),
                                    causes.instance_selected(now, instance_id))
                # A launch still under way ends as cancelled.
                plan.end_activity(instance, g.ACTIVITY_CANCELLED)
                plan.take_out(instance, plan.start_activity(
                    instance_id, instance.availability_zone, causes.terminating(instance_id),
                    text))

    open_after = [a for a in plan.activities.values() if a.end_time is None]
    finished_at = group.scaling_finished_at
    if not open_after and any(a.end_time == now for a in plan.changed_activities.values()):
        finished_at = now
    new_group = replace(group, scaling_finished_at=finished_at, launch_failures=failures,
                        launch_retry_at=retry_at, pending_cause=None)
    members = in_cloud(list(plan.instances.values()))
    # Nothing under way and nothing to wait for: steps would change nothing until the
    # group or its instances do.
    settled = (not open_after and not deleting and retry_at is None
               and all(i.lifecycle_state in _STEADY for i in plan.instances.values()))
    ended = [a for a in plan.changed_activities.values() if a.end_time == now]
    changes = g.GroupChanges(
        group=new_group, put_instances=tuple(plan.changed_instances.values()),
        removed_instances=tuple(plan.removed),
        activities=tuple(plan.changed_activities.values()), settled=settled,
        notifications=group_notifications.events(group, ended), detached=tuple(detached))
    return Step(changes=changes, instances=tuple(plan.instances.values()), members=members,
                membership_changed=membership(members) != before)
