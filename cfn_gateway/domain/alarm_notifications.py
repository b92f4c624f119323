"""The message an alarm action delivers about a state change, in AWS's notification form.

CloudWatch publishes a JSON document to an alarm's SNS topics when the alarm changes state;
this gateway POSTs the same document to http(s) actions, so receivers written for AWS's
alarm notifications read it unchanged: AlarmName, AlarmDescription, AWSAccountId (the
project), AlarmConfigurationUpdatedTimestamp, NewStateValue, NewStateReason,
StateChangeTime, Region, AlarmArn, OldStateValue, OKActions, AlarmActions,
InsufficientDataActions and, for metric alarms, Trigger (the metric, statistic, period,
threshold and comparison) or, for composite alarms, AlarmRule.  One field is the
gateway's own: ``NewStateReasonData``, the new state's reason data as DescribeAlarms
shows it (JSON text), present when the state has any: a step scaling policy run by the
alarm reads its recent data points from it, and receivers written for AWS ignore it.
"""

from __future__ import annotations

import json
from typing import Any

from cfn_gateway.domain.alarms import Alarm, AlarmState
from cfn_gateway.domain.periods import iso_millis


def _trigger(alarm: Alarm) -> dict[str, Any] | None:
    rule = alarm.metric_rule
    if rule is None:
        return None
    trigger: dict[str, Any] = {
        "EvaluationPeriods": rule.evaluation_periods,
        "DatapointsToAlarm": rule.datapoints_to_alarm,
        "ComparisonOperator": rule.comparison,
        "Threshold": rule.threshold,
        "TreatMissingData": rule.treat_missing_data,
        "EvaluateLowSampleCountPercentile": rule.evaluate_low_sample_count_percentile or "",
    }
    if rule.metric is not None:
        metric = rule.metric
        trigger.update({
            "MetricName": metric.key.name,
            "Namespace": metric.key.namespace,
            "StatisticType": "ExtendedStatistic" if metric.extended else "Statistic",
            ("ExtendedStatistic" if metric.extended else "Statistic"): (
                metric.statistic if metric.extended else metric.statistic.upper()),
            "Unit": metric.unit,
            "Dimensions": [{"value": v, "name": n} for n, v in metric.key.dimensions],
            "Period": metric.period,
        })
    return trigger


def state_change_message(alarm: Alarm, old: AlarmState, new: AlarmState,
                         region: str, project_id: str) -> str:
    """The JSON text delivered to the actions of ``alarm`` for a change old -> new."""
    message: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": project_id,
        "AlarmConfigurationUpdatedTimestamp": iso_millis(alarm.configuration_updated_at),
        "NewStateValue": new.value,
        "NewStateReason": new.reason,
        "StateChangeTime": iso_millis(new.updated_at),
        "Region": region,
        "AlarmArn": alarm.arn,
        "OldStateValue": old.value,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
    }
    if new.reason_data:
        message["NewStateReasonData"] = new.reason_data
    trigger = _trigger(alarm)
    if trigger is not None:
        message["Trigger"] = trigger
    if alarm.composite_rule is not None:
        message["AlarmRule"] = alarm.composite_rule.expression
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
