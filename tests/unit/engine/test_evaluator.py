"""The alarm evaluator and action runner on real SQLite stores (the webhook sender faked)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.sqlite.alarms import SQLiteAlarmStore
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import alarm_history
from cfn_gateway.domain import alarms as al
from cfn_gateway.domain.alarm_inputs import watch_filter
from cfn_gateway.domain.alarms import (
    Alarm,
    AlarmState,
    CompositeRule,
    HistoryFilter,
    MetricAlarmRule,
    MetricStat,
)
from cfn_gateway.domain.metrics import Datum, MetricKey
from cfn_gateway.domain.statistics import single
from cfn_gateway.engine.actions import ActionRunner, NoScalingPolicies
from cfn_gateway.engine.evaluator import AlarmEvaluator
from cfn_gateway.engine.service import Engine, EngineSettings
from cfn_gateway.engine.webhooks import DeliveryResult, RetryPolicy

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
KEY = MetricKey.of("ns", "Load", [("Host", "a")])
POLICY = ("arn:aws:autoscaling:us-east-1:1:scalingPolicy:x:autoScalingGroupName/g:"
          "policyName/p")


class FakeSender:
    """Records webhook sends; answers each at once with ``ok``."""

    def __init__(self, ok: bool = True, accept: bool = True) -> None:
        self.ok, self.accept, self.sent = ok, accept, []

    def send(self, url, body, on_done) -> bool:
        if not self.accept:
            return False
        self.sent.append((url, json.loads(body)))
        on_done(DeliveryResult(url, self.ok, 1, 200 if self.ok else 503,
                               "HTTP 200" if self.ok else "HTTP 503 after 1 attempts"))
        return True


@pytest.fixture
def stores(tmp_path) -> Iterator[tuple[SQLiteAlarmStore, SQLiteMetricStore]]:
    path = str(tmp_path / "store.sqlite3")
    alarms, metrics = SQLiteAlarmStore(path), SQLiteMetricStore(path)
    yield alarms, metrics
    alarms.close()
    metrics.close()


def metric_alarm(name: str, actions: tuple[str, ...] = (), **rule) -> Alarm:
    return Alarm(
        name=name, arn=f"arn:aws:cloudwatch:us-east-1:p:alarm:{name}",
        configuration_updated_at=T0, state=AlarmState.initial(T0), alarm_actions=actions,
        metric_rule=MetricAlarmRule(**{
            "comparison": "GreaterThanThreshold", "evaluation_periods": 1,
            "datapoints_to_alarm": 1, "threshold": 4.0,
            "metric": MetricStat(KEY, 60, "Average")} | rule))


def put_alarm(alarms: SQLiteAlarmStore, alarm: Alarm) -> None:
    alarms.put("p", alarm, [], alarm_history.configuration_change, 100)


def put_data(metrics: SQLiteMetricStore, values: dict[datetime, float],
             key: MetricKey = KEY) -> None:
    metrics.put("p", [Datum(key, ts, "None", 60, (single(v),)) for ts, v in values.items()],
                T0)


def runner(alarms, sender) -> ActionRunner:
    return ActionRunner(alarms, sender, NoScalingPolicies(), lambda: T0 + 10 * MINUTE, 60)


def state_of(alarms, name: str) -> str:
    return alarms.get("p", name).alarm.state.value


def test_transition_is_stored_with_history_and_actions(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("cpu", ("http://hook",)))
    put_data(metrics, {T0: 9.0})
    evaluator, sender = AlarmEvaluator(alarms, metrics, "us-east-1"), FakeSender()
    assert evaluator.run(T0 + MINUTE) == 1
    assert state_of(alarms, "cpu") == al.ALARM
    assert runner(alarms, sender).run(T0 + MINUTE) == 1
    ((url, message),) = sender.sent
    assert url == "http://hook" and message["NewStateValue"] == "ALARM"
    items = alarms.history("p", HistoryFilter(alarm_name="cpu"), 10).items
    assert [i.item_type for i in items] == [al.ACTION, al.STATE_UPDATE, al.CONFIGURATION_UPDATE]
    # Not due again within the same minute; unchanged afterwards: nothing more is queued.
    assert evaluator.run(T0 + MINUTE) == 0
    assert evaluator.run(T0 + 2 * MINUTE) == 1
    assert runner(alarms, sender).run(T0 + 2 * MINUTE) == 0


def test_failed_and_refused_deliveries(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("cpu", ("http://down", "arn:aws:sns:us-east-1:1:topic")))
    put_data(metrics, {T0: 9.0})
    AlarmEvaluator(alarms, metrics, "us-east-1").run(T0 + MINUTE)
    assert runner(alarms, FakeSender(accept=False)).run(T0 + MINUTE) == 2
    summaries = [i.summary for i in alarms.history("p", HistoryFilter(item_type=al.ACTION),
                                                    10).items]
    assert summaries == ['Failed to execute action arn:aws:sns:us-east-1:1:topic. Received '
                         'error: "Actions of service sns are not available in this cloud."']
    # The refused webhook is run again once its lease ends.
    sender = FakeSender(ok=False)
    assert runner(alarms, sender).run(T0 + 3 * MINUTE) == 1
    summaries = [i.summary for i in alarms.history("p", HistoryFilter(item_type=al.ACTION),
                                                    10).items]
    assert summaries[0] == ('Failed to execute action http://down. Received error: '
                            '"HTTP 503 after 1 attempts"')


def test_scaling_actions_repeat_every_period_in_alarm(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("scale", (POLICY,)))
    put_data(metrics, {T0 + i * MINUTE: 9.0 for i in range(5)})
    evaluator = AlarmEvaluator(alarms, metrics, "us-east-1")
    for minute in range(1, 5):
        evaluator.run(T0 + minute * MINUTE)
    sender = FakeSender()
    assert runner(alarms, sender).run(T0 + 5 * MINUTE) == 4  # the change, then 3 repeats
    failures = alarms.history("p", HistoryFilter(item_type=al.ACTION), 10).items
    assert len(failures) == 4
    assert all("this engine runs no Auto Scaling policies" in i.summary for i in failures)


def test_composite_follows_a_child_in_the_same_pass(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("cpu"))
    put_alarm(alarms, Alarm(
        name="any", arn="arn:aws:cloudwatch:us-east-1:p:alarm:any",
        configuration_updated_at=T0, state=AlarmState.initial(T0),
        alarm_actions=("http://composite",),
        composite_rule=CompositeRule("ALARM(cpu)", children=("cpu",))))
    put_data(metrics, {T0: 9.0})
    AlarmEvaluator(alarms, metrics, "us-east-1").run(T0 + MINUTE)
    composite = alarms.get("p", "any").alarm
    assert composite.state.value == al.ALARM
    assert "arn:aws:cloudwatch:us-east-1:p:alarm:cpu transitioned to ALARM" in (
        composite.state.reason)
    sender = FakeSender()
    runner(alarms, sender).run(T0 + MINUTE)
    assert [url for url, _ in sender.sent] == ["http://composite"]


def test_suppressed_composite_queues_no_actions(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("cpu"))
    put_alarm(alarms, metric_alarm("maintenance"))
    alarms.set_state("p", "maintenance", 1, AlarmState(al.ALARM, "window", T0, T0), [])
    put_alarm(alarms, Alarm(
        name="any", arn="arn:aws:cloudwatch:us-east-1:p:alarm:any",
        configuration_updated_at=T0, state=AlarmState.initial(T0),
        alarm_actions=("http://composite",),
        composite_rule=CompositeRule("ALARM(cpu)", children=("cpu",),
                                     actions_suppressor="maintenance",
                                     suppressor_wait_period=60,
                                     suppressor_extension_period=60)))
    put_data(metrics, {T0: 9.0})
    AlarmEvaluator(alarms, metrics, "us-east-1").run(T0 + MINUTE)
    assert state_of(alarms, "any") == al.ALARM
    sender = FakeSender()
    assert runner(alarms, sender).run(T0 + MINUTE) == 0


def test_watch_dimension_feeds_the_alarm(stores):
    """cfn-push-stats --watch NAME adds AlarmName=NAME to each server's dimensions: every
    such metric of the alarm's namespace and name feeds alarm NAME, combined per period."""
    alarms, metrics = stores
    heartbeat = MetricKey.of("system/linux", "Heartbeat", [])
    put_alarm(alarms, metric_alarm("web-alarm", metric=MetricStat(heartbeat, 60, "SampleCount"),
                                   threshold=1.0))
    for server in ("i-1", "i-2"):
        put_data(metrics, {T0: 1.0}, key=MetricKey.of("system/linux", "Heartbeat", [
            ("InstanceId", server), ("AlarmName", "web-alarm")]))
    put_data(metrics, {T0: 1.0}, key=MetricKey.of("system/linux", "Heartbeat", [
        ("InstanceId", "i-3"), ("AlarmName", "other-alarm")]))
    AlarmEvaluator(alarms, metrics, "us-east-1").run(T0 + MINUTE)
    stored = alarms.get("p", "web-alarm").alarm
    assert stored.state.value == al.ALARM  # 2 heartbeats > 1: i-3's is not this alarm's
    assert json.loads(stored.state.reason_data)["recentDatapoints"] == [2.0]


def test_watch_dimension_only_in_cfn_push_stats_namespace(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("MEMAlarmHigh"))
    put_data(metrics, {T0: 9.0}, key=MetricKey.of("ns", "Load", [("AlarmName", "MEMAlarmHigh")]))
    AlarmEvaluator(alarms, metrics, "us-east-1").run(T0 + MINUTE)
    assert state_of(alarms, "MEMAlarmHigh") == al.INSUFFICIENT_DATA
    assert watch_filter("MEMAlarmHigh", KEY) is None


def test_a_change_meanwhile_wins_over_the_evaluation(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("cpu"))
    put_data(metrics, {T0: 9.0})
    (claimed,) = alarms.claim_due(T0 + MINUTE, 10)
    alarms.set_state("p", "cpu", claimed.version, AlarmState(al.OK, "by hand", T0, T0), [])
    AlarmEvaluator(alarms, metrics, "us-east-1").evaluate(claimed, T0 + MINUTE)
    assert alarms.get("p", "cpu").alarm.state.reason == "by hand"


def test_engine_purges_history_past_the_retention(stores):
    alarms, metrics = stores
    put_alarm(alarms, metric_alarm("old"))
    settings = EngineSettings("us-east-1", RetryPolicy(), history_retention=timedelta(days=14))
    engine = Engine(alarms, metrics, settings, lambda: T0)
    assert engine.purge_history(T0 + timedelta(days=13)) == 0
    assert engine.purge_history(T0 + timedelta(days=14, seconds=1)) == 1
    assert alarms.history("p", HistoryFilter(alarm_name="old"), 10).items == []
