"""Put/Delete/DescribeLifecycleHooks, CompleteLifecycleAction, RecordLifecycleActionHeartbeat.

Hooks are part of their group's definition (at most 50); the waits they cause are the
planner's (``domain.lifecycle_hooks``, ``domain.scaling_plan``).  A lifecycle action is
named by its token or by the instance's id, as AWS allows.  Notification targets (SNS
topics, SQS queues) are refused: this cloud has neither, so callers complete actions by
instance id (DescribeAutoScalingInstances shows ``Pending:Wait`` / ``Terminating:Wait``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling.group_support import (
    change_group,
    change_instances,
    existing_group,
)
from cfn_gateway.api.registry import action
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import groups as g
from cfn_gateway.domain import lifecycle_hooks as h


def _no_target(item: dict[str, Any]) -> None:
    if item.get("NotificationTargetARN"):
        raise errors.ValidationError(
            "Lifecycle notification targets are not supported by this gateway; complete "
            "lifecycle actions by instance id.")


def hook_from_aws(item: dict[str, Any], old: h.LifecycleHook | None = None) -> h.LifecycleHook:
    """A hook from PutLifecycleHook's (or a LifecycleHookSpecification's) parameters; what
    they leave out keeps ``old``'s value."""
    _no_target(item)
    transition = item.get("LifecycleTransition") or (old.transition if old else None)
    if transition is None:
        raise errors.ValidationError("LifecycleTransition is required for a new lifecycle "
                                     "hook.")
    base = old or h.LifecycleHook(item["LifecycleHookName"], transition)
    hook = replace(
        base, transition=transition,
        heartbeat_timeout=item.get("HeartbeatTimeout", base.heartbeat_timeout),
        default_result=item.get("DefaultResult", base.default_result),
        notification_metadata=item.get("NotificationMetadata", base.notification_metadata),
        role_arn=item.get("RoleARN", base.role_arn))
    try:
        h.validate(hook)
    except h.InvalidHook as exc:
        raise errors.ValidationError(str(exc)) from None
    return hook


def hook_to_aws(group_name: str, hook: h.LifecycleHook) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LifecycleHookName": hook.name, "AutoScalingGroupName": group_name,
        "LifecycleTransition": hook.transition, "HeartbeatTimeout": hook.heartbeat_timeout,
        "GlobalTimeout": hook.global_timeout, "DefaultResult": hook.default_result}
    if hook.notification_metadata is not None:
        out["NotificationMetadata"] = hook.notification_metadata
    if hook.role_arn is not None:
        out["RoleARN"] = hook.role_arn
    return out


@action(AUTOSCALING, "PutLifecycleHook")
def put_lifecycle_hook(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["LifecycleHookName"]

    def put(group: g.Group) -> g.Group:
        old = next((x for x in group.lifecycle_hooks if x.name == name), None)
        hook = hook_from_aws(params, old)
        others = tuple(x for x in group.lifecycle_hooks if x.name != name)
        if old is None and len(others) >= h.MAX_PER_GROUP:
            raise errors.LimitExceeded(
                f"A group can have at most {h.MAX_PER_GROUP} lifecycle hooks.")
        return replace(group, lifecycle_hooks=(*others, hook))

    change_group(ctx, params["AutoScalingGroupName"], put)
    return {}


@action(AUTOSCALING, "DeleteLifecycleHook")
def delete_lifecycle_hook(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["LifecycleHookName"]

    def delete(group: g.Group) -> g.Group:
        kept = tuple(x for x in group.lifecycle_hooks if x.name != name)
        if len(kept) == len(group.lifecycle_hooks):
            raise errors.ValidationError(f"No Lifecycle Hook found with name {name} for "
                                         f"AutoScalingGroup {group.name}.")
        return replace(group, lifecycle_hooks=kept)

    change_group(ctx, params["AutoScalingGroupName"], delete)
    return {}


@action(AUTOSCALING, "DescribeLifecycleHooks")
def describe_lifecycle_hooks(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group = existing_group(ctx, params["AutoScalingGroupName"]).group
    names = set(params.get("LifecycleHookNames") or ())
    return {"LifecycleHooks": [hook_to_aws(group.name, x) for x in group.lifecycle_hooks
                               if not names or x.name in names]}


Settle = Callable[[h.LifecycleWait, g.Group, datetime], h.LifecycleWait]


def _on_wait(ctx: RequestContext, params: dict[str, Any], settle: Settle) -> None:
    """Change the open lifecycle action the call names (by token or instance id) with
    ``settle(wait, group, now)``, then step the group."""
    group_name = params["AutoScalingGroupName"]
    hook_name = params["LifecycleHookName"]
    token, instance_id = params.get("LifecycleActionToken"), params.get("InstanceId")
    if not token and not instance_id:
        raise errors.ValidationError("Either LifecycleActionToken or InstanceId must be "
                                     "specified.")

    def change(group: g.Group, instances: list[g.Instance], now: datetime) -> g.GroupChanges:
        for instance in instances:
            if instance_id and instance.instance_id != instance_id:
                continue
            for index, wait in enumerate(instance.waits):
                if wait.hook_name != hook_name or (token and wait.token != token) or \
                        wait.result is not None or now >= wait.deadline:
                    continue
                waits = list(instance.waits)
                waits[index] = settle(wait, group, now)
                return g.GroupChanges(group=group,
                                      put_instances=(replace(instance, waits=tuple(waits)),))
        what = f"token {token}" if token else f"instance ID {instance_id}"
        raise errors.ValidationError(f"No active Lifecycle Action found with {what}")

    change_instances(ctx, group_name, change)


@action(AUTOSCALING, "CompleteLifecycleAction")
def complete_lifecycle_action(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    result = params["LifecycleActionResult"]
    if result not in h.RESULTS:
        raise errors.ValidationError(f"Invalid lifecycle action result: {result}")
    _on_wait(ctx, params, lambda wait, group, now: replace(wait, result=result))
    return {}


@action(AUTOSCALING, "RecordLifecycleActionHeartbeat")
def record_lifecycle_action_heartbeat(ctx: RequestContext,
                                      params: dict[str, Any]) -> dict[str, Any]:
    _on_wait(ctx, params,
             lambda wait, group, now: h.heartbeat(wait, group.lifecycle_hooks, now))
    return {}
