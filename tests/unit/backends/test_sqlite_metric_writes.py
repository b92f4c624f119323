"""The write path of SQLiteMetricStore (``metric_writes``, ``metric_rollups.upsert``): the
same rows whichever way a request takes, metric ids resolved in chunks, the id cache."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.sqlite import metric_rollups
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, MetricFilter, MetricKey, StatisticSet
from cfn_gateway.domain.periods import to_millis

DAY = datetime(2026, 11, 29, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TABLES = ("metrics", "metric_dimensions", "metric_samples", "metric_minutes", "metric_hours")


def merged_only(conn: sqlite3.Connection, rows: list[metric_rollups.Row]) -> None:
    """The roll-up write before rows went to the upserts as they are: the reference."""
    for level, groups in metric_rollups.level_groups(rows).items():
        conn.executemany(metric_rollups.UPSERTS[level], groups)


@pytest.fixture
def reference(tmp_path) -> Iterator[SQLiteMetricStore]:
    opened = SQLiteMetricStore(str(tmp_path / "reference.sqlite3"))
    yield opened
    opened.close()


def contents(store: SQLiteMetricStore) -> list[list[tuple]]:
    return [sorted(store._conn.execute(f"SELECT * FROM {table}")) for table in TABLES]


def random_requests(rng: random.Random, count: int) -> list[list[Datum]]:
    """Requests of distinct metrics (rows go to the upserts as they are) and requests with
    a metric twice (merged first), times around the epoch and today, three units."""
    keys = [MetricKey.of("ns", f"m{i}", [("Host", f"h{i % 3}")]) for i in range(12)]
    requests = []
    for _ in range(count):
        chosen = rng.sample(keys, rng.randint(1, 6))
        if rng.random() < 0.4:
            chosen.append(chosen[0])
        base = rng.choice((EPOCH, DAY))
        requests.append([
            Datum(key, base + timedelta(seconds=rng.randrange(-7200, 7200)),
                  rng.choice(("Count", "Seconds", "None")), 1,
                  (StatisticSet(2.0, rng.randint(-50, 50) / 4, -1.5, 3.25),)
                  if rng.random() < 0.3 else (stats.single(rng.randint(-800, 800) / 8),))
            for key in chosen])
    return requests


def test_rows_as_they_are_write_what_merged_groups_write(store, reference, monkeypatch):
    rng = random.Random(5)
    requests = random_requests(rng, 120)
    for data in requests:
        store.put("p", data, DAY)
    monkeypatch.setattr(metric_rollups, "upsert", merged_only)
    for data in requests:
        reference.put("p", data, DAY)
    assert contents(store) == contents(reference)
    assert any(len({d.key for d in data}) == len(data) for data in requests)
    assert any(len({d.key for d in data}) < len(data) for data in requests)


def test_many_new_metrics_in_one_request(store, store_path):
    keys = [MetricKey.of("ns", f"m{i}", [("Host", f"h{i}"), ("Az", "a")]) for i in range(237)]
    store.put("p", [Datum(keys[5], DAY, "Count", 60, (stats.single(-1.0),))], DAY)
    data = [Datum(key, DAY, "Count", 60, (stats.single(float(i)),))
            for i, key in enumerate(keys)]
    data.append(Datum(keys[7], DAY + timedelta(minutes=1), "Count", 60,
                      (stats.single(0.5),)))
    other = SQLiteMetricStore(store_path)
    try:
        other.put("p", data, DAY)  # its cache knows none of them, one exists already
        listed = other.list_metrics("p", MetricFilter(), DAY - timedelta(days=1)).metrics
        assert sorted(listed) == sorted(keys)
        for i, key in enumerate(keys):
            sums = [b.stats.sum for b in other.aggregate("p", key, DAY,
                                                         DAY + timedelta(minutes=2), 60)]
            expected = {5: [-1.0 + 5.0], 7: [7.0, 0.5]}.get(i, [float(i)])
            assert sums == expected, key
        assert other._conn.execute("SELECT count(*) FROM metric_dimensions").fetchone() == (
            2 * len(keys),)
        assert len(other._known) == len(keys)
    finally:
        other.close()


def test_last_put_moves_forward_through_the_cache(store):
    key = MetricKey.of("ns", "m")
    write = [Datum(key, DAY, "Count", 60, (stats.single(1.0),))]
    store.put("p", write, DAY)
    for seconds, expected in ((30, 0), (61, 61), (90, 61), (125, 125)):
        store.put("p", write, DAY + timedelta(seconds=seconds))
        (last_put,) = store._conn.execute("SELECT last_put FROM metrics").fetchone()
        assert last_put - to_millis(DAY) == expected * 1000


def test_a_datum_without_samples_still_makes_its_metric(store):
    key = MetricKey.of("ns", "zero")
    store.put("p", [Datum(key, DAY, "Count", 60, ())], DAY)
    assert store.list_metrics("p", MetricFilter(), DAY).metrics == [key]
    assert store._conn.execute("SELECT count(*) FROM metric_samples").fetchone() == (0,)
