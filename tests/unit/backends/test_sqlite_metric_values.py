"""OpenStack mode's value store: SQLiteMetricStore's put/samples, plus an expiry that only
it has (the standalone store keeps its samples)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.metrics import AggregateRequest
from cfn_gateway.backends.sqlite import metric_values
from cfn_gateway.backends.sqlite.metric_values import SQLiteMetricValues
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, MetricKey

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
KEY = MetricKey.of("ns", "Latency", [("Host", "a")])
RETENTION = timedelta(days=15)


@pytest.fixture
def values(tmp_path) -> Iterator[SQLiteMetricValues]:
    opened = SQLiteMetricValues(str(tmp_path / "data" / "metric_values.sqlite3"), RETENTION)
    yield opened
    opened.close()


def data_at(times: list[datetime], key: MetricKey = KEY) -> list[Datum]:
    return [Datum(key, t, "Milliseconds", 60, (stats.single(float(i)),))
            for i, t in enumerate(times)]


def values_between(store: SQLiteMetricStore, start: datetime, end: datetime,
                   project: str = "p") -> list[float]:
    (found,) = store.samples(project, [AggregateRequest(KEY, start, end, 60)])
    return sorted(s.sum for bucket in found for s in bucket.samples)


def test_values_round_trip_per_project(values):
    values.put("p", data_at([NOW, NOW, NOW + timedelta(minutes=1)]), NOW)
    (found,) = values.samples("p", [AggregateRequest(KEY, NOW, NOW + timedelta(minutes=2),
                                                     60)])
    assert [(b.start, len(b.samples)) for b in found] == [
        (NOW, 2), (NOW + timedelta(minutes=1), 1)]
    assert values.keeps_values
    assert values_between(values, NOW, NOW + timedelta(hours=1), project="other") == []


def test_expiry_drops_what_is_older_than_the_retention(values):
    old, edge = NOW - RETENTION - timedelta(minutes=5), NOW - RETENTION
    values.put("p", data_at([old, old, edge, NOW]), NOW)
    assert values.kept_since(NOW) == edge
    assert values.expire_values(NOW) == 2
    assert values.expire_values(NOW) == 0
    assert values_between(values, old, NOW + timedelta(minutes=1)) == [2.0, 3.0]
    # the metric row stayed, so this process's cached id still works
    values.put("p", data_at([NOW + timedelta(minutes=1)]), NOW)
    assert len(values_between(values, NOW, NOW + timedelta(minutes=2))) == 2


def test_expiry_deletes_in_short_batches(values, monkeypatch):
    monkeypatch.setattr(metric_values, "PURGE_BATCH", 4)
    old = NOW - RETENTION - timedelta(hours=1)
    values.put("p", data_at([old] * 10 + [NOW]), NOW)
    values.fold_staged()
    statements: list[str] = []
    values._conn.set_trace_callback(statements.append)
    try:
        assert values.expire_values(NOW) == 10
    finally:
        values._conn.set_trace_callback(None)
    assert sum(s.startswith("DELETE") for s in statements) == 3  # 4 + 4 + 2
    assert statements.count("BEGIN IMMEDIATE") == 3
    assert values_between(values, old, NOW + timedelta(minutes=1)) == [10.0]


def test_expiry_finds_old_rows_through_an_index(values):
    plan = values._conn.execute(
        "EXPLAIN QUERY PLAN SELECT rowid FROM metric_samples WHERE ts < 5 LIMIT 3").fetchall()
    assert any("metric_samples_by_ts" in row[-1] for row in plan), plan


def test_the_standalone_store_never_expires_anything(store):
    ancient = NOW - timedelta(days=400)
    store.put("p", data_at([ancient, NOW]), NOW)
    assert store.expire_values(NOW + timedelta(days=500)) == 0
    assert values_between(store, ancient, NOW + timedelta(minutes=1)) == [0.0, 1.0]
    indexes = {row[0] for row in store._conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "metric_samples_by_ts" not in indexes  # no write cost for an expiry it never does


def test_withdraw_takes_back_one_equal_row_for_each_row_of_the_put(values):
    twice = data_at([NOW, NOW, NOW + timedelta(minutes=1)])
    values.put("p", twice, NOW)
    values.put("p", twice, NOW)
    values.put("other", twice, NOW)
    assert values.withdraw("p", twice, NOW) == 3
    assert values_between(values, NOW, NOW + timedelta(minutes=2)) == [0.0, 1.0, 2.0]
    assert values.withdraw("p", twice, NOW) == 3
    assert values_between(values, NOW, NOW + timedelta(minutes=2)) == []
    assert values.withdraw("p", twice, NOW) == 0  # nothing left to take back
    assert len(values_between(values, NOW, NOW + timedelta(minutes=2), "other")) == 3


def test_withdraw_finds_metrics_this_process_does_not_know(values, tmp_path):
    values.put("p", data_at([NOW]), NOW)
    other = SQLiteMetricValues(str(tmp_path / "data" / "metric_values.sqlite3"), RETENTION)
    try:  # another worker process: its cache of metric ids is empty
        assert other.withdraw("p", data_at([NOW]), NOW) == 1
        unknown = MetricKey.of("ns", "Never", [("Host", "a")])
        assert other.withdraw("p", data_at([NOW], unknown), NOW) == 0
    finally:
        other.close()
    assert values_between(values, NOW, NOW + timedelta(minutes=1)) == []
