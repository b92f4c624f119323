"""Suspend/ResumeProcesses, Enable/DisableMetricsCollection and DescribeAccountLimits.

A suspended process (``api.autoscaling.catalogs.SCALING_PROCESSES``) stops what it names:
``Launch`` and ``Terminate`` hold capacity, ``ReplaceUnhealthy`` keeps unhealthy
instances, ``AlarmNotification`` skips alarm-run policies, ``ScheduledActions`` skips
scheduled actions (``domain.scaling_plan``, ``engine.policies``, ``engine.schedules``).
No process named means every one.  DescribeAutoScalingGroups shows each with AWS's
reason, "User suspended at TIME".  Resuming marks the group unsettled, so the engine does
what was held.  Enabled group metrics (all of ``GROUP_METRICS`` when none is named) are
published by the engine once a minute (``engine.group_metrics``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling.catalogs import (
    GROUP_METRICS,
    METRIC_GRANULARITIES,
    SCALING_PROCESSES,
)
from cfn_gateway.api.autoscaling.group_support import change_group
from cfn_gateway.api.registry import action
from cfn_gateway.common.clock import utcnow
from cfn_gateway.config import CONF
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain.groups import Group


def _named(params: dict[str, Any], key: str, known: tuple[str, ...],
           what: str) -> tuple[str, ...]:
    """The names ``params[key]`` gives (every one of ``known`` when none), each checked."""
    names = params.get(key)
    if not names:
        return known
    for name in names:
        if name not in known:
            raise errors.ValidationError(f"Invalid {what} name: {name}")
    return tuple(dict.fromkeys(names))


@action(AUTOSCALING, "SuspendProcesses")
def suspend_processes(ctx: RequestContext, params: dict[str, Any]) -> None:
    names = _named(params, "ScalingProcesses", SCALING_PROCESSES, "process")
    reason = "User suspended at " + utcnow().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def suspend(group: Group) -> Group | None:
        new = [n for n in names if n not in group.suspended_processes]
        if not new:
            return None
        return replace(group, suspended_processes=group.suspended_processes + tuple(new),
                       suspension_reasons=group.suspension_reasons + tuple(
                           (n, reason) for n in new))

    change_group(ctx, params["AutoScalingGroupName"], suspend)


@action(AUTOSCALING, "ResumeProcesses")
def resume_processes(ctx: RequestContext, params: dict[str, Any]) -> None:
    names = set(_named(params, "ScalingProcesses", SCALING_PROCESSES, "process"))

    def resume(group: Group) -> Group | None:
        if not names & set(group.suspended_processes):
            return None
        return replace(
            group,
            suspended_processes=tuple(n for n in group.suspended_processes if n not in names),
            suspension_reasons=tuple(r for r in group.suspension_reasons
                                     if r[0] not in names))

    change_group(ctx, params["AutoScalingGroupName"], resume)


@action(AUTOSCALING, "DescribeAccountLimits")
def describe_account_limits(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "MaxNumberOfAutoScalingGroups": CONF.autoscaling.max_groups,
        "MaxNumberOfLaunchConfigurations": CONF.autoscaling.max_launch_configurations,
        "NumberOfAutoScalingGroups": ctx.backends.groups.count(ctx.project_id),
        "NumberOfLaunchConfigurations":
            ctx.backends.launch_configurations.count(ctx.project_id),
    }


@action(AUTOSCALING, "EnableMetricsCollection")
def enable_metrics_collection(ctx: RequestContext, params: dict[str, Any]) -> None:
    if params["Granularity"] not in METRIC_GRANULARITIES:
        raise errors.ValidationError(
            f"Invalid granularity {params['Granularity']}: only 1Minute is supported.")
    names = _named(params, "Metrics", GROUP_METRICS, "metric")

    def enable(group: Group) -> Group | None:
        new = tuple(n for n in names if n not in group.enabled_metrics)
        return replace(group, enabled_metrics=group.enabled_metrics + new) if new else None

    change_group(ctx, params["AutoScalingGroupName"], enable)


@action(AUTOSCALING, "DisableMetricsCollection")
def disable_metrics_collection(ctx: RequestContext, params: dict[str, Any]) -> None:
    names = set(_named(params, "Metrics", GROUP_METRICS, "metric"))

    def disable(group: Group) -> Group | None:
        kept = tuple(n for n in group.enabled_metrics if n not in names)
        return None if kept == group.enabled_metrics else replace(group, enabled_metrics=kept)

    change_group(ctx, params["AutoScalingGroupName"], disable)
