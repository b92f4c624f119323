"""CloudWatch's extended statistics of one period's values.  Pure.

Every extended statistic is computed from the period's raw values, as percentiles are
(``domain.percentiles.values_of``: a period holding a statistic set without its values, or
a negative value, has none of them).  AWS's definitions (user guide, "CloudWatch
statistics definitions"):

- ``pNN`` (``p0.0`` .. ``p100``): the nearest-rank percentile (``percentiles.percentile``).
- Trimmed mean ``TM(lower:upper)``: the mean of the values between the bounds, the others
  ignored; ``tmNN`` is ``TM(:NN%)``; ``IQM`` is ``TM(25%:75%)``.
- Winsorized mean ``WM(lower:upper)``: the values outside the bounds are replaced by the
  value at the edge, then the mean of all of them; ``wmNN`` is ``WM(:NN%)``.
- Trimmed count ``TC``: how many values the trimmed mean's range holds; ``tcNN``.
- Trimmed sum ``TS``: their sum (TM x TC); ``tsNN``.
- Percentile rank ``PR(lower:upper)``: the percentage (0 to 100) of the values in the range;
  absolute bounds only.

Syntax: lower-case names take one number and no parentheses (``tm99``, ``wm98.5``, 0 to
100); upper-case names take parentheses holding one or two bounds around a colon, both
percentages (``TM(5%:95%)``, 0 to 100) or both absolute values (``TM(150:1000)``), never
mixed, each with up to 10 decimals, the lower one not above the upper one.

Choices where AWS does not say (docs/compatibility.md M12):

- Absolute bounds keep the values v with lower < v <= upper (AWS's rule).
- Percentage bounds trim by rank: of the period's N values (each counted as often as it
  was sent: Values/Counts pairs weigh their count), ascending, the value of 1-based rank k
  is kept when lower% x N / 100 < k <= upper% x N / 100 (the products rounded to 9
  decimals, as a percentile's rank is, so that 95 % of 100 values is 95, not
  95.00000000000001).  A Values/Counts pair is split by rank: one covering ranks 3 to 7 of
  which 2 are kept weighs 2.
- Counts need not be whole numbers (AWS's Counts are doubles): a pair of count c covers
  the rank interval after the counts before it, and each part of it has the rank its
  interval ends in (the next whole number), so it is kept when that rank is; a bound at or
  beyond N keeps up to the end (``tm100`` keeps every value whatever the counts).  With
  whole counts this is exactly the rule above.
- ``WM`` replaces the values dropped below the range by the lowest kept value, those
  dropped above it by the highest kept value.
- A period with values of which none is kept has no ``TM``, ``WM`` or ``IQM``; its ``TC``
  and ``TS`` are 0.  ``PR`` is a percentage of all of the period's values.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cfn_gateway.domain import percentiles as pct
from cfn_gateway.domain.metrics import BucketSamples, StatisticSet
from cfn_gateway.domain.percentiles import Weighted
from cfn_gateway.domain.statistics import parse_percentile

PERCENTILE = "p"
TRIMMED_MEAN = "TM"
WINSORIZED_MEAN = "WM"
TRIMMED_COUNT = "TC"
TRIMMED_SUM = "TS"
PERCENTILE_RANK = "PR"

#: PutMetricAlarm accepts percentage bounds in parentheses between these (botocore's
#: ExtendedStatistic documentation: "TM(X%:X%) where X is between 10 and 90 inclusive").
ALARM_PERCENT_MIN = 10.0
ALARM_PERCENT_MAX = 90.0

_PERCENT = r"100(?:\.0{1,10})?|\d{1,2}(?:\.\d{1,10})?"
_ABSOLUTE = r"-?\d+(?:\.\d{1,10})?"
_SHORT = re.compile(rf"(tm|wm|tc|ts)({_PERCENT})", re.ASCII)
_BOUND = rf"(?:({_PERCENT})%|({_ABSOLUTE}))?"
_RANGE = re.compile(rf"(TM|WM|TC|TS|PR)\({_BOUND}:{_BOUND}\)", re.ASCII)
_INTERQUARTILE_MEAN = "IQM"


@dataclass(frozen=True)
class ExtendedStatistic:
    """One extended statistic: its ``kind`` (``PERCENTILE``, ``TRIMMED_MEAN``, ...) and its
    bounds (None: open on that side), percentages when ``percent``, else absolute values.
    A percentile's percentage is its ``upper``."""

    kind: str
    lower: float | None
    upper: float | None
    percent: bool


def parse(name: str) -> ExtendedStatistic | None:
    """The extended statistic ``name`` names, or None when it names none."""
    percentile = parse_percentile(name)
    if percentile is not None:
        return ExtendedStatistic(PERCENTILE, None, percentile, True)
    if name == _INTERQUARTILE_MEAN:
        return ExtendedStatistic(TRIMMED_MEAN, 25.0, 75.0, True)
    short = _SHORT.fullmatch(name)
    if short is not None:
        return ExtendedStatistic(short.group(1).upper(), None, float(short.group(2)), True)
    match = _RANGE.fullmatch(name)
    if match is None:
        return None
    kind, lower_pct, lower_abs, upper_pct, upper_abs = match.groups()
    percents, absolutes = (lower_pct, upper_pct), (lower_abs, upper_abs)
    if all(b is None for b in percents + absolutes):
        return None  # TM(:): no bound
    if any(b is not None for b in percents) and any(b is not None for b in absolutes):
        return None  # one percentage, one absolute value
    percent = any(b is not None for b in percents)
    if percent and kind == PERCENTILE_RANK:
        return None  # PR takes absolute values only
    chosen = percents if percent else absolutes
    lower, upper = (None if b is None else float(b) for b in chosen)
    if any(b is not None and not math.isfinite(b) for b in (lower, upper)):
        return None
    if lower is not None and upper is not None and lower > upper:
        return None
    return ExtendedStatistic(kind, lower, upper, percent)


def alarm_accepts(name: str) -> bool:
    """Whether PutMetricAlarm accepts ``name`` as an extended statistic: any of them, but
    a parenthesised one's percentage bounds must lie between 10 % and 90 %."""
    statistic = parse(name)
    if statistic is None:
        return False
    if "(" not in name or not statistic.percent:
        return True
    return all(ALARM_PERCENT_MIN <= bound <= ALARM_PERCENT_MAX
               for bound in (statistic.lower, statistic.upper) if bound is not None)


def _cut(percent: float | None, total: float, default: float) -> float:
    """The rank position a percentage bound cuts N = ``total`` values at: the whole rank
    below it (a bound at or beyond N: the end)."""
    if percent is None:
        return default
    if percent <= 0:
        return 0.0
    rank = round(percent * total / 100.0, 9)
    return math.inf if rank >= round(total, 9) else float(math.floor(rank))


@dataclass(frozen=True)
class _Split:
    """Sorted weighted values cut by a range: what is kept, how much lies below/above."""

    kept: list[Weighted]
    below: float
    above: float


def _split(values: Sequence[Weighted], statistic: ExtendedStatistic, total: float) -> _Split:
    kept: list[Weighted] = []
    below = above = 0.0
    if statistic.percent:
        low = _cut(statistic.lower, total, 0.0)
        high = _cut(statistic.upper, total, math.inf)
        seen = 0.0
        for value, count in values:
            start, seen = seen, seen + count
            below += max(0.0, min(seen, low) - start)
            above += max(0.0, seen - max(start, high))
            inside = min(seen, high) - max(start, low)
            if inside > 0:
                kept.append((value, inside))
    else:
        for value, count in values:
            if statistic.lower is not None and value <= statistic.lower:
                below += count
            elif statistic.upper is not None and value > statistic.upper:
                above += count
            else:
                kept.append((value, count))
    return _Split(kept, below, above)


def compute(values: Sequence[Weighted], statistic: ExtendedStatistic) -> float | None:
    """``statistic`` of sorted weighted values (``percentiles.values_of``); None when it
    has no value for them (no values; a mean of nothing kept)."""
    total = math.fsum(count for _, count in values)
    if total <= 0:
        return None
    if statistic.kind == PERCENTILE:
        assert statistic.upper is not None
        return pct.percentile(values, statistic.upper)
    split = _split(values, statistic, total)
    kept_count = math.fsum(count for _, count in split.kept)
    kept_sum = math.fsum(value * count for value, count in split.kept)
    if statistic.kind == TRIMMED_COUNT:
        return kept_count
    if statistic.kind == TRIMMED_SUM:
        return kept_sum
    if statistic.kind == PERCENTILE_RANK:
        return 100.0 * kept_count / total
    if not split.kept:
        return None
    if statistic.kind == TRIMMED_MEAN:
        return kept_sum / kept_count
    if statistic.kind == WINSORIZED_MEAN:
        lowest, highest = split.kept[0][0], split.kept[-1][0]
        return math.fsum([kept_sum, split.below * lowest, split.above * highest]) / total
    raise ValueError(f"unknown extended statistic kind {statistic.kind!r}")


def by_period(buckets: Iterable[BucketSamples],
              statistic: ExtendedStatistic) -> list[tuple[datetime, float, float]]:
    """(period start, ``statistic``, how many values) of every period of ``buckets`` that
    has a value for it, the units of a period together, oldest first."""
    by_start: dict[datetime, list[StatisticSet]] = defaultdict(list)
    for bucket in buckets:
        by_start[bucket.start].extend(bucket.samples)
    out = []
    for start in sorted(by_start):
        values = pct.values_of(by_start[start])
        value = None if not values else compute(values, statistic)
        if value is not None:
            out.append((start, value, math.fsum(count for _, count in values)))
    return out
