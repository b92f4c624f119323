"""SQLiteAlarmStore on a real file: definitions and states, compare-and-set, pagination,
history, tags, composite children, and claims shared by threads and processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.alarms import (
    AlarmLimitExceeded,
    InvalidNextToken,
    PendingAction,
    QueuedActions,
    StaleAlarm,
    StoredAlarm,
)
from cfn_gateway.backends.sqlite.alarms import SQLiteAlarmStore
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.alarms import (
    ACTION,
    ALARM,
    COMPOSITE_ALARM,
    CONFIGURATION_UPDATE,
    INSUFFICIENT_DATA,
    METRIC_ALARM,
    OK,
    STATE_UPDATE,
    Alarm,
    AlarmFilter,
    AlarmState,
    CompositeRule,
    HistoryFilter,
    HistoryItem,
    MetricAlarmRule,
    MetricQuery,
    MetricStat,
)
from cfn_gateway.domain.metrics import Datum, MetricFilter, MetricKey

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOST = MetricKey.of("ns", "CPU", [("InstanceId", "i-1")])
HOST_DISK = MetricKey.of("ns", "CPU", [("InstanceId", "i-1"), ("Disk", "vda")])
MANY = 10_000


# --- builders ------------------------------------------------------------------------------

def metric_alarm(name: str, key: MetricKey = HOST, period: int = 60, at: datetime = NOW,
                 threshold: float = 80.0, **changes) -> Alarm:
    return Alarm(
        name=name,
        arn=f"arn:aws:cloudwatch:region:p1:alarm:{name}",
        configuration_updated_at=at,
        state=AlarmState.initial(at),
        metric_rule=MetricAlarmRule("GreaterThanThreshold", 1, 1, threshold,
                                    metric=MetricStat(key, period, "Average")),
        **changes,
    )


def math_alarm(name: str, at: datetime = NOW) -> Alarm:
    queries = (MetricQuery("m1", MetricStat(HOST, 60, "Sum"), return_data=False),
               MetricQuery("e1", expression="m1 * 2"))
    rule = MetricAlarmRule("GreaterThanThreshold", 1, 1, 1.0, queries=queries)
    return Alarm(name, f"arn:{name}", at, AlarmState.initial(at), metric_rule=rule)


def composite_alarm(name: str, children: tuple[str, ...], at: datetime = NOW,
                    **changes) -> Alarm:
    expression = " OR ".join(f'ALARM("{child}")' for child in children)
    return Alarm(name, f"arn:{name}", at, AlarmState.initial(at),
                 composite_rule=CompositeRule(expression, children), **changes)


def describe_change(old: Alarm | None, new: Alarm) -> HistoryItem:
    verb = "created" if old is None else "updated"
    return HistoryItem(new.name, new.alarm_type, new.configuration_updated_at,
                       CONFIGURATION_UPDATE, f'Alarm "{new.name}" {verb}',
                       json.dumps({"old": old is not None and old.actions_enabled,
                                   "new": new.actions_enabled}))


def describe_delete(alarm: Alarm) -> HistoryItem:
    return HistoryItem(alarm.name, alarm.alarm_type, NOW + timedelta(hours=1),
                       CONFIGURATION_UPDATE, f'Alarm "{alarm.name}" deleted', "{}")


def state(value: str, at: datetime, reason: str = "because") -> AlarmState:
    return AlarmState(value, reason, at, at, '{"v":1}')


def state_item(name: str, at: datetime, summary: str = "changed") -> HistoryItem:
    return HistoryItem(name, METRIC_ALARM, at, STATE_UPDATE, summary, "{}")


def put(store, alarm: Alarm, project: str = "p1", tags=(), max_alarms: int = 5000) -> Alarm:
    return store.put(project, alarm, tags, describe_change, max_alarms)


def names(page) -> list[str]:
    return [alarm.name for alarm in page.items]


def every_page(fetch, limit: int) -> list[list]:
    pages, token = [], None
    while True:
        page = fetch(limit, token)
        pages.append(page.items)
        token = page.next_token
        if token is None:
            return pages


@pytest.fixture
def alarms(store_path) -> Iterator[SQLiteAlarmStore]:
    opened = SQLiteAlarmStore(store_path)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def file_of_many(tmp_path_factory) -> str:
    """A closed store file holding MANY alarms of p1, all due at NOW (built once)."""
    path = str(tmp_path_factory.mktemp("many") / "store.sqlite3")
    store = SQLiteAlarmStore(path)
    many_alarms(store, MANY)
    store.close()
    return path


@pytest.fixture
def alarms_of_many(file_of_many, store_path) -> Iterator[SQLiteAlarmStore]:
    os.makedirs(os.path.dirname(store_path))
    shutil.copyfile(file_of_many, store_path)
    opened = SQLiteAlarmStore(store_path)
    yield opened
    opened.close()


# --- put / get -----------------------------------------------------------------------------

def test_create_then_get(alarms):
    alarm = metric_alarm("cpu", description="hot")
    assert put(alarms, alarm) == alarm
    stored = alarms.get("p1", "cpu")
    assert stored == StoredAlarm("p1", alarm, 1, None)
    assert stored.alarm.state.updated_at.tzinfo is not None
    assert alarms.get("p1", "nope") is None
    assert alarms.get("p2", "cpu") is None
    (item,) = alarms.history("p1", HistoryFilter(), 10).items
    assert (item.alarm_name, item.summary, item.timestamp) == ("cpu", 'Alarm "cpu" created', NOW)


def test_put_returns_what_a_read_gives(alarms):
    precise = NOW + timedelta(microseconds=123456)
    alarm = replace(metric_alarm("cpu", at=precise), state=AlarmState.initial(precise))
    stored = put(alarms, alarm)
    assert stored.configuration_updated_at == NOW + timedelta(milliseconds=123)
    assert stored.state.updated_at == NOW + timedelta(milliseconds=123)
    assert stored == alarms.get("p1", "cpu").alarm


def test_update_keeps_state_and_tags_and_bumps_version(alarms):
    put(alarms, metric_alarm("cpu"), tags=[("a", "1"), ("b", "2")])
    alarmed = replace(state(ALARM, NOW + timedelta(minutes=1)),
                      previous_value=INSUFFICIENT_DATA)
    alarms.set_state("p1", "cpu", 1, alarmed, [], NOW + timedelta(minutes=1))
    seen = []

    def spy(old, new):
        seen.append((old, new))
        return describe_change(old, new)

    later = NOW + timedelta(minutes=2)
    changed = metric_alarm("cpu", threshold=90.0, at=later)
    stored = alarms.put("p1", changed, [("b", "3"), ("c", "4")], spy, 10)
    assert stored == changed.with_state(alarmed)
    ((old, new),) = seen
    assert old.metric_rule.threshold == 80.0 and old.state == alarmed
    assert new == stored
    again = alarms.get("p1", "cpu")
    assert (again.alarm, again.version) == (stored, 3)
    # An update leaves the engine's bookkeeping alone.
    assert again.actions_repeated_at == NOW + timedelta(minutes=1)
    # AWS ignores the Tags of a put that updates an alarm.
    assert alarms.tags("p1", "cpu") == [("a", "1"), ("b", "2")]
    summaries = [i.summary for i in alarms.history("p1", HistoryFilter(), 10).items]
    assert summaries == ['Alarm "cpu" updated', 'Alarm "cpu" created']


def test_a_failing_describe_change_stores_nothing(alarms):
    def broken(old, new):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        alarms.put("p1", metric_alarm("cpu"), [("a", "1")], broken, 10)
    assert alarms.get("p1", "cpu") is None
    assert alarms.history("p1", HistoryFilter(), 10).items == []


def test_alarm_limit_per_project(alarms):
    put(alarms, metric_alarm("a"), max_alarms=2)
    put(alarms, metric_alarm("b"), max_alarms=2)
    with pytest.raises(AlarmLimitExceeded):
        put(alarms, metric_alarm("c"), max_alarms=2)
    assert alarms.get("p1", "c") is None
    put(alarms, metric_alarm("b", threshold=1.0), max_alarms=2)  # updates are not creations
    put(alarms, metric_alarm("c"), project="p2", max_alarms=2)
    alarms.delete("p1", ["a"], describe_delete)
    put(alarms, metric_alarm("c"), max_alarms=2)


def test_get_many_and_children_states(alarms):
    put(alarms, metric_alarm("a"))
    put(alarms, metric_alarm("b"))
    put(alarms, metric_alarm("x"), project="p2")
    alarms.set_state("p1", "b", 1, state(OK, NOW), [])
    found = alarms.get_many("p1", ["a", "b", "x", "a"])
    assert sorted(found) == ["a", "b"]
    assert (found["b"].version, found["b"].alarm.state.value) == (2, OK)
    assert alarms.get_many("p1", []) == {}
    assert alarms.children_states("p1", ["a", "b", "x"]) == {"a": INSUFFICIENT_DATA, "b": OK}
    assert alarms.children_states("p1", []) == {}


# --- describe ------------------------------------------------------------------------------

def test_describe_filters(alarms):
    put(alarms, metric_alarm("web-cpu", alarm_actions=("arn:aws:sns:topic-a",)))
    put(alarms, metric_alarm("web-disk", ok_actions=("arn:aws:autoscaling:policy",)))
    put(alarms, metric_alarm("db-cpu", insufficient_data_actions=("arn:aws:sns:topic-b",)))
    put(alarms, composite_alarm("web", ("web-cpu", "web-disk"),
                                alarm_actions=("arn:aws:sns:topic-a",)))
    put(alarms, metric_alarm("web-other"), project="p2")
    alarms.set_state("p1", "web-disk", 1, state(ALARM, NOW), [])

    def describe(**query):
        return names(alarms.describe("p1", AlarmFilter(**query), 100))

    assert describe() == ["db-cpu", "web-cpu", "web-disk"]  # metric alarms by default
    assert describe(alarm_types=()) == ["db-cpu", "web", "web-cpu", "web-disk"]
    assert describe(alarm_types=(COMPOSITE_ALARM,)) == ["web"]
    assert describe(names=("web-cpu", "db-cpu", "nope")) == ["db-cpu", "web-cpu"]
    assert describe(names=("web",)) == []
    assert describe(name_prefix="web", alarm_types=()) == ["web", "web-cpu", "web-disk"]
    assert describe(name_prefix="web-") == ["web-cpu", "web-disk"]
    assert describe(name_prefix="x") == []
    assert describe(state_value=ALARM) == ["web-disk"]
    assert describe(state_value=OK) == []
    assert describe(action_prefix="arn:aws:sns:", alarm_types=()) == [
        "db-cpu", "web", "web-cpu"]
    assert describe(action_prefix="arn:aws:autoscaling") == ["web-disk"]
    assert describe(action_prefix="arn:aws:sns:topic-a", state_value=INSUFFICIENT_DATA) == [
        "web-cpu"]
    assert describe(action_prefix="arn:aws:lambda") == []


def test_describe_prefix_edges(alarms):
    odd = ["a", "a\x00", "a\U0010ffff", "a\U0010ffffz", "a\ud7ffq", "a\ue000", "b", "\ud7ff",
           "\ue000", "é", "éa"]
    for name in odd:
        put(alarms, metric_alarm(name))
    for prefix in ["a", "a\U0010ffff", "\ud7ff", "é", "\U0010ffff", "a\x00"]:
        expected = sorted(n for n in odd if n.startswith(prefix))
        got = names(alarms.describe("p1", AlarmFilter(name_prefix=prefix), 100))
        assert sorted(got) == expected, prefix


def test_describe_returns_full_alarms(alarms):
    composite = composite_alarm("c", ("a", "b"), description="both")
    put(alarms, composite)
    put(alarms, math_alarm("m"))
    page = alarms.describe("p1", AlarmFilter(alarm_types=()), 10)
    assert page.items == [composite, math_alarm("m")]
    assert page.next_token is None


def test_describe_pages(alarms):
    for i in range(250):
        put(alarms, metric_alarm(f"alarm-{i:03d}"))
    query = AlarmFilter(name_prefix="alarm-")
    pages = every_page(lambda limit, token: alarms.describe("p1", query, limit, token), 100)
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [a.name for p in pages for a in p] == [f"alarm-{i:03d}" for i in range(250)]
    # Exactly one full page: no token.
    assert alarms.describe("p1", query, 250).next_token is None
    # A page boundary is a position, not an offset: deleting seen alarms skips nothing.
    first = alarms.describe("p1", query, 100)
    alarms.delete("p1", [a.name for a in first.items[:50]], describe_delete)
    assert names(alarms.describe("p1", query, 100, first.next_token))[0] == "alarm-100"


def test_describe_refuses_foreign_tokens(alarms, store_path):
    for i in range(3):
        put(alarms, metric_alarm(f"a{i}"))
        put(alarms, metric_alarm(f"a{i}"), project="p2")
    query = AlarmFilter()
    token = alarms.describe("p1", query, 1).next_token
    assert token
    assert names(alarms.describe("p1", query, 1, token)) == ["a1"]
    history_token = alarms.history("p1", HistoryFilter(), 1).next_token
    metrics = SQLiteMetricStore(store_path)
    try:
        for i in range(2):
            metrics.put("p1", [Datum(MetricKey.of("ns", f"m{i}"), NOW, "None", 60,
                                     (stats.single(1.0),))], NOW)
        metric_token = metrics.list_metrics("p1", MetricFilter(), NOW - timedelta(days=1),
                                            limit=1).next_token
    finally:
        metrics.close()
    body, signature = token.split(".")
    for bad in [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
        body[:-1] + ("A" if body[-1] != "A" else "B") + "." + signature,  # body
        "garbage", "a.b.c", "é.é",
        history_token, metric_token,
    ]:
        with pytest.raises(InvalidNextToken):
            alarms.describe("p1", query, 1, bad)
    for other_project, other_query in [
        ("p2", query),
        ("p1", AlarmFilter(name_prefix="a")),
        ("p1", AlarmFilter(alarm_types=())),
        ("p1", AlarmFilter(names=("a0", "a1", "a2"))),
    ]:
        with pytest.raises(InvalidNextToken):
            alarms.describe(other_project, other_query, 1, token)


def test_describe_page_of_many_is_fast(alarms_of_many):
    alarms = alarms_of_many
    query = AlarmFilter()
    alarms.describe("p1", query, 100)
    started = time.perf_counter()
    page = alarms.describe("p1", query, 100)
    middle = alarms.describe("p1", query, 100, page.next_token)
    elapsed = (time.perf_counter() - started) / 2
    print(f"\ndescribe: one page of 100 among {MANY} alarms in {elapsed * 1000:.2f} ms")
    assert len(middle.items) == 100
    assert middle.items[0].name == f"alarm-{100:05d}"


# --- for_metric ----------------------------------------------------------------------------

def test_for_metric_is_exact(alarms):
    put(alarms, metric_alarm("host", HOST))
    put(alarms, metric_alarm("host-disk", HOST_DISK))
    put(alarms, metric_alarm("bare", MetricKey.of("ns", "CPU")))
    put(alarms, math_alarm("math"))
    put(alarms, composite_alarm("both", ("host", "host-disk")))
    put(alarms, metric_alarm("elsewhere", HOST), project="p2")
    assert [a.name for a in alarms.for_metric("p1", HOST)] == ["host"]
    reordered = MetricKey("ns", "CPU", (("InstanceId", "i-1"), ("Disk", "vda")))
    assert [a.name for a in alarms.for_metric("p1", reordered)] == ["host-disk"]
    assert [a.name for a in alarms.for_metric("p1", MetricKey.of("ns", "CPU"))] == ["bare"]
    assert alarms.for_metric("p1", MetricKey.of("other", "CPU")) == []
    # An alarm moved to another metric is found under the new one only.
    put(alarms, metric_alarm("host", HOST_DISK))
    assert alarms.for_metric("p1", HOST) == []
    assert [a.name for a in alarms.for_metric("p1", HOST_DISK)] == ["host", "host-disk"]


# --- delete --------------------------------------------------------------------------------

def test_delete_keeps_history_and_drops_tags(alarms):
    put(alarms, metric_alarm("a"), tags=[("k", "v")])
    put(alarms, metric_alarm("b"))
    put(alarms, metric_alarm("a"), project="p2")
    deleted = alarms.delete("p1", ["nope", "b", "a", "b"], describe_delete)
    assert deleted == ["b", "a"]
    assert alarms.get("p1", "a") is None and alarms.get("p1", "b") is None
    assert alarms.get("p2", "a") is not None
    assert alarms.delete("p1", ["a"], describe_delete) == []
    assert alarms.delete("p1", [], describe_delete) == []
    history = alarms.history("p1", HistoryFilter(alarm_name="a"), 10).items
    assert [i.summary for i in history] == ['Alarm "a" deleted', 'Alarm "a" created']
    # A new alarm of the same name starts afresh.
    put(alarms, metric_alarm("a"))
    assert alarms.tags("p1", "a") == []
    assert alarms.get("p1", "a").version == 1


def test_a_failing_describe_delete_deletes_nothing(alarms):
    put(alarms, metric_alarm("a"))

    def broken(alarm):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        alarms.delete("p1", ["a"], broken)
    assert alarms.get("p1", "a") is not None


# --- set_state -----------------------------------------------------------------------------

def test_set_state_compare_and_set(alarms):
    put(alarms, metric_alarm("cpu"))
    t1, t2, t3 = (NOW + timedelta(minutes=m) for m in (1, 2, 3))
    stored = alarms.set_state("p1", "cpu", 1, state(ALARM, t1), [state_item("cpu", t1)], t1)
    assert stored == alarms.get("p1", "cpu")
    # The store keeps the value the alarm left, whatever the caller passed.
    assert (stored.version, stored.alarm.state, stored.actions_repeated_at) == (
        2, replace(state(ALARM, t1), previous_value=INSUFFICIENT_DATA), t1)
    with pytest.raises(StaleAlarm):
        alarms.set_state("p1", "cpu", 1, state(OK, t2), [state_item("cpu", t2, "lost")])
    with pytest.raises(StaleAlarm):
        alarms.set_state("p2", "cpu", 2, state(OK, t2), [])
    # Same value: the transition time stays; the repeat time is reset when not given.
    same = alarms.set_state("p1", "cpu", 2, AlarmState(ALARM, "still", t2, t2), [])
    assert (same.version, same.alarm.state.reason) == (3, "still")
    assert same.alarm.state.updated_at == t2
    assert same.alarm.state.transitioned_at == t1
    assert same.actions_repeated_at is None
    assert same.alarm.state.previous_value == INSUFFICIENT_DATA  # no transition: kept
    changed = alarms.set_state("p1", "cpu", 3, state(OK, t3), [])
    assert changed.alarm.state.transitioned_at == t3
    assert changed.alarm.state.previous_value == ALARM
    summaries = [i.summary for i in alarms.history(
        "p1", HistoryFilter(item_type=STATE_UPDATE), 10).items]
    assert summaries == ["changed"]  # the refused change wrote no history
    alarms.delete("p1", ["cpu"], describe_delete)
    with pytest.raises(StaleAlarm):
        alarms.set_state("p1", "cpu", 4, state(ALARM, t3), [])


def test_an_update_makes_an_evaluation_stale(alarms):
    put(alarms, metric_alarm("cpu"))
    (claimed,) = alarms.claim_due(NOW, 10)
    put(alarms, metric_alarm("cpu", threshold=1.0))
    with pytest.raises(StaleAlarm):
        alarms.set_state("p1", "cpu", claimed.version, state(ALARM, NOW), [])


def test_set_actions_enabled(alarms):
    put(alarms, metric_alarm("a"))
    put(alarms, metric_alarm("b", actions_enabled=False))
    alarms.set_state("p1", "a", 1, state(ALARM, NOW), [])
    seen = []

    def spy(old, new):
        seen.append((old.name, old.actions_enabled, new.actions_enabled))
        return describe_change(old, new)

    alarms.set_actions_enabled("p1", ["a", "b", "nope"], False, spy)
    assert seen == [("a", True, False)]
    a = alarms.get("p1", "a")
    assert (a.alarm.actions_enabled, a.version, a.alarm.state.value) == (False, 3, ALARM)
    assert a.alarm.configuration_updated_at == NOW
    assert alarms.get("p1", "b").version == 1
    alarms.set_actions_enabled("p1", ["a", "b"], True, spy)
    assert alarms.get("p1", "a").alarm.actions_enabled
    assert alarms.get("p1", "b").alarm.actions_enabled
    assert len(alarms.history("p1", HistoryFilter(alarm_name="a"), 10).items) == 3


def test_note_actions_repeated_keeps_the_version(alarms):
    put(alarms, metric_alarm("cpu"))
    at = NOW + timedelta(minutes=5)
    alarms.note_actions_repeated("p1", "cpu", 1, at)
    stored = alarms.get("p1", "cpu")
    assert (stored.version, stored.actions_repeated_at) == (1, at)
    alarms.set_state("p1", "cpu", 1, state(ALARM, at), [], at)  # still valid
    with pytest.raises(StaleAlarm):
        alarms.note_actions_repeated("p1", "cpu", 1, at)
    with pytest.raises(StaleAlarm):
        alarms.note_actions_repeated("p1", "nope", 1, at)


# --- history -------------------------------------------------------------------------------

def test_history_filters_and_bounds(alarms):
    put(alarms, metric_alarm("a"))
    put(alarms, composite_alarm("c", ("a",)))
    alarms.add_history("p1", [state_item("a", NOW + timedelta(minutes=m), f"a{m}")
                              for m in range(1, 4)])
    alarms.add_history("p2", [state_item("a", NOW, "other project")])
    alarms.add_history("p1", [])

    def summaries(**query):
        return [i.summary for i in alarms.history("p1", HistoryFilter(**query), 100).items]

    assert summaries() == ["a3", "a2", "a1", 'Alarm "c" created', 'Alarm "a" created']
    assert summaries(newest_first=False) == [
        'Alarm "a" created', 'Alarm "c" created', "a1", "a2", "a3"]
    assert summaries(alarm_name="c") == ['Alarm "c" created']
    assert summaries(alarm_types=(COMPOSITE_ALARM,)) == ['Alarm "c" created']
    assert summaries(alarm_types=(METRIC_ALARM, COMPOSITE_ALARM)) == summaries()
    assert summaries(item_type=STATE_UPDATE) == ["a3", "a2", "a1"]
    # Both ends are inclusive.
    assert summaries(start=NOW + timedelta(minutes=1),
                     end=NOW + timedelta(minutes=2)) == ["a2", "a1"]
    assert summaries(start=NOW + timedelta(minutes=3)) == ["a3"]
    assert summaries(end=NOW) == ['Alarm "c" created', 'Alarm "a" created']
    (item,) = alarms.history("p1", HistoryFilter(start=NOW + timedelta(minutes=3)), 1).items
    assert item == state_item("a", NOW + timedelta(minutes=3), "a3")


@pytest.mark.parametrize("newest_first", [True, False])
def test_history_pages_through_ties(alarms, newest_first):
    # Many items share a time stamp: the position is (time, id), so none is lost or repeated.
    items = [state_item("a", NOW + timedelta(seconds=i // 7), f"{i}") for i in range(100)]
    alarms.add_history("p1", items)
    query = HistoryFilter(newest_first=newest_first)
    pages = every_page(lambda limit, token: alarms.history("p1", query, limit, token), 15)
    assert [len(p) for p in pages] == [15] * 6 + [10]
    got = [int(i.summary) for p in pages for i in p]
    assert got == (list(reversed(range(100))) if newest_first else list(range(100)))


def test_history_refuses_foreign_tokens(alarms):
    alarms.add_history("p1", [state_item("a", NOW + timedelta(seconds=i)) for i in range(3)])
    alarms.add_history("p2", [state_item("a", NOW + timedelta(seconds=i)) for i in range(3)])
    query = HistoryFilter()
    token = alarms.history("p1", query, 1).next_token
    assert len(alarms.history("p1", query, 1, token).items) == 1
    describe_token = None
    for i in range(2):
        put(alarms, metric_alarm(f"x{i}"))
    describe_token = alarms.describe("p1", AlarmFilter(), 1).next_token
    for bad in [token[:-1] + ("A" if token[-1] != "A" else "B"), "garbage", describe_token]:
        with pytest.raises(InvalidNextToken):
            alarms.history("p1", query, 1, bad)
    for project, other in [
        ("p2", query),
        ("p1", HistoryFilter(newest_first=False)),
        ("p1", HistoryFilter(alarm_name="a")),
        ("p1", HistoryFilter(start=NOW)),
        ("p1", HistoryFilter(item_type=STATE_UPDATE)),
    ]:
        with pytest.raises(InvalidNextToken):
            alarms.history(project, other, 1, token)


def test_purge_history(alarms):
    old = [state_item("a", NOW - timedelta(days=15, seconds=i)) for i in range(6001)]
    alarms.add_history("p1", [*old, state_item("a", NOW, "fresh")])
    alarms.add_history("p2", [state_item("a", NOW - timedelta(days=20))])
    assert alarms.purge_history(NOW - timedelta(days=14)) == 6002
    assert [i.summary for i in alarms.history("p1", HistoryFilter(), 10).items] == ["fresh"]
    assert alarms.purge_history(NOW - timedelta(days=14)) == 0
    assert alarms.purge_history(NOW) == 0  # the cut is exclusive
    assert alarms.purge_history(NOW + timedelta(milliseconds=1)) == 1


# --- tags ----------------------------------------------------------------------------------

def test_tags(alarms):
    assert alarms.tags("p1", "a") is None
    assert alarms.tag("p1", "a", [("k", "v")]) is False
    assert alarms.untag("p1", "a", ["k"]) is False
    put(alarms, metric_alarm("a"), tags=[("z", "1"), ("k", "1")])
    put(alarms, metric_alarm("a"), project="p2", tags=[("other", "x")])
    assert alarms.tags("p1", "a") == [("k", "1"), ("z", "1")]
    assert alarms.tag("p1", "a", [("k", "2"), ("new", "")]) is True
    assert alarms.tags("p1", "a") == [("k", "2"), ("new", ""), ("z", "1")]
    assert alarms.untag("p1", "a", ["z", "absent"]) is True
    assert alarms.tags("p1", "a") == [("k", "2"), ("new", "")]
    assert alarms.untag("p1", "a", ["k", "new"]) is True
    assert alarms.tags("p1", "a") == []
    assert alarms.tags("p2", "a") == [("other", "x")]
    assert alarms.get("p1", "a").version == 1  # tags are not part of the definition


def test_named_by_tags_needs_every_tag_in_the_project(alarms):
    stack = [("heat-stack-user-project", "sup-1"), ("heat-logical-id", "Web")]
    put(alarms, metric_alarm("s-Web-1"), tags=[*stack, ("heat-stack-id", "s")])
    put(alarms, metric_alarm("s-Web-2"), tags=[stack[0], ("heat-logical-id", "Db")])
    put(alarms, metric_alarm("t-Web-1"), tags=[("heat-stack-user-project", "sup-2"),
                                               stack[1]])
    put(alarms, metric_alarm("other-project"), project="p2", tags=stack)
    put(alarms, metric_alarm("untagged"))
    assert alarms.named_by_tags("p1", stack) == ["s-Web-1"]
    assert alarms.named_by_tags("p1", [stack[1]]) == ["s-Web-1", "t-Web-1"]
    assert alarms.named_by_tags("p1", [("heat-logical-id", "web")]) == []  # exact values
    assert alarms.named_by_tags("p2", stack) == ["other-project"]
    assert alarms.named_by_tags("p3", stack) == []
    alarms.untag("p1", "s-Web-1", ["heat-logical-id"])
    assert alarms.named_by_tags("p1", stack) == []
    with pytest.raises(ValueError):
        alarms.named_by_tags("p1", [])


# --- composite children --------------------------------------------------------------------

def test_children_and_parents(alarms):
    put(alarms, metric_alarm("a"))
    put(alarms, metric_alarm("b"))
    put(alarms, composite_alarm("both", ("a", "b")))
    put(alarms, composite_alarm("any-a", ("a",)))
    put(alarms, composite_alarm("top", ("both",)))
    put(alarms, composite_alarm("elsewhere", ("a",)), project="p2")
    assert alarms.parents_of("p1", "a") == ["any-a", "both"]
    assert alarms.parents_of("p1", "both") == ["top"]
    assert alarms.parents_of("p1", "top") == []
    # An update replaces the children; a delete removes the composite's.
    put(alarms, composite_alarm("both", ("b",)))
    assert alarms.parents_of("p1", "a") == ["any-a"]
    assert alarms.parents_of("p1", "b") == ["both"]
    alarms.delete("p1", ["any-a"], describe_delete)
    assert alarms.parents_of("p1", "a") == []
    # Deleting a child leaves its parents' rules (and so the relation) alone.
    alarms.delete("p1", ["b"], describe_delete)
    assert alarms.parents_of("p1", "b") == ["both"]
    assert alarms.parents_of("p2", "a") == ["elsewhere"]


# --- claims --------------------------------------------------------------------------------

def test_claim_due_ticks(alarms):
    created = NOW + timedelta(seconds=7)
    put(alarms, metric_alarm("minute", at=created))
    put(alarms, metric_alarm("fast", period=10, at=created))
    put(alarms, composite_alarm("comp", ("minute",), at=created))
    put(alarms, metric_alarm("other", at=created), project="p2")
    # New alarms are due at once, even for an engine whose clock is behind.
    claimed = alarms.claim_due(created - timedelta(hours=1), 10)
    assert len(claimed) == 4
    assert alarms.claim_due(created - timedelta(hours=1), 10) == []
    alarms.make_due("p1", ["minute", "fast", "comp"], NOW)
    alarms.make_due("p2", ["other"], NOW)
    claimed = alarms.claim_due(created, 10)
    assert [(s.project_id, s.alarm.name) for s in claimed] == [
        ("p1", "comp"), ("p1", "fast"), ("p1", "minute"), ("p2", "other")]
    assert claimed[0] == alarms.get("p1", "comp")
    assert alarms.claim_due(created, 10) == []
    assert alarms.claim_due(NOW + timedelta(milliseconds=9999), 10) == []
    assert [s.alarm.name for s in alarms.claim_due(NOW + timedelta(seconds=10), 10)] == [
        "fast"]
    assert [s.alarm.name for s in alarms.claim_due(NOW + timedelta(seconds=59), 10)] == [
        "fast"]
    assert [s.alarm.name for s in alarms.claim_due(NOW + timedelta(seconds=60), 10)] == [
        "comp", "fast", "minute", "other"]
    # After a pause, each alarm is claimed once and then follows the ticks again.
    later = NOW + timedelta(minutes=10, seconds=30)
    assert len(alarms.claim_due(later, 10)) == 4
    assert [s.alarm.name for s in alarms.claim_due(later + timedelta(seconds=10), 10)] == [
        "fast"]
    assert alarms.claim_due(later, 0) == []


def test_claim_takes_the_longest_due_first(alarms):
    for i in range(5):
        put(alarms, metric_alarm(f"a{i}"))
    assert len(alarms.claim_due(NOW, 10)) == 5
    for i in range(5):
        alarms.make_due("p1", [f"a{i}"], NOW + timedelta(seconds=5 - i))
    first = alarms.claim_due(NOW + timedelta(seconds=30), 2)
    assert [s.alarm.name for s in first] == ["a3", "a4"]
    rest = alarms.claim_due(NOW + timedelta(seconds=30), 10)
    assert [s.alarm.name for s in rest] == ["a0", "a1", "a2"]


def test_an_updated_alarm_is_due_at_once(alarms):
    put(alarms, metric_alarm("a"))
    assert len(alarms.claim_due(NOW, 10)) == 1
    put(alarms, metric_alarm("a", threshold=1.0, at=NOW + timedelta(seconds=20)))
    (claimed,) = alarms.claim_due(NOW + timedelta(seconds=1), 10)
    assert (claimed.version, claimed.alarm.metric_rule.threshold) == (2, 1.0)
    # Enabling actions or a state change does not move the next evaluation.
    alarms.set_actions_enabled("p1", ["a"], False, describe_change)
    alarms.set_state("p1", "a", 3, state(OK, NOW + timedelta(seconds=21)), [])
    assert alarms.claim_due(NOW + timedelta(seconds=30), 10) == []
    assert len(alarms.claim_due(NOW + timedelta(seconds=60), 10)) == 1


def test_claims_from_threads_of_two_stores_never_overlap(alarms, store_path):
    many_alarms(alarms, 1000)
    other = SQLiteAlarmStore(store_path)
    claimed: list[list[str]] = [[], [], [], []]

    def claimer(store, into):
        while True:
            got = store.claim_due(NOW, 37)
            if not got:
                return
            into.extend(s.alarm.name for s in got)

    try:
        threads = [threading.Thread(target=claimer, args=(store, into))
                   for store, into in zip((alarms, other, alarms, other), claimed, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    every = [name for names_ in claimed for name in names_]
    assert len(every) == 1000
    assert set(every) == {f"alarm-{i:05d}" for i in range(1000)}


def _claim_in_another_process(path: str, now_ms: int, out) -> None:
    store = SQLiteAlarmStore(path)
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    names_: list[str] = []
    while True:
        got = store.claim_due(now, 25)
        if not got:
            break
        names_.extend(s.alarm.name for s in got)
    store.close()
    out.put(names_)


def test_claims_from_processes_never_overlap(alarms, store_path):
    many_alarms(alarms, 1000)
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    now_ms = int(NOW.timestamp() * 1000)
    workers = [context.Process(target=_claim_in_another_process, args=(store_path, now_ms, out))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    mine: list[str] = []
    while got := alarms.claim_due(NOW, 25):
        mine.extend(s.alarm.name for s in got)
    theirs = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    every = mine + [name for names_ in theirs for name in names_]
    assert len(every) == 1000
    assert set(every) == {f"alarm-{i:05d}" for i in range(1000)}


def test_claim_of_many_is_one_statement(alarms_of_many):
    alarms = alarms_of_many
    started = time.perf_counter()
    claimed = alarms.claim_due(NOW, MANY)
    cold = time.perf_counter() - started
    assert len(claimed) == MANY
    assert alarms.claim_due(NOW, MANY) == []
    started = time.perf_counter()
    claimed = alarms.claim_due(NOW + timedelta(minutes=1), MANY)
    warm = time.perf_counter() - started
    print(f"\nclaim_due: {MANY} alarms claimed in {cold * 1000:.1f} ms (first claim of "
          f"the process), {warm * 1000:.1f} ms (definitions already decoded)")
    assert len(claimed) == MANY


def test_make_due(alarms):
    put(alarms, metric_alarm("a"))
    put(alarms, metric_alarm("b"))
    put(alarms, metric_alarm("a"), project="p2")
    assert len(alarms.claim_due(NOW, 10)) == 3
    soon = NOW + timedelta(seconds=20)
    alarms.make_due("p1", ["a", "nope"], soon)
    alarms.make_due("p1", [], soon)
    (claimed,) = alarms.claim_due(soon, 10)
    assert (claimed.project_id, claimed.alarm.name, claimed.version) == ("p1", "a", 1)
    assert alarms.claim_due(soon, 10) == []
    # An evaluation due earlier is not put off.
    alarms.make_due("p1", ["b"], NOW + timedelta(minutes=5))
    claimed = alarms.claim_due(NOW + timedelta(minutes=1), 10)
    assert [(s.project_id, s.alarm.name) for s in claimed] == [
        ("p1", "a"), ("p1", "b"), ("p2", "a")]


# --- queued actions ------------------------------------------------------------------------

def queued(name: str = "cpu", actions: tuple[str, ...] = ("https://a", "https://b"),
           value: str = ALARM) -> QueuedActions:
    return QueuedActions(name, METRIC_ALARM, actions, value, NOW, f'{{"alarm":"{name}"}}')


def queue(store, project: str, actions: QueuedActions) -> None:
    """Queue ``actions`` the way repeating Auto Scaling actions are queued."""
    stored = store.get(project, actions.alarm_name)
    if stored is None:
        put(store, metric_alarm(actions.alarm_name), project=project)
        stored = store.get(project, actions.alarm_name)
    store.note_actions_repeated(project, actions.alarm_name, stored.version, NOW, actions)


def test_repeat_queues_actions_with_the_note(alarms):
    put(alarms, metric_alarm("cpu"))
    with pytest.raises(StaleAlarm):
        alarms.note_actions_repeated("p1", "cpu", 7, NOW, queued())
    assert alarms.claim_actions(NOW, 10, 30) == []
    alarms.note_actions_repeated("p1", "cpu", 1, NOW, queued())
    assert [p.action for p in alarms.claim_actions(NOW, 10, 30)] == ["https://a", "https://b"]
    assert alarms.get("p1", "cpu").version == 1


def test_set_state_queues_actions_with_the_change(alarms):
    put(alarms, metric_alarm("cpu"))
    alarms.set_state("p1", "cpu", 1, state(ALARM, NOW), [], actions=queued())
    with pytest.raises(StaleAlarm):
        alarms.set_state("p1", "cpu", 1, state(OK, NOW), [], actions=queued(value=OK))
    alarms.set_state("p1", "cpu", 2, state(OK, NOW), [], actions=queued(actions=()))
    claimed = alarms.claim_actions(NOW, 10, 30)
    assert claimed == [
        PendingAction(claimed[0].id, "p1", "cpu", METRIC_ALARM, "https://a", ALARM, NOW,
                      '{"alarm":"cpu"}', 1),
        PendingAction(claimed[1].id, "p1", "cpu", METRIC_ALARM, "https://b", ALARM, NOW,
                      '{"alarm":"cpu"}', 1),
    ]


def test_action_leases(alarms, store_path):
    queue(alarms, "p1", queued("a", ("https://1", "https://2", "https://3")))
    queue(alarms, "p2", queued("b", ("https://4",)))
    queue(alarms, "p1", queued("c", ()))
    first = alarms.claim_actions(NOW, 2, 30)
    assert [p.action for p in first] == ["https://1", "https://2"]
    other = SQLiteAlarmStore(store_path)
    try:
        rest = other.claim_actions(NOW, 10, 30)
        assert [(p.project_id, p.action) for p in rest] == [("p1", "https://3"),
                                                             ("p2", "https://4")]
        assert other.claim_actions(NOW + timedelta(seconds=29), 10, 30) == []
    finally:
        other.close()
    # Finished actions are gone; the others come back when their lease ends.
    item = HistoryItem("a", METRIC_ALARM, NOW, ACTION, "Successfully executed action", "{}")
    alarms.finish_action(first[0].id, item, "p1")
    alarms.finish_action(first[0].id, item, "p1")  # finished twice: recorded once
    again = alarms.claim_actions(NOW + timedelta(seconds=30), 10, 30)
    assert [(p.action, p.attempts) for p in again] == [
        ("https://2", 2), ("https://3", 2), ("https://4", 2)]
    assert alarms.history("p1", HistoryFilter(item_type=ACTION), 10).items == [item]
    assert alarms.claim_actions(NOW + timedelta(seconds=30), 0, 30) == []


def test_queued_actions_outlive_their_alarm(alarms):
    put(alarms, metric_alarm("cpu"))
    alarms.set_state("p1", "cpu", 1, state(ALARM, NOW), [], actions=queued())
    alarms.delete("p1", ["cpu"], describe_delete)
    assert len(alarms.claim_actions(NOW, 10, 30)) == 2


def test_action_claims_from_threads_never_overlap(alarms, store_path):
    queue(alarms, "p1", queued("a", tuple(f"https://{i}" for i in range(500))))
    other = SQLiteAlarmStore(store_path)
    claimed: list[list[int]] = [[], [], [], []]

    def claimer(store, into):
        while got := store.claim_actions(NOW, 7, 60):
            into.extend(p.id for p in got)

    try:
        threads = [threading.Thread(target=claimer, args=(store, into))
                   for store, into in zip((alarms, other, alarms, other), claimed, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 500


# --- durability and sharing ----------------------------------------------------------------

def test_file_of_an_earlier_release_gains_the_new_column(store_path):
    """A store file made before state_previous_value existed opens and records it."""
    import sqlite3

    first = SQLiteAlarmStore(store_path)
    put(first, metric_alarm("a"))
    first.close()
    old = sqlite3.connect(store_path)
    old.execute("ALTER TABLE alarms DROP COLUMN state_previous_value")
    old.commit()
    old.close()
    reopened = SQLiteAlarmStore(store_path)
    try:
        assert reopened.get("p1", "a").alarm.state.previous_value is None
        changed = reopened.set_state("p1", "a", 1, state(ALARM, NOW), [], NOW)
        assert changed.alarm.state.previous_value == INSUFFICIENT_DATA
    finally:
        reopened.close()


def test_reopened_file_reads_back(alarms, store_path):
    put(alarms, composite_alarm("c", ("a",)), tags=[("k", "v")])
    put(alarms, metric_alarm("a"))
    alarms.set_state("p1", "a", 1, state(ALARM, NOW), [state_item("a", NOW)], NOW)
    for i in range(3):
        put(alarms, metric_alarm(f"z{i}"))
    token = alarms.describe("p1", AlarmFilter(), 2).next_token
    alarms.close()
    reopened = SQLiteAlarmStore(store_path)
    try:
        stored = reopened.get("p1", "a")
        assert (stored.version, stored.alarm.state, stored.actions_repeated_at) == (
            2, replace(state(ALARM, NOW), previous_value=INSUFFICIENT_DATA), NOW)
        assert reopened.get("p1", "c").alarm == composite_alarm("c", ("a",))
        assert reopened.tags("p1", "c") == [("k", "v")]
        assert reopened.parents_of("p1", "a") == ["c"]
        assert len(reopened.history("p1", HistoryFilter(), 100).items) == 6
        # The token secret is in the file: tokens outlive the process that issued them.
        assert names(reopened.describe("p1", AlarmFilter(), 2, token)) == ["z1", "z2"]
    finally:
        reopened.close()


def test_shares_the_file_with_the_metric_store(alarms, store_path):
    metrics = SQLiteMetricStore(store_path)
    try:
        metrics.put("p1", [Datum(HOST, NOW, "Percent", 60, (stats.single(1.0),))], NOW)
        put(alarms, metric_alarm("cpu", HOST))
        assert metrics.list_metrics("p1", MetricFilter(), NOW - timedelta(days=1)).metrics == [
            HOST]
        assert [a.name for a in alarms.for_metric("p1", HOST)] == ["cpu"]
    finally:
        metrics.close()


def test_limit_must_be_positive(alarms):
    with pytest.raises(ValueError):
        alarms.describe("p1", AlarmFilter(), 0)
    with pytest.raises(ValueError):
        alarms.history("p1", HistoryFilter(), 0)


# --- helpers -------------------------------------------------------------------------------

def many_alarms(store: SQLiteAlarmStore, count: int) -> None:
    """``count`` alarms in p1, named alarm-00000..., all due at NOW."""
    for i in range(count):
        key = MetricKey(HOST.namespace, HOST.name, (("InstanceId", f"i-{i}"),))
        put(store, metric_alarm(f"alarm-{i:05d}", key), max_alarms=count)
