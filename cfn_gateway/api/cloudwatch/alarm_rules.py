"""PutMetricAlarm's metric rule from its AWS parameters, with the checks the botocore
model cannot express (the error codes are AWS's; where AWS's exact wording is not known,
the message says plainly what is wrong):

- exactly one of a single metric (MetricName + Namespace + Period + one of Statistic /
  ExtendedStatistic) or ``Metrics``; Period 10, 30 or a multiple of 60; EvaluationPeriods
  x Period at most one day; DatapointsToAlarm at most EvaluationPeriods; TreatMissingData
  and EvaluateLowSampleCountPercentile from their value sets; a Threshold for the four
  threshold comparisons.
- ``Metrics``: metrics and metric-math expressions, checked as GetMetricData checks them
  (``domain.metric_queries``); exactly one returned, and that one a single time series.
- Extended statistics (ExtendedStatistic, or Stat in a Metrics query): any that
  ``domain.extended_statistics`` computes, where the metric store keeps the values they
  need; a parenthesised one's percentage bounds between 10 % and 90 % (botocore's
  ExtendedStatistic documentation: ``TM(X%:X%)`` "where X is between 10 and 90
  inclusive").  EvaluateLowSampleCountPercentile only with a percentile (``pNN``).
- Features this gateway cannot evaluate yet answer ``NotImplemented`` (501) instead of
  being stored and never evaluated: anomaly-detection bands, Metrics Insights queries,
  extended statistics where the store keeps no values, and the newer EvaluationWindow /
  EvaluationCriteria / WarmUpConfiguration / EvaluationInterval / ActionConfiguration
  members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch.views import check_namespace, dimensions_from_aws
from cfn_gateway.domain import alarms as al
from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain import extended_statistics as xs
from cfn_gateway.domain import metric_math as mm
from cfn_gateway.domain import metric_queries as mq
from cfn_gateway.domain.alarms import MetricAlarmRule, MetricQuery, MetricStat
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.statistics import parse_percentile

MAX_EVALUATED_SECONDS = 86400
NOT_YET_SUPPORTED = ("EvaluationWindow", "EvaluationCriteria", "WarmUpConfiguration",
                     "EvaluationInterval", "ActionConfiguration")
#: Periods a metric alarm accepts below a minute (AWS: high-resolution alarms).
ALARM_SUB_MINUTE_PERIODS = (10, 30)


def _valid_alarm_period(period: int) -> bool:
    return period in ALARM_SUB_MINUTE_PERIODS or (period >= 60 and period % 60 == 0)


def _statistic(value: str, member: str, keeps_values: bool) -> str:
    """A statistic an alarm may evaluate: a standard one, or an extended one
    (``xs.alarm_accepts``) where the metric store keeps the values (``keeps_values``)."""
    if value in al.STANDARD_STATISTICS:
        return value
    if not xs.alarm_accepts(value):
        raise errors.InvalidParameterValue(
            f"The value {value} for parameter {member} is invalid.")
    if not keeps_values:
        raise errors.NotImplemented(
            f"Alarms on extended statistics ({member}) need the values of each period, "
            "which this gateway is configured not to keep ([gnocchi] keep_values).")
    return value


def _metric_stat(params: dict[str, Any], keeps_values: bool) -> MetricStat:
    for member in ("MetricName", "Namespace", "Period"):
        if params.get(member) is None:
            raise errors.ValidationError(
                f"The parameter {member} is required for an alarm on a single metric.")
    statistic, extended = params.get("Statistic"), params.get("ExtendedStatistic")
    if (statistic is None) == (extended is None):
        raise errors.InvalidParameterCombination(
            "Exactly one of the parameters Statistic and ExtendedStatistic must be "
            "specified.")
    check_namespace(params["Namespace"], reserved_ok=True)
    if not dims.valid_metric_name(params["MetricName"]):
        raise errors.InvalidParameterValue(
            f"The value {params['MetricName']} for parameter MetricName is invalid.")
    dimensions = dimensions_from_aws(params.get("Dimensions"))
    if dims.has_duplicate_names(dimensions):
        raise errors.InvalidParameterValue("No Metric may specify the same dimension twice.")
    return MetricStat(
        key=MetricKey.of(params["Namespace"], params["MetricName"], dimensions),
        period=params["Period"],
        statistic=statistic if extended is None else _statistic(
            extended, "ExtendedStatistic", keeps_values),
        unit=params.get("Unit"),
    )


def _metric_queries(items: Sequence[dict[str, Any]],
                    keeps_values: bool) -> tuple[MetricQuery, ...]:
    """The ``Metrics`` of a metric-math alarm: metrics and expressions, exactly one of them
    returned, and that one a single time series (``metric_queries.plan`` checks the
    expressions as GetMetricData does)."""
    queries = [_metric_query(item, f"Metrics.member.{i}", keeps_values)
               for i, item in enumerate(items, 1)]
    returned = [q for q in queries if q.return_data]
    if len(returned) != 1:
        raise errors.ValidationError(
            "Exactly one element of the Metrics list must have ReturnData set to true.")
    if len({q.id for q in queries}) != len(queries):
        raise errors.ValidationError("The Ids of the Metrics list must be unique.")
    try:
        planned = mq.plan(queries)
    except mm.MathError as exc:
        if exc.unsupported:
            raise errors.NotImplemented(str(exc)) from None
        raise errors.ValidationError(str(exc)) from None
    (alarmed,) = returned
    if planned.kinds[alarmed.id] is not mm.Kind.SERIES:
        raise errors.ValidationError(
            f"The expression {alarmed.id} that the alarm watches must return a single time "
            "series, not an array of them.")
    if alarmed.metric_stat is None and alarmed.period is None and not any(
            q.metric_stat for q in queries):
        raise errors.ValidationError(
            f"The Period of {alarmed.id} must be given: the alarm reads no metric to take "
            "it from.")
    return tuple(queries)


def _metric_query(item: dict[str, Any], member: str, keeps_values: bool) -> MetricQuery:
    query_id = item["Id"]
    if not mq.QUERY_ID.fullmatch(query_id):
        raise errors.ValidationError(
            f"The value {query_id} for parameter {member}.Id is invalid: an Id starts with a "
            "lower-case letter and holds only letters, digits and underscores.")
    stat, expression = item.get("MetricStat"), item.get("Expression")
    if (stat is None) == (expression is None):
        raise errors.ValidationError(f"{member} must specify either Expression or MetricStat.")
    period = item.get("Period")
    if period is not None and not _valid_alarm_period(period):
        raise errors.ValidationError(
            f"The parameter {member}.Period must be 10, 30 or a multiple of 60.")
    common = {"id": query_id, "label": item.get("Label"),
              "return_data": item.get("ReturnData", True), "period": period,
              "account_id": item.get("AccountId")}
    if expression is not None:
        if mq.is_insights_query(expression):
            raise errors.NotImplemented(
                f"Alarms on Metrics Insights queries ({member}.Expression) are not "
                "implemented by this gateway; use metric math.")
        return MetricQuery(**common, expression=expression)
    metric = stat["Metric"]
    if metric.get("MetricName") is None or metric.get("Namespace") is None:
        raise errors.ValidationError(
            f"{member}.MetricStat.Metric must specify MetricName and Namespace.")
    if not _valid_alarm_period(stat["Period"]):
        raise errors.ValidationError(
            f"The parameter {member}.MetricStat.Period must be 10, 30 or a multiple of 60.")
    return MetricQuery(**common, metric_stat=MetricStat(
        key=MetricKey.of(metric["Namespace"], metric["MetricName"],
                         dimensions_from_aws(metric.get("Dimensions"))),
        period=stat["Period"],
        statistic=_statistic(stat["Stat"], f"{member}.MetricStat.Stat", keeps_values),
        unit=stat.get("Unit")))


def metric_rule_from_aws(params: dict[str, Any], keeps_values: bool) -> MetricAlarmRule:
    """The rule of a PutMetricAlarm; ``keeps_values``: whether the metric store keeps the
    values extended statistics are computed from (``MetricStore.keeps_values``)."""
    for member in NOT_YET_SUPPORTED:
        if params.get(member) is not None:
            raise errors.NotImplemented(
                f"The parameter {member} is not implemented by this gateway yet.")
    single = any(params.get(m) is not None for m in (
        "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period",
        "Unit"))
    queries_given = bool(params.get("Metrics"))
    if single == queries_given:
        raise errors.ValidationError(
            "Exactly one of MetricName (with Namespace, Period and Statistic) and Metrics "
            "must be specified.")
    comparison = params["ComparisonOperator"]
    if comparison in al.BAND_COMPARISONS or params.get("ThresholdMetricId") is not None:
        raise errors.NotImplemented(
            "Anomaly detection band alarms (ThresholdMetricId, "
            f"{'/'.join(al.BAND_COMPARISONS)}) are not implemented by this gateway yet.")
    if params.get("Threshold") is None:
        raise errors.ValidationError(
            f"The parameter Threshold is required with ComparisonOperator {comparison}.")
    metric = _metric_stat(params, keeps_values) if single else None
    queries = () if single else _metric_queries(params["Metrics"], keeps_values)
    period = metric.period if metric else MetricAlarmRule(
        comparison, 1, 1, queries=queries).period
    if not _valid_alarm_period(period):
        raise errors.ValidationError("The parameter Period must be 10, 30 or a multiple of 60.")
    evaluation_periods = params["EvaluationPeriods"]
    if evaluation_periods * period > MAX_EVALUATED_SECONDS:
        raise errors.ValidationError(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period "
            "must be <= 86400)")
    datapoints_to_alarm = params.get("DatapointsToAlarm") or evaluation_periods
    if datapoints_to_alarm > evaluation_periods:
        raise errors.ValidationError(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
    treat = params.get("TreatMissingData") or al.DEFAULT_TREAT_MISSING_DATA
    if treat not in al.TREAT_MISSING_DATA:
        raise errors.ValidationError(
            f"The value {treat} for parameter TreatMissingData is invalid: it must be one "
            f"of {', '.join(al.TREAT_MISSING_DATA)}.")
    low_samples = params.get("EvaluateLowSampleCountPercentile") or None
    if low_samples is not None:
        if low_samples not in al.LOW_SAMPLE_COUNT_MODES:
            raise errors.ValidationError(
                f"The value {low_samples} for parameter EvaluateLowSampleCountPercentile is "
                "invalid: it must be evaluate or ignore.")
        if metric is None or parse_percentile(metric.statistic) is None:
            raise errors.ValidationError(
                "EvaluateLowSampleCountPercentile applies only to alarms on a percentile "
                "ExtendedStatistic.")
    return MetricAlarmRule(
        comparison=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        threshold=float(params["Threshold"]),
        metric=metric,
        queries=queries,
        threshold_metric_id=None,
        treat_missing_data=treat,
        evaluate_low_sample_count_percentile=low_samples,
    )
