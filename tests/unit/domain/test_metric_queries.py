"""Metric data queries (``domain.metric_queries``) and metric-math alarms
(``alarm_inputs.math_datapoints``): planning, evaluation on an alarm's grid, and the
datapoints an alarm then decides on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.domain import alarm_inputs
from cfn_gateway.domain import metric_math as mm
from cfn_gateway.domain import metric_queries as mq
from cfn_gateway.domain.alarm_evaluation import Datapoint, evaluation_window
from cfn_gateway.domain.alarms import Alarm, AlarmState, MetricAlarmRule
from cfn_gateway.domain.metrics import BucketStats, MetricKey, StatisticSet

NOW = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def stat_query(query_id: str, name: str, statistic: str = "Sum", period: int = 60,
               **extra) -> mq.MetricQuery:
    return mq.MetricQuery(query_id, mq.MetricStat(MetricKey.of("NS", name, ()), period,
                                                  statistic), return_data=False, **extra)


def math_rule(expression: str, *queries: mq.MetricQuery, evaluation_periods: int = 2,
              period: int | None = None) -> MetricAlarmRule:
    return MetricAlarmRule(
        comparison="GreaterThanThreshold", evaluation_periods=evaluation_periods,
        datapoints_to_alarm=evaluation_periods, threshold=5.0,
        queries=(*queries, mq.MetricQuery("e", expression=expression, period=period)))


def test_plan_orders_expressions_and_knows_their_kinds():
    queries = [stat_query("a", "A"), stat_query("b", "B"),
               mq.MetricQuery("total", expression="e2 + 1"),
               mq.MetricQuery("e2", expression="a + b"),
               mq.MetricQuery("all", expression="METRICS()")]
    planned = mq.plan(queries)
    assert planned.order.index("e2") < planned.order.index("total")
    assert planned.kinds["total"] is mm.Kind.SERIES
    assert planned.kinds["all"] is mm.Kind.ARRAY


@pytest.mark.parametrize("expression", ["a +", "a + nope", "a / (", "SUM(a, b, c)"])
def test_plan_refuses_bad_expressions(expression):
    with pytest.raises(mm.MathError):
        mq.plan([stat_query("a", "A"), mq.MetricQuery("e", expression=expression)])


def test_plan_marks_refused_functions_unsupported():
    with pytest.raises(mm.MathError) as caught:
        mq.plan([mq.MetricQuery("e", expression="SEARCH('{NS} A', 'Sum', 60)")])
    assert caught.value.unsupported


@pytest.mark.parametrize(("text", "insights"), [
    ("SELECT AVG(x) FROM NS", True), ("  select max(x) from NS", True),
    ("a + b", False), ("SELECTED + 1", False)])
def test_insights_queries_are_told_apart(text, insights):
    assert mq.is_insights_query(text) is insights


def test_stat_series_labels():
    query = stat_query("a", "Requests")
    assert mq.stat_series(query, [], []).label == "Requests"
    labelled = mq.MetricQuery("a", query.metric_stat, label="Max ${MAX}")
    t = NOW.replace(second=0)
    assert mq.stat_series(labelled, [t], [4.0]).label == "Max 4"


def sums(by_minute: dict[int, float]):
    """An ``Aggregate`` giving the Sum ``by_minute`` (minutes before the window end)."""
    def aggregate(key, start, end, period, unit):
        assert period == 60
        return [BucketStats(end - (ago + 1) * MINUTE, "None",
                            StatisticSet(1.0, value, value, value))
                for ago, value in by_minute.get(key.name, {}).items()
                if start <= end - (ago + 1) * MINUTE < end]
    return aggregate


def evaluate(rule: MetricAlarmRule, data: dict[str, dict[int, float]]):
    alarm = Alarm(name="rate", arn="arn", configuration_updated_at=NOW,
                  state=AlarmState.initial(NOW), metric_rule=rule)
    return alarm_inputs.evaluate_alarm(alarm, NOW, sums(data), lambda query, since: [])


def test_math_alarm_evaluates_its_expression_per_period():
    rule = math_rule("100 * errors / requests", stat_query("errors", "Errors"),
                     stat_query("requests", "Requests"))
    outcome = evaluate(rule, {"Errors": {0: 9.0, 1: 12.0, 2: 1.0},
                              "Requests": {0: 100.0, 1: 150.0, 2: 100.0}})
    assert outcome is not None and outcome.state == "ALARM"
    assert [e.datapoint.value for e in outcome.evaluated] == [9.0, 8.0]
    assert all(e.datapoint.sample_count is None for e in outcome.evaluated)
    assert '"sampleCount"' not in outcome.reason_data
    assert '"statistic"' not in outcome.reason_data


def test_math_alarm_periods_without_a_value_are_missing_data():
    rule = math_rule("errors / requests", stat_query("errors", "Errors"),
                     stat_query("requests", "Requests"))
    outcome = evaluate(rule, {"Errors": {0: 3.0, 1: 3.0}, "Requests": {0: 0.0, 1: 0.0}})
    assert outcome is not None and outcome.state == "INSUFFICIENT_DATA"
    assert [e.datapoint for e in outcome.evaluated] == [None, None]


def test_math_alarm_missing_metric_points_count_as_zero():
    """AWS: a point one metric has and another lacks is computed with 0 for the missing."""
    rule = math_rule("errors + requests", stat_query("errors", "Errors"),
                     stat_query("requests", "Requests"))
    outcome = evaluate(rule, {"Errors": {0: 6.0, 1: 7.0}, "Requests": {0: 1.0}})
    assert [e.datapoint.value for e in outcome.evaluated] == [7.0, 7.0]


def test_math_alarm_on_an_expression_of_its_own_period():
    """An expression without metrics (TIME_SERIES) needs its own Period; its points lie on
    the alarm's grid."""
    rule = math_rule("TIME_SERIES(6)", period=60)
    start, end = evaluation_window(rule, NOW)
    points = alarm_inputs.math_datapoints(rule, start, end, NOW, lambda metric: [])
    assert [p.timestamp for p in points] == [start + n * MINUTE for n in range(4)]
    assert {p.value for p in points} == {6.0}


def test_math_alarm_uses_the_metrics_statistics():
    rule = math_rule("m * 2", stat_query("m", "Load", statistic="Maximum"))
    start, end = evaluation_window(rule, NOW)
    asked = []

    def points_of(metric):
        asked.append(metric.statistic)
        return [Datapoint(end - MINUTE, 4.0, 3.0)]

    points = alarm_inputs.math_datapoints(rule, start, end, NOW, points_of)
    assert asked == ["Maximum"]
    assert points == [Datapoint(end - MINUTE, 8.0, None)]


def test_math_alarm_without_values_for_an_extended_statistic_is_not_evaluated():
    rule = math_rule("m * 2", stat_query("m", "Load", statistic="p90"))
    alarm = Alarm(name="p", arn="arn", configuration_updated_at=NOW,
                  state=AlarmState.initial(NOW), metric_rule=rule)
    assert alarm_inputs.evaluate_alarm(alarm, NOW, sums({}), lambda q, s: []) is None
