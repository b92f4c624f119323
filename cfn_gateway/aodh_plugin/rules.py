"""The ``cloudwatch`` and ``cloudwatch_composite`` rule types of Aodh's API (aodh-api side).

The rule carries the AWS definition (see ``aodh_mapping``).  The hooks make Aodh keep
AWS's rules where its own differ:

- ``create_hook``: the alarm id is derived from (project, name), so a second alarm of the
  same name in a project is refused (409) instead of stored twice;
- ``update_hook``: an update keeps the state the alarm has *now* (the caller's copy may be
  older: an evaluator may have changed it meanwhile) and its evaluation time (without
  which Aodh's evaluators skip it); an update that revives a deleted alarm's tombstone
  starts from a fresh state instead; and an update that is a SetAlarmState
  (``set_state`` in the rule), which keeps its AWS reason instead of Aodh's "manually set"
  one and, where AWS would run actions, notifies like an evaluator transition does;
- ``validate_alarm``: the definition must decode, name the alarm and be of the rule's
  kind.  Which metrics a rule reads is confined by construction: the evaluator reads only
  Gnocchi resources that the alarm's own project made.
"""

from __future__ import annotations

import json

import pecan
import wsme
from aodh import queue
from aodh.api.controllers.v2 import base
from oslo_utils import timeutils
from wsme import types as wtypes

from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.domain import alarm_codec
from cfn_gateway.domain.alarms import INITIAL_REASON, AlarmState


def _rule(alarm):
    return getattr(alarm, mapping.rule_key(alarm.type))


def _validate(alarm, composite: bool) -> None:
    rule = _rule(alarm)
    try:
        definition = alarm_codec.definition_from_json(
            rule.definition, AlarmState.initial(timeutils.utcnow(with_timezone=True)))
        for field in ("tags", "history_item", "set_state", "actions_suppressed",
                      "deleted_at"):
            value = getattr(rule, field)
            if value not in (wtypes.Unset, None):
                json.loads(value)
    except (ValueError, KeyError, TypeError) as exc:
        raise base.ClientSideError(f"Invalid {alarm.type} rule: {exc}") from None
    if (definition.composite_rule is not None) != composite:
        raise base.ClientSideError(f"The definition does not fit the type {alarm.type}.")
    if definition.name != alarm.name:
        raise base.ClientSideError("The definition names another alarm.")


def _create(alarm) -> None:
    alarm.alarm_id = mapping.alarm_id(alarm.project_id, alarm.name)
    if pecan.request.storage.get_alarms(alarm_id=alarm.alarm_id):
        raise base.ClientSideError(f"Alarm {alarm.name} exists already.", status_code=409)
    _rule(alarm).set_state = wtypes.Unset


def _update(alarm) -> None:
    if alarm.alarm_id != mapping.alarm_id(alarm.project_id, alarm.name):
        raise base.ClientSideError("A CloudWatch alarm cannot be renamed.")
    rule = _rule(alarm)
    marker = rule.set_state
    rule.set_state = wtypes.Unset
    stored = list(pecan.request.storage.get_alarms(alarm_id=alarm.alarm_id))
    if stored and alarm.evaluate_timestamp in (wtypes.Unset, None):
        # Aodh's evaluators pick only alarms with an evaluation time: keep it.
        alarm.evaluate_timestamp = stored[0].evaluate_timestamp
    if marker not in (wtypes.Unset, None):
        requested = json.loads(marker)
        previous = stored[0].state if stored else alarm.state
        alarm.state_reason = requested["reason"]
        alarm.state_timestamp = timeutils.utcnow()
        if requested.get("notify"):
            reason_data = rule.state_reason_data
            queue.AlarmNotifier(pecan.request.cfg).notify(
                alarm, previous, alarm.state_reason,
                json.loads(reason_data) if reason_data not in (wtypes.Unset, None, "") else {})
        return
    if stored and (stored[0].rule or {}).get("deleted_at") and rule.deleted_at in (
            wtypes.Unset, None):
        alarm.state = "insufficient data"
        alarm.state_reason = INITIAL_REASON
        alarm.state_timestamp = timeutils.utcnow()
        rule.state_reason_data = wtypes.Unset
        rule.actions_suppressed = wtypes.Unset
        rule.previous_state = wtypes.Unset
        rule.actions_repeated_at = wtypes.Unset
        return
    if stored:
        current = stored[0]
        alarm.state = current.state
        alarm.state_reason = current.state_reason
        alarm.state_timestamp = current.state_timestamp
        for field in ("state_reason_data", "actions_suppressed", "previous_state",
                      "actions_repeated_at"):
            value = (current.rule or {}).get(field)
            setattr(rule, field, value if value is not None else wtypes.Unset)


class _CloudWatchRule(base.AlarmRule):
    definition = wsme.wsattr(wtypes.text, mandatory=True)
    "The AWS alarm definition (cfn-gateway's alarm codec, JSON)."

    state_reason_data = wtypes.text
    "AWS StateReasonData of the current state (JSON)."

    previous_state = wtypes.text
    "The AWS state value the alarm left at its last transition."

    actions_repeated_at = wtypes.text
    "When Auto Scaling actions last ran in the current state (epoch milliseconds)."

    tags = wtypes.text
    "AWS tags, a JSON list of [key, value] pairs."

    actions_suppressed = wtypes.text
    "A composite alarm's ActionsSuppressedBy and ActionsSuppressedReason (JSON pair)."

    history_item = wtypes.text
    "The AWS history item this write records (JSON)."

    set_state = wtypes.text
    "SetAlarmState: the AWS reason and whether to notify (JSON; never stored)."

    deleted_at = wtypes.text
    "When the alarm was deleted (epoch milliseconds): a tombstone that keeps its history."

    action_url = wtypes.text
    "Where the notifier hands Auto Scaling actions back to the gateway."

    action_token = wtypes.text
    "The alarm's token for that call."

    @staticmethod
    def create_hook(alarm) -> None:
        _create(alarm)

    @staticmethod
    def update_hook(alarm) -> None:
        _update(alarm)

    def as_dict(self):
        return self.as_dict_from_keys(
            [name for name in ("definition", "state_reason_data", "previous_state",
                               "actions_repeated_at", "tags",
                               "actions_suppressed", "history_item", "set_state",
                               "deleted_at", "action_url", "action_token")
             if getattr(self, name) not in (wtypes.Unset, None)])


class MetricAlarmRule(_CloudWatchRule):
    """A CloudWatch metric alarm (PutMetricAlarm)."""

    default_description = "CloudWatch metric alarm"

    @staticmethod
    def validate_alarm(alarm) -> None:
        _validate(alarm, composite=False)


class CompositeAlarmRule(_CloudWatchRule):
    """A CloudWatch composite alarm (PutCompositeAlarm)."""

    default_description = "CloudWatch composite alarm"

    @staticmethod
    def validate_alarm(alarm) -> None:
        _validate(alarm, composite=True)
