"""Percentiles of one period's samples, by AWS's rules.  Pure.

AWS (PutMetricData and GetMetricStatistics references): percentiles are computed from raw
values; a statistic set counts only when it stands for individual values (its SampleCount
is 1, or its Minimum equals its Maximum and Sum is Minimum x SampleCount:
``statistics.holds_raw_values``), and "percentile statistics are not available for
metrics when any of the metric values are negative numbers".  Here that is judged per
period: a period holding a set without its values, or a negative value, has no percentile.

``pNN`` is the nearest-rank percentile: the smallest value that at least NN % of the
period's values (each counted as often as it was sent) are lower than or equal to, so
every percentile is a value that was sent (AWS does not document its method; its
definition, "p95 means that 95 percent of the data within the period is lower than this
value", is this one; docs/compatibility.md M12).  The other extended statistics, and one
statistic per period: ``domain.extended_statistics``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from cfn_gateway.domain.metrics import StatisticSet
from cfn_gateway.domain.statistics import holds_raw_values

#: One value and how many times it was sent.
Weighted = tuple[float, float]


def values_of(sets: Iterable[StatisticSet]) -> list[Weighted] | None:
    """The values a period's sample sets stand for, sorted; None when percentiles (and the
    other extended statistics) are not available for them (a set without its values, or a
    negative value)."""
    values: list[Weighted] = []
    for stats in sets:
        if stats.sample_count <= 0:
            continue
        if not (stats.sample_count == 1 or holds_raw_values(stats)):
            return None
        value = stats.sum if stats.sample_count == 1 else stats.minimum
        if value < 0:
            return None
        values.append((value, stats.sample_count))
    values.sort()
    return values


def percentile(values: Sequence[Weighted], percent: float) -> float | None:
    """The nearest-rank ``percent`` percentile of sorted weighted values (None when there
    are none)."""
    total = math.fsum(count for _, count in values)
    if total <= 0:
        return None
    # Rounded so that 95 % of 100 values is rank 95, not 95.00000000000001.
    rank = max(round(percent * total / 100.0, 9), 0.0)
    seen = 0.0
    for value, count in values:
        seen += count
        if seen >= rank and seen > 0:
            return value
    return values[-1][0]

