"""PutMetricData from a Heat stack user: ``AlarmName=<logical name>`` becomes the name of
the stack's alarm, looked up once per minute and key (real SQLite stores)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.api.cloudwatch import metrics as api
from cfn_gateway.api.cloudwatch import stack_alarm_names
from cfn_gateway.api.cloudwatch.stack_alarm_names import LOOKUP_TTL, LogicalAlarmNames
from cfn_gateway.domain.alarms import Alarm, AlarmState, MetricAlarmRule, MetricStat
from cfn_gateway.domain.heat_tags import TAG_LOGICAL_ID, TAG_STACK_ID, TAG_STACK_USER_PROJECT
from cfn_gateway.domain.metrics import Datum, MetricFilter, MetricKey, StatisticSet
from tests.unit.backends.test_sqlite_alarms import describe_change

OWNER, STACK_USER_PROJECT = "owner-project", "stack-user-project"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PHYSICAL = "web-HeartbeatAlarm-x1y2z3"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """The alarm store, counting the lookups the rewrite makes."""

    def __init__(self, store) -> None:
        self.store = store
        self.gets = 0
        self.tag_lookups = 0

    def get(self, project_id, name):
        self.gets += 1
        return self.store.get(project_id, name)

    def named_by_tags(self, project_id, tags):
        self.tag_lookups += 1
        return self.store.named_by_tags(project_id, tags)


def alarm(name: str) -> Alarm:
    rule = MetricAlarmRule("GreaterThanOrEqualToThreshold", 1, 1, 1.0,
                           metric=MetricStat(MetricKey.of("system/linux", "Heartbeat"), 60,
                                             "SampleCount"))
    return Alarm(name, f"arn:aws:cloudwatch:r:{OWNER}:alarm:{name}", NOW,
                 AlarmState.initial(NOW), metric_rule=rule)


def add_alarm(store, name: str, logical: str, stack_user_project: str = STACK_USER_PROJECT,
              project: str = OWNER) -> None:
    store.put(project, alarm(name), [(TAG_STACK_ID, "stack-id"), (TAG_LOGICAL_ID, logical),
                                     (TAG_STACK_USER_PROJECT, stack_user_project)],
              describe_change, 100)


def datum(**dimensions: str) -> Datum:
    return Datum(MetricKey.of("system/linux", "Heartbeat", list(dimensions.items())), NOW,
                 "Count", 60, (StatisticSet(1, 1.0, 1.0, 1.0),))


@pytest.fixture
def names():
    clock = Clock()
    return LogicalAlarmNames(clock=clock), clock


@pytest.fixture
def stack(alarm_store):
    add_alarm(alarm_store, PHYSICAL, "HeartbeatAlarm")
    return Counting(alarm_store)


def test_a_logical_name_of_the_callers_stack_names_its_alarm(names, stack):
    rewrite, _ = names
    data = [datum(AlarmName="HeartbeatAlarm", InstanceId="i-1"), datum(InstanceId="i-2")]
    out = rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT, data)
    assert out == [datum(AlarmName=PHYSICAL, InstanceId="i-1"), datum(InstanceId="i-2")]
    assert data[0].key.dimensions == (("AlarmName", "HeartbeatAlarm"), ("InstanceId", "i-1"))


@pytest.mark.parametrize(("value", "owner", "stack_user_project"), [
    ("NoSuchResource", OWNER, STACK_USER_PROJECT),  # no alarm has that logical name
    ("HeartbeatAlarm", OWNER, "another-stack"),  # another stack's servers
    ("HeartbeatAlarm", "another-owner", STACK_USER_PROJECT),  # not in that project
    (PHYSICAL, OWNER, STACK_USER_PROJECT),  # already the name
])
def test_other_values_stay_as_sent(names, stack, value, owner, stack_user_project):
    rewrite, _ = names
    data = [datum(AlarmName=value, InstanceId="i-1")]
    assert rewrite.rewrite(stack, owner, stack_user_project, data) is data


def test_an_alarm_named_like_the_logical_name_wins(names, stack, alarm_store):
    rewrite, _ = names
    add_alarm(alarm_store, "HeartbeatAlarm", "Other")
    data = [datum(AlarmName="HeartbeatAlarm")]
    assert rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT, data) is data
    assert stack.tag_lookups == 0


def test_two_alarms_with_the_logical_name_leave_it_as_sent(names, stack, alarm_store, caplog):
    rewrite, _ = names
    add_alarm(alarm_store, "nested-HeartbeatAlarm-q", "HeartbeatAlarm")
    data = [datum(AlarmName="HeartbeatAlarm")]
    assert rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT, data) is data
    assert "2 alarms of project owner-project have that logical name" in caplog.text


def test_data_without_alarm_name_costs_no_lookup(names, stack):
    rewrite, _ = names
    data = [datum(InstanceId="i-1"), datum()]
    assert rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT, data) is data
    assert (stack.gets, stack.tag_lookups) == (0, 0)


def test_answers_are_cached_a_minute_negative_ones_too(names, stack, alarm_store):
    rewrite, clock = names
    for _ in range(5):
        rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT,
                        [datum(AlarmName="HeartbeatAlarm"), datum(AlarmName="Later")])
    assert (stack.gets, stack.tag_lookups) == (2, 2)
    add_alarm(alarm_store, "web-Later-abc", "Later")
    clock.now += LOOKUP_TTL - 1
    out = rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT, [datum(AlarmName="Later")])
    assert out[0].key.dimensions == (("AlarmName", "Later"),)  # the negative answer holds
    clock.now += 2
    out = rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT, [datum(AlarmName="Later")])
    assert out[0].key.dimensions == (("AlarmName", "web-Later-abc"),)
    assert (stack.gets, stack.tag_lookups) == (3, 3)
    # Keys are per (owner, stack user project, value).
    rewrite.rewrite(stack, OWNER, "another-stack", [datum(AlarmName="Later")])
    assert stack.tag_lookups == 4


def test_the_cache_is_bounded(stack):
    rewrite = LogicalAlarmNames(size=3, clock=Clock())
    for i in range(10):
        rewrite.rewrite(stack, OWNER, STACK_USER_PROJECT, [datum(AlarmName=f"R{i}")])
    assert len(rewrite.cache) == 3


# --- the handler -----------------------------------------------------------------------------

@pytest.fixture
def fresh_names(monkeypatch):
    monkeypatch.setattr(api, "LOGICAL_ALARM_NAMES", LogicalAlarmNames())
    return stack_alarm_names


def put_as(context, identity_changes: dict, dimensions: dict[str, str]) -> None:
    ctx = context("put_metric_data", OWNER)
    ctx.identity = replace(ctx.identity, **identity_changes)
    api.put_metric_data(ctx, {"Namespace": "system/linux", "MetricData": [{
        "MetricName": "Heartbeat", "Value": 1.0, "Unit": "Count",
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}]})


def stored(store) -> list[tuple[tuple[str, str], ...]]:
    page = store.list_metrics(OWNER, MetricFilter(namespace="system/linux"),
                              NOW - timedelta(days=3650), None)
    return sorted(key.dimensions for key in page.metrics)


def test_put_metric_data_of_a_stack_user_is_rewritten(context, alarm_store, store,
                                                      fresh_names):
    add_alarm(alarm_store, PHYSICAL, "HeartbeatAlarm")
    put_as(context, {"stack_user_project": STACK_USER_PROJECT},
           {"AlarmName": "HeartbeatAlarm", "InstanceId": "i-1"})
    assert stored(store) == [(("AlarmName", PHYSICAL), ("InstanceId", "i-1"))]


def test_put_metric_data_of_anyone_else_is_not(context, alarm_store, store, fresh_names):
    add_alarm(alarm_store, PHYSICAL, "HeartbeatAlarm")
    put_as(context, {}, {"AlarmName": "HeartbeatAlarm", "InstanceId": "i-1"})
    assert stored(store) == [(("AlarmName", "HeartbeatAlarm"), ("InstanceId", "i-1"))]
    assert len(api.LOGICAL_ALARM_NAMES.cache) == 0
