"""PutScalingPolicy, DescribePolicies, DeletePolicy and ExecutePolicy.

Simple, step and target tracking scaling policies (``domain.policies``); a policy runs
through ``engine.policies.PolicyRunner``, the same code an alarm action runs.  A target
tracking policy's alarms are made, changed and deleted with it
(``api.autoscaling.tracking_alarms``).  Predictive scaling policies are refused with a
ValidationError saying so.  A policy's ARN
is ``arn:aws:autoscaling:REGION:PROJECT:scalingPolicy:UUID:autoScalingGroupName/GROUP:
policyName/NAME``; putting a policy of an existing name replaces its definition and keeps
its ARN, as AWS does.  ExecutePolicy and DeletePolicy of an unknown policy answer a
ValidationError.
"""

from __future__ import annotations

import uuid
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling import tracking_alarms
from cfn_gateway.api.autoscaling.group_support import (
    contention,
    existing_group,
    group_not_found,
    max_records,
    scaler,
)
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.groups import GroupGone, PolicyLimitExceeded, StaleGroup
from cfn_gateway.common.clock import utcnow
from cfn_gateway.config import CONF
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import policies as p
from cfn_gateway.domain.capacity import StepAdjustment
from cfn_gateway.engine.policies import Blocked, PolicyRunner

DESCRIBE_PAGE = 50
MAX_POLICIES_PER_GROUP = 50
NO_POLICY = "No policy found for the given parameters."


def policy_arn(project_id: str, group_name: str, name: str) -> str:
    return (f"arn:aws:autoscaling:{CONF.autoscaling.region}:{project_id}:scalingPolicy:"
            f"{uuid.uuid4()}:autoScalingGroupName/{group_name}:policyName/{name}")


def _steps(items: list[dict[str, Any]]) -> tuple[StepAdjustment, ...]:
    return tuple(StepAdjustment(item.get("MetricIntervalLowerBound"),
                                item.get("MetricIntervalUpperBound"),
                                item["ScalingAdjustment"]) for item in items)


@action(AUTOSCALING, "PutScalingPolicy")
def put_scaling_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group_name = params["AutoScalingGroupName"]
    name = params["PolicyName"]
    kind = params.get("PolicyType") or p.SIMPLE_SCALING
    if kind == p.PREDICTIVE_SCALING:
        raise errors.ValidationError(f"Policy type {kind} is not supported by this gateway.")
    if kind not in p.POLICY_TYPES:
        raise errors.ValidationError(f"Invalid policy type {kind}.")
    existing_group(ctx, group_name)
    if params.get("MinAdjustmentStep") is not None and \
            params.get("MinAdjustmentMagnitude") is None:
        params["MinAdjustmentMagnitude"] = params["MinAdjustmentStep"]
    old = ctx.backends.groups.get_policy(ctx.project_id, group_name, name)
    policy = p.ScalingPolicy(
        name=name, arn=old.arn if old else policy_arn(ctx.project_id, group_name, name),
        group_name=group_name, policy_type=kind,
        adjustment_type=params.get("AdjustmentType"),
        scaling_adjustment=params.get("ScalingAdjustment"),
        min_adjustment_magnitude=params.get("MinAdjustmentMagnitude"),
        cooldown=params.get("Cooldown"),
        metric_aggregation_type=params.get("MetricAggregationType"),
        step_adjustments=_steps(params.get("StepAdjustments") or []),
        estimated_instance_warmup=params.get("EstimatedInstanceWarmup"),
        enabled=params.get("Enabled", True),
        target_tracking=_tracking(group_name, params.get("TargetTrackingConfiguration"), old))
    try:
        p.validate(policy)
    except p.InvalidPolicy as exc:
        raise errors.ValidationError(str(exc)) from None
    alarms = []
    if policy.target_tracking is not None:
        alarms = tracking_alarms.put_alarms(ctx, policy)
    if old is not None:  # alarms of the old definition it no longer needs
        tracking_alarms.delete_alarms_of(ctx, old, keep=tuple(a["AlarmName"] for a in alarms))
    try:
        ctx.backends.groups.put_policy(ctx.project_id, policy, MAX_POLICIES_PER_GROUP)
    except (GroupGone, PolicyLimitExceeded) as exc:
        tracking_alarms.delete_alarms_of(ctx, policy)
        if isinstance(exc, GroupGone):
            raise group_not_found(group_name) from None
        raise errors.LimitExceeded(
            f"A group can have at most {MAX_POLICIES_PER_GROUP} scaling policies.") from None
    return {"PolicyARN": policy.arn, "Alarms": alarms}


def _tracking(group_name: str, config: dict[str, Any] | None,
              old: p.ScalingPolicy | None) -> p.TargetTracking | None:
    """A TargetTrackingConfiguration as the policy keeps it (its alarm names kept from
    ``old`` when it had them)."""
    if config is None:
        return None
    predefined = config.get("PredefinedMetricSpecification")
    customized = config.get("CustomizedMetricSpecification")
    if bool(predefined) == bool(customized):
        raise errors.ValidationError("Exactly one of PredefinedMetricSpecification and "
                                     "CustomizedMetricSpecification must be specified.")
    if predefined:
        kind = predefined["PredefinedMetricType"]
        if kind not in p.PREDEFINED_METRICS:
            raise errors.ValidationError(
                f"Predefined metric type {kind} is not supported by this gateway (no load "
                "balancers or high-resolution EC2 metrics here); use "
                f"{', '.join(p.PREDEFINED_METRICS)} or a customized metric.")
        namespace, metric_name = p.PREDEFINED_METRICS[kind]
        metric = p.TrackedMetric(namespace, metric_name,
                                 (("AutoScalingGroupName", group_name),),
                                 predefined_type=kind)
    else:
        if customized.get("Metrics"):
            raise errors.ValidationError("Metric math in a customized metric "
                                         "specification is not supported by this gateway.")
        if customized.get("Period") not in (None, 60):
            raise errors.ValidationError("A customized metric's Period must be 60.")
        for field in ("MetricName", "Namespace", "Statistic"):
            if not customized.get(field):
                raise errors.ValidationError(
                    f"{field} is required in a customized metric specification.")
        metric = p.TrackedMetric(
            customized["Namespace"], customized["MetricName"],
            tuple((d["Name"], d["Value"]) for d in customized.get("Dimensions") or ()),
            customized["Statistic"], customized.get("Unit"))
    names = old.target_tracking.alarm_names if old and old.target_tracking else ()
    if not names:
        names = (f"TargetTracking-{group_name}-AlarmHigh-{uuid.uuid4()}",
                 f"TargetTracking-{group_name}-AlarmLow-{uuid.uuid4()}")
    return p.TargetTracking(metric, float(config["TargetValue"]),
                            bool(config.get("DisableScaleIn", False)), names)


def policy_to_aws(policy: p.ScalingPolicy) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AutoScalingGroupName": policy.group_name,
        "PolicyName": policy.name,
        "PolicyARN": policy.arn,
        "PolicyType": policy.policy_type,
        "AdjustmentType": policy.adjustment_type,
        "StepAdjustments": [
            {k: v for k, v in (("MetricIntervalLowerBound", s.lower),
                               ("MetricIntervalUpperBound", s.upper),
                               ("ScalingAdjustment", s.adjustment)) if v is not None}
            for s in policy.step_adjustments],
        "Alarms": [],
        "Enabled": policy.enabled,
    }
    tracking = policy.target_tracking
    if tracking is not None:
        metric = tracking.metric
        spec: dict[str, Any] = {"TargetValue": tracking.target_value,
                                "DisableScaleIn": tracking.disable_scale_in}
        if metric.predefined_type:
            spec["PredefinedMetricSpecification"] = {
                "PredefinedMetricType": metric.predefined_type}
        else:
            spec["CustomizedMetricSpecification"] = {k: v for k, v in {
                "MetricName": metric.metric_name, "Namespace": metric.namespace,
                "Dimensions": [{"Name": n, "Value": v} for n, v in metric.dimensions],
                "Statistic": metric.statistic, "Unit": metric.unit}.items() if v is not None}
        out["TargetTrackingConfiguration"] = spec
    optional = {
        "MinAdjustmentMagnitude": policy.min_adjustment_magnitude,
        "MinAdjustmentStep": policy.min_adjustment_magnitude,
        "ScalingAdjustment": policy.scaling_adjustment,
        "Cooldown": policy.cooldown,
        "MetricAggregationType": policy.metric_aggregation_type
        or ("Average" if policy.policy_type == p.STEP_SCALING else None),
        "EstimatedInstanceWarmup": policy.estimated_instance_warmup,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


@action(AUTOSCALING, "DescribePolicies")
def describe_policies(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group_name = params.get("AutoScalingGroupName")
    if group_name is not None:
        existing_group(ctx, group_name)
    try:
        page = ctx.backends.groups.describe_policies(
            ctx.project_id, group_name, list(params.get("PolicyNames") or ()),
            list(params.get("PolicyTypes") or ()), max_records(params, DESCRIBE_PAGE),
            params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The token provided is not valid.") from None
    shown = []
    for policy in page.items:
        view = policy_to_aws(policy)
        view["Alarms"] = tracking_alarms.alarms_to_aws(ctx, policy)
        shown.append(view)
    result: dict[str, Any] = {"ScalingPolicies": shown}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


def _policy(ctx: RequestContext, group_name: str | None, name: str) -> p.ScalingPolicy:
    if group_name is not None and not name.startswith("arn:"):
        existing_group(ctx, group_name)
    policy = ctx.backends.groups.get_policy(ctx.project_id, group_name, name)
    if policy is None:
        raise errors.ValidationError(NO_POLICY)
    return policy


@action(AUTOSCALING, "DeletePolicy")
def delete_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    policy = _policy(ctx, params.get("AutoScalingGroupName"), params["PolicyName"])
    ctx.backends.groups.delete_policy(ctx.project_id, policy.group_name, policy.name)
    tracking_alarms.delete_alarms_of(ctx, policy)


@action(AUTOSCALING, "ExecutePolicy")
def execute_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    policy = _policy(ctx, params.get("AutoScalingGroupName"), params["PolicyName"])
    honor = params.get("HonorCooldown", False)
    if policy.policy_type == p.SIMPLE_SCALING and (
            params.get("MetricValue") is not None or params.get("BreachThreshold") is not None):
        raise errors.ValidationError("MetricValue and BreachThreshold are only supported for "
                                     "step scaling policies.")
    try:
        PolicyRunner(scaler(ctx), utcnow).execute(
            ctx.project_id, policy, honor, params.get("MetricValue"),
            params.get("BreachThreshold"))
    except Blocked as exc:
        raise errors.ScalingActivityInProgress(str(exc)) from None
    except p.CannotRun as exc:
        raise errors.ValidationError(str(exc)) from None
    except GroupGone:
        raise group_not_found(policy.group_name) from None
    except StaleGroup:
        raise contention() from None
