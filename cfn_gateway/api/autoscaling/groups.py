"""Create/Update/Delete/DescribeAutoScalingGroups and SetDesiredCapacity.

Each call writes what it changes, with the clause of its cause, and answers; the engine's
next pass (``engine.scaling``, about a second later) carries the instances on.  AWS's texts:

- "AutoScalingGroup by this name already exists - A group with the name NAME already
  exists" (AlreadyExists);
- "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId
  or MixedInstancesPolicy parameter." and "At least one Availability Zone or VPC Subnet
  is required." (ValidationError);
- "You cannot delete an AutoScalingGroup while there are instances or pending Spot
  instance request(s) still in the group." (ResourceInUse) and "You cannot delete an
  AutoScalingGroup while there are scaling activities in progress for that group."
  (ScalingActivityInProgress), unless ForceDelete;
- "Scaling activity ID is in progress and blocks this action" (ScalingActivityInProgress,
  HonorCooldown).

Deleting a group sets its sizes to 0 and its Status to "Delete in progress" until its
instances are terminated, as AWS does.  Groups launch from launch configurations only:
launch templates, mixed instances policies, instances to attach at creation, load
balancers and traffic sources are refused with a ValidationError saying so.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling import tracking_alarms
from cfn_gateway.api.autoscaling.group_support import (
    change_group,
    max_records,
)
from cfn_gateway.api.autoscaling.group_views import GROUP_RESOURCE_TYPE, group_to_aws
from cfn_gateway.api.autoscaling.lifecycle_hooks import hook_from_aws
from cfn_gateway.api.autoscaling.tags import filters_of
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.groups import GroupExists, GroupLimitExceeded
from cfn_gateway.common.clock import utcnow
from cfn_gateway.config import CONF
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import activity_causes as causes
from cfn_gateway.domain import capacity, cooldowns, tag_filters, termination
from cfn_gateway.domain.groups import (
    DEFAULT_COOLDOWN,
    DEFAULT_HEALTH_CHECK_TYPE,
    DEFAULT_TERMINATION_POLICIES,
    STATUS_DELETING,
    Group,
    GroupTag,
)
from cfn_gateway.domain.lifecycle_hooks import MAX_PER_GROUP as MAX_HOOKS_PER_GROUP
from cfn_gateway.domain.lifecycle_hooks import LifecycleHook

LOG = logging.getLogger(__name__)

DESCRIBE_PAGE = 50
HEALTH_CHECK_TYPES = ("EC2", "ELB")

#: Parameters of groups this gateway cannot express, and why.
_UNSUPPORTED = {
    "LaunchTemplate": "Launch templates are not supported by this gateway; use "
                      "LaunchConfigurationName.",
    "MixedInstancesPolicy": "Mixed instances policies are not supported by this gateway; "
                            "use LaunchConfigurationName.",
    "InstanceId": "Creating a group from an instance (InstanceId) is not supported by this "
                  "gateway; use LaunchConfigurationName.",
    "LoadBalancerNames": "Load balancers are not supported by this gateway.",
    "TargetGroupARNs": "Target groups are not supported by this gateway.",
    "TrafficSources": "Traffic sources are not supported by this gateway.",
    "PlacementGroup": "Placement groups are not supported by this gateway.",
    "AvailabilityZoneIds": "Availability Zone IDs are not supported by this gateway; use "
                           "AvailabilityZones.",
    "CapacityRebalance": "Capacity Rebalancing (Spot Instances) is not supported by this "
                         "gateway.",
}


def _refuse_unsupported(params: dict[str, Any]) -> None:
    for name, why in _UNSUPPORTED.items():
        value = params.get(name)
        if value not in (None, [], False, ""):
            raise errors.ValidationError(why)


def _check_launch_configuration(ctx: RequestContext, name: str) -> None:
    page = ctx.backends.launch_configurations.describe(ctx.project_id, [name], 1)
    if not page.items:
        raise errors.ValidationError(
            f"Launch configuration name not found - Launch configuration {name} not found")


def _check_sizes(desired: int, min_size: int, max_size: int) -> None:
    try:
        capacity.check_group_sizes(desired, min_size, max_size)
    except capacity.CapacityOutOfRange as exc:
        raise errors.ValidationError(str(exc)) from None


def _termination_policies(params: dict[str, Any]) -> tuple[str, ...] | None:
    policies = params.get("TerminationPolicies")
    if policies is None:
        return None
    for policy in policies:
        if policy not in termination.POLICIES:
            raise errors.ValidationError(f"Termination policy {policy} is not supported.")
    return tuple(policies) or DEFAULT_TERMINATION_POLICIES


def _health_check_type(params: dict[str, Any]) -> str | None:
    value = params.get("HealthCheckType")
    if value is not None and value not in HEALTH_CHECK_TYPES:
        raise errors.ValidationError(
            f"Health check type {value} is not supported by this gateway (EC2 or ELB).")
    return value


def _tags(group_name: str, items: list[dict[str, Any]]) -> tuple[GroupTag, ...]:
    tags: dict[str, GroupTag] = {}
    for item in items:
        resource_id = item.get("ResourceId")
        if resource_id not in (None, group_name):
            raise errors.ValidationError(
                f"Tag resource id {resource_id} does not name the group {group_name}.")
        if item.get("ResourceType") not in (None, GROUP_RESOURCE_TYPE):
            raise errors.ValidationError(
                f"Tag resource type must be {GROUP_RESOURCE_TYPE}.")
        key = item["Key"]
        tags[key] = GroupTag(key, item.get("Value") or "",
                             bool(item.get("PropagateAtLaunch", False)))
    return tuple(tags.values())


def _hooks(items: list[dict[str, Any]]) -> tuple[LifecycleHook, ...]:
    hooks = {item["LifecycleHookName"]: hook_from_aws(item) for item in items}
    if len(hooks) > MAX_HOOKS_PER_GROUP:
        raise errors.LimitExceeded(
            f"A group can have at most {MAX_HOOKS_PER_GROUP} lifecycle hooks.")
    return tuple(hooks.values())


def group_arn(project_id: str, name: str) -> str:
    return (f"arn:aws:autoscaling:{CONF.autoscaling.region}:{project_id}:autoScalingGroup:"
            f"{uuid.uuid4()}:autoScalingGroupName/{name}")


@action(AUTOSCALING, "CreateAutoScalingGroup")
def create_auto_scaling_group(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["AutoScalingGroupName"]
    _refuse_unsupported(params)
    configuration = params.get("LaunchConfigurationName")
    if not configuration:
        raise errors.ValidationError(
            "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, "
            "InstanceId or MixedInstancesPolicy parameter.")
    if params.get("DeletionProtection") not in (None, "none"):
        raise errors.ValidationError("Deletion protection is not supported by this gateway.")
    zones = tuple(params.get("AvailabilityZones") or ())
    subnets = params.get("VPCZoneIdentifier") or None
    if not zones and not subnets:
        raise errors.ValidationError("At least one Availability Zone or VPC Subnet is "
                                     "required.")
    min_size, max_size = params["MinSize"], params["MaxSize"]
    desired = params.get("DesiredCapacity", min_size)
    _check_sizes(desired, min_size, max_size)
    _check_launch_configuration(ctx, configuration)
    now = utcnow()
    group = Group(
        name=name, arn=group_arn(ctx.project_id, name),
        launch_configuration_name=configuration, min_size=min_size, max_size=max_size,
        desired_capacity=desired, created_at=now,
        default_cooldown=params.get("DefaultCooldown", DEFAULT_COOLDOWN),
        availability_zones=tuple(dict.fromkeys(zones)), vpc_zone_identifier=subnets,
        health_check_type=_health_check_type(params) or DEFAULT_HEALTH_CHECK_TYPE,
        health_check_grace_period=params.get("HealthCheckGracePeriod", 0),
        termination_policies=_termination_policies(params) or DEFAULT_TERMINATION_POLICIES,
        new_instances_protected_from_scale_in=bool(
            params.get("NewInstancesProtectedFromScaleIn", False)),
        tags=_tags(name, params.get("Tags") or []),
        lifecycle_hooks=_hooks(params.get("LifecycleHookSpecificationList") or []),
        max_instance_lifetime=params.get("MaxInstanceLifetime"),
        default_instance_warmup=params.get("DefaultInstanceWarmup"),
        pending_cause=causes.group_created(now, desired) if desired else None)
    try:
        ctx.backends.groups.create(ctx.project_id, group, CONF.autoscaling.max_groups)
    except GroupExists:
        raise errors.AlreadyExists(
            f"AutoScalingGroup by this name already exists - A group with the name {name} "
            "already exists") from None
    except GroupLimitExceeded:
        raise errors.LimitExceeded(
            "You have reached the limit on the number of Auto Scaling groups "
            f"({CONF.autoscaling.max_groups}) for this account.") from None


def _updated(group: Group, params: dict[str, Any]) -> Group:
    """The group as UpdateAutoScalingGroup's parameters change it (sizes checked)."""
    try:
        min_size, max_size, desired = capacity.resize(
            group.min_size, group.max_size, group.desired_capacity, params.get("MinSize"),
            params.get("MaxSize"), params.get("DesiredCapacity"))
    except capacity.CapacityOutOfRange as exc:
        raise errors.ValidationError(str(exc)) from None
    zones = params.get("AvailabilityZones")
    policies = _termination_policies(params)
    return replace(
        group, min_size=min_size, max_size=max_size, desired_capacity=desired,
        launch_configuration_name=params.get("LaunchConfigurationName")
        or group.launch_configuration_name,
        default_cooldown=params.get("DefaultCooldown", group.default_cooldown),
        availability_zones=tuple(dict.fromkeys(zones)) if zones else group.availability_zones,
        vpc_zone_identifier=params.get("VPCZoneIdentifier") or group.vpc_zone_identifier,
        health_check_type=_health_check_type(params) or group.health_check_type,
        health_check_grace_period=params.get("HealthCheckGracePeriod",
                                             group.health_check_grace_period),
        termination_policies=policies or group.termination_policies,
        new_instances_protected_from_scale_in=params.get(
            "NewInstancesProtectedFromScaleIn", group.new_instances_protected_from_scale_in),
        max_instance_lifetime=params.get("MaxInstanceLifetime", group.max_instance_lifetime),
        default_instance_warmup=params.get("DefaultInstanceWarmup",
                                           group.default_instance_warmup))


def _refuse_while_deleting(group: Group) -> None:
    if group.status == STATUS_DELETING:
        raise errors.ScalingActivityInProgress(
            f"AutoScalingGroup {group.name} is being deleted.")


@action(AUTOSCALING, "UpdateAutoScalingGroup")
def update_auto_scaling_group(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["AutoScalingGroupName"]
    _refuse_unsupported(params)
    if params.get("DeletionProtection") not in (None, "none"):
        raise errors.ValidationError("Deletion protection is not supported by this gateway.")
    if params.get("LaunchConfigurationName"):
        _check_launch_configuration(ctx, params["LaunchConfigurationName"])

    def update(group: Group) -> Group:
        _refuse_while_deleting(group)
        return _updated(group, params)

    def cause(old: Group, new: Group) -> str | None:
        if new.desired_capacity == old.desired_capacity:
            return None
        return causes.constraints_updated(utcnow(), new.min_size, new.max_size,
                                          new.desired_capacity, old.desired_capacity)

    change_group(ctx, name, update, cause)


@action(AUTOSCALING, "DeleteAutoScalingGroup")
def delete_auto_scaling_group(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["AutoScalingGroupName"]
    force = bool(params.get("ForceDelete", False))
    groups = ctx.backends.groups

    def delete(group: Group) -> Group | None:
        if group.status == STATUS_DELETING:
            return None
        if not force:
            if groups.instances(ctx.project_id, name):
                raise errors.ResourceInUse(
                    "You cannot delete an AutoScalingGroup while there are instances or "
                    "pending Spot instance request(s) still in the group.")
            if groups.open_activities(ctx.project_id, name):
                raise errors.ScalingActivityInProgress(
                    "You cannot delete an AutoScalingGroup while there are scaling "
                    "activities in progress for that group.")
        return replace(group, status=STATUS_DELETING, min_size=0, max_size=0,
                       desired_capacity=0)

    old, new = change_group(
        ctx, name, delete, lambda old, new: causes.group_deleting(
            utcnow(), old.desired_capacity) if old.desired_capacity else None)
    if old is not new:
        # The alarms its target tracking policies own go with it (the policies go with
        # the group's row).
        for policy in _policies_of(ctx, name):
            tracking_alarms.delete_alarms_of(ctx, policy)


def _policies_of(ctx: RequestContext, name: str) -> list[Any]:
    policies: list[Any] = []
    token = None
    while True:
        page = ctx.backends.groups.describe_policies(ctx.project_id, name, [], [], 100, token)
        policies.extend(page.items)
        token = page.next_token
        if not token:
            return policies


@action(AUTOSCALING, "DescribeAutoScalingGroups")
def describe_auto_scaling_groups(ctx: RequestContext,
                                 params: dict[str, Any]) -> dict[str, Any]:
    filters = filters_of(params)
    try:
        tag_filters.check_group_filters(filters)
    except tag_filters.InvalidFilter as exc:
        raise errors.ValidationError(str(exc)) from None
    names = list(params.get("AutoScalingGroupNames") or ())
    limit = max_records(params, DESCRIBE_PAGE)
    token = params.get("NextToken") or None
    try:
        if filters:
            page = ctx.backends.groups.describe_matching(ctx.project_id, names, filters,
                                                         limit, token)
        else:
            page = ctx.backends.groups.describe(ctx.project_id, names, limit, token)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The token provided is not valid.") from None
    include_instances = params.get("IncludeInstances", True)
    default_zone = CONF.autoscaling.default_availability_zone
    result: dict[str, Any] = {"AutoScalingGroups": [
        group_to_aws(stored.group,
                     ctx.backends.groups.instances(ctx.project_id, stored.group.name)
                     if include_instances else None,
                     stored.group.availability_zones or (default_zone,))
        for stored in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


def refuse_during_activity_or_cooldown(ctx: RequestContext, group: Group,
                                       cooldown_seconds: int | None) -> None:
    """HonorCooldown: an activity in progress or a cooldown refuses the call."""
    blocking = cooldowns.blocking_activity(
        ctx.backends.groups.open_activities(ctx.project_id, group.name))
    if blocking is not None:
        raise errors.ScalingActivityInProgress(
            f"Scaling activity {blocking.activity_id} is in progress and blocks this action")
    if cooldowns.in_cooldown(group, cooldown_seconds, utcnow()):
        raise errors.ScalingActivityInProgress(
            f"The cooldown period of AutoScalingGroup {group.name} is in effect and "
            "blocks this action")


@action(AUTOSCALING, "SetDesiredCapacity")
def set_desired_capacity(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["AutoScalingGroupName"]
    desired = params["DesiredCapacity"]

    def set_desired(group: Group) -> Group:
        _refuse_while_deleting(group)
        try:
            capacity.check_set_desired(desired, group.min_size, group.max_size)
        except capacity.CapacityOutOfRange as exc:
            raise errors.ValidationError(str(exc)) from None
        if params.get("HonorCooldown", False):
            refuse_during_activity_or_cooldown(ctx, group, None)
        return replace(group, desired_capacity=desired)

    change_group(ctx, name, set_desired, lambda old, new: causes.desired_capacity_set(
        utcnow(), old.desired_capacity, desired) if desired != old.desired_capacity else None)
