"""GetMetricData's results: series of one statistic per period, ordered and paged as AWS
returns them.  Pure: no I/O.

- A MetricStat query reads the per-period, per-unit buckets of its metric
  (``MetricStore.aggregate``; for an extended statistic (``p99``, ``TM(10%:90%)``, ...),
  the samples themselves: ``MetricStore.samples``); without a Unit, GetMetricData
  merges the units of one period into one value (a series has one value per timestamp),
  with a Unit only that unit counts.  Periods without data have no point.
- ``ScanBy``: ``TimestampDescending`` (the default: newest first) or
  ``TimestampAscending``.
- ``MaxDatapoints`` (default 100,800) bounds the points of one answer, across all its
  results in query order; what does not fit comes with the next page, whose token says
  how many points were returned before.  A result cut short is ``PartialData``, one
  returned whole ``Complete``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cfn_gateway.domain import extended_statistics as xs
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import BucketSamples, BucketStats, StatisticSet

DEFAULT_MAX_DATAPOINTS = 100_800
MAX_QUERIES = 500
ASCENDING = "TimestampAscending"
DESCENDING = "TimestampDescending"
COMPLETE = "Complete"
PARTIAL = "PartialData"

#: GetMetricData's statistic names that read a statistic set -> the domain's names.
SET_STATISTICS = {
    "SampleCount": "sample_count",
    "Average": "average",
    "Sum": "sum",
    "Minimum": "minimum",
    "Maximum": "maximum",
}


@dataclass(frozen=True)
class Points:
    """One result's data: ascending, distinct timestamps and their values."""

    timestamps: tuple[datetime, ...] = ()
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class Result:
    """One MetricDataResult before paging."""

    query_id: str
    label: str
    points: Points
    messages: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PagedResult:
    query_id: str
    label: str
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]
    status: str
    messages: tuple[tuple[str, str], ...] = ()


@dataclass
class Page:
    results: list[PagedResult] = field(default_factory=list)
    #: How many points this page and those before it returned; None when nothing is left.
    returned: int | None = None


def statistic_points(buckets: Iterable[BucketStats], stat: str) -> Points:
    """The series of ``stat`` (a ``SET_STATISTICS`` name) over ``buckets``, the units of
    one period merged."""
    by_start: dict[datetime, list[StatisticSet]] = defaultdict(list)
    for bucket in buckets:
        by_start[bucket.start].append(bucket.stats)
    name = SET_STATISTICS[stat]
    timestamps, values = [], []
    for start in sorted(by_start):
        merged = stats.merge_all(by_start[start])
        if merged is None or merged.sample_count <= 0:
            continue
        timestamps.append(start)
        values.append(stats.statistic(merged, name))
    return Points(tuple(timestamps), tuple(values))


def extended_points(buckets: Iterable[BucketSamples],
                    statistic: xs.ExtendedStatistic) -> Points:
    """The series of an extended statistic over ``buckets``, the units of one period
    together; a period without a value for it has no point
    (``domain.extended_statistics``)."""
    found = xs.by_period(buckets, statistic)
    return Points(tuple(start for start, _, _ in found), tuple(v for _, v, _ in found))


def page(results: Sequence[Result], scan_by: str, max_datapoints: int,
         already_returned: int = 0) -> Page:
    """The page of ``results`` that starts after ``already_returned`` points (in query
    order, each result's points in ``scan_by`` order) and holds at most
    ``max_datapoints``."""
    skip, room = already_returned, max_datapoints
    out = Page()
    returned = already_returned
    left = False
    for result in results:
        pairs = list(zip(result.points.timestamps, result.points.values, strict=True))
        if scan_by != ASCENDING:
            pairs.reverse()
        dropped = min(skip, len(pairs))
        skip -= dropped
        pairs = pairs[dropped:]
        taken = pairs[:room]
        room -= len(taken)
        returned += len(taken)
        cut = len(taken) < len(pairs)
        left = left or cut
        out.results.append(PagedResult(
            result.query_id, result.label, tuple(t for t, _ in taken),
            tuple(v for _, v in taken), PARTIAL if cut else COMPLETE, result.messages))
    out.returned = returned if left else None
    return out
