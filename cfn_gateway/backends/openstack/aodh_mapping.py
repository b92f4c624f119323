"""CloudWatch alarms <-> Aodh alarms of the plugin's rule types (pure functions).

Shared by the gateway's Aodh alarm store and by the Aodh plugin (``cfn_gateway.aodh_plugin``)
that evaluates the alarms inside aodh-evaluator and runs their actions inside aodh-notifier.

An AWS alarm is one Aodh alarm of type ``cloudwatch`` (metric alarms) or
``cloudwatch_composite``:

- its id is a uuid5 of (project, alarm name), so an alarm is found by name with one GET and
  the database's primary key keeps names unique in a project (Aodh itself does not);
- ``name`` is the AWS name; Aodh's ``state``, ``state_reason`` and ``state_timestamp`` hold
  StateValue, StateReason and the time of the last change;
- the rule (``cloudwatch_rule`` / ``cloudwatch_composite_rule``) holds, as JSON texts,
  ``definition`` (``alarm_codec.definition_to_json``: everything AWS describes but the
  state), ``state_reason_data``, ``previous_state`` (the AWS state value before the last
  transition), ``tags``, ``action_url`` and ``action_token`` (where and with what the
  plugin's notifier hands an Auto Scaling action back to the gateway:
  ``api/alarm_actions.py``), ``actions_suppressed`` (a composite's
  ActionsSuppressedBy / Reason), ``history_item`` (the AWS history item the write that
  carries it records: Aodh writes the changed rule into its own history entry, and the
  gateway reads the item back from there), ``set_state`` (SetAlarmState: the reason to
  keep and whether to notify; consumed by the plugin's API hook, never stored) and
  ``deleted_at``;
- a deleted alarm stays as a disabled tombstone (``deleted_at`` set, no actions) for the
  history retention time, because Aodh deletes an alarm's history with the alarm and AWS
  keeps it; the gateway hides tombstones and purges them once their history has expired;
  creating the alarm again revives the tombstone with a fresh state;
- the AWS actions stay in the definition.  Aodh's action lists hold ``cloudwatch://actions``
  for each state that has AWS actions while ActionsEnabled is true: Aodh's notifier then
  hands the change to the plugin's notifier, which runs the AWS actions.

History: the plugin writes every StateUpdate and Action item into Aodh's alarm history
with the AWS item under ``HISTORY_KEY`` in the detail; ConfigurationUpdate items arrive
through ``history_item`` in the rule of a create or update.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cfn_gateway.domain import alarm_codec
from cfn_gateway.domain.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Alarm,
    AlarmState,
    HistoryItem,
)
from cfn_gateway.domain.periods import from_millis, to_millis

METRIC_TYPE = "cloudwatch"
COMPOSITE_TYPE = "cloudwatch_composite"
TYPES = (METRIC_TYPE, COMPOSITE_TYPE)
#: The Aodh action that hands a state change to the plugin's notifier (scheme = entry point).
ACTION_SCHEME = "cloudwatch"
ACTION_URL = f"{ACTION_SCHEME}://actions"
#: Where the plugin puts the AWS history item in an Aodh history entry's detail.
HISTORY_KEY = "cloudwatch"

TO_AODH_STATE = {OK: "ok", ALARM: "alarm", INSUFFICIENT_DATA: "insufficient data"}
FROM_AODH_STATE = {aodh: aws for aws, aodh in TO_AODH_STATE.items()}

_ID_NAMESPACE = uuid.UUID("2f0d1a56-7c1e-5b8e-9a57-cf6a1c0f7e21")

Tag = tuple[str, str]


def alarm_id(project_id: str, name: str) -> str:
    """The Aodh id of the alarm ``name`` of ``project_id``."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{project_id}\0{name}"))


def rule_type(alarm: Alarm) -> str:
    return COMPOSITE_TYPE if alarm.composite_rule is not None else METRIC_TYPE


def rule_key(aodh_type: str) -> str:
    return f"{aodh_type}_rule"


# --- times ---------------------------------------------------------------------------------


def parse_time(value: str | datetime) -> datetime:
    """Aodh's times (ISO text, or naive datetimes inside Aodh) are UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def naive_utc(moment: datetime) -> datetime:
    """A time as Aodh's storage models hold it (naive UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


# --- history items -------------------------------------------------------------------------


def history_to_dict(item: HistoryItem) -> dict[str, Any]:
    return {"alarm_name": item.alarm_name, "alarm_type": item.alarm_type,
            "timestamp": to_millis(item.timestamp), "item_type": item.item_type,
            "summary": item.summary, "data": item.data}


def history_from_dict(d: Any) -> HistoryItem | None:
    if not isinstance(d, dict):
        return None
    try:
        return HistoryItem(alarm_name=d["alarm_name"], alarm_type=d["alarm_type"],
                           timestamp=from_millis(int(d["timestamp"])),
                           item_type=d["item_type"], summary=d["summary"], data=d["data"])
    except (KeyError, TypeError, ValueError):
        return None


def history_detail(item: HistoryItem, aodh_state: str) -> str:
    """The detail of an Aodh history entry the plugin writes: Aodh's own keys (so
    ``openstack alarm-history show`` reads well) and the AWS item."""
    return json.dumps({"state": aodh_state, "transition_reason": item.summary,
                       HISTORY_KEY: history_to_dict(item)})


def history_from_change(change: dict[str, Any]) -> HistoryItem | None:
    """The AWS item of an Aodh history entry (``/v2/query/alarms/history`` row), if any."""
    try:
        detail = json.loads(change.get("detail") or "{}")
    except ValueError:
        return None
    if not isinstance(detail, dict):
        return None
    if HISTORY_KEY in detail:
        return history_from_dict(detail[HISTORY_KEY])
    # creation / rule change: the item travelled in the rule the API stored
    for key in (rule_key(METRIC_TYPE), rule_key(COMPOSITE_TYPE), "rule"):
        rule = detail.get(key)
        if isinstance(rule, dict) and rule.get("history_item"):
            try:
                return history_from_dict(json.loads(rule["history_item"]))
            except ValueError:
                return None
    return None


# --- alarms --------------------------------------------------------------------------------


def aodh_actions(alarm: Alarm, state_value: str) -> list[str]:
    return [ACTION_URL] if alarm.actions_enabled and alarm.actions_for(state_value) else []


def rule_body(alarm: Alarm, tags: Sequence[Tag], history: HistoryItem | None,
              state_reason_data: str | None = None,
              actions_suppressed: str | None = None,
              deleted_at: datetime | None = None,
              previous_state: str | None = None,
              callback: tuple[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "definition": alarm_codec.definition_to_json(alarm),
        "tags": json.dumps([list(tag) for tag in tags]),
    }
    if history is not None:
        body["history_item"] = json.dumps(history_to_dict(history))
    if state_reason_data is not None:
        body["state_reason_data"] = state_reason_data
    if actions_suppressed is not None:
        body["actions_suppressed"] = actions_suppressed
    if deleted_at is not None:
        body["deleted_at"] = str(to_millis(deleted_at))
    if previous_state is not None:
        body["previous_state"] = previous_state
    if callback is not None:
        body["action_url"], body["action_token"] = callback
    return body


def alarm_body(alarm: Alarm, rule: dict[str, Any]) -> dict[str, Any]:
    """The body of a POST or PUT of ``alarm`` to Aodh's ``/v2/alarms`` (a tombstone when
    the rule says it is deleted)."""
    aodh_type = rule_type(alarm)
    live = "deleted_at" not in rule
    return {
        "name": alarm.name,
        "type": aodh_type,
        "description": alarm.description or f"CloudWatch alarm {alarm.name}",
        "enabled": live,
        "state": TO_AODH_STATE[alarm.state.value],
        "ok_actions": aodh_actions(alarm, OK) if live else [],
        "alarm_actions": aodh_actions(alarm, ALARM) if live else [],
        "insufficient_data_actions": aodh_actions(alarm, INSUFFICIENT_DATA) if live else [],
        "repeat_actions": False,
        rule_key(aodh_type): rule,
    }


def rule_of(body: dict[str, Any]) -> dict[str, Any]:
    """The rule of an Aodh alarm (API body, or a storage model's ``as_dict()``)."""
    rule = body.get(rule_key(body.get("type", ""))) or body.get("rule") or {}
    return rule if isinstance(rule, dict) else {}


def deleted_at(body: dict[str, Any]) -> datetime | None:
    """When the alarm was deleted, for a tombstone; None for a live alarm."""
    value = rule_of(body).get("deleted_at")
    try:
        return from_millis(int(value)) if value else None
    except ValueError:
        return None


def state_of(body: dict[str, Any]) -> AlarmState:
    at = parse_time(body["state_timestamp"])
    rule = rule_of(body)
    return AlarmState(value=FROM_AODH_STATE[body["state"]], reason=body.get("state_reason")
                      or "", updated_at=at, transitioned_at=at,
                      reason_data=rule.get("state_reason_data") or None,
                      previous_value=rule.get("previous_state") or None)


def alarm_from_aodh(body: dict[str, Any]) -> Alarm:
    """The AWS alarm an Aodh alarm of our types holds; ``ValueError`` for anything else."""
    if body.get("type") not in TYPES:
        raise ValueError(f"not a CloudWatch alarm: type {body.get('type')!r}")
    rule = rule_of(body)
    alarm = alarm_codec.definition_from_json(rule["definition"], state_of(body))
    suppressed = rule.get("actions_suppressed")
    if suppressed:
        by, reason = json.loads(suppressed)
        alarm = replace(alarm, actions_suppressed_by=by, actions_suppressed_reason=reason)
    return alarm


def tags_of(body: dict[str, Any]) -> list[Tag]:
    try:
        return [(str(k), str(v)) for k, v in json.loads(rule_of(body).get("tags") or "[]")]
    except (TypeError, ValueError):
        return []


def set_state_marker(reason: str, notify: bool) -> str:
    return json.dumps({"reason": reason, "notify": notify})
