"""AWS dicts <-> alarm dataclasses, with the checks the botocore model cannot express.

The model already enforced types, lengths, enums and required members; what is checked
here is what AWS checks beyond it (the error codes are AWS's; where AWS's exact wording is
not known, the message says plainly what is wrong):
- PutMetricAlarm: exactly one of a single metric (MetricName + Namespace + Period + one of
  Statistic / ExtendedStatistic) or ``Metrics``; Period 10, 30 or a multiple of 60;
  EvaluationPeriods x Period at most one day; DatapointsToAlarm at most EvaluationPeriods;
  TreatMissingData and EvaluateLowSampleCountPercentile from their value sets; a
  Threshold for the four threshold comparisons; actions that are ARNs or http(s) URLs.
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

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch.views import check_namespace, dimensions_from_aws
from cfn_gateway.domain import alarms as al
from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain import extended_statistics as xs
from cfn_gateway.domain import metric_math as mm
from cfn_gateway.domain import metric_queries as mq
from cfn_gateway.domain.alarms import (
    Alarm,
    AlarmState,
    CompositeRule,
    HistoryItem,
    MetricAlarmRule,
    MetricQuery,
    MetricStat,
)
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.statistics import parse_percentile

MAX_EVALUATED_SECONDS = 86400
NOT_YET_SUPPORTED = ("EvaluationWindow", "EvaluationCriteria", "WarmUpConfiguration",
                     "EvaluationInterval", "ActionConfiguration")
#: Periods a metric alarm accepts below a minute (AWS: high-resolution alarms).
ALARM_SUB_MINUTE_PERIODS = (10, 30)


# --- ARNs ---------------------------------------------------------------------------------

def alarm_arn(region: str, project_id: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{project_id}:alarm:{name}"


def alarm_name_from_arn(arn: str, region: str, project_id: str) -> str | None:
    """The alarm an ARN names, if it is an alarm ARN of this region and project."""
    prefix = alarm_arn(region, project_id, "")
    if not arn.startswith(prefix) or len(arn) == len(prefix):
        return None
    return arn[len(prefix):]


def check_action(action: str, member: str) -> None:
    """An action must be an ARN (``arn:partition:service:region:account:resource``) or an
    http(s) URL (this gateway's webhook actions)."""
    if action.startswith(("http://", "https://")):
        parts = urlsplit(action)
        if not parts.hostname or any(c.isspace() for c in action):
            raise errors.ValidationError(f"Invalid URL in {member}: {action}")
        return
    parts = action.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        raise errors.ValidationError(f"Invalid arn syntax: {action}")


def _actions(params: dict[str, Any], name: str) -> tuple[str, ...]:
    actions = tuple(params.get(name) or ())
    for i, action in enumerate(actions, 1):
        check_action(action, f"{name}.member.{i}")
    return actions


# --- PutMetricAlarm / PutCompositeAlarm -------------------------------------------------

def check_alarm_name(name: str) -> None:
    if not name.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise errors.ValidationError(
            f"The value {name!r} for parameter AlarmName is invalid: alarm names must "
            "contain only printable ASCII characters.")


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


def alarm_from_aws(params: dict[str, Any], arn: str, now: datetime,
                   metric_rule: MetricAlarmRule | None = None,
                   composite_rule: CompositeRule | None = None) -> Alarm:
    """The alarm a Put*Alarm request defines (state: a new alarm's)."""
    check_alarm_name(params["AlarmName"])
    return Alarm(
        name=params["AlarmName"],
        arn=arn,
        configuration_updated_at=now,
        state=AlarmState.initial(now),
        description=params.get("AlarmDescription"),
        actions_enabled=params.get("ActionsEnabled", True),
        ok_actions=_actions(params, "OKActions"),
        alarm_actions=_actions(params, "AlarmActions"),
        insufficient_data_actions=_actions(params, "InsufficientDataActions"),
        metric_rule=metric_rule,
        composite_rule=composite_rule,
    )


def tags_from_aws(items: Sequence[dict[str, Any]] | None) -> list[tuple[str, str]]:
    tags = [(item["Key"], item.get("Value", "")) for item in items or ()]
    keys = [k for k, _ in tags]
    if len(set(keys)) != len(keys):
        raise errors.InvalidParameterValue("Duplicate tag keys are not allowed.")
    if len(tags) > 50:
        raise errors.InvalidParameterValue("A resource can have at most 50 tags.")
    return tags


def tags_to_aws(tags: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def check_reason_data(text: str | None) -> None:
    if text is None:
        return
    try:
        json.loads(text)
    except ValueError:
        raise errors.InvalidFormat("StateReasonData is not valid JSON.") from None


# --- responses ----------------------------------------------------------------------------

def _dimensions_to_aws(key: MetricKey) -> list[dict[str, str]]:
    return [{"Name": n, "Value": v} for n, v in key.dimensions]


def _common_to_aws(alarm: Alarm) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.arn,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_at,
        "ActionsEnabled": alarm.actions_enabled,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "StateValue": alarm.state.value,
        "StateReason": alarm.state.reason,
        "StateUpdatedTimestamp": alarm.state.updated_at,
        "StateTransitionedTimestamp": alarm.state.transitioned_at,
    }
    if alarm.description is not None:
        out["AlarmDescription"] = alarm.description
    if alarm.state.reason_data:
        out["StateReasonData"] = alarm.state.reason_data
    return out


def metric_alarm_to_aws(alarm: Alarm) -> dict[str, Any]:
    rule = alarm.metric_rule
    assert rule is not None
    out = _common_to_aws(alarm)
    if rule.metric is not None:
        out.update({
            "MetricName": rule.metric.key.name,
            "Namespace": rule.metric.key.namespace,
            "Dimensions": _dimensions_to_aws(rule.metric.key),
            "Period": rule.metric.period,
        })
        out["ExtendedStatistic" if rule.metric.extended else "Statistic"] = (
            rule.metric.statistic)
        if rule.metric.unit is not None:
            out["Unit"] = rule.metric.unit
    else:
        out["Dimensions"] = []
        out["Metrics"] = [_query_to_aws(q) for q in rule.queries]
    out.update({
        "EvaluationPeriods": rule.evaluation_periods,
        "DatapointsToAlarm": rule.datapoints_to_alarm,
        "ComparisonOperator": rule.comparison,
        "TreatMissingData": rule.treat_missing_data,
    })
    if rule.threshold is not None:
        out["Threshold"] = rule.threshold
    if rule.evaluate_low_sample_count_percentile is not None:
        out["EvaluateLowSampleCountPercentile"] = rule.evaluate_low_sample_count_percentile
    return out


def _query_to_aws(query: MetricQuery) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": query.id, "ReturnData": query.return_data}
    if query.metric_stat is not None:
        stat = query.metric_stat
        out["MetricStat"] = {
            "Metric": {"Namespace": stat.key.namespace, "MetricName": stat.key.name,
                       "Dimensions": _dimensions_to_aws(stat.key)},
            "Period": stat.period,
            "Stat": stat.statistic,
        }
        if stat.unit is not None:
            out["MetricStat"]["Unit"] = stat.unit
    for member, value in (("Expression", query.expression), ("Label", query.label),
                          ("Period", query.period), ("AccountId", query.account_id)):
        if value is not None:
            out[member] = value
    return out


def composite_alarm_to_aws(alarm: Alarm) -> dict[str, Any]:
    rule = alarm.composite_rule
    assert rule is not None
    out = _common_to_aws(alarm)
    out["AlarmRule"] = rule.expression
    if rule.actions_suppressor is not None:
        out.update({
            "ActionsSuppressor": rule.actions_suppressor,
            "ActionsSuppressorWaitPeriod": rule.suppressor_wait_period,
            "ActionsSuppressorExtensionPeriod": rule.suppressor_extension_period,
        })
    if alarm.actions_suppressed_by is not None:
        out["ActionsSuppressedBy"] = alarm.actions_suppressed_by
        out["ActionsSuppressedReason"] = alarm.actions_suppressed_reason or ""
    return out


def history_item_to_aws(item: HistoryItem) -> dict[str, Any]:
    return {
        "AlarmName": item.alarm_name,
        "AlarmType": item.alarm_type,
        "Timestamp": item.timestamp,
        "HistoryItemType": item.item_type,
        "HistorySummary": item.summary,
        "HistoryData": item.data,
    }
