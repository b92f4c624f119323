"""What the Auto Scaling handlers share: finding a group, the scaler, AWS's page sizes.

AWS's texts: "AutoScalingGroup name not found - AutoScalingGroup NAME not found"
(ValidationError); MaxRecords outside 1..100 is a ValidationError in the model's words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.backends.groups import GroupGone, StaleGroup, StoredGroup
from cfn_gateway.common.clock import utcnow
from cfn_gateway.config import CONF
from cfn_gateway.context import RequestContext
from cfn_gateway.domain.groups import Group, GroupChanges, Instance
from cfn_gateway.domain.instance_requests import RequestRefused
from cfn_gateway.engine.scaling import GroupScaler, ScalingSettings

MAX_RECORDS_MAX = 100


def scaling_settings() -> ScalingSettings:
    return ScalingSettings(CONF.autoscaling.default_availability_zone)


def scaler(ctx: RequestContext) -> GroupScaler:
    return GroupScaler.of(ctx.backends, utcnow, scaling_settings())


def group_not_found(name: str) -> errors.ValidationError:
    return errors.ValidationError(
        f"AutoScalingGroup name not found - AutoScalingGroup {name} not found")


def existing_group(ctx: RequestContext, name: str) -> StoredGroup:
    """The caller's group ``name`` (one being deleted counts as gone)."""
    stored = ctx.backends.groups.get(ctx.project_id, name)
    if stored is None:
        raise group_not_found(name)
    return stored


def change_group(ctx: RequestContext, name: str, change: Callable[[Group], Group | None],
                 cause: Callable[[Group, Group], str | None] | None = None
                 ) -> tuple[Group, Group]:
    """``GroupScaler.revise`` of the caller's group ``name``, its failures as AWS errors;
    returns the group before and after.  ``change`` raises to refuse, or returns None to
    write nothing; ``cause`` words what changed the desired capacity."""
    try:
        return scaler(ctx).revise(ctx.project_id, name, change, cause)
    except GroupGone:
        raise group_not_found(name) from None
    except StaleGroup:
        raise contention() from None


InstanceChange = Callable[[Group, list[Instance], datetime], GroupChanges]


def change_instances(ctx: RequestContext, name: str, change: InstanceChange,
                     gone: errors.AWSError | None = None) -> GroupChanges:
    """``GroupScaler.change`` of the caller's group ``name``, its failures as AWS errors:
    a ``RequestRefused`` of the domain as a ValidationError, a group that is gone as
    ``gone`` (group not found unless given)."""
    def refusing(group: Group, instances: list[Instance], now: datetime) -> GroupChanges:
        try:
            return change(group, instances, now)
        except RequestRefused as exc:
            raise errors.ValidationError(str(exc)) from None

    try:
        return scaler(ctx).change(ctx.project_id, name, refusing)
    except GroupGone:
        raise (gone or group_not_found(name)) from None
    except StaleGroup:
        raise contention() from None


def contention() -> errors.ResourceContention:
    return errors.ResourceContention(
        "You already have a pending update to an Auto Scaling resource (for example, a "
        "group, instance, or load balancer).")


def max_records(params: dict[str, Any], default: int) -> int:
    value = params.get("MaxRecords")
    if value is None:
        return default
    if value > MAX_RECORDS_MAX:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at 'maxRecords' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_RECORDS_MAX}")
    if value < 1:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at 'maxRecords' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1")
    return value
