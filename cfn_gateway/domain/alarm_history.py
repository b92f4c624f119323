"""DescribeAlarmHistory items in AWS's form: summaries and the HistoryData JSON documents.

AWS writes three kinds of items for metric and composite alarms:
- ConfigurationUpdate: summary ``Alarm "NAME" created|updated|deleted``; data
  ``{"type": "Create"|"Update"|"Delete", "version": "1.0", "createdAlarm"|"updatedAlarm"|
  "deletedAlarm": {...}}`` (an update also carries ``originalUpdatedFields``: the old values
  of what changed).  The alarm document uses AWS's camelCase member names.
- StateUpdate: summary ``Alarm updated from OLD to NEW``; data ``{"version": "1.0",
  "oldState": {"stateValue", "stateReason"[, "stateReasonData"]}, "newState": {...}}``.
- Action: summary ``Successfully executed action ARN`` or ``Failed to execute action ARN.
  Received error: "..."``; data ``{"actionState": "Succeeded"|"Failed",
  "stateUpdateTimestamp": <ms>, "notificationResource": ARN[, "error": "..."]}``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cfn_gateway.domain.alarms import (
    ACTION,
    CONFIGURATION_UPDATE,
    STATE_UPDATE,
    Alarm,
    AlarmState,
    HistoryItem,
    MetricQuery,
)
from cfn_gateway.domain.periods import iso_millis, to_millis

HISTORY_VERSION = "1.0"


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def alarm_document(alarm: Alarm) -> dict[str, Any]:
    """The alarm as AWS shows it inside ConfigurationUpdate history data."""
    doc: dict[str, Any] = {
        "alarmName": alarm.name,
        "alarmArn": alarm.arn,
        "alarmDescription": alarm.description,
        "actionsEnabled": alarm.actions_enabled,
        "okactions": list(alarm.ok_actions),
        "alarmActions": list(alarm.alarm_actions),
        "insufficientDataActions": list(alarm.insufficient_data_actions),
        "alarmConfigurationUpdatedTimestamp": iso_millis(alarm.configuration_updated_at),
    }
    rule = alarm.metric_rule
    if rule is not None:
        if rule.metric is not None:
            doc.update({
                "namespace": rule.metric.key.namespace,
                "metricName": rule.metric.key.name,
                "dimensions": [{"name": n, "value": v} for n, v in rule.metric.key.dimensions],
                "period": rule.metric.period,
                "unit": rule.metric.unit,
            })
            stat_member = "extendedStatistic" if rule.metric.extended else "statistic"
            doc[stat_member] = rule.metric.statistic
        if rule.queries:
            doc["metrics"] = [_query_document(q) for q in rule.queries]
        doc.update({
            "evaluationPeriods": rule.evaluation_periods,
            "datapointsToAlarm": rule.datapoints_to_alarm,
            "threshold": rule.threshold,
            "thresholdMetricId": rule.threshold_metric_id,
            "comparisonOperator": rule.comparison,
            "treatMissingData": rule.treat_missing_data,
            "evaluateLowSampleCountPercentile": rule.evaluate_low_sample_count_percentile,
        })
    composite = alarm.composite_rule
    if composite is not None:
        doc.update({
            "alarmRule": composite.expression,
            "actionsSuppressor": composite.actions_suppressor,
            "actionsSuppressorWaitPeriod": composite.suppressor_wait_period,
            "actionsSuppressorExtensionPeriod": composite.suppressor_extension_period,
        })
    return {k: v for k, v in doc.items() if v is not None}


def _query_document(query: MetricQuery) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": query.id, "returnData": query.return_data}
    if query.metric_stat is not None:
        stat = query.metric_stat
        doc["metricStat"] = {
            "metric": {
                "namespace": stat.key.namespace,
                "metricName": stat.key.name,
                "dimensions": [{"name": n, "value": v} for n, v in stat.key.dimensions],
            },
            "period": stat.period,
            "stat": stat.statistic,
        }
        if stat.unit:
            doc["metricStat"]["unit"] = stat.unit
    for key, value in (("expression", query.expression), ("label", query.label),
                       ("period", query.period), ("accountId", query.account_id)):
        if value is not None:
            doc[key] = value
    return doc


def configuration_change(old: Alarm | None, new: Alarm) -> HistoryItem:
    """The item of a PutMetricAlarm / PutCompositeAlarm / Enable|DisableAlarmActions."""
    document = alarm_document(new)
    if old is None:
        data: dict[str, Any] = {"type": "Create", "version": HISTORY_VERSION,
                                "createdAlarm": document}
        verb = "created"
    else:
        before = alarm_document(old)
        changed = {k: before.get(k) for k in sorted(set(before) | set(document))
                   if before.get(k) != document.get(k)}
        data = {"type": "Update", "version": HISTORY_VERSION,
                "originalUpdatedFields": changed, "updatedAlarm": document}
        verb = "updated"
    return HistoryItem(new.name, new.alarm_type, new.configuration_updated_at,
                       CONFIGURATION_UPDATE, f'Alarm "{new.name}" {verb}', _json(data))


def deletion(alarm: Alarm, now: datetime) -> HistoryItem:
    data = {"type": "Delete", "version": HISTORY_VERSION, "deletedAlarm": alarm_document(alarm)}
    return HistoryItem(alarm.name, alarm.alarm_type, now, CONFIGURATION_UPDATE,
                       f'Alarm "{alarm.name}" deleted', _json(data))


def _state_document(state: AlarmState) -> dict[str, Any]:
    doc: dict[str, Any] = {"stateValue": state.value, "stateReason": state.reason}
    if state.reason_data:
        try:
            doc["stateReasonData"] = json.loads(state.reason_data)
        except ValueError:
            doc["stateReasonData"] = state.reason_data
    return doc


def state_change(alarm: Alarm, old: AlarmState, new: AlarmState) -> HistoryItem:
    data = {"version": HISTORY_VERSION, "oldState": _state_document(old),
            "newState": _state_document(new)}
    return HistoryItem(alarm.name, alarm.alarm_type, new.updated_at, STATE_UPDATE,
                       f"Alarm updated from {old.value} to {new.value}", _json(data))


def action_result(alarm_name: str, alarm_type: str, action: str, state_updated_at: datetime,
                  finished_at: datetime, error: str | None) -> HistoryItem:
    """The item recording one action's outcome (``error`` None: it succeeded)."""
    data: dict[str, Any] = {
        "actionState": "Succeeded" if error is None else "Failed",
        "stateUpdateTimestamp": to_millis(state_updated_at),
        "notificationResource": action,
    }
    if error is None:
        summary = f"Successfully executed action {action}"
    else:
        data["error"] = error
        summary = f'Failed to execute action {action}. Received error: "{error}"'
    return HistoryItem(alarm_name, alarm_type, finished_at, ACTION, summary, _json(data))
