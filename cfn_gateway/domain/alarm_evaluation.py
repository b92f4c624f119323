"""Metric alarm evaluation: how a CloudWatch metric alarm's state follows from its datapoints.

Pure math shared by the evaluation engine (which fetches the datapoints and stores the new
state) and its tests.  Facts are from the CloudWatch user guide, "Using Amazon CloudWatch
alarms": "Configuring how CloudWatch alarms treat missing data" and "Avoiding premature
transitions to alarm state"; ``EvaluateLowSampleCountPercentile`` from "Percentile-based
alarms and low data samples".

Terms: N = EvaluationPeriods, M = DatapointsToAlarm, P = Period, R = ``range_size(N)``.

Window.  An alarm is evaluated every ``evaluation_interval(P)`` seconds.  At ``now`` the
window ends at ``end`` (``now`` floored to that interval since the epoch) and holds R slots
of P seconds that slide with ``end``: slot j (0 = newest) covers ``[end-(j+1)P, end-jP)``.
A datapoint's ``timestamp`` is the start of its period; only datapoints whose whole period
lies inside the window count, each in the slot holding its timestamp (one datapoint per
timestamp: a later duplicate in the input replaces an earlier one).

Decision (k = real datapoints in the window):

- k >= N: the N most recent real datapoints are evaluated, TreatMissingData is not used;
  ALARM when at least M of them breach, else OK.
- 0 <= k < N: all k real datapoints are evaluated plus N - k filled ones, placed in the
  newest slots that have no datapoint.  ``breaching``: ALARM when real breaching + filled
  >= M, else OK.  ``notBreaching``: ALARM when real breaching >= M, else OK.  ``missing`` /
  ``ignore``: ALARM when real breaching >= M; else, when every real datapoint breaches and
  the oldest of them within the newest N slots lies in a slot j with j + 1 >= M (the
  "premature transition" rule), ALARM (``missing``) or the state is kept (``ignore``);
  else OK when any real datapoint does not breach; else INSUFFICIENT_DATA (``missing``) or
  the state is kept (``ignore``).  With k == 0 this gives INSUFFICIENT_DATA / kept /
  ALARM / OK.
- ``EvaluateLowSampleCountPercentile`` ``ignore`` on a ``pNN`` alarm: when any evaluated
  real datapoint has fewer samples than AWS's minimum (``low_sample_minimum``) the state
  is kept.

Reasons (AWS's StateReason forms; values as Java prints doubles, see ``format_value``;
times ``dd/MM/yy HH:mm:ss`` UTC; datapoints newest first).  The listed datapoints are the
evaluated real ones on the side of the new state (breaching for ALARM, not breaching for
OK):

- M == N and all N evaluated datapoints on that side: ``Threshold Crossed: 1 datapoint
  [5.0 (29/11/26 10:04:00)] was greater than the threshold (4.0).`` / ``... 3 datapoints
  [...] were ...``;
- otherwise (M < N, or an OK with M == N that fewer than N datapoints decide): ``Threshold
  Crossed: 2 out of the last 3 datapoints [...] were greater than the threshold (4.0)
  (minimum 2 datapoints for OK -> ALARM transition).`` (the minimum for OK is N - M + 1;
  the transition is the current state -> the new state);
- OK says ``not greater than ...`` and so on;
- when filled datapoints counted towards the new state and no real one is listed (always
  the case when k == 0): ``Threshold Crossed: no datapoints were received for 3 periods
  and 3 missing datapoints were treated as [Breaching].`` (``[NonBreaching]`` for OK),
  without a minimum clause;
- when filled datapoints counted towards the new state besides listed real ones, one
  sentence: ``Threshold Crossed: 1 out of the last 3 datapoints [5.0 (...)] was greater
  than the threshold (4.0) and 2 missing datapoints were treated as [Breaching] (minimum 2
  datapoints for OK -> ALARM transition).`` (M == N: ``1 datapoint [...] was ... and 2
  missing datapoints were treated as [Breaching].``).  A premature-rule ALARM under
  ``missing`` names its filled datapoints ``[Missing]`` the same way;
- ``Insufficient Data: 3 datapoints were unknown.`` (the filled datapoints).

When the state is kept (``Evaluation.state`` None) the reason is ours, as AWS records
nothing: ``Unchanged: 2 datapoints were unknown and TreatMissingData is ignore.`` or
``Unchanged: 1 datapoint [5.0 (...)] had fewer than 200.0 samples for p95 and
EvaluateLowSampleCountPercentile is ignore.``

StateReasonData is compact JSON with AWS's key order: version, queryDate, startDate, unit
(only for ``rule.metric`` with a unit), statistic or extendedStatistic (``statistic_label``
when given, else ``rule.metric``'s; omitted when there is neither or the label names no
statistic, as for a metric-math expression), period,
recentDatapoints (every real value in the window, oldest first), threshold,
evaluatedDatapoints (newest first; filled ones carry only their timestamp).  Numbers are
written as Java (and so AWS's JSON writer) prints doubles.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from cfn_gateway.domain import extended_statistics, statistics
from cfn_gateway.domain.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    THRESHOLD_COMPARISONS,
    MetricAlarmRule,
)
from cfn_gateway.domain.metrics import (
    BucketStats,
    StatisticSet,
)
from cfn_gateway.domain.periods import floor_to, iso_millis

BREACHING = "breaching"
NOT_BREACHING = "notBreaching"
MISSING = "missing"
IGNORE = "ignore"

#: Alarms with a period under a minute are high-resolution alarms, evaluated every 10 s.
HIGH_RESOLUTION_INTERVAL = 10
STANDARD_INTERVAL = 60

#: AWS statistic names and the ``domain.statistics`` names they are read by.
STANDARD_STATISTICS = {
    "SampleCount": "sample_count",
    "Average": "average",
    "Sum": "sum",
    "Minimum": "minimum",
    "Maximum": "maximum",
}

#: The comparison operators as AWS's reason texts spell them.
OPERATOR_TEXT = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}

#: Low-sample rule: at least this many samples make a percentile "statistically
#: significant" (AWS: 10/(1-p) for p in [0.5, 1), 10/p for p in (0, 0.5)).
LOW_SAMPLE_FACTOR = 10

_FILL_LABELS = {BREACHING: "Breaching", NOT_BREACHING: "NonBreaching", MISSING: "Missing"}


@dataclass(frozen=True)
class Datapoint:
    """One period of the alarm's metric: ``value`` is the alarm's statistic for it (or its
    metric-math expression's value, which has no sample count)."""

    timestamp: datetime
    value: float
    sample_count: float | None


@dataclass(frozen=True)
class EvaluatedPoint:
    """One of the N datapoints an evaluation looked at.

    ``datapoint`` is None for a filled (missing) one; ``breaching`` is whether it counted
    as breaching, None for a filled datapoint treated as missing.
    """

    timestamp: datetime
    datapoint: Datapoint | None
    breaching: bool | None


@dataclass(frozen=True)
class Evaluation:
    """The outcome: ``state`` None means the alarm keeps its current state."""

    state: str | None
    reason: str
    reason_data: str
    #: Newest first.
    evaluated: tuple[EvaluatedPoint, ...] = ()


# --- window -------------------------------------------------------------------------------


def evaluation_interval(period: int) -> int:
    """Seconds between two evaluations: 10 for high-resolution alarms, else 60."""
    return HIGH_RESOLUTION_INTERVAL if period < 60 else STANDARD_INTERVAL


def range_size(evaluation_periods: int) -> int:
    """How many periods an evaluation fetches.

    Our reading of the user guide, which shows "a range of 5" datapoints for an evaluation
    period of 3: N + 2, so that a few missing recent datapoints can be bridged by older ones.
    """
    return evaluation_periods + 2


def evaluation_window(rule: MetricAlarmRule, now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the datapoints an evaluation at ``now`` looks at."""
    period = rule.period
    end = floor_to(now, evaluation_interval(period))
    return end - timedelta(seconds=range_size(rule.evaluation_periods) * period), end


def slot_of(timestamp: datetime, end: datetime, period: int) -> int:
    """The slot (0 = newest) whose period ``[end-(j+1)P, end-jP)`` holds ``timestamp``."""
    step = timedelta(seconds=period)
    return -((timestamp - end) // step) - 1


def slot_start(slot: int, end: datetime, period: int) -> datetime:
    return end - timedelta(seconds=(slot + 1) * period)


def points_in_window(points: Sequence[Datapoint], start: datetime, end: datetime,
                     period: int) -> list[Datapoint]:
    """The datapoints whose whole period lies in ``[start, end)``, newest first."""
    step = timedelta(seconds=period)
    by_time = {p.timestamp: p for p in points if start <= p.timestamp and p.timestamp + step <= end}
    return sorted(by_time.values(), key=lambda p: p.timestamp, reverse=True)


# --- datapoints ---------------------------------------------------------------------------


def datapoints(buckets: Sequence[BucketStats], statistic: str) -> list[Datapoint]:
    """One datapoint per bucket start (oldest first), all units merged.

    Extended statistics (percentiles, ...) raise ValueError: they need raw values, which
    buckets do not hold.
    """
    name = STANDARD_STATISTICS.get(statistic)
    if name is None:
        if extended_statistics.parse(statistic) is not None:
            raise ValueError(
                f"extended statistic {statistic!r} cannot be computed from statistic sets")
        raise ValueError(f"unknown statistic {statistic!r}")
    by_start: dict[datetime, list[StatisticSet]] = defaultdict(list)
    for bucket in buckets:
        by_start[bucket.start].append(bucket.stats)
    result = []
    for start in sorted(by_start):
        merged = statistics.merge_all(by_start[start])
        assert merged is not None
        result.append(Datapoint(start, statistics.statistic(merged, name),
                                float(merged.sample_count)))
    return result


# --- comparisons --------------------------------------------------------------------------


def breaches(comparison: str, value: float, threshold: float) -> bool:
    """Whether ``value`` crosses ``threshold`` for one of ``THRESHOLD_COMPARISONS``."""
    if comparison == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if comparison == "GreaterThanThreshold":
        return value > threshold
    if comparison == "LessThanThreshold":
        return value < threshold
    if comparison == "LessThanOrEqualToThreshold":
        return value <= threshold
    raise ValueError(f"not a threshold comparison: {comparison!r}")


def low_sample_minimum(statistic: str) -> Fraction | None:
    """The fewest samples a ``pNN`` datapoint needs to be evaluated under
    EvaluateLowSampleCountPercentile ``ignore``; None when the rule does not apply."""
    if statistics.parse_percentile(statistic) is None:
        return None
    p = Fraction(statistic[1:]) / 100
    if Fraction(1, 2) <= p < 1:
        return LOW_SAMPLE_FACTOR / (1 - p)
    if 0 < p < Fraction(1, 2):
        return LOW_SAMPLE_FACTOR / p
    return None


# --- decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    state: str | None
    evaluated: tuple[EvaluatedPoint, ...]
    #: The TreatMissingData mode the filled datapoints were counted by towards ``state``
    #: (None when they did not decide it).
    fills_counted: str | None = None


def _decide(rule: MetricAlarmRule, real: list[Datapoint], end: datetime) -> _Decision:
    """The state the datapoints in the window (``real``, newest first) call for."""
    n, m, period = rule.evaluation_periods, rule.datapoints_to_alarm, rule.period
    assert rule.threshold is not None

    def breach(point: Datapoint) -> bool:
        return breaches(rule.comparison, point.value, rule.threshold)

    if len(real) >= n:
        chosen = tuple(EvaluatedPoint(p.timestamp, p, breach(p)) for p in real[:n])
        breaching = sum(1 for e in chosen if e.breaching)
        return _Decision(ALARM if breaching >= m else OK, chosen)

    mode = rule.treat_missing_data
    fill = {BREACHING: True, NOT_BREACHING: False, MISSING: None, IGNORE: None}[mode]
    occupied = {slot_of(p.timestamp, end, period) for p in real}
    free = [j for j in range(range_size(n)) if j not in occupied][: n - len(real)]
    evaluated = [EvaluatedPoint(p.timestamp, p, breach(p)) for p in real]
    evaluated += [EvaluatedPoint(slot_start(j, end, period), None, fill) for j in free]
    evaluated.sort(key=lambda e: e.timestamp, reverse=True)
    points = tuple(evaluated)

    real_breaching = sum(1 for p in real if breach(p))
    if mode == BREACHING:
        if real_breaching + len(free) >= m:
            return _Decision(ALARM, points, BREACHING)
        return _Decision(OK, points)
    if mode == NOT_BREACHING:
        if real_breaching >= m:
            return _Decision(ALARM, points)
        return _Decision(OK, points, NOT_BREACHING)
    if real_breaching >= m:
        return _Decision(ALARM, points)
    if real and real_breaching == len(real) and _premature_alarm(real, end, period, n, m):
        return _Decision(ALARM if mode == MISSING else None, points, MISSING)
    if real_breaching < len(real):
        return _Decision(OK, points)
    return _Decision(INSUFFICIENT_DATA if mode == MISSING else None, points)


def _premature_alarm(real: list[Datapoint], end: datetime, period: int, n: int,
                     m: int) -> bool:
    """Whether the oldest real datapoint in the newest N slots is at least M slots old."""
    recent = [j for j in (slot_of(p.timestamp, end, period) for p in real) if j < n]
    return bool(recent) and max(recent) + 1 >= m


def _low_samples(rule: MetricAlarmRule, evaluated: Sequence[EvaluatedPoint]
                 ) -> tuple[Fraction, list[Datapoint]] | None:
    """The minimum and the evaluated datapoints below it, when the low-sample rule holds."""
    if rule.metric is None or rule.evaluate_low_sample_count_percentile != IGNORE:
        return None
    minimum = low_sample_minimum(rule.metric.statistic)
    if minimum is None:
        return None
    low = [e.datapoint for e in evaluated
           if e.datapoint is not None and e.datapoint.sample_count is not None
           and Fraction(e.datapoint.sample_count) < minimum]
    return (minimum, low) if low else None


def evaluate(rule: MetricAlarmRule, points: Sequence[Datapoint], now: datetime,
             current_state: str, statistic_label: str | None = None) -> Evaluation:
    """The state a threshold alarm calls for at ``now`` (None: keep ``current_state``).

    ``points`` are the alarm's datapoints (for metric math: those of the
    ThresholdMetricId series); any outside ``evaluation_window(rule, now)`` are ignored.
    """
    if rule.comparison not in THRESHOLD_COMPARISONS or rule.threshold is None:
        raise ValueError("only threshold alarms can be evaluated")
    if rule.treat_missing_data not in (BREACHING, NOT_BREACHING, MISSING, IGNORE):
        raise ValueError(f"unknown TreatMissingData {rule.treat_missing_data!r}")
    start, end = evaluation_window(rule, now)
    real = points_in_window(points, start, end, rule.period)
    decision = _decide(rule, real, end)
    data = reason_data(rule, real, decision.evaluated, now, start, statistic_label)

    low = _low_samples(rule, decision.evaluated)
    if low is not None:
        assert rule.metric is not None
        minimum, low_points = low
        reason = (f"Unchanged: {_count(len(low_points), 'datapoint')} "
                  f"[{_listing(low_points)}] had fewer than {format_value(float(minimum))} "
                  f"samples for {rule.metric.statistic} and EvaluateLowSampleCountPercentile "
                  "is ignore.")
        return Evaluation(None, reason, data, decision.evaluated)

    unknown = sum(1 for e in decision.evaluated if e.datapoint is None)
    if decision.state == INSUFFICIENT_DATA:
        reason = f"Insufficient Data: {_count(unknown, 'datapoint')} {_was(unknown)} unknown."
    elif decision.state is None:
        reason = (f"Unchanged: {_count(unknown, 'datapoint')} {_was(unknown)} unknown and "
                  "TreatMissingData is ignore.")
    else:
        reason = _threshold_reason(rule, decision, current_state)
    return Evaluation(decision.state, reason, data, decision.evaluated)


# --- reasons ------------------------------------------------------------------------------


def format_value(value: float) -> str:
    """``value`` as Java's ``Double.toString`` prints it (shortest round-trip digits).

    Plain decimal with at least one fraction digit for magnitudes in [1e-3, 1e7)
    ("5.0", "0.5", "1234567.5"), else computerized scientific notation ("1.0E7", "1.5E-4").
    """
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        return sign + repr(magnitude)  # Python prints this range plainly, with a fraction
    decimal = Decimal(repr(magnitude)).normalize()
    digits = "".join(map(str, decimal.as_tuple().digits))
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{decimal.adjusted()}"


def format_time(moment: datetime) -> str:
    """A datapoint's time in reason texts: ``dd/MM/yy HH:mm:ss`` UTC."""
    return moment.astimezone(UTC).strftime("%d/%m/%y %H:%M:%S")


#: A time in StateReasonData: ``2026-11-29T10:05:08.826+0000``.
format_timestamp = iso_millis


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


def _listing(points: Sequence[Datapoint]) -> str:
    return ", ".join(f"{format_value(p.value)} ({format_time(p.timestamp)})" for p in points)


def _threshold_reason(rule: MetricAlarmRule, decision: _Decision, current_state: str) -> str:
    """The "Threshold Crossed: ..." text of an ALARM or OK decision."""
    assert rule.threshold is not None and decision.state is not None
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    to_alarm = decision.state == ALARM
    listed = [e.datapoint for e in decision.evaluated
              if e.datapoint is not None and e.breaching is to_alarm]
    filled = 0 if decision.fills_counted is None else sum(
        1 for e in decision.evaluated if e.datapoint is None)
    treated = ""
    if filled:
        label = _FILL_LABELS[decision.fills_counted]
        treated = (f"{_count(filled, 'missing datapoint')} {_was(filled)} treated as "
                   f"[{label}]")
    if not listed:
        return (f"Threshold Crossed: no datapoints were received for "
                f"{_count(filled, 'period')} and {treated}.")
    operator = OPERATOR_TEXT[rule.comparison]
    if not to_alarm:
        operator = "not " + operator
    count = len(listed)
    # The short form when every evaluated datapoint is on the new state's side and one
    # datapoint less would not do (M == N), else "c out of the last N" with the minimum.
    long_form = m < n or count + filled < n
    subject = f"{count} out of the last {n} datapoints" if long_form else _count(
        count, "datapoint")
    text = (f"Threshold Crossed: {subject} [{_listing(listed)}] {_was(count)} {operator} "
            f"the threshold ({format_value(rule.threshold)})")
    if treated:
        text += f" and {treated}"
    if long_form:
        minimum = m if to_alarm else n - m + 1
        text += (f" (minimum {_count(minimum, 'datapoint')} for {current_state} -> "
                 f"{decision.state} transition)")
    return text + "."


# --- reason data --------------------------------------------------------------------------


def reason_data(rule: MetricAlarmRule, real: Sequence[Datapoint],
                evaluated: Sequence[EvaluatedPoint], now: datetime, start: datetime,
                statistic_label: str | None = None) -> str:
    """StateReasonData JSON text; ``real`` are the datapoints in the window (any order)."""
    data: dict[str, object] = {
        "version": "1.0",
        "queryDate": format_timestamp(now),
        "startDate": format_timestamp(start),
    }
    if rule.metric is not None and rule.metric.unit:
        data["unit"] = rule.metric.unit
    label = statistic_label or (rule.metric.statistic if rule.metric is not None else None)
    key = statistic_key(label) if label else None
    if key is not None:
        data[key] = label
    data["period"] = rule.period
    data["recentDatapoints"] = [float(p.value) for p in sorted(real, key=lambda p: p.timestamp)]
    data["threshold"] = float(rule.threshold) if rule.threshold is not None else None
    data["evaluatedDatapoints"] = [_evaluated_json(e) for e in evaluated]
    return _json(data)


def statistic_key(label: str) -> str | None:
    """"statistic" or "extendedStatistic" for a statistic name; None for anything else
    (a metric-math query's label, say), which StateReasonData then leaves out."""
    if label in STANDARD_STATISTICS:
        return "statistic"
    return "extendedStatistic" if extended_statistics.parse(label) is not None else None


def _evaluated_json(point: EvaluatedPoint) -> dict[str, object]:
    item: dict[str, object] = {"timestamp": format_timestamp(point.timestamp)}
    if point.datapoint is not None:
        if point.datapoint.sample_count is not None:
            item["sampleCount"] = float(point.datapoint.sample_count)
        item["value"] = float(point.datapoint.value)
    return item


def _json(value: object) -> str:
    """Compact JSON with floats printed as Java prints doubles (``5.0``, ``1.0E7``)."""
    if value is None or isinstance(value, bool | str):
        return json.dumps(value)
    if isinstance(value, float):
        return format_value(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
