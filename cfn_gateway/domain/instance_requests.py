"""Requests on a group's instances: TerminateInstanceInAutoScalingGroup, EnterStandby,
ExitStandby, DetachInstances and AttachInstances, as the changes they write (the scaling
engine's next step carries them on).

Each returns the ``GroupChanges`` of the request (its activities among them) or raises
``RequestRefused`` with AWS's message.  A terminated instance goes out of service through
the group's terminating hooks like any other (``domain.scaling_plan.Planner.take_out``).
A detached instance is ``Detaching`` until the cloud has agreed to keep it running once it
leaves the group; an attached one is ``Pending`` (through the group's launching hooks)
until the cloud reports it running as a member.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from cfn_gateway.domain import activity_causes as causes
from cfn_gateway.domain import groups as g
from cfn_gateway.domain import scaling_plan


class RequestRefused(ValueError):
    """A request on a group's instances that AWS refuses (the message is AWS's)."""


def terminate_instance(group: g.Group, instances: Sequence[g.Instance], instance_id: str,
                       decrement: bool, now: datetime,
                       open_activities: Mapping[str, g.Activity] | None = None
                       ) -> g.GroupChanges:
    """TerminateInstanceInAutoScalingGroup: the instance goes out of service now, and the
    desired capacity drops by one when ``decrement`` (else a step launches a
    replacement).  ``open_activities``: the group's, by id (a launch under way ends as
    cancelled).  The new activity is the change's last one."""
    instance = next((i for i in instances if i.instance_id == instance_id), None)
    if instance is None or instance.lifecycle_state not in scaling_plan.TERMINABLE:
        raise RequestRefused(f"Instance Id not found - No managed instance found for "
                             f"instance ID: {instance_id}")
    desired = group.desired_capacity
    if decrement:
        if desired <= group.min_size:
            raise RequestRefused(
                f"Currently, desiredSize equals minSize ({group.min_size}). Terminating "
                "instance without replacement will violate group's min size constraint. "
                "Either set shouldDecrementDesiredCapacity flag to false or lower group's "
                "min size.")
        desired -= 1
    current = g.actual_capacity(instances)
    counted = instance.lifecycle_state in g.CAPACITY_STATES
    shrinking = (current, current - 1) if decrement and counted else None
    plan = scaling_plan.Planner(group, instances, open_activities or {}, now)
    # A launch still under way ends as cancelled.
    plan.end_activity(instance, g.ACTIVITY_CANCELLED)
    plan.take_out(instance, plan.start_activity(
        instance_id, instance.availability_zone, causes.terminating(instance_id),
        causes.instance_terminated_by_user(now, instance_id, shrinking)))
    return g.GroupChanges(
        group=replace(group, desired_capacity=desired),
        put_instances=tuple(plan.changed_instances.values()),
        activities=tuple(plan.changed_activities.values()))


def _activity(group: g.Group, zone: str, description: str, cause: str,
              now: datetime, status: str = g.ACTIVITY_SUCCESSFUL) -> g.Activity:
    ended = status != g.ACTIVITY_IN_PROGRESS
    return g.Activity(
        activity_id=str(uuid.uuid4()), group_name=group.name, description=description,
        cause=cause, start_time=now, status_code=status, progress=100 if ended else 0,
        end_time=now if ended else None,
        details=json.dumps({"Availability Zone": zone}, separators=(",", ":")))


def _named(instances: Sequence[g.Instance], instance_ids: Sequence[str], group: g.Group,
           *states: str) -> list[g.Instance]:
    by_id = {i.instance_id: i for i in instances}
    chosen = []
    for instance_id in dict.fromkeys(instance_ids):
        instance = by_id.get(instance_id)
        if instance is None:
            raise RequestRefused(f"The instance {instance_id} is not part of Auto Scaling "
                                 f"group {group.name}.")
        if instance.lifecycle_state not in states:
            raise RequestRefused(f"The instance {instance_id} is not in "
                                 f"{' or '.join(states)}.")
        chosen.append(instance)
    return chosen


def _sizes_refusal(group: g.Group, what: str) -> RequestRefused:
    return RequestRefused(
        f"AutoScalingGroup {group.name} has min-size={group.min_size}, "
        f"max-size={group.max_size}, and desired-size={group.desired_capacity}. To {what}, "
        "please update the AutoScalingGroup sizes appropriately.")


def _instances(count: int) -> str:
    return f"{count} instance" if count == 1 else f"{count} instances"


def enter_standby(group: g.Group, instances: Sequence[g.Instance],
                  instance_ids: Sequence[str], decrement: bool,
                  now: datetime) -> g.GroupChanges:
    """EnterStandby: in-service instances leave the group's capacity but keep running
    (still members); the desired capacity drops by as many when ``decrement`` (else a
    step launches replacements)."""
    chosen = _named(instances, instance_ids, group, g.IN_SERVICE)
    desired = group.desired_capacity
    current = g.actual_capacity(instances)
    if decrement:
        desired -= len(chosen)
        if desired < group.min_size:
            raise _sizes_refusal(group, f"place into standby {len(chosen)} instances")
    put, activities = [], []
    for n, instance in enumerate(chosen):
        shrinking = (current - n, current - n - 1) if decrement else None
        activities.append(_activity(
            group, instance.availability_zone, causes.moving_to_standby(instance.instance_id),
            causes.instance_moved_to_standby(now, instance.instance_id, shrinking), now))
        put.append(replace(instance, lifecycle_state=g.STANDBY, activity_id=None))
    return g.GroupChanges(group=replace(group, desired_capacity=desired),
                          put_instances=tuple(put), activities=tuple(activities))


def exit_standby(group: g.Group, instances: Sequence[g.Instance],
                 instance_ids: Sequence[str], now: datetime) -> g.GroupChanges:
    """ExitStandby: instances in standby come back (Pending, then in service once the
    driver reports them running, through the group's launching hooks) and the desired
    capacity grows by as many."""
    chosen = _named(instances, instance_ids, group, g.STANDBY)
    desired = group.desired_capacity + len(chosen)
    if desired > group.max_size:
        raise _sizes_refusal(group, f"move {len(chosen)} instances out of standby")
    current = g.actual_capacity(instances)
    put, activities = [], []
    for n, instance in enumerate(chosen):
        activity = _activity(
            group, instance.availability_zone, causes.moving_out_of_standby(instance.instance_id),
            causes.instance_moved_out_of_standby(now, instance.instance_id, current + n,
                                                 current + n + 1), now,
            g.ACTIVITY_IN_PROGRESS)
        activities.append(activity)
        put.append(replace(instance, lifecycle_state=g.PENDING,
                           activity_id=activity.activity_id))
    return g.GroupChanges(group=replace(group, desired_capacity=desired),
                          put_instances=tuple(put), activities=tuple(activities))


def detach_instances(group: g.Group, instances: Sequence[g.Instance],
                     instance_ids: Sequence[str], decrement: bool,
                     now: datetime) -> g.GroupChanges:
    """DetachInstances: instances in service or in standby leave the group and keep
    running (``Detaching`` until the cloud agrees to keep them); the desired capacity drops
    by as many of them as were in service when ``decrement`` (else a step launches
    replacements)."""
    chosen = _named(instances, instance_ids, group, g.IN_SERVICE, g.STANDBY)
    serving = [i for i in chosen if i.lifecycle_state == g.IN_SERVICE]
    desired = group.desired_capacity
    if decrement:
        desired -= len(serving)
        if desired < group.min_size:
            raise _sizes_refusal(group, f"detach {_instances(len(chosen))}")
    current = g.actual_capacity(instances)
    put, activities = [], []
    for instance in chosen:
        shrinking = None
        if decrement and instance.lifecycle_state == g.IN_SERVICE:
            shrinking = (current, current - 1)
            current -= 1
        activity = _activity(
            group, instance.availability_zone, causes.detaching(instance.instance_id),
            causes.instance_detached(now, instance.instance_id, shrinking), now,
            g.ACTIVITY_IN_PROGRESS)
        activities.append(activity)
        put.append(replace(instance, lifecycle_state=g.DETACHING,
                           activity_id=activity.activity_id, waits=()))
    return g.GroupChanges(group=replace(group, desired_capacity=desired),
                          put_instances=tuple(put), activities=tuple(activities))


def attach_instances(group: g.Group, instances: Sequence[g.Instance],
                     detached: Sequence[g.DetachedInstance], zones: Sequence[str],
                     now: datetime) -> g.GroupChanges:
    """AttachInstances: instances running outside any group (``detached``) join the group
    in ``zones``, ``Pending`` until the cloud reports them running as its members; the
    desired capacity grows by as many.  The change claims them (``GroupChanges.attached``):
    it is written only while each is still detached."""
    desired = group.desired_capacity + len(detached)
    if desired > group.max_size:
        raise _sizes_refusal(group, f"attach {_instances(len(detached))}")
    for instance in detached:
        if instance.availability_zone not in zones:
            raise RequestRefused(
                f"The instance {instance.instance_id} is in Availability Zone "
                f"{instance.availability_zone}, which is not an Availability Zone of Auto "
                f"Scaling group {group.name}.")
    current = g.actual_capacity(instances)
    put, activities = [], []
    for n, instance in enumerate(detached):
        activity = _activity(
            group, instance.availability_zone, causes.attaching(instance.instance_id),
            causes.instance_attached(now, instance.instance_id, current + n,
                                     current + n + 1), now, g.ACTIVITY_IN_PROGRESS)
        activities.append(activity)
        put.append(g.Instance(
            instance_id=instance.instance_id, group_name=group.name,
            availability_zone=instance.availability_zone, lifecycle_state=g.PENDING,
            launch_configuration_name=instance.launch_configuration_name,
            instance_type=instance.instance_type, launched_at=instance.launched_at,
            protected_from_scale_in=group.new_instances_protected_from_scale_in,
            activity_id=activity.activity_id, cloud_id=instance.cloud_id))
    return g.GroupChanges(group=replace(group, desired_capacity=desired),
                          put_instances=tuple(put), activities=tuple(activities),
                          attached=tuple(i.instance_id for i in detached))
