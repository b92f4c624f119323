"""DescribeAutoScalingInstances, TerminateInstanceInAutoScalingGroup, SetInstanceHealth,
SetInstanceProtection, EnterStandby, ExitStandby, DetachInstances and AttachInstances.

Requests that change an instance go through the scaling engine (``GroupScaler.change``),
which writes the change as one compare-and-set and then steps the group: a terminated
instance without decrement, or one marked Unhealthy, is replaced by that step.  AWS's
texts: "Instance Id not found - No managed instance found for instance ID: ID"
(ValidationError), and for protection "The instance ID is not part of Auto Scaling group
NAME." (ValidationError).

The instances AttachInstances takes are those that run outside any group: the instances
detached from a group of the caller's (this cloud has no EC2 API to launch others, and a
Nova server's UUID is no EC2 instance id: the model allows 19 characters).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling.group_support import (
    InstanceChange,
    change_instances,
    existing_group,
    max_records,
    scaler,
)
from cfn_gateway.api.autoscaling.group_views import activity_to_aws, instance_to_aws
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.groups import InstanceNotDetached
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import groups as g
from cfn_gateway.domain import instance_requests

DESCRIBE_PAGE = 50
PROTECTION_BATCH = 50
#: At most this many instances per EnterStandby, ExitStandby, DetachInstances and
#: AttachInstances.
MOVE_BATCH = 20


def _not_found(instance_id: str) -> errors.ValidationError:
    return errors.ValidationError(
        f"Instance Id not found - No managed instance found for instance ID: {instance_id}")


def _instance(ctx: RequestContext, instance_id: str) -> g.Instance:
    instance = ctx.backends.groups.find_instance(ctx.project_id, instance_id)
    if instance is None:
        raise _not_found(instance_id)
    return instance


@action(AUTOSCALING, "DescribeAutoScalingInstances")
def describe_auto_scaling_instances(ctx: RequestContext,
                                    params: dict[str, Any]) -> dict[str, Any]:
    limit = max_records(params, DESCRIBE_PAGE)
    if limit > DESCRIBE_PAGE:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{limit}' at 'maxRecords' failed to satisfy "
            f"constraint: Member must have value less than or equal to {DESCRIBE_PAGE}")
    try:
        page = ctx.backends.groups.describe_instances(
            ctx.project_id, list(params.get("InstanceIds") or ()), limit,
            params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The token provided is not valid.") from None
    result: dict[str, Any] = {"AutoScalingInstances": [
        instance_to_aws(i, with_group=True) for i in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@action(AUTOSCALING, "TerminateInstanceInAutoScalingGroup")
def terminate_instance_in_auto_scaling_group(ctx: RequestContext,
                                             params: dict[str, Any]) -> dict[str, Any]:
    instance_id = params["InstanceId"]
    decrement = params["ShouldDecrementDesiredCapacity"]
    group_name = _instance(ctx, instance_id).group_name

    def terminate(group: g.Group, instances: list[g.Instance],
                  now: datetime) -> g.GroupChanges:
        opened = ctx.backends.groups.open_activities(ctx.project_id, group.name)
        return instance_requests.terminate_instance(
            group, instances, instance_id, decrement, now,
            {a.activity_id: a for a in opened})

    changes = change_instances(ctx, group_name, terminate, gone=_not_found(instance_id))
    # The termination's own activity (a launch under way was cancelled before it).
    return {"Activity": activity_to_aws(changes.activities[-1], changes.group.arn)}


@action(AUTOSCALING, "SetInstanceHealth")
def set_instance_health(ctx: RequestContext, params: dict[str, Any]) -> None:
    instance_id = params["InstanceId"]
    status = params["HealthStatus"]
    if status not in (g.HEALTHY, g.UNHEALTHY):
        raise errors.ValidationError(
            f"Health status {status} is not valid: it must be Healthy or Unhealthy.")
    group_name = _instance(ctx, instance_id).group_name

    def set_health(group: g.Group, instances: list[g.Instance],
                   now: datetime) -> g.GroupChanges:
        instance = next((i for i in instances if i.instance_id == instance_id), None)
        if instance is None:
            raise _not_found(instance_id)
        grace = params.get("ShouldRespectGracePeriod", True)
        in_grace = (now - instance.launched_at).total_seconds() < \
            group.health_check_grace_period
        if status == g.UNHEALTHY and grace and in_grace:
            return g.GroupChanges(group=group)
        return g.GroupChanges(group=group,
                              put_instances=(replace(instance, health_status=status),))

    change_instances(ctx, group_name, set_health, gone=_not_found(instance_id))


@action(AUTOSCALING, "SetInstanceProtection")
def set_instance_protection(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["AutoScalingGroupName"]
    wanted = list(dict.fromkeys(params["InstanceIds"]))
    protected = params["ProtectedFromScaleIn"]
    if len(wanted) > PROTECTION_BATCH:
        raise errors.LimitExceeded(
            f"You can protect at most {PROTECTION_BATCH} instances in one request.")
    existing_group(ctx, name)

    def protect(group: g.Group, instances: list[g.Instance],
                now: datetime) -> g.GroupChanges:
        by_id = {i.instance_id: i for i in instances}
        for instance_id in wanted:
            if instance_id not in by_id:
                raise errors.ValidationError(
                    f"The instance {instance_id} is not part of Auto Scaling group {name}.")
        return g.GroupChanges(group=group, put_instances=tuple(
            replace(by_id[i], protected_from_scale_in=protected) for i in wanted))

    change_instances(ctx, name, protect)
    return {}


def _instance_ids(params: dict[str, Any]) -> list[str]:
    """The request's InstanceIds (each once), at least one and at most ``MOVE_BATCH``."""
    instance_ids = list(dict.fromkeys(params.get("InstanceIds") or ()))
    if not instance_ids:
        raise errors.ValidationError("InstanceIds must name at least one instance.")
    if len(params["InstanceIds"]) > MOVE_BATCH:
        raise errors.ValidationError(
            f"You can move at most {MOVE_BATCH} instances in one request.")
    return instance_ids


def _move(ctx: RequestContext, params: dict[str, Any], move: InstanceChange) -> dict[str, Any]:
    changes = change_instances(ctx, params["AutoScalingGroupName"], move)
    return {"Activities": [activity_to_aws(a, changes.group.arn) for a in changes.activities]}


@action(AUTOSCALING, "EnterStandby")
def enter_standby(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ids, decrement = _instance_ids(params), params["ShouldDecrementDesiredCapacity"]
    return _move(ctx, params, lambda group, instances, now: instance_requests.enter_standby(
        group, instances, ids, decrement, now))


@action(AUTOSCALING, "ExitStandby")
def exit_standby(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ids = _instance_ids(params)
    return _move(ctx, params, lambda group, instances, now: instance_requests.exit_standby(
        group, instances, ids, now))


@action(AUTOSCALING, "DetachInstances")
def detach_instances(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    ids, decrement = _instance_ids(params), params["ShouldDecrementDesiredCapacity"]
    return _move(ctx, params, lambda group, instances, now: instance_requests.detach_instances(
        group, instances, ids, decrement, now))


def _not_attachable(ctx: RequestContext, instance_id: str) -> errors.ValidationError:
    member = ctx.backends.groups.find_instance(ctx.project_id, instance_id)
    if member is not None:
        return errors.ValidationError(f"The instance {instance_id} is already part of Auto "
                                      f"Scaling group {member.group_name}.")
    return errors.ValidationError(
        f"Invalid instance ID: {instance_id}. Only instances detached from an Auto Scaling "
        "group (DetachInstances) run outside a group here.")


@action(AUTOSCALING, "AttachInstances")
def attach_instances(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["AutoScalingGroupName"]
    ids = _instance_ids(params)
    existing_group(ctx, name)
    by_id = {d.instance_id: d for d in ctx.backends.groups.detached_instances(
        ctx.project_id, ids)}
    for instance_id in ids:
        if instance_id not in by_id:
            raise _not_attachable(ctx, instance_id)
    detached = [by_id[i] for i in ids]
    zones = scaler(ctx).zones
    try:
        change_instances(ctx, name, lambda group, instances, now:
                         instance_requests.attach_instances(group, instances, detached,
                                                            zones(group), now))
    except InstanceNotDetached as exc:
        raise _not_attachable(ctx, str(exc)) from None
