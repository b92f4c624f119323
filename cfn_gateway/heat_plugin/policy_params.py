"""Scaling policy properties as PutScalingPolicy requests, and the capacity arithmetic
Heat's own scaling policies expect of a group they adjust: pure rules.

The property names are Heat's ``AWS::AutoScaling::ScalingPolicy`` ones plus AWS's step
scaling; numbers may arrive as CFN strings.  Nothing here imports Heat.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cfn_gateway.heat_plugin.alarm_params import PropertyError, to_float, to_int
from cfn_gateway.heat_plugin.scaling_params import COOLDOWN, put_str

# Properties (AWS::AutoScaling::ScalingPolicy's, plus AWS step scaling)
AUTO_SCALING_GROUP_NAME = "AutoScalingGroupName"
ADJUSTMENT_TYPE = "AdjustmentType"
SCALING_ADJUSTMENT = "ScalingAdjustment"
MIN_ADJUSTMENT_STEP = "MinAdjustmentStep"
MIN_ADJUSTMENT_MAGNITUDE = "MinAdjustmentMagnitude"
POLICY_TYPE = "PolicyType"
STEP_ADJUSTMENTS = "StepAdjustments"
METRIC_AGGREGATION_TYPE = "MetricAggregationType"
ESTIMATED_INSTANCE_WARMUP = "EstimatedInstanceWarmup"
STEP_LOWER, STEP_UPPER = "MetricIntervalLowerBound", "MetricIntervalUpperBound"

CHANGE_IN_CAPACITY = "ChangeInCapacity"
EXACT_CAPACITY = "ExactCapacity"
PERCENT_CHANGE_IN_CAPACITY = "PercentChangeInCapacity"
ADJUSTMENT_TYPES = (CHANGE_IN_CAPACITY, EXACT_CAPACITY, PERCENT_CHANGE_IN_CAPACITY)
#: Heat's native spellings (OS::Heat::ScalingPolicy) of the same three.
_HEAT_ADJUSTMENT_TYPES = {
    "change_in_capacity": CHANGE_IN_CAPACITY,
    "exact_capacity": EXACT_CAPACITY,
    "percent_change_in_capacity": PERCENT_CHANGE_IN_CAPACITY,
}
SIMPLE_SCALING, STEP_SCALING = "SimpleScaling", "StepScaling"
POLICY_TYPES = (SIMPLE_SCALING, STEP_SCALING)
METRIC_AGGREGATION_TYPES = ("Minimum", "Maximum", "Average")

def check_policy(props: Mapping[str, Any]) -> None:
    kind = props.get(POLICY_TYPE) or SIMPLE_SCALING
    adjustment_type = props.get(ADJUSTMENT_TYPE)
    step = _min_magnitude(props)
    if step is not None and adjustment_type != PERCENT_CHANGE_IN_CAPACITY:
        raise PropertyError(f"{MIN_ADJUSTMENT_STEP} (or {MIN_ADJUSTMENT_MAGNITUDE}) is only "
                            f"allowed when {ADJUSTMENT_TYPE} is {PERCENT_CHANGE_IN_CAPACITY}")
    if kind == SIMPLE_SCALING:
        if props.get(SCALING_ADJUSTMENT) in (None, ""):
            raise PropertyError(f"{SCALING_ADJUSTMENT} is required for {SIMPLE_SCALING}")
        if props.get(STEP_ADJUSTMENTS):
            raise PropertyError(f"{STEP_ADJUSTMENTS} is only allowed with {POLICY_TYPE} "
                                f"{STEP_SCALING}")
    else:
        if not props.get(STEP_ADJUSTMENTS):
            raise PropertyError(f"{STEP_ADJUSTMENTS} is required for {STEP_SCALING}")
        if props.get(SCALING_ADJUSTMENT) not in (None, "") or \
                props.get(COOLDOWN) not in (None, ""):
            raise PropertyError(f"{SCALING_ADJUSTMENT} and {COOLDOWN} are only allowed "
                                f"with {POLICY_TYPE} {SIMPLE_SCALING}")
    if not adjustment_type:
        raise PropertyError(f"{ADJUSTMENT_TYPE} is required")


def put_scaling_policy_params(props: Mapping[str, Any], name: str) -> dict[str, Any]:
    """PutScalingPolicy's parameters for the policy ``name``."""
    check_policy(props)
    params: dict[str, Any] = {
        "AutoScalingGroupName": str(props[AUTO_SCALING_GROUP_NAME]),
        "PolicyName": name,
        "AdjustmentType": str(props[ADJUSTMENT_TYPE]),
    }
    put_str(params, "PolicyType", props.get(POLICY_TYPE))
    if props.get(SCALING_ADJUSTMENT) not in (None, ""):
        params["ScalingAdjustment"] = to_int(props[SCALING_ADJUSTMENT], SCALING_ADJUSTMENT)
    if props.get(COOLDOWN) not in (None, ""):
        params["Cooldown"] = to_int(props[COOLDOWN], COOLDOWN)
    step = _min_magnitude(props)
    if step is not None:
        params["MinAdjustmentMagnitude"] = step
    put_str(params, "MetricAggregationType", props.get(METRIC_AGGREGATION_TYPE))
    if props.get(ESTIMATED_INSTANCE_WARMUP) not in (None, ""):
        params["EstimatedInstanceWarmup"] = to_int(props[ESTIMATED_INSTANCE_WARMUP],
                                                   ESTIMATED_INSTANCE_WARMUP)
    steps = []
    for i, item in enumerate(props.get(STEP_ADJUSTMENTS) or (), start=1):
        what = f"{STEP_ADJUSTMENTS} member {i}"
        if not isinstance(item, Mapping) or item.get(SCALING_ADJUSTMENT) in (None, ""):
            raise PropertyError(f"{what} needs a {SCALING_ADJUSTMENT}")
        out: dict[str, Any] = {"ScalingAdjustment": to_int(item[SCALING_ADJUSTMENT], what)}
        for key in (STEP_LOWER, STEP_UPPER):
            if item.get(key) not in (None, ""):
                out[key] = to_float(item[key], f"{what} {key}")
        steps.append(out)
    if steps:
        params["StepAdjustments"] = steps
    return params


def _min_magnitude(props: Mapping[str, Any]) -> int | None:
    step, magnitude = props.get(MIN_ADJUSTMENT_STEP), props.get(MIN_ADJUSTMENT_MAGNITUDE)
    step = None if step in (None, "") else to_int(step, MIN_ADJUSTMENT_STEP)
    magnitude = None if magnitude in (None, "") else to_int(magnitude,
                                                             MIN_ADJUSTMENT_MAGNITUDE)
    if step is not None and magnitude is not None and step != magnitude:
        raise PropertyError(f"{MIN_ADJUSTMENT_STEP} ({step}) and {MIN_ADJUSTMENT_MAGNITUDE} "
                            f"({magnitude}) differ: give one of them")
    return step if step is not None else magnitude


# --- capacity (what Heat's scaling policies ask of a group: group.adjust)

def adjustment_type_of(value: str | None) -> str:
    """The AWS name of an adjustment type given in AWS's or Heat's native spelling
    (default ChangeInCapacity, as Heat's)."""
    if value is None:
        return CHANGE_IN_CAPACITY
    if value in ADJUSTMENT_TYPES:
        return value
    try:
        return _HEAT_ADJUSTMENT_TYPES[value]
    except KeyError:
        raise PropertyError(f"unknown adjustment type {value!r}") from None


def new_capacity(current: int, adjustment: int, adjustment_type: str | None,
                 min_step: int | None, min_size: int, max_size: int) -> int:
    """The group size after one simple scaling adjustment, within [min_size, max_size].

    A percentage becomes whole instances: a change smaller than one instance counts as
    one (up or down), a larger one drops its fraction; ``min_step`` (percentages only)
    raises the magnitude of a smaller change to it.
    """
    kind = adjustment_type_of(adjustment_type)
    adjustment = to_int(adjustment, SCALING_ADJUSTMENT)
    if kind == EXACT_CAPACITY:
        target = adjustment
    elif kind == CHANGE_IN_CAPACITY:
        target = current + adjustment
    else:
        change = current * adjustment / 100.0
        whole = math.trunc(change)
        if whole == 0 and change != 0:
            whole = 1 if change > 0 else -1
        if min_step and abs(whole) < min_step and whole != 0:
            whole = min_step if whole > 0 else -min_step
        target = current + whole
    return max(min_size, min(max_size, target))
