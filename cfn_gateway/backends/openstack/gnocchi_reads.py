"""Which Gnocchi aggregates answer a GetMetricStatistics exactly, and how they add up.

The store's contract (``MetricStore.aggregate``): periods ``[start + k*period, ...)``
clipped to ``end`` (exclusive), ``start`` already aligned by ``domain.periods``.  Data of
storage resolution ``r`` lie on whole multiples of ``r`` seconds (the API truncates them),
so "before ``end``" means "before ``ceil(end, r)``".

A Gnocchi bucket of granularity ``g`` at ``t`` holds the data points ``t, t+r, ...,
t+g-r``.  It can be used as it is when all of those fall into one period and into the
window, and when ``g`` is still kept for data of that age (CloudWatch's retention:
``gnocchi_schema.TIERS``).  ``plan`` walks the window from its first data point and takes
at each step the coarsest such bucket (fewest points to fetch); ``g = r`` always fits, a
bucket that holds a single data point.  Only when ``r`` itself is no longer kept (high
resolution data older than 3 hours, served per minute as CloudWatch does) may a bucket
straddle the end of the window; it is then counted whole (``compatibility.md``).

``plan`` returns runs of equal granularity; the store fetches each granularity once over
its runs' span and ``period_sets`` keeps exactly the buckets of the runs.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.domain import periods
from cfn_gateway.domain.metrics import StatisticSet

_US = 1_000_000


@dataclass(frozen=True)
class Run:
    """Buckets of ``granularity`` seconds starting at ``first`` up to ``end`` (epoch s)."""

    granularity: int
    first: int
    end: int


def _us(moment: datetime) -> int:
    return (moment - periods.EPOCH) // timedelta(microseconds=1)


def _ceil(value_us: int, step_s: int) -> int:
    """``value_us`` rounded up to a whole multiple of ``step_s``, in seconds."""
    return -(-value_us // (step_s * _US)) * step_s


def plan(start: datetime, end: datetime, period: int, resolution: int,
         now: datetime) -> list[Run]:
    """The buckets that cover every data point of ``[start, end)`` exactly once."""
    start_us, now_us, period_us = _us(start), _us(now), period * _US
    first, stop = _ceil(start_us, resolution), _ceil(_us(end), resolution)
    coarsest_first = sorted(schema.granularities(resolution), reverse=True)
    oldest_kept = now_us - int(schema.retention(coarsest_first[0]).total_seconds()) * _US
    first = max(first, _ceil(oldest_kept, resolution))  # nothing is kept before that

    def same_period(a: int, b: int) -> bool:
        return (a * _US - start_us) // period_us == (b * _US - start_us) // period_us

    runs: list[Run] = []
    cursor = first
    while cursor < stop:
        age_us = now_us - cursor * _US
        kept = [g for g in coarsest_first
                if age_us <= int(schema.retention(g).total_seconds()) * _US]
        bucket = next(
            (g for g in kept
             if cursor % g == 0 and cursor + g <= stop
             and (g == resolution or same_period(cursor, cursor + g - resolution))),
            None)
        if bucket is not None:
            begin, granularity = cursor, bucket
        else:  # ``resolution`` is not kept that long: the finest bucket kept, whole
            granularity = kept[-1]
            begin = cursor - cursor % granularity
        if runs and runs[-1].granularity == granularity and runs[-1].end == begin:
            runs[-1] = Run(granularity, runs[-1].first, begin + granularity)
        else:
            runs.append(Run(granularity, begin, begin + granularity))
        cursor = begin + granularity
    return runs


def fetch_windows(runs: list[Run]) -> dict[int, tuple[int, int]]:
    """Per granularity, the span (epoch seconds, stop exclusive) to fetch."""
    windows: dict[int, tuple[int, int]] = {}
    for run in runs:
        low, high = windows.get(run.granularity, (run.first, run.end))
        windows[run.granularity] = (min(low, run.first), max(high, run.end))
    return windows


class _Membership:
    """Whether a fetched bucket belongs to a run of its granularity."""

    def __init__(self, runs: list[Run]) -> None:
        self._starts: dict[int, list[int]] = defaultdict(list)
        self._ends: dict[int, list[int]] = defaultdict(list)
        for run in sorted(runs, key=lambda r: r.first):
            self._starts[run.granularity].append(run.first)
            self._ends[run.granularity].append(run.end)

    def __call__(self, granularity: int, at: int) -> bool:
        starts = self._starts.get(granularity)
        if not starts:
            return False
        i = bisect.bisect_right(starts, at) - 1
        return i >= 0 and at < self._ends[granularity][i] and (at - starts[i]) % granularity == 0


def period_sets(
    points: Mapping[int, Mapping[int, Mapping[str, float]]],
    runs: list[Run],
    start: datetime,
    period: int,
) -> dict[int, list[StatisticSet]]:
    """Fetched buckets -> statistic sets per period index.

    ``points[granularity][epoch seconds]`` maps "sum", "count", "min" and "max" to the
    bucket's values; a bucket lacking one of them (a write landing between the reads of
    its four metrics) is left out of this answer.
    """
    member = _Membership(runs)
    start_us, period_us = _us(start), period * _US
    result: dict[int, list[StatisticSet]] = defaultdict(list)
    for granularity, buckets in points.items():
        for at, values in buckets.items():
            if not member(granularity, at) or len(values) < 4:
                continue
            index = max(at * _US - start_us, 0) // period_us
            result[index].append(StatisticSet(
                sample_count=values["count"], sum=values["sum"],
                minimum=values["min"], maximum=values["max"]))
    return result
