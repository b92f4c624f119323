"""Which data a metric alarm evaluates, and its evaluation over them.

A metric alarm reads its own metric (or its metric-math query's single MetricStat) and,
in cfn-push-stats' namespace, the metrics sent for it with ``--watch`` (Heat's watch
rules: ``watch_filter``).  ``evaluate_alarm`` fetches them through callables the caller
supplies (the engine's metric store, or the Aodh plugin's Gnocchi reads) and decides with
``alarm_evaluation``; an alarm on an extended statistic (a percentile ``pNN``, a trimmed
mean ``tm90``, ...) reads the stored samples and computes it per period
(``extended_datapoints``, ``domain.extended_statistics``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from cfn_gateway.domain import alarm_evaluation
from cfn_gateway.domain import extended_statistics as xs
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
    """The metric a metric alarm watches: its own, or its returned query's MetricStat
    (None for an expression, which PutMetricAlarm refuses until metric math exists)."""
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
    metric = alarm_metric(rule)
    if metric is None:
        return None
    start, end = alarm_evaluation.evaluation_window(rule, now)
    keys = [metric.key]
    query = watch_filter(alarm.name, metric.key)
    if query is not None:
        keys += [key for key in watched(query, start - WATCH_ACTIVITY_MARGIN)
                 if key != metric.key]
    if metric.extended:
        if samples is None:
            return None  # a store without values (PutMetricAlarm refuses such alarms)
        points = extended_datapoints(
            [bucket for key in keys
             for bucket in samples(key, start, end, metric.period, metric.unit)],
            metric.statistic)
    else:
        # Through the module, so that a profiler (bench/alarms.py) can wrap it.
        points = alarm_evaluation.datapoints(
            [bucket for key in keys
             for bucket in aggregate(key, start, end, metric.period, metric.unit)],
            metric.statistic)
    return alarm_evaluation.evaluate(rule, points, now, alarm.state.value,
                                     statistic_label=metric.statistic)
