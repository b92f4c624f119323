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
- ``TargetTrackingScaling`` and ``PredictiveScaling`` policies are not in this module yet.

``validate`` raises ``InvalidPolicy`` with the reason; ``desired_after`` gives the capacity
a run asks for (clamped to the group's bounds).
"""

from __future__ import annotations

import json
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


def validate(policy: ScalingPolicy) -> None:
    kind = policy.policy_type
    if kind not in (SIMPLE_SCALING, STEP_SCALING):
        raise InvalidPolicy(f"Policy type {kind} is not supported by this gateway yet.")
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


def desired_after(policy: ScalingPolicy, desired: int, min_size: int, max_size: int,
                  metric_value: float | None = None,
                  breach_threshold: float | None = None) -> int | None:
    """The desired capacity a run of ``policy`` asks for from ``desired``; None when a
    step policy has no step for the breach (nothing to do)."""
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
        return ScalingPolicy(**data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed policy: {exc!r}") from exc
