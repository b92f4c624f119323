"""Auto Scaling capacity math against the user guide's examples, tables and properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain.capacity import (
    CHANGE_IN_CAPACITY,
    EXACT_CAPACITY,
    PERCENT_CHANGE_IN_CAPACITY,
    CapacityOutOfRange,
    InvalidSteps,
    StepAdjustment,
    check_group_sizes,
    check_set_desired,
    check_steps,
    choose_step,
    new_capacity,
    percent_change,
)


@pytest.mark.parametrize(("current", "percent", "change"), [
    (10, 127, 12),      # 12.7 -> 12: above 1, rounded down
    (100, 12.7, 12),
    (3, 22.33, 1),      # 0.67 -> 1
    (10, -5.8, -1),     # -0.58 -> -1
    (100, -6.67, -6),   # -6.67 -> -6: below -1, rounded up
    (10, 50, 5),        # whole numbers stay
    (0, 50, 0),         # nothing to take a percentage of
    (4, 25, 1),
    (10, -100, -10),
])
def test_percent_rounding(current, percent, change):
    assert percent_change(current, percent) == change


@pytest.mark.parametrize(("current", "kind", "adjustment", "bounds", "magnitude", "desired"), [
    (4, CHANGE_IN_CAPACITY, 2, (1, 10), None, 6),
    (4, CHANGE_IN_CAPACITY, -10, (1, 10), None, 1),        # clamped to MinSize
    (4, CHANGE_IN_CAPACITY, 20, (1, 10), None, 10),        # clamped to MaxSize
    (4, EXACT_CAPACITY, 7, (1, 10), None, 7),
    (4, EXACT_CAPACITY, 0, (2, 10), None, 2),
    (4, PERCENT_CHANGE_IN_CAPACITY, 25, (1, 10), 2, 6),    # the guide: 25 % of 4, min 2
    (4, PERCENT_CHANGE_IN_CAPACITY, 25, (1, 10), None, 5),
    (10, PERCENT_CHANGE_IN_CAPACITY, -15, (1, 20), 3, 7),  # -1.5 -> -1, raised to -3
    (10, PERCENT_CHANGE_IN_CAPACITY, 50, (1, 20), 3, 15),  # already above the minimum
    (0, PERCENT_CHANGE_IN_CAPACITY, 50, (0, 20), 2, 0),    # no change: nothing to raise
])
def test_new_capacity(current, kind, adjustment, bounds, magnitude, desired):
    assert new_capacity(current, kind, adjustment, *bounds, magnitude) == desired


def test_unknown_adjustment_type():
    with pytest.raises(ValueError):
        new_capacity(1, "Doubling", 2, 0, 10)


@given(current=st.integers(0, 1000), percent=st.integers(-100, 1000),
       low=st.integers(0, 50), span=st.integers(0, 100),
       magnitude=st.none() | st.integers(1, 20))
def test_results_stay_within_bounds_and_move_the_right_way(current, percent, low, span,
                                                          magnitude):
    high = low + span
    desired = new_capacity(current, PERCENT_CHANGE_IN_CAPACITY, percent, low, high,
                           magnitude)
    assert low <= desired <= high
    change = percent_change(current, percent)
    assert abs(change) <= abs(current * percent / 100) + 1
    if percent > 0 and current > 0:
        assert change >= 1
    if percent < 0 and current > 0:
        assert change <= -1


# --- step adjustments: the user guide's example -------------------------------------------

# Threshold 50: 50-60 +1 (0..10), 60-70 +2 (10..20), 70+ +3; and scale-in below 40.
SCALE_OUT = [StepAdjustment(0, 10, 1), StepAdjustment(10, 20, 2), StepAdjustment(20, None, 3)]
SCALE_IN = [StepAdjustment(None, -10, -2), StepAdjustment(-10, 0, -1)]


@pytest.mark.parametrize(("breach", "adjustment"), [
    (0, 1), (9.99, 1), (10, 2), (19.5, 2), (20, 3), (1000, 3),
])
def test_choose_step_above_the_threshold(breach, adjustment):
    step = choose_step(SCALE_OUT, breach)
    assert step is not None and step.adjustment == adjustment


@pytest.mark.parametrize(("breach", "adjustment"), [
    (-0.5, -1), (-9.99, -1), (-10, -2), (-500, -2),   # below: the upper bound is inclusive
])
def test_choose_step_below_the_threshold(breach, adjustment):
    step = choose_step(SCALE_IN, breach)
    assert step is not None and step.adjustment == adjustment


def test_no_step_covers_a_breach_outside_the_steps():
    assert choose_step(SCALE_OUT, -1) is None


def test_valid_steps_pass():
    check_steps(SCALE_OUT)
    check_steps(SCALE_IN)
    check_steps([StepAdjustment(0, None, 1)])


@pytest.mark.parametrize(("steps", "why"), [
    ([], "At least one"),
    ([StepAdjustment(None, None, 1)], "cannot both be null"),
    ([StepAdjustment(5, 5, 1), StepAdjustment(5, None, 1)], "less than its upper"),
    ([StepAdjustment(None, 0, -1), StepAdjustment(None, -5, -2)], "one step adjustment can "
     "have a null lower"),
    ([StepAdjustment(0, None, 1), StepAdjustment(10, None, 2)], "one step adjustment can "
     "have a null upper"),
    ([StepAdjustment(-10, 0, -1)], "negative lower bound"),
    ([StepAdjustment(0, 10, 1)], "positive upper bound"),
    ([StepAdjustment(0, 15, 1), StepAdjustment(10, None, 2)], "overlap"),
    ([StepAdjustment(0, 10, 1), StepAdjustment(12, None, 2)], "gaps"),
])
def test_invalid_steps(steps, why):
    with pytest.raises(InvalidSteps, match=why):
        check_steps(steps)


@given(cuts=st.lists(st.integers(-50, 50), min_size=1, max_size=6, unique=True),
       breach=st.floats(-100, 100, allow_nan=False))
def test_contiguous_steps_are_valid_and_cover_every_breach(cuts, breach):
    cuts = sorted(cuts)
    bounds = [None, *cuts, None]
    steps = [StepAdjustment(lo, hi, i)
             for i, (lo, hi) in enumerate(itertools.pairwise(bounds))]
    check_steps(steps)
    step = choose_step(steps, breach)
    assert step is not None
    assert step.lower is None or step.lower <= breach
    assert step.upper is None or breach <= step.upper


def test_desired_capacity_out_of_bounds_messages():
    with pytest.raises(CapacityOutOfRange) as above:
        check_set_desired(2, 0, 1)
    assert str(above.value) == ("New SetDesiredCapacity value 2 is above max value 1 for the "
                                "AutoScalingGroup.")
    with pytest.raises(CapacityOutOfRange, match="value 0 is below min value 1 for"):
        check_set_desired(0, 1, 3)
    with pytest.raises(CapacityOutOfRange) as outside:
        check_group_sizes(7, 2, 5)
    assert str(outside.value) == ("Desired capacity:7 must be between the specified min "
                                  "size:2 and max size:5")
    with pytest.raises(CapacityOutOfRange) as crossed:
        check_group_sizes(4, 5, 3)
    assert str(crossed.value) == "Max bound, 3, must be greater than or equal to min bound, 5"
    check_set_desired(3, 1, 3)
    check_group_sizes(2, 2, 5)
