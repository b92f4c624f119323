"""Statistics from pre-aggregated Gnocchi buckets equal statistics from the raw data.

``gnocchi_like`` aggregates raw points per granularity the way Gnocchi does (bucket =
timestamp rounded down to the granularity, sum / min / max of the measures inside);
``direct`` computes what the SQLite store computes from the raw rows.  For windows and
periods the API lets through, both must agree.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cfn_gateway.backends.openstack import gnocchi_reads as reads
from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.domain import periods
from cfn_gateway.domain.metrics import StatisticSet
from cfn_gateway.domain.statistics import merge_all

NOW = datetime(2025, 3, 1, 12, 0, 17, 250000, tzinfo=UTC)
EPOCH_NOW = int((NOW - periods.EPOCH).total_seconds())


def gnocchi_like(points: list[tuple[int, StatisticSet]], resolution: int):
    """Buckets per granularity; each point is stamped inside its slot, as the driver does."""
    rng = random.Random(7)
    buckets: dict[int, dict[int, dict[str, float]]] = defaultdict(dict)
    for at, stats in points:
        stamp = at + rng.random() * resolution * 0.999
        for granularity in schema.granularities(resolution):
            slot = int(stamp // granularity * granularity)
            held = buckets[granularity].get(slot)
            if held is None:
                buckets[granularity][slot] = {"sum": stats.sum, "count": stats.sample_count,
                                              "min": stats.minimum, "max": stats.maximum}
            else:
                held["sum"] += stats.sum
                held["count"] += stats.sample_count
                held["min"] = min(held["min"], stats.minimum)
                held["max"] = max(held["max"], stats.maximum)
    return buckets


def direct(points, start: datetime, end: datetime, period: int):
    start_s, end_s = (start - periods.EPOCH).total_seconds(), (end - periods.EPOCH).total_seconds()
    per: dict[int, list[StatisticSet]] = defaultdict(list)
    for at, stats in points:
        if start_s <= at < end_s:
            per[int((at - start_s) // period)].append(stats)
    return {k: merge_all(v) for k, v in per.items()}


def via_plan(points, start, end, period, resolution, now=NOW):
    runs = reads.plan(start, end, period, resolution, now)
    windows = reads.fetch_windows(runs)
    fetched = {g: {t: v for t, v in buckets.items() if windows[g][0] <= t < windows[g][1]}
               for g, buckets in gnocchi_like(points, resolution).items() if g in windows}
    return {k: merge_all(v) for k, v in reads.period_sets(fetched, runs, start, period).items()}


def integral(stats: StatisticSet) -> StatisticSet:
    return stats  # values below are small integers: sums are exact in any order


def sample_points(rng: random.Random, resolution: int, first: int, last: int, count: int):
    slots = (last - first) // resolution
    return [(first + rng.randrange(slots) * resolution,
             StatisticSet(float(rng.randint(1, 3)), float(rng.randint(-50, 50)),
                          float(rng.randint(-9, 0)), float(rng.randint(0, 9))))
            for _ in range(count)]


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 10**6), resolution=st.sampled_from(schema.RESOLUTIONS),
       age=st.integers(0, 14 * 86400), span=st.integers(1, 86400),
       period=st.sampled_from([1, 5, 10, 20, 30, 60, 120, 300, 900, 3600, 7200, 86400]))
def test_statistics_from_buckets_equal_statistics_from_raw_data(
        seed, resolution, age, span, period):
    raw_start = NOW - timedelta(seconds=age)
    assume(periods.period_serves_start(period, raw_start, NOW))
    start = periods.align_start(raw_start, period, NOW)
    end = raw_start + timedelta(seconds=span, microseconds=seed % 1000 * 997)
    assume(periods.requested_datapoints(start, end, period) <= periods.MAX_DATAPOINTS)
    # High-resolution data older than 3 h is kept per minute only (see the module docs):
    # exact as long as the window does not end inside such a minute, one that began more
    # than 3 h ago (its end may be younger).
    last_minute = max(start, periods.floor_to(end, 60))
    if resolution == 1 and NOW - last_minute > periods.HIGH_RESOLUTION_RETENTION:
        end = periods.floor_to(end, 60)
        assume(end > start)
    rng = random.Random(seed)
    first = int((start - periods.EPOCH).total_seconds()) - 600
    points = sample_points(rng, resolution, first - first % resolution,
                           int((end - periods.EPOCH).total_seconds()) + 600, 200)
    assert via_plan(points, start, end, period, resolution) == direct(points, start, end, period)


def test_window_edges_inclusive_start_exclusive_end():
    start = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    t0 = int((start - periods.EPOCH).total_seconds())
    one = StatisticSet(1.0, 1.0, 1.0, 1.0)
    points = [(t0 - 60, one), (t0, one), (t0 + 3540, one), (t0 + 3600, one)]
    end = start + timedelta(hours=1)
    result = via_plan(points, start, end, 3600, 60)
    assert result == {0: StatisticSet(2.0, 2.0, 1.0, 1.0)}
    # an end inside a minute still counts that minute's standard-resolution data
    assert via_plan(points, start, end + timedelta(seconds=1), 3600, 60)[1].sample_count == 1


def test_coarsest_buckets_first_then_finer_towards_the_end():
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    runs = reads.plan(start, start + timedelta(hours=2, minutes=3, seconds=4), 3600, 1, NOW)
    assert [(r.granularity, r.end - r.first) for r in runs] == [(3600, 7200), (60, 180), (1, 4)]


def test_period_boundaries_not_on_coarse_buckets_use_finer_ones():
    start = datetime(2025, 3, 1, 9, 1, tzinfo=UTC)  # hourly periods starting at :01
    runs = reads.plan(start, start + timedelta(hours=1), 3600, 60, NOW)
    assert [r.granularity for r in runs] == [60, 300, 60]
    assert runs[0].first == int((start - periods.EPOCH).total_seconds())
    assert runs[-1].end == runs[0].first + 3600


def test_old_data_uses_only_what_is_kept():
    start = NOW - timedelta(days=20)
    start = periods.align_start(start, 300, NOW)
    runs = reads.plan(start, start + timedelta(hours=1), 300, 60, NOW)
    assert {r.granularity for r in runs} == {300}
    older = periods.align_start(NOW - timedelta(days=100), 3600, NOW)
    assert {r.granularity for r in reads.plan(older, older + timedelta(hours=5), 3600, 60,
                                              NOW)} == {3600}
    ancient = NOW - timedelta(days=500)
    assert reads.plan(ancient, ancient + timedelta(hours=5), 3600, 60, NOW) == []


def test_high_resolution_beyond_three_hours_counts_the_last_minute_whole():
    start = periods.align_start(NOW - timedelta(hours=5), 60, NOW)
    runs = reads.plan(start, start + timedelta(minutes=2, seconds=30), 60, 1, NOW)
    assert [(r.granularity, r.end - r.first) for r in runs] == [(60, 180)]


@pytest.mark.parametrize("lacking", ["sum", "count", "min", "max"])
def test_buckets_missing_a_statistic_are_left_out(lacking):
    start = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    t0 = int((start - periods.EPOCH).total_seconds())
    runs = [reads.Run(60, t0, t0 + 120)]
    full = {"sum": 2.0, "count": 1.0, "min": 2.0, "max": 2.0}
    partial = {k: v for k, v in full.items() if k != lacking}
    sets = reads.period_sets({60: {t0: full, t0 + 60: partial}}, runs, start, 60)
    assert sets == {0: [StatisticSet(1.0, 2.0, 2.0, 2.0)]}


def test_buckets_outside_the_runs_are_ignored():
    start = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)
    t0 = int((start - periods.EPOCH).total_seconds())
    full = {"sum": 2.0, "count": 1.0, "min": 2.0, "max": 2.0}
    runs = [reads.Run(300, t0, t0 + 600)]
    fetched = {300: {t0 - 300: full, t0: full, t0 + 300: full, t0 + 600: full},
               60: {t0: full}}
    assert len(reads.period_sets(fetched, runs, start, 600)[0]) == 2
