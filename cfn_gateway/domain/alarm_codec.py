"""JSON codec of alarm definitions: how an ``Alarm`` is written to and read from storage.

``alarm_to_dict`` / ``alarm_from_dict`` give a plain JSON-ready dict of a whole alarm, state
included; ``definition_to_json`` / ``definition_from_json`` give the stored text of an
alarm's definition alone, without its state (a store keeps the state in columns of its own,
so that a state change never rewrites the definition and an update of the definition never
touches the state).

Format (version 1, the ``"v"`` key): snake_case keys named after the dataclass fields;
every optional field is present (``null`` when None); tuples are JSON arrays (dimensions as
``[name, value]`` pairs, in the key's order); date-times are integer milliseconds since the
epoch and come back as aware UTC date-times (sub-millisecond parts are dropped).  The JSON
text is compact, has sorted keys and keeps non-ASCII characters as they are; NaN and
infinities are refused.  Readers refuse other versions and malformed documents with
``ValueError``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cfn_gateway.domain.alarms import (
    DEFAULT_TREAT_MISSING_DATA,
    Alarm,
    AlarmState,
    CompositeRule,
    MetricAlarmRule,
    MetricQuery,
    MetricStat,
)
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.periods import from_millis, to_millis

FORMAT_VERSION = 1


# --- to dicts ------------------------------------------------------------------------------

def _key_to_dict(key: MetricKey) -> dict[str, Any]:
    return {"namespace": key.namespace, "name": key.name,
            "dimensions": [[name, value] for name, value in key.dimensions]}


def _stat_to_dict(stat: MetricStat | None) -> dict[str, Any] | None:
    if stat is None:
        return None
    return {"key": _key_to_dict(stat.key), "period": stat.period,
            "statistic": stat.statistic, "unit": stat.unit}


def _query_to_dict(query: MetricQuery) -> dict[str, Any]:
    return {
        "id": query.id,
        "metric_stat": _stat_to_dict(query.metric_stat),
        "expression": query.expression,
        "label": query.label,
        "return_data": query.return_data,
        "period": query.period,
        "account_id": query.account_id,
    }


def _metric_rule_to_dict(rule: MetricAlarmRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "comparison": rule.comparison,
        "evaluation_periods": rule.evaluation_periods,
        "datapoints_to_alarm": rule.datapoints_to_alarm,
        "threshold": rule.threshold,
        "metric": _stat_to_dict(rule.metric),
        "queries": [_query_to_dict(q) for q in rule.queries],
        "threshold_metric_id": rule.threshold_metric_id,
        "treat_missing_data": rule.treat_missing_data,
        "evaluate_low_sample_count_percentile": rule.evaluate_low_sample_count_percentile,
    }


def _composite_rule_to_dict(rule: CompositeRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "expression": rule.expression,
        "children": list(rule.children),
        "actions_suppressor": rule.actions_suppressor,
        "suppressor_wait_period": rule.suppressor_wait_period,
        "suppressor_extension_period": rule.suppressor_extension_period,
    }


def state_to_dict(state: AlarmState) -> dict[str, Any]:
    return {
        "value": state.value,
        "reason": state.reason,
        "reason_data": state.reason_data,
        "updated_at": to_millis(state.updated_at),
        "transitioned_at": to_millis(state.transitioned_at),
        "previous_value": state.previous_value,
    }


def _definition_to_dict(alarm: Alarm) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "name": alarm.name,
        "arn": alarm.arn,
        "configuration_updated_at": to_millis(alarm.configuration_updated_at),
        "description": alarm.description,
        "actions_enabled": alarm.actions_enabled,
        "ok_actions": list(alarm.ok_actions),
        "alarm_actions": list(alarm.alarm_actions),
        "insufficient_data_actions": list(alarm.insufficient_data_actions),
        "metric_rule": _metric_rule_to_dict(alarm.metric_rule),
        "composite_rule": _composite_rule_to_dict(alarm.composite_rule),
        "actions_suppressed_by": alarm.actions_suppressed_by,
        "actions_suppressed_reason": alarm.actions_suppressed_reason,
    }


def alarm_to_dict(alarm: Alarm) -> dict[str, Any]:
    """The whole alarm, state included, as a JSON-ready dict."""
    return {**_definition_to_dict(alarm), "state": state_to_dict(alarm.state)}


# --- from dicts ----------------------------------------------------------------------------

def _millis(value: Any) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"not a time in milliseconds: {value!r}")
    return from_millis(value)


def _strings(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise ValueError(f"not a list: {values!r}")
    return tuple(values)


def _key_from_dict(d: dict[str, Any]) -> MetricKey:
    return MetricKey(d["namespace"], d["name"],
                     tuple((name, value) for name, value in d["dimensions"]))


def _stat_from_dict(d: dict[str, Any] | None) -> MetricStat | None:
    if d is None:
        return None
    return MetricStat(_key_from_dict(d["key"]), d["period"], d["statistic"], d.get("unit"))


def _query_from_dict(d: dict[str, Any]) -> MetricQuery:
    return MetricQuery(
        id=d["id"],
        metric_stat=_stat_from_dict(d.get("metric_stat")),
        expression=d.get("expression"),
        label=d.get("label"),
        return_data=d.get("return_data", True),
        period=d.get("period"),
        account_id=d.get("account_id"),
    )


def _metric_rule_from_dict(d: dict[str, Any] | None) -> MetricAlarmRule | None:
    if d is None:
        return None
    threshold = d.get("threshold")
    return MetricAlarmRule(
        comparison=d["comparison"],
        evaluation_periods=d["evaluation_periods"],
        datapoints_to_alarm=d["datapoints_to_alarm"],
        threshold=None if threshold is None else float(threshold),
        metric=_stat_from_dict(d.get("metric")),
        queries=tuple(_query_from_dict(q) for q in d.get("queries", ())),
        threshold_metric_id=d.get("threshold_metric_id"),
        treat_missing_data=d.get("treat_missing_data", DEFAULT_TREAT_MISSING_DATA),
        evaluate_low_sample_count_percentile=d.get("evaluate_low_sample_count_percentile"),
    )


def _composite_rule_from_dict(d: dict[str, Any] | None) -> CompositeRule | None:
    if d is None:
        return None
    return CompositeRule(
        expression=d["expression"],
        children=_strings(d.get("children", [])),
        actions_suppressor=d.get("actions_suppressor"),
        suppressor_wait_period=d.get("suppressor_wait_period"),
        suppressor_extension_period=d.get("suppressor_extension_period"),
    )


def state_from_dict(d: dict[str, Any]) -> AlarmState:
    try:
        return AlarmState(
            value=d["value"],
            reason=d["reason"],
            updated_at=_millis(d["updated_at"]),
            transitioned_at=_millis(d["transitioned_at"]),
            reason_data=d.get("reason_data"),
            previous_value=d.get("previous_value"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed alarm state: {exc!r}") from exc


def _definition_from_dict(d: dict[str, Any], state: AlarmState) -> Alarm:
    if not isinstance(d, dict):
        raise ValueError("an alarm definition is a JSON object")
    if d.get("v") != FORMAT_VERSION:
        raise ValueError(f"unsupported alarm format version: {d.get('v')!r}")
    try:
        return Alarm(
            name=d["name"],
            arn=d["arn"],
            configuration_updated_at=_millis(d["configuration_updated_at"]),
            state=state,
            description=d.get("description"),
            actions_enabled=d.get("actions_enabled", True),
            ok_actions=_strings(d.get("ok_actions", [])),
            alarm_actions=_strings(d.get("alarm_actions", [])),
            insufficient_data_actions=_strings(d.get("insufficient_data_actions", [])),
            metric_rule=_metric_rule_from_dict(d.get("metric_rule")),
            composite_rule=_composite_rule_from_dict(d.get("composite_rule")),
            actions_suppressed_by=d.get("actions_suppressed_by"),
            actions_suppressed_reason=d.get("actions_suppressed_reason"),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed alarm definition: {exc!r}") from exc


def alarm_from_dict(d: dict[str, Any]) -> Alarm:
    """The alarm ``alarm_to_dict`` gave this dict for."""
    if not isinstance(d, dict) or not isinstance(d.get("state"), dict):
        raise ValueError("an alarm is a JSON object with a state")
    return _definition_from_dict(d, state_from_dict(d["state"]))


# --- stored text ---------------------------------------------------------------------------

def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def definition_to_json(alarm: Alarm) -> str:
    """The alarm's definition as compact JSON text, without its state."""
    return _dumps(_definition_to_dict(alarm))


def definition_from_json(text: str, state: AlarmState) -> Alarm:
    """The alarm ``definition_to_json`` gave ``text`` for, in ``state``."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"malformed alarm definition: {exc}") from exc
    return _definition_from_dict(document, state)
