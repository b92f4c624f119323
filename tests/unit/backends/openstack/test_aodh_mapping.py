"""CloudWatch alarms <-> Aodh alarm bodies: round trips, history items, tombstones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.domain import alarm_history
from cfn_gateway.domain.alarms import (
    ALARM,
    OK,
    Alarm,
    AlarmState,
    CompositeRule,
    MetricAlarmRule,
    MetricStat,
)
from cfn_gateway.domain.metrics import MetricKey

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
PROJECT = "0123456789abcdef0123456789abcdef"


def metric_alarm(**changes) -> Alarm:
    rule = MetricAlarmRule(
        comparison="GreaterThanThreshold", evaluation_periods=3, datapoints_to_alarm=2,
        threshold=10.0, metric=MetricStat(MetricKey.of("ns", "Load", [("A", "1")]), 60,
                                          "Average", None))
    base = dict(name="high", arn=f"arn:aws:cloudwatch:r:{PROJECT}:alarm:high",
                configuration_updated_at=T0, state=AlarmState.initial(T0),
                alarm_actions=("http://127.0.0.1:9/a",), metric_rule=rule)
    base.update(changes)
    return Alarm(**base)


def as_aodh(body: dict, state: str = "insufficient data", at: str = "2026-11-29T10:00:00",
            reason: str = "Unchecked: Initial alarm creation") -> dict:
    """What Aodh's API answers for a body the store sent."""
    return {**body, "alarm_id": mapping.alarm_id(PROJECT, body["name"]),
            "project_id": PROJECT, "state": state, "state_timestamp": at,
            "state_reason": reason}


def test_ids_follow_project_and_name():
    assert mapping.alarm_id(PROJECT, "a") == mapping.alarm_id(PROJECT, "a")
    assert mapping.alarm_id(PROJECT, "a") != mapping.alarm_id(PROJECT, "b")
    assert mapping.alarm_id(PROJECT, "a") != mapping.alarm_id("other", "a")


def test_metric_alarm_round_trip_with_state_and_tags():
    alarm = metric_alarm()
    rule = mapping.rule_body(alarm, [("team", "a")], None, state_reason_data='{"v": 1}')
    body = mapping.alarm_body(alarm, rule)
    assert body["type"] == "cloudwatch" and body["enabled"] is True
    assert body["alarm_actions"] == [mapping.ACTION_URL]
    assert body["ok_actions"] == [] and body["insufficient_data_actions"] == []
    back = as_aodh(body, state="alarm", reason="Threshold Crossed: x")
    alarm_back = mapping.alarm_from_aodh(back)
    assert alarm_back.state == AlarmState(ALARM, "Threshold Crossed: x", T0, T0, '{"v": 1}')
    assert alarm_back.with_state(alarm.state) == alarm
    assert mapping.tags_of(back) == [("team", "a")]


def test_disabled_actions_leave_aodh_without_actions():
    body = mapping.alarm_body(metric_alarm(actions_enabled=False),
                              mapping.rule_body(metric_alarm(), [], None))
    assert body["alarm_actions"] == []


def test_composite_alarm_type_and_suppression():
    alarm = metric_alarm(metric_rule=None, alarm_actions=(),
                         composite_rule=CompositeRule('ALARM("high")'))
    rule = mapping.rule_body(alarm, [], None, actions_suppressed=json.dumps(["Alarm", "why"]))
    body = as_aodh(mapping.alarm_body(alarm, rule))
    assert body["type"] == "cloudwatch_composite"
    back = mapping.alarm_from_aodh(body)
    assert back.composite_rule == alarm.composite_rule
    assert (back.actions_suppressed_by, back.actions_suppressed_reason) == ("Alarm", "why")


def test_history_items_from_each_kind_of_aodh_entry():
    alarm = metric_alarm()
    created = alarm_history.configuration_change(None, alarm)
    rule = mapping.rule_body(alarm, [], created)
    # "creation" and "rule change" entries hold the stored alarm (or the changed fields)
    creation = {"type": "creation", "detail": json.dumps(mapping.alarm_body(alarm, rule) | {
        "rule": rule})}
    assert mapping.history_from_change(creation) == created
    change = {"type": "rule change", "detail": json.dumps({"rule": rule})}
    assert mapping.history_from_change(change) == created
    # entries the plugin writes carry the item beside Aodh's own keys
    new = AlarmState(OK, "fine", T0, T0)
    update = alarm_history.state_change(alarm, alarm.state, new)
    detail = json.loads(mapping.history_detail(update, "ok"))
    assert detail["state"] == "ok" and detail["transition_reason"] == update.summary
    assert mapping.history_from_change({"detail": json.dumps(detail)}) == update
    # Aodh's own entries without an AWS item are not AWS history
    assert mapping.history_from_change({"detail": '{"state": "ok"}'}) is None
    assert mapping.history_from_change({"detail": "not json"}) is None


def test_a_deleted_alarm_is_a_disabled_tombstone_without_actions():
    alarm = metric_alarm()
    rule = mapping.rule_body(alarm, [], None, deleted_at=T0)
    body = as_aodh(mapping.alarm_body(alarm, rule))
    assert body["enabled"] is False and body["alarm_actions"] == []
    assert mapping.deleted_at(body) == T0
    assert mapping.deleted_at(as_aodh(mapping.alarm_body(alarm, mapping.rule_body(
        alarm, [], None)))) is None
