"""Scaling policies: their definition, AWS's validation of it, and what running one asks.

Facts from the Amazon EC2 Auto Scaling API reference (PutScalingPolicy, ExecutePolicy) and
user guide ("Step and simple scaling policies"):

- ``SimpleScaling`` (the default type) takes ``ScalingAdjustment`` and an optional
  ``Cooldown``; ``StepScaling`` takes ``StepAdjustments`` (bounds relative to the breach
  threshold, ``domain.capacity.check_steps``), ``MetricAggregationType`` (Average,
  Minimum or Maximum; Average by default) and ``EstimatedInstanceWarmup``, and no
  ``Cooldown`` or ``ScalingAdjustment``.  Both need ``AdjustmentType``.
  ``MinAdjustmentMagnitude`` goes with ``PercentChangeInCapacity`` only.
- Running a step policy needs the metric value and the breach threshold: ExecutePolicy
  takes them as ``MetricValue`` and ``BreachThreshold``; an alarm gives its own.  The
  step whose interval holds ``value - threshold`` gives the adjustment; none holding it
  means no change.
- ``TargetTrackingScaling`` keeps a metric at ``TargetValue``: the policy owns two
  alarms on the metric (``tracking_alarms``), named and shaped as AWS makes them:
  ``TargetTracking-GROUP-AlarmHigh-UUID`` (Average over 60 s, 3 of 3 periods above the
  target) and, unless ``DisableScaleIn``, ``TargetTracking-GROUP-AlarmLow-UUID`` (15 of 15
  periods below 90 % of the target); both run the policy.  A run sets the capacity in
  proportion, ``ceil(capacity x value / target)`` (at least 1 when scaling out from 0),
  only up when the value is above the target and only down when below it.  Predefined
  metrics: ``ASGAverageCPUUtilization`` (AWS/EC2 CPUUtilization),
  ``ASGAverageNetworkIn`` / ``Out`` (AWS/EC2 NetworkIn / NetworkOut), with dimension
  AutoScalingGroupName; ``ALBRequestCountPerTarget`` is refused (no load balancers here),
  and so are metric math customized metrics.
- ``PredictiveScaling`` policies are refused.

``validate`` raises ``InvalidPolicy`` with the reason; ``desired_after`` gives the capacity
a run asks for (clamped to the group's bounds).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from cfn_gateway.domain import capacity
from cfn_gateway.domain.capacity import StepAdjustment

SIMPLE_SCALING = "SimpleScaling"
STEP_SCALING = "StepScaling"
TARGET_TRACKING_SCALING = "TargetTrackingScaling"
PREDICTIVE_SCALING = "PredictiveScaling"
POLICY_TYPES = (SIMPLE_SCALING, STEP_SCALING, TARGET_TRACKING_SCALING, PREDICTIVE_SCALING)
AGGREGATION_TYPES = ("Average", "Minimum", "Maximum")
FORMAT_VERSION = 1


class InvalidPolicy(ValueError):
    """A policy definition AWS would refuse (the message says why)."""


class CannotRun(ValueError):
    """A run of a policy AWS would refuse (the message says why)."""


#: Predefined metric type -> (namespace, metric name).
PREDEFINED_METRICS = {
    "ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization"),
    "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn"),
    "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut"),
}
LOW_ALARM_FRACTION = 0.9


@dataclass(frozen=True)
class TrackedMetric:
    """The metric a target tracking policy keeps at its target."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str = "Average"
    unit: str | None = None
    #: The predefined type it came from, if any (DescribePolicies shows it back).
    predefined_type: str | None = None


@dataclass(frozen=True)
class TargetTracking:
    metric: TrackedMetric
    target_value: float
    disable_scale_in: bool = False
    #: Names of the alarms the policy owns (high first).
    alarm_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlarmShape:
    """One alarm a target tracking policy makes: what PutMetricAlarm would be given."""

    name: str
    comparison: str
    threshold: float
    evaluation_periods: int


def tracking_alarms(tracking: TargetTracking) -> list[AlarmShape]:
    high, *low = tracking.alarm_names
    shapes = [AlarmShape(high, "GreaterThanThreshold", tracking.target_value, 3)]
    if low and not tracking.disable_scale_in:
        shapes.append(AlarmShape(low[0], "LessThanThreshold",
                                 tracking.target_value * LOW_ALARM_FRACTION, 15))
    return shapes


def tracking_capacity(current: int, value: float, target: float) -> int:
    """The capacity that brings ``value`` to ``target`` (moving only toward it)."""
    if target <= 0:
        return current
    proportional = math.ceil(current * value / target - 1e-9)
    if value > target:
        return max(proportional, current + 1 if current == 0 else current)
    if value < target:
        return min(proportional, current)
    return current


@dataclass(frozen=True)
class ScalingPolicy:
    name: str
    arn: str
    group_name: str
    policy_type: str
    adjustment_type: str | None = None
    scaling_adjustment: int | None = None
    min_adjustment_magnitude: int | None = None
    cooldown: int | None = None
    metric_aggregation_type: str | None = None
    step_adjustments: tuple[StepAdjustment, ...] = ()
    estimated_instance_warmup: int | None = None
    enabled: bool = True
    target_tracking: TargetTracking | None = None


def validate(policy: ScalingPolicy) -> None:
    kind = policy.policy_type
    if kind == TARGET_TRACKING_SCALING:
        _validate_tracking(policy)
        return
    if kind not in (SIMPLE_SCALING, STEP_SCALING):
        raise InvalidPolicy(f"Policy type {kind} is not supported by this gateway.")
    if policy.adjustment_type is None:
        raise InvalidPolicy(f"AdjustmentType is required for policy type {kind}.")
    if policy.adjustment_type not in capacity.ADJUSTMENT_TYPES:
        raise InvalidPolicy(f"Invalid adjustment type {policy.adjustment_type}.")
    if policy.min_adjustment_magnitude is not None:
        if policy.adjustment_type != capacity.PERCENT_CHANGE_IN_CAPACITY:
            raise InvalidPolicy("MinAdjustmentMagnitude is only supported with adjustment "
                                "type PercentChangeInCapacity.")
        if policy.min_adjustment_magnitude < 1:
            raise InvalidPolicy("MinAdjustmentMagnitude must be at least 1.")
    if kind == SIMPLE_SCALING:
        if policy.scaling_adjustment is None:
            raise InvalidPolicy("ScalingAdjustment is required for policy type SimpleScaling.")
        for name, value in (("StepAdjustments", policy.step_adjustments),
                            ("MetricAggregationType", policy.metric_aggregation_type),
                            ("EstimatedInstanceWarmup", policy.estimated_instance_warmup)):
            if value:
                raise InvalidPolicy(f"{name} is not supported for policy type SimpleScaling.")
    else:
        for name, value in (("ScalingAdjustment", policy.scaling_adjustment),
                            ("Cooldown", policy.cooldown)):
            if value is not None:
                raise InvalidPolicy(f"{name} is not supported for policy type StepScaling.")
        if policy.metric_aggregation_type not in (None, *AGGREGATION_TYPES):
            raise InvalidPolicy(
                f"Invalid metric aggregation type {policy.metric_aggregation_type}.")
        try:
            capacity.check_steps(policy.step_adjustments)
        except capacity.InvalidSteps as exc:
            raise InvalidPolicy(str(exc)) from None
    if policy.adjustment_type == capacity.EXACT_CAPACITY:
        adjustments = [policy.scaling_adjustment] if kind == SIMPLE_SCALING else [
            s.adjustment for s in policy.step_adjustments]
        if any(a is not None and a < 0 for a in adjustments):
            raise InvalidPolicy("The scaling adjustment of an ExactCapacity policy cannot be "
                                "negative.")


def _validate_tracking(policy: ScalingPolicy) -> None:
    if policy.target_tracking is None:
        raise InvalidPolicy("TargetTrackingConfiguration is required for policy type "
                            "TargetTrackingScaling.")
    for name, value in (("AdjustmentType", policy.adjustment_type),
                        ("ScalingAdjustment", policy.scaling_adjustment),
                        ("MinAdjustmentMagnitude", policy.min_adjustment_magnitude),
                        ("Cooldown", policy.cooldown),
                        ("MetricAggregationType", policy.metric_aggregation_type),
                        ("StepAdjustments", policy.step_adjustments or None)):
        if value is not None:
            raise InvalidPolicy(f"{name} is not supported for policy type "
                                "TargetTrackingScaling.")
    if policy.target_tracking.target_value <= 0:
        raise InvalidPolicy("TargetValue must be greater than 0.")


def desired_after(policy: ScalingPolicy, desired: int, min_size: int, max_size: int,
                  metric_value: float | None = None,
                  breach_threshold: float | None = None) -> int | None:
    """The desired capacity a run of ``policy`` asks for from ``desired``; None when a
    step policy has no step for the breach (nothing to do)."""
    if policy.target_tracking is not None:
        tracking = policy.target_tracking
        if metric_value is None:
            raise CannotRun("A target tracking policy runs from its alarms' data points.")
        new = tracking_capacity(desired, metric_value, tracking.target_value)
        if new < desired and tracking.disable_scale_in:
            return None
        return capacity.clamp(new, min_size, max_size)
    assert policy.adjustment_type is not None
    if policy.policy_type == STEP_SCALING:
        if metric_value is None or breach_threshold is None:
            raise CannotRun("Both MetricValue and BreachThreshold are required for a step "
                            "scaling policy.")
        step = capacity.choose_step(policy.step_adjustments, metric_value - breach_threshold)
        if step is None:
            return None
        adjustment = step.adjustment
    else:
        assert policy.scaling_adjustment is not None
        adjustment = policy.scaling_adjustment
    return capacity.new_capacity(desired, policy.adjustment_type, adjustment, min_size,
                                 max_size, policy.min_adjustment_magnitude)


def to_json(policy: ScalingPolicy) -> str:
    data: dict[str, Any] = asdict(policy)
    data["v"] = FORMAT_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def from_json(text: str) -> ScalingPolicy:
    try:
        data = json.loads(text)
        if data.pop("v") != FORMAT_VERSION:
            raise ValueError("unknown policy format")
        data["step_adjustments"] = tuple(StepAdjustment(**s)
                                         for s in data["step_adjustments"])
        tracking = data.get("target_tracking")
        if tracking is not None:
            metric = tracking["metric"]
            metric["dimensions"] = tuple((n, v) for n, v in metric["dimensions"])
            tracking["metric"] = TrackedMetric(**metric)
            tracking["alarm_names"] = tuple(tracking["alarm_names"])
            data["target_tracking"] = TargetTracking(**tracking)
        return ScalingPolicy(**data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed policy: {exc!r}") from exc
