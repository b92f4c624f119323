"""Percentiles: AWS's availability rules and the nearest-rank value, against a plain
reference (every value listed as often as it was sent)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import percentiles as pct
from cfn_gateway.domain.alarm_inputs import extended_datapoints
from cfn_gateway.domain.metrics import BucketSamples, StatisticSet
from cfn_gateway.domain.statistics import repeated, single


def test_which_sets_hold_values():
    assert pct.values_of([single(3.0), repeated(1.0, 2.0), single(2.0)]) == [
        (1.0, 2.0), (2.0, 1.0), (3.0, 1.0)]
    # A statistic set of several different values, and a negative value: no percentiles.
    assert pct.values_of([single(1.0), StatisticSet(2.0, 3.0, 1.0, 2.0)]) is None
    assert pct.values_of([single(1.0), single(-0.5)]) is None
    assert pct.values_of([]) == [] and pct.percentile([], 50.0) is None


def test_nearest_rank():
    values = pct.values_of([single(float(v)) for v in (15, 20, 35, 40, 50)])
    assert [pct.percentile(values, p) for p in (0, 5, 30, 40, 50, 100)] == [
        15.0, 15.0, 20.0, 20.0, 35.0, 50.0]


def reference(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(round(percent * len(ordered) / 100.0, 9)))
    return ordered[rank - 1]


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 5)), min_size=1,
                max_size=40),
       st.floats(0, 100))
def test_matches_the_plain_reference(pairs, percent):
    sets = [repeated(float(value), float(count)) for value, count in pairs]
    listed = [float(value) for value, count in pairs for _ in range(count)]
    assert pct.percentile(pct.values_of(sets), percent) == reference(listed, percent)


def test_alarm_datapoints_rank_each_period():
    t0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    later = t0 + timedelta(minutes=1)
    buckets = [
        BucketSamples(t0, "Count", tuple(single(float(v)) for v in range(1, 11))),
        BucketSamples(t0, "Seconds", (repeated(100.0, 10.0),)),  # units of a period join
        BucketSamples(later, "Count", (StatisticSet(2.0, 3.0, 1.0, 2.0),)),  # no values
    ]
    (point,) = extended_datapoints(buckets, "p50")
    assert (point.timestamp, point.value, point.sample_count) == (t0, 10.0, 20.0)
