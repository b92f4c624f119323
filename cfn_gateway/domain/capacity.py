"""Auto Scaling capacity math: adjustment types, rounding, clamping and step adjustments.

Pure functions shared by every way a group's desired capacity changes (ExecutePolicy,
alarm actions, scheduled actions).  Facts are from the Amazon EC2 Auto Scaling user guide,
"Scaling adjustment types" and "Step scaling policies":

- ``ChangeInCapacity`` adds the adjustment to the current capacity; ``ExactCapacity`` sets
  it; ``PercentChangeInCapacity`` adds that percentage of the current capacity, rounded:
  a change above 1 is rounded down (12.7 -> 12), one between 0 and 1 becomes 1 (0.67 ->
  1), one between -1 and 0 becomes -1 (-0.58 -> -1), one below -1 is rounded up
  (-6.67 -> -6).  ``MinAdjustmentMagnitude`` (percent only) raises a smaller change to
  that many instances, in the same direction (25 % of 4 with a minimum of 2 adds 2).
- The result is clamped to the group's [MinSize, MaxSize].  A desired capacity asked for
  outright (SetDesiredCapacity, Create/UpdateAutoScalingGroup) outside those bounds is
  refused with AWS's ValidationError texts (``check_*``).
- Step adjustments give the change by how far the alarm's metric lies from the breach
  threshold (``value - threshold``).  Above the threshold a step's lower bound is
  inclusive and its upper bound exclusive; below it, the other way round.  A valid set of
  steps has no overlap and no gap; at most one step without a lower bound (minus
  infinity) and one without an upper bound (plus infinity), never both in one step; a
  negative lower bound needs a step without lower bound, a positive upper bound one
  without upper bound.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

CHANGE_IN_CAPACITY = "ChangeInCapacity"
EXACT_CAPACITY = "ExactCapacity"
PERCENT_CHANGE_IN_CAPACITY = "PercentChangeInCapacity"
ADJUSTMENT_TYPES = (CHANGE_IN_CAPACITY, EXACT_CAPACITY, PERCENT_CHANGE_IN_CAPACITY)


class InvalidSteps(ValueError):
    """Step adjustments AWS would refuse (the message says why)."""


class CapacityOutOfRange(ValueError):
    """A desired capacity outside the group's bounds (AWS's message)."""


@dataclass(frozen=True)
class StepAdjustment:
    """``lower`` / ``upper``: bounds relative to the breach threshold; None is infinite."""

    lower: float | None
    upper: float | None
    adjustment: int


def percent_change(current: int, percent: int | float) -> int:
    """The change ``percent`` % of ``current`` makes, rounded as AWS rounds it."""
    exact = Fraction(current) * Fraction(percent) / 100
    if exact == int(exact):
        return int(exact)
    if 0 < exact < 1:
        return 1
    if -1 < exact < 0:
        return -1
    return math.trunc(exact)  # down above 1, up below -1: toward zero


def clamp(desired: int, min_size: int, max_size: int) -> int:
    return max(min_size, min(max_size, desired))


def check_set_desired(desired: int, min_size: int, max_size: int) -> None:
    """SetDesiredCapacity's bounds check."""
    if desired > max_size:
        raise CapacityOutOfRange(f"New SetDesiredCapacity value {desired} is above max value "
                                 f"{max_size} for the AutoScalingGroup.")
    if desired < min_size:
        raise CapacityOutOfRange(f"New SetDesiredCapacity value {desired} is below min value "
                                 f"{min_size} for the AutoScalingGroup.")


def check_group_sizes(desired: int, min_size: int, max_size: int) -> None:
    """Create/UpdateAutoScalingGroup's bounds checks: the bounds, then the desired
    capacity within them."""
    if max_size < min_size:
        raise CapacityOutOfRange(f"Max bound, {max_size}, must be greater than or equal to "
                                 f"min bound, {min_size}")
    if not min_size <= desired <= max_size:
        raise CapacityOutOfRange(f"Desired capacity:{desired} must be between the specified "
                                 f"min size:{min_size} and max size:{max_size}")


def resize(min_size: int, max_size: int, desired: int, new_min: int | None,
           new_max: int | None, new_desired: int | None) -> tuple[int, int, int]:
    """A group's (min, max, desired) after a change of some of them, as
    UpdateAutoScalingGroup and scheduled actions apply it: a desired capacity left out
    moves inside the new bounds; the result is checked (``check_group_sizes``)."""
    min_size = min_size if new_min is None else new_min
    max_size = max_size if new_max is None else new_max
    if new_desired is None:
        new_desired = clamp(desired, min_size, max_size) if max_size >= min_size else desired
    check_group_sizes(new_desired, min_size, max_size)
    return min_size, max_size, new_desired


def new_capacity(current: int, adjustment_type: str, adjustment: int | float,
                 min_size: int, max_size: int,
                 min_adjustment_magnitude: int | None = None) -> int:
    """The desired capacity a policy of ``adjustment_type`` asks for, within the group's
    bounds."""
    if adjustment_type == EXACT_CAPACITY:
        desired = int(adjustment)
    elif adjustment_type == CHANGE_IN_CAPACITY:
        desired = current + int(adjustment)
    elif adjustment_type == PERCENT_CHANGE_IN_CAPACITY:
        change = percent_change(current, adjustment)
        if min_adjustment_magnitude and 0 < abs(change) < min_adjustment_magnitude:
            change = int(math.copysign(min_adjustment_magnitude, change))
        desired = current + change
    else:
        raise ValueError(f"unknown adjustment type {adjustment_type!r}")
    return clamp(desired, min_size, max_size)


def check_steps(steps: Sequence[StepAdjustment]) -> None:
    """Raise ``InvalidSteps`` unless ``steps`` are a valid set of step adjustments."""
    if not steps:
        raise InvalidSteps("At least one step adjustment is required.")
    for step in steps:
        if step.lower is None and step.upper is None:
            raise InvalidSteps("The upper and lower bound of a step adjustment cannot both "
                               "be null.")
        if step.lower is not None and step.upper is not None and step.lower >= step.upper:
            raise InvalidSteps("The lower bound of a step adjustment must be less than its "
                               "upper bound.")
    open_below = [s for s in steps if s.lower is None]
    open_above = [s for s in steps if s.upper is None]
    if len(open_below) > 1:
        raise InvalidSteps("Only one step adjustment can have a null lower bound.")
    if len(open_above) > 1:
        raise InvalidSteps("Only one step adjustment can have a null upper bound.")
    if not open_below and any(s.lower is not None and s.lower < 0 for s in steps):
        raise InvalidSteps("A step adjustment with a negative lower bound needs a step "
                           "adjustment with a null lower bound.")
    if not open_above and any(s.upper is not None and s.upper > 0 for s in steps):
        raise InvalidSteps("A step adjustment with a positive upper bound needs a step "
                           "adjustment with a null upper bound.")
    ordered = sorted(steps, key=lambda s: -math.inf if s.lower is None else s.lower)
    for below, above in itertools.pairwise(ordered):
        if below.upper is None or above.lower is None or below.upper > above.lower:
            raise InvalidSteps("The ranges of step adjustments cannot overlap.")
        if below.upper < above.lower:
            raise InvalidSteps("The ranges of step adjustments cannot have gaps.")


def choose_step(steps: Sequence[StepAdjustment], breach: float) -> StepAdjustment | None:
    """The step for a metric ``breach`` (value - threshold) away from the threshold, or
    None when no step covers it."""
    for step in steps:
        lower = -math.inf if step.lower is None else step.lower
        upper = math.inf if step.upper is None else step.upper
        inside = (lower <= breach < upper) if breach >= 0 else (lower < breach <= upper)
        if inside:
            return step
    return None
