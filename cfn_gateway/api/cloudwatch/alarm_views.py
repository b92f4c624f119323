"""AWS dicts <-> alarm dataclasses, with the checks the botocore model cannot express.

The model already enforced types, lengths, enums and required members; what is checked
here is what AWS checks beyond it (the error codes are AWS's; where AWS's exact wording is
not known, the message says plainly what is wrong):
- PutMetricAlarm's metric rule: ``alarm_rules``.
- Alarm names, actions that are ARNs or http(s) URLs, tags, StateReasonData.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cfn_gateway import errors
from cfn_gateway.domain.alarms import (
    Alarm,
    AlarmState,
    CompositeRule,
    HistoryItem,
    MetricAlarmRule,
    MetricQuery,
)
from cfn_gateway.domain.metrics import MetricKey

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
