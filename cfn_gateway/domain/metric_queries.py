"""Metric data queries: the ``MetricDataQuery`` list of GetMetricData and of a metric-math
alarm, checked and evaluated in one way for both.  Pure.

A query either reads a metric (``MetricStat``: its points come from the metric store,
read by the caller) or computes an ``Expression`` of metric math over the other queries
(``domain.metric_math``).  ``plan`` parses and checks every expression before anything is
read, as AWS refuses a bad expression before it reads data; ``evaluate`` computes the
expressions in dependency order over the metrics' series (``stat_series``).

An error that only the data reveals (a division by zero everywhere, say) belongs to that
query's result (``MathError.per_result``: the series carries the message); any other
``MathError`` is the caller's to turn into its AWS error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo

from cfn_gateway.domain import metric_math as mm
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.periods import align_start

#: The statistics of statistic sets (any other statistic is an extended statistic).
STANDARD_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

#: What a query's Id must look like (MetricDataQuery.Id: "The first character must be a
#: lowercase letter").
QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*")
_INSIGHTS_QUERY = re.compile(r"\s*SELECT\s", re.IGNORECASE)

#: A query's result: one series, or an array of them (an expression such as METRICS()).
Result = mm.Series | tuple[mm.Series, ...]


@dataclass(frozen=True)
class MetricStat:
    """One metric and how to aggregate it: ``statistic`` is an AWS statistic name
    ("Average", "Sum", ...) or an extended statistic ("p99")."""

    key: MetricKey
    period: int
    statistic: str
    unit: str | None = None

    @property
    def extended(self) -> bool:
        """Whether ``statistic`` is an extended statistic (a percentile, ...)."""
        return self.statistic not in STANDARD_STATISTICS


@dataclass(frozen=True)
class MetricQuery:
    """One ``MetricDataQuery``: a metric (``metric_stat``) or an ``expression``."""

    id: str
    metric_stat: MetricStat | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = True
    period: int | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class Plan:
    """The parsed expressions of a query list, the kind of every query's result, and the
    order to evaluate the expressions in (each after those it names)."""

    expressions: Mapping[str, mm.Expression]
    kinds: Mapping[str, mm.Kind]
    order: tuple[str, ...]


def is_insights_query(expression: str) -> bool:
    """Whether an Expression is a Metrics Insights query (``SELECT ...``), not metric math."""
    return _INSIGHTS_QUERY.match(expression) is not None


def plan(queries: Sequence[MetricQuery]) -> Plan:
    """Every expression of ``queries`` parsed and checked (syntax, Ids, cycles, argument
    kinds); MathError for the first one AWS would refuse."""
    metric_kinds = {q.id: mm.Kind.SERIES for q in queries if q.metric_stat is not None}
    parsed = {q.id: mm.parse(q.expression, query_id=q.id) for q in queries
              if q.expression is not None}
    kinds = mm.check_queries(parsed, metric_kinds)
    return Plan(parsed, kinds, tuple(mm.evaluation_order(parsed, metric_kinds.keys())))


def stat_series(query: MetricQuery, timestamps: Sequence[datetime], values: Sequence[float],
                *, now: datetime | None = None, zone: tzinfo = UTC) -> mm.Series:
    """A MetricStat query's points as a series, labelled as GetMetricData labels it: the
    query's Label (dynamic parts filled in), or the metric's name."""
    stat = query.metric_stat
    assert stat is not None
    name = stat.key.name
    series = mm.Series(name, tuple(timestamps), tuple(values), stat.period, query.id)
    if query.label:
        series = replace(series, label=mm.render_label(
            query.label, series, default_label=name, now=now, zone=zone))
    return series


def default_period(queries: Sequence[MetricQuery]) -> int:
    """The period of an expression without its own: the shortest of the metrics'."""
    return min((q.metric_stat.period for q in queries if q.metric_stat is not None),
               default=60)


def evaluate(queries: Sequence[MetricQuery], planned: Plan, found: dict[str, Result], *,
             start: datetime, end: datetime, now: datetime, zone: tzinfo = UTC,
             align: bool = True) -> None:
    """Evaluate the expressions of ``planned`` into ``found`` (which holds the metrics'
    series by Id) over ``[start, end)``.  With ``align``, ``start`` is GetMetricData's
    StartTime, rounded for each expression's period as GetMetricData rounds it; without,
    it is an alarm's window start, already on the alarm's grid.  An error only the data
    reveals becomes that result's message; other MathErrors are raised."""
    metric_ids = [q.id for q in queries if q.metric_stat is not None]
    by_id = {q.id: q for q in queries}
    fallback = default_period(queries)
    for query_id in planned.order:
        query = by_id[query_id]
        period = query.period or fallback
        try:
            found[query_id] = mm.evaluate(
                planned.expressions[query_id], found, period=period,
                start=align_start(start, period, now) if align else start, end=end,
                query_id=query_id, label=query.label, metric_ids=metric_ids, now=now,
                zone=zone)
        except mm.MathError as exc:
            if not exc.per_result:
                raise
            found[query_id] = mm.Series(query.label or query_id, (), (), period, query_id,
                                        (mm.MessageData(exc.code, str(exc)),))


def each(result: Result) -> tuple[mm.Series, ...]:
    """A result as series: one, or each of an array (each is a result of its own)."""
    return (result,) if isinstance(result, mm.Series) else result
