"""The gateway's alarm-actions route (``api/alarm_actions.py``): which calls of the Aodh
notifier run a policy.  The alarm store holds one alarm and its token; the policies record
what they were asked to run."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from cfn_gateway.api import alarm_actions
from cfn_gateway.api.alarm_actions import PATH, AlarmActions
from cfn_gateway.domain.alarms import Alarm, AlarmState, MetricAlarmRule, MetricStat
from cfn_gateway.domain.metrics import MetricKey
from tests.unit.api.one_alarm import TOKEN, OneAlarm

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POLICY = ("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:c5b3bd23:"
          "autoScalingGroupName/web:policyName/out")
FLIPPED_DATA = '{"version":"1.0","queryDate":"x","evaluatedDatapoints":[]}'


class Recorded:
    def __init__(self) -> None:
        self.runs: list[tuple[str, str, str, str, dict[str, Any]]] = []

    def execute_from_alarm(self, project_id, policy_arn, alarm_name, state_value, message):
        self.runs.append((project_id, policy_arn, alarm_name, state_value,
                          json.loads(message)))


def alarm_in(value: str, previous: str | None, reason_data: str | None = None) -> Alarm:
    return Alarm(
        name="busy", arn="arn:alarm", configuration_updated_at=NOW,
        state=AlarmState(value, "now", NOW, NOW, reason_data, previous),
        alarm_actions=(POLICY,), metric_rule=MetricAlarmRule(
            comparison="GreaterThanThreshold", evaluation_periods=1,
            datapoints_to_alarm=1, threshold=50.0,
            metric=MetricStat(MetricKey.of("App", "Load", []), 60, "Average")))


def call(alarm: Alarm, store: OneAlarm | None = None,
         **fields: str) -> tuple[int, dict[str, Any], Recorded]:
    policies = Recorded()
    route = AlarmActions(policies)
    route._given = SimpleNamespace(alarms=store or OneAlarm(alarm))
    body = json.dumps({"project_id": "p1", "alarm_name": "busy", "action": POLICY,
                       "state_value": "ALARM", "token": TOKEN,
                       "message": json.dumps({"NewStateValue": "ALARM"}),
                       **fields}).encode()
    answered: list[str] = []
    chunks = route({"PATH_INFO": PATH, "REQUEST_METHOD": "POST",
                    "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)},
                   lambda status, headers: answered.append(status))
    return int(answered[0].split()[0]), json.loads(b"".join(chunks)), policies


def test_an_alarm_in_the_state_runs_the_policy_with_its_reason_data():
    status, answer, policies = call(alarm_in("ALARM", "OK", '{"recentDatapoints":[90.0]}'))
    assert (status, answer) == (200, {"result": "executed"})
    ((project, policy, alarm, state, message),) = policies.runs
    assert (project, policy, alarm, state) == ("p1", POLICY, "busy", "ALARM")
    assert message["NewStateReasonData"] == '{"recentDatapoints":[90.0]}'


def test_an_alarm_that_just_left_the_state_still_runs_the_policy():
    """SetAlarmState's ALARM lasts until the next evaluation (a second on Aodh); the
    evaluator may move the alarm on before the notifier calls: the transition happened,
    so its action runs, with the data the notifier sent, never the newer state's."""
    message = json.dumps({"NewStateValue": "ALARM",
                          "NewStateReasonData": '{"recentDatapoints":[150.0]}'})
    status, _, policies = call(alarm_in("INSUFFICIENT_DATA", "ALARM", FLIPPED_DATA),
                               message=message)
    assert status == 200
    assert policies.runs[0][4]["NewStateReasonData"] == '{"recentDatapoints":[150.0]}'
    status, _, policies = call(alarm_in("INSUFFICIENT_DATA", "ALARM", FLIPPED_DATA))
    assert status == 200
    assert "NewStateReasonData" not in policies.runs[0][4]


@pytest.mark.parametrize(("value", "previous"), [("OK", "INSUFFICIENT_DATA"), ("OK", None)])
def test_an_alarm_that_was_not_in_the_state_runs_nothing(value, previous, monkeypatch):
    monkeypatch.setattr(alarm_actions, "STATE_WAIT_S", 0.3)
    started = time.monotonic()
    status, answer, policies = call(alarm_in(value, previous))
    assert status == 409 and "did not come from ALARM" in answer["error"]
    assert policies.runs == []
    assert time.monotonic() - started >= 0.3  # read again meanwhile


class StoredLate(OneAlarm):
    """The alarm as aodh-api shows it: its SetAlarmState stored only after ``reads``
    reads (the notification went out first)."""

    def __init__(self, before: Alarm, after: Alarm, reads: int) -> None:
        super().__init__(before)
        self.after, self.reads = after, reads

    def get(self, project_id, name):
        self.reads -= 1
        if self.reads < 0:
            self.alarm = self.after
        return super().get(project_id, name)


def test_a_call_before_aodh_shows_the_state_waits_for_it():
    store = StoredLate(alarm_in("INSUFFICIENT_DATA", None), alarm_in("ALARM", "INSUFFICIENT_DATA"),
                       reads=3)
    status, answer, policies = call(store.alarm, store=store)
    assert (status, answer) == (200, {"result": "executed"})
    assert [run[3] for run in policies.runs] == ["ALARM"]


def test_a_forged_token_runs_nothing():
    status, _, policies = call(alarm_in("ALARM", "OK"), token="forged")
    assert status == 403 and policies.runs == []
