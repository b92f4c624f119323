"""Statistic math: building, merging and reading statistic sets.

A ``StatisticSet`` (SampleCount, Sum, Minimum, Maximum) is the unit of storage and of
aggregation: merging two sets is exact for all five AWS statistics, since Average is always
derived as Sum / SampleCount over everything merged (never an average of averages).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence

from cfn_gateway.domain.metrics import StatisticSet

#: PutMetricData rejects values outside this magnitude range (zero is fine), and NaN or
#: infinities.  AWS API reference, PutMetricData: "Values must be in the range of
#: 8.515920e-109 to 1.174271e+108 (Base 10) or 2e-360 to 2e360 (Base 2)" (2^-359 and 2^359).
MIN_MAGNITUDE = 8.515920e-109
MAX_MAGNITUDE = 1.174271e108
#: PutMetricData: at most this many Values (and Counts) in one MetricData member.
MAX_VALUES = 150

_PERCENTILE = re.compile(r"p(\d{1,3}(?:\.\d+)?)", re.ASCII)

_BOUND = r"-?\d+(\.\d+)?%?"
#: Every statistic name CloudWatch knows: the five of statistic sets, and the extended
#: ones (percentiles pNN, trimmed mean TM/tmNN, trimmed count TC, trimmed sum TS,
#: winsorized mean WM, percentile rank PR, IQM), as CloudWatch's dashboard schema writes
#: it (the gateway's reconstruction: CloudWatch's own pattern is not published).  What
#: dashboard bodies accept; a little looser than the names the gateway computes
#: (``extended_statistics.parse``: every one of those matches this pattern, while this
#: pattern also lets through lower-case names in parentheses, and bounds that are mixed,
#: missing, negative percentages or percentages beyond 100).
STATISTIC_PATTERN = (
    r"^((SampleCount|Average|Sum|Minimum|Maximum|IQM)"
    r"|(p|tm|tc|ts|wm)(100(\.0+)?|\d{1,2}(\.\d+)?)"
    rf"|(TM|TC|TS|WM|PR|tm|tc|ts|wm|pr)\(({_BOUND})?:({_BOUND})?\))$"
)

#: The statistics GetMetricStatistics computes, by their domain names.
STATISTICS = ("sample_count", "average", "sum", "minimum", "maximum")


def acceptable_value(value: float) -> bool:
    """Whether CloudWatch accepts ``value`` as a datapoint value."""
    if not math.isfinite(value):
        return False
    magnitude = abs(value)
    return magnitude == 0.0 or MIN_MAGNITUDE <= magnitude <= MAX_MAGNITUDE


def single(value: float) -> StatisticSet:
    """The statistic set of one sample."""
    return StatisticSet(sample_count=1.0, sum=value, minimum=value, maximum=value)


def repeated(value: float, count: float) -> StatisticSet:
    """``value`` observed ``count`` times (one Values/Counts pair)."""
    return StatisticSet(sample_count=count, sum=value * count, minimum=value, maximum=value)


def from_values(values: Sequence[float], counts: Sequence[float] | None) -> list[StatisticSet]:
    """One set per Values member (Counts default to 1); values seen zero times are dropped."""
    if counts is None:
        counts = [1.0] * len(values)
    return [repeated(v, c) for v, c in zip(values, counts, strict=True) if c > 0]


def merge(a: StatisticSet, b: StatisticSet) -> StatisticSet:
    """The statistic set of the samples of ``a`` and ``b`` together."""
    return StatisticSet(
        sample_count=a.sample_count + b.sample_count,
        sum=a.sum + b.sum,
        minimum=min(a.minimum, b.minimum),
        maximum=max(a.maximum, b.maximum),
    )


def merge_all(sets: Iterable[StatisticSet]) -> StatisticSet | None:
    """All ``sets`` merged, or None when there are none.

    Sums use ``math.fsum`` so the result does not depend on the order of the sets.
    """
    items = list(sets)
    if not items:
        return None
    return StatisticSet(
        sample_count=math.fsum(s.sample_count for s in items),
        sum=math.fsum(s.sum for s in items),
        minimum=min(s.minimum for s in items),
        maximum=max(s.maximum for s in items),
    )


def average(stats: StatisticSet) -> float:
    """Sum / SampleCount over every sample in the set."""
    return stats.sum / stats.sample_count


def statistic(stats: StatisticSet, name: str) -> float:
    """One of ``STATISTICS`` read from a set."""
    return reader(name)(stats)


_READERS: dict[str, Callable[[StatisticSet], float]] = {
    "sample_count": lambda stats: float(stats.sample_count),
    "average": average,
    "sum": lambda stats: float(stats.sum),
    "minimum": lambda stats: float(stats.minimum),
    "maximum": lambda stats: float(stats.maximum),
}


def reader(name: str) -> Callable[[StatisticSet], float]:
    """The function reading one of ``STATISTICS`` from a set (for reading many sets)."""
    found = _READERS.get(name)
    if found is None:
        raise ValueError(f"unknown statistic {name!r}")
    return found


def holds_raw_values(stats: StatisticSet) -> bool:
    """Whether a set stands for individual values (AWS's condition for percentiles).

    PutMetricData reference: percentiles are available for statistic sets only when "the
    SampleCount value of the statistic set is 1 and Min, Max, and Sum are all equal" or "the
    Min and Max are equal, and Sum is equal to Min multiplied by SampleCount".
    """
    return stats.minimum == stats.maximum and stats.sum == stats.minimum * stats.sample_count


def parse_percentile(name: str) -> float | None:
    """The percentile an ExtendedStatistic names ("p0.0" to "p100"), or None if it names none.

    GetMetricStatistics reference: "Specify values between p0.0 and p100."
    """
    match = _PERCENTILE.fullmatch(name)
    if match is None:
        return None
    percentile = float(match.group(1))
    return percentile if percentile <= 100.0 else None

