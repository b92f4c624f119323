"""Which data a metric alarm evaluates, and its evaluation over them.

A metric alarm reads its own metric, or the metrics of its metric-math queries and
evaluates their expressions (``math_datapoints``, ``domain.metric_queries``: as
GetMetricData does), and, in cfn-push-stats' namespace, the metrics sent for each with
``--watch`` (Heat's watch rules: ``watch_filter``).  ``evaluate_alarm`` fetches them
through callables the caller supplies (the engine's metric store, or the Aodh plugin's
Gnocchi reads and the gateway's values) and decides with ``alarm_evaluation``; an alarm
on an extended statistic (a percentile ``pNN``, a trimmed mean ``tm90``, ...) reads the
stored samples and computes it per period (``extended_datapoints``,
``domain.extended_statistics``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from cfn_gateway.domain import alarm_evaluation
from cfn_gateway.domain import extended_statistics as xs
from cfn_gateway.domain import metric_queries as mq
from cfn_gateway.domain.alarms import Alarm, MetricAlarmRule, MetricStat
from cfn_gateway.domain.metrics import (
    BucketSamples,
    BucketStats,
    DimensionFilter,
    MetricFilter,
    MetricKey,
)

#: The dimension cfn-push-stats --watch NAME publishes with (Heat's watch rules).
WATCH_DIMENSION = "AlarmName"

#: Reads one metric's per-period statistics: (key, start, end, period, unit) -> buckets, as
#: ``MetricStore.aggregate`` gives them for a project.
Aggregate = Callable[[MetricKey, datetime, datetime, int, "str | None"], Sequence[BucketStats]]
#: Reads one metric's stored samples per period: (key, start, end, period, unit) ->
#: buckets, as ``MetricStore.samples`` gives them (alarms on extended statistics).
Samples = Callable[[MetricKey, datetime, datetime, int, "str | None"],
                   Sequence[BucketSamples]]
#: Lists the metrics of a project that match a filter and received data since a moment, as
#: ``MetricStore.list_metrics`` does.
Watched = Callable[[MetricFilter, datetime], Sequence[MetricKey]]

#: The namespace cfn-push-stats publishes in: only alarms there read ``--watch`` data.
WATCH_NAMESPACE = "system/linux"
#: ListMetrics' activity may lag a metric's last publication (Gnocchi's ``last_put`` is
#: refreshed every ``[gnocchi] activity_update_interval``); watched metrics are looked up
#: with this much margin before the evaluation range.
WATCH_ACTIVITY_MARGIN = timedelta(hours=1)
#: Watched metrics one alarm reads at most (one per server that sends for it).
WATCH_MAX_METRICS = 1000


def watch_filter(alarm_name: str, key: MetricKey) -> MetricFilter | None:
    """The metrics that feed the alarm ``alarm_name`` on ``key`` besides ``key`` itself.

    Heat's CloudWatch API attached every datum sent with the dimension ``AlarmName=NAME``
    (cfn-push-stats ``--watch NAME``, which adds it to the server's own dimensions) to the
    watch rule NAME.  So an alarm NAME in cfn-push-stats' namespace also evaluates every
    metric of its namespace and name that has the dimension ``AlarmName=NAME``, whatever
    its other dimensions; their data is combined per period."""
    if key.namespace != WATCH_NAMESPACE:
        return None
    return MetricFilter(namespace=key.namespace, name=key.name,
                        dimensions=(DimensionFilter(WATCH_DIMENSION, alarm_name),))


def alarm_metric(rule: MetricAlarmRule) -> MetricStat | None:
    """The metric a metric alarm watches directly: its own, or its returned query's
    MetricStat (None when it watches a metric-math expression)."""
    if rule.metric is not None:
        return rule.metric
    (query,) = [q for q in rule.queries if q.return_data]
    return query.metric_stat


def extended_datapoints(buckets: Sequence[BucketSamples],
                        statistic: str) -> list[alarm_evaluation.Datapoint]:
    """One datapoint per period that has a value for the extended statistic ``statistic``
    (``p90``, ``tm90``, ``TM(10%:90%)``, ...), all units and metrics together, oldest first
    (``domain.extended_statistics``: a period without one is missing data); a datapoint's
    sample count is the number of the period's values."""
    parsed = xs.parse(statistic)
    if parsed is None:
        raise ValueError(f"not an extended statistic: {statistic!r}")
    return [alarm_evaluation.Datapoint(start, value, count)
            for start, value, count in xs.by_period(buckets, parsed)]


def evaluate_alarm(alarm: Alarm, now: datetime, aggregate: Aggregate,
                   watched: Watched, samples: Samples | None = None,
                   ) -> alarm_evaluation.Evaluation | None:
    """Evaluate a metric alarm at ``now`` on the data ``aggregate`` (for an extended
    statistic: ``samples``) reads (None when the alarm cannot be evaluated); ``watched``
    finds the metrics ``watch_filter`` names."""
    rule = alarm.metric_rule
    assert rule is not None
    start, end = alarm_evaluation.evaluation_window(rule, now)

    def points_of(metric: MetricStat) -> list[alarm_evaluation.Datapoint] | None:
        return metric_datapoints(alarm.name, metric, start, end, aggregate, watched, samples)

    metric = alarm_metric(rule)
    if metric is not None:
        points = points_of(metric)
        label: str | None = metric.statistic
    else:
        points = math_datapoints(rule, start, end, now, points_of)
        label = None
    if points is None:
        return None
    return alarm_evaluation.evaluate(rule, points, now, alarm.state.value,
                                     statistic_label=label)


def metric_datapoints(alarm_name: str, metric: MetricStat, start: datetime, end: datetime,
                      aggregate: Aggregate, watched: Watched, samples: Samples | None,
                      ) -> list[alarm_evaluation.Datapoint] | None:
    """The datapoints of one metric of the alarm ``alarm_name`` in ``[start, end)``, with
    what cfn-push-stats ``--watch`` sent for it (None: a store without the values an
    extended statistic needs)."""
    keys = [metric.key]
    query = watch_filter(alarm_name, metric.key)
    if query is not None:
        keys += [key for key in watched(query, start - WATCH_ACTIVITY_MARGIN)
                 if key != metric.key]
    if metric.extended:
        if samples is None:
            return None  # PutMetricAlarm refuses such alarms where values are not kept
        return extended_datapoints(
            [bucket for key in keys
             for bucket in samples(key, start, end, metric.period, metric.unit)],
            metric.statistic)
    # Through the module, so that a profiler (bench/alarms.py) can wrap it.
    return alarm_evaluation.datapoints(
        [bucket for key in keys
         for bucket in aggregate(key, start, end, metric.period, metric.unit)],
        metric.statistic)


def math_datapoints(rule: MetricAlarmRule, start: datetime, end: datetime, now: datetime,
                    points_of: Callable[[MetricStat], list[alarm_evaluation.Datapoint] | None],
                    ) -> list[alarm_evaluation.Datapoint] | None:
    """The datapoints of a metric-math alarm's returned expression in ``[start, end)``:
    its metrics read with ``points_of``, its expressions evaluated on the alarm's grid as
    GetMetricData evaluates them.  A period where the expression has no value (a division
    by zero, say) is missing data."""
    planned = mq.plan(rule.queries)  # checked when the alarm was put
    found: dict[str, mq.Result] = {}
    for query in rule.queries:
        if query.metric_stat is None:
            continue
        points = points_of(query.metric_stat)
        if points is None:
            return None
        points.sort(key=lambda p: p.timestamp)
        found[query.id] = mq.stat_series(query, [p.timestamp for p in points],
                                         [p.value for p in points], now=now)
    mq.evaluate(rule.queries, planned, found, start=start, end=end, now=now, align=False)
    (returned,) = [q for q in rule.queries if q.return_data]
    (series,) = mq.each(found[returned.id])
    return [alarm_evaluation.Datapoint(t, v, None)
            for t, v in zip(series.timestamps, series.values, strict=True)]
