"""The per-minute roll-ups of SQLiteMetricStore: reads from them answer exactly what the raw
samples answer, the migration of older files, and the value store that keeps none."""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.sqlite import metric_rollups
from cfn_gateway.backends.sqlite.metric_values import SQLiteMetricValues
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import BucketStats, Datum, MetricKey, StatisticSet

DAY = datetime(2026, 11, 29, tzinfo=UTC)
KEYS = [MetricKey.of("ns", "Latency", [("Host", h)]) for h in ("a", "b")]
UNITS = ("Milliseconds", "Seconds", "None")


class RawReads(SQLiteMetricStore):
    """The same file, read the way the store read before roll-ups: the reference."""

    keeps_rollups = False


@pytest.fixture
def raw(store, store_path) -> Iterator[RawReads]:
    opened = RawReads(store_path)
    yield opened
    opened.close()


@contextmanager
def statements(store: SQLiteMetricStore) -> Iterator[list[str]]:
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        store._conn.set_trace_callback(None)


def dyadic(rng: random.Random) -> float:
    return rng.randint(-4000, 4000) / 8


def positive_float(rng: random.Random) -> float:
    return rng.lognormvariate(3.0, 2.0)


def random_samples(rng: random.Random, value: Callable[[random.Random], float]
                   ) -> tuple[StatisticSet, ...]:
    kind = rng.random()
    if kind < 0.5:
        return (stats.single(value(rng)),)
    if kind < 0.8:  # Values / Counts
        values = [value(rng) for _ in range(rng.randint(1, 5))]
        return tuple(stats.from_values(values, [float(rng.randint(1, 4)) for _ in values]))
    low, high = sorted((value(rng), value(rng)))
    count = float(rng.randint(2, 20))
    return (StatisticSet(count, low + high + (count - 2) * low, low, high),)


def random_data(rng: random.Random, count: int, value: Callable[[random.Random], float],
                span: timedelta = timedelta(hours=6)) -> list[Datum]:
    """Standard (whole minute) and high-resolution (whole second) data, in random order."""
    data = []
    for _ in range(count):
        seconds = rng.randrange(int(span.total_seconds()))
        high_res = rng.random() < 0.4
        at = DAY + timedelta(seconds=seconds if high_res else seconds // 60 * 60)
        data.append(Datum(rng.choice(KEYS), at, rng.choice(UNITS), 1 if high_res else 60,
                          random_samples(rng, value)))
    return data


def put_in_batches(store: SQLiteMetricStore, rng: random.Random, data: list[Datum]) -> None:
    """Several requests, so minutes receive late and out-of-order data across requests."""
    while data:
        size = rng.randint(1, 60)
        store.put("p", data[:size], DAY)
        data = data[size:]


def same(found: list[BucketStats], expected: list[BucketStats], exact: bool) -> bool:
    if exact:
        return found == expected
    if [(b.start, b.unit) for b in found] != [(b.start, b.unit) for b in expected]:
        return False
    return all(
        f.stats.sample_count == e.stats.sample_count
        and (f.stats.minimum, f.stats.maximum) == (e.stats.minimum, e.stats.maximum)
        and math.isclose(f.stats.sum, e.stats.sum, rel_tol=1e-12)
        for f, e in zip(found, expected, strict=True))


READS = [  # (start offset, end offset, period), offsets from DAY
    (timedelta(0), timedelta(hours=3), 60),
    (timedelta(0), timedelta(hours=3), 300),
    (timedelta(0), timedelta(hours=6), 3600),  # hours
    (timedelta(hours=-2), timedelta(hours=7), 10800),
    (timedelta(hours=1), timedelta(hours=4, minutes=47, seconds=13), 7200),  # hours, minutes,
    (timedelta(hours=1), timedelta(hours=4, minutes=47), 3600),  # ... samples
    (timedelta(hours=1), timedelta(minutes=61, seconds=1), 3600),
    (timedelta(minutes=7), timedelta(hours=2, minutes=1), 3600),
    (timedelta(minutes=-5), timedelta(hours=4), 120),
    (timedelta(minutes=13), timedelta(minutes=71, seconds=25), 60),  # partial last minute
    (timedelta(minutes=13), timedelta(minutes=71, seconds=25, milliseconds=7), 180),
    (timedelta(minutes=20), timedelta(minutes=20, seconds=30), 60),  # under one minute
    (timedelta(minutes=20), timedelta(minutes=20), 60),  # empty
    (timedelta(minutes=20), timedelta(minutes=10), 60),  # backwards
    (timedelta(hours=2), timedelta(minutes=10, seconds=30), 3600),
]


@pytest.mark.parametrize(("value", "exact"), [(dyadic, True), (positive_float, False)])
def test_rollups_answer_what_the_samples_answer(store, raw, value, exact):
    rng = random.Random(20261129)
    put_in_batches(store, rng, random_data(rng, 3000, value))
    store.fold_staged()  # reads fold first: the statements below are the read's own
    for key in KEYS:
        for start, end, period in READS:
            for unit in (None, *UNITS, "Bytes"):
                args = ("p", key, DAY + start, DAY + end, period, unit)
                with statements(store) as seen:
                    found = store.aggregate(*args)
                assert any("metric_minutes" in s for s in seen)
                hourly = period % 3600 == 0 and start % timedelta(hours=1) == timedelta(0)
                assert any("metric_hours" in s for s in seen) == hourly
                expected = raw.aggregate(*args)
                assert same(found, expected, exact), (args, found, expected)
    assert store.aggregate("q", KEYS[0], DAY, DAY + timedelta(hours=3), 60) == []


def test_the_rollups_hold_one_row_per_metric_slot_and_unit(store):
    rng = random.Random(7)
    data = random_data(rng, 500, dyadic)
    put_in_batches(store, rng, data)
    store.fold_staged()
    for table, span in (("metric_minutes", {"second": 0}),
                        ("metric_hours", {"minute": 0, "second": 0})):
        groups = {(d.key, d.timestamp.replace(**span), d.unit) for d in data}
        (rows,) = store._conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert rows == len(groups)


def test_a_fold_merges_each_minute_and_hour_once(store):
    key, other = KEYS
    store.put("p", [Datum(key, DAY + timedelta(seconds=s), "Count", 1,
                          (stats.single(float(s)),)) for s in reversed(range(120))]
              + [Datum(other, DAY, "Count", 1, (StatisticSet(2.0, 3.0, 1.0, 2.0),)),
                 Datum(key, DAY + timedelta(hours=1), "Count", 1, (stats.single(7.0),))],
              DAY)
    with statements(store) as seen:
        store.fold_staged()
    assert sum("metric_minutes" in s for s in seen) == 1  # one grouped upsert a level
    assert sum("metric_hours" in s for s in seen) == 1
    first = int(DAY.timestamp()) // 60
    ids = {dimensions: metric_id for metric_id, dimensions in store._conn.execute(
        "SELECT id, dimensions FROM metrics")}
    a, b = (ids[f'[["Host","{host}"]]'] for host in ("a", "b"))
    assert sorted(store._conn.execute("SELECT * FROM metric_minutes")) == sorted([
        (a, first, "Count", 60.0, float(sum(range(60))), 0.0, 59.0),
        (a, first + 1, "Count", 60.0, float(sum(range(60, 120))), 60.0, 119.0),
        (a, first + 60, "Count", 1.0, 7.0, 7.0, 7.0),
        (b, first, "Count", 2.0, 3.0, 1.0, 2.0),
    ])
    assert sorted(store._conn.execute("SELECT * FROM metric_hours")) == sorted([
        (a, first // 60, "Count", 120.0, float(sum(range(120))), 0.0, 119.0),
        (a, first // 60 + 1, "Count", 1.0, 7.0, 7.0, 7.0),
        (b, first // 60, "Count", 2.0, 3.0, 1.0, 2.0),
    ])
    assert store._conn.execute("SELECT count(*) FROM metric_staged").fetchone() == (0,)
    assert store._conn.execute("SELECT count(*) FROM metric_samples").fetchone() == (122,)
    assert [metric_rollups.slot_of(ts) for ts in (-60_001, -1, 0, 59_999, 60_000)] == [
        -2, -1, 0, 0, 1]
    assert metric_rollups.slot_of(7_199_999, metric_rollups.HOURS) == 1


def test_reads_take_the_coarsest_level_that_fits():
    hour, minute = 3_600_000, 60_000
    assert metric_rollups.read_plan(1, 0, 10 * hour, 10_000, None) is None
    assert metric_rollups.read_plan(1, 30_000, 10 * hour, minute, None) is None
    sql, params = metric_rollups.read_plan(1, 5 * minute, 10 * hour, 2 * hour, "Count")
    assert "metric_hours" not in sql and "unit = :unit" in sql
    sql, params = metric_rollups.read_plan(1, hour, 5 * hour + 7 * minute + 5, hour, None)
    assert "metric_hours" in sql and "unit = :unit" not in sql
    assert (params["low_1"], params["high_1"]) == (1, 5)  # whole buckets: hours
    # the last, partial bucket: whole minutes, then the raw rows
    assert (params["rest_low_1"], params["rest_high_1"]) == (5, 5)
    assert (params["rest_low_0"], params["rest_high_0"]) == (300, 307)
    assert params["tail_start"] == 5 * hour + 7 * minute
    _, params = metric_rollups.read_plan(1, hour, 4 * hour + 47 * minute + 13, 2 * hour, None)
    assert (params["low_1"], params["high_1"]) == (1, 3)
    assert (params["rest_low_1"], params["rest_high_1"]) == (3, 4)
    assert (params["rest_low_0"], params["rest_high_0"]) == (240, 287)
    assert params["tail_start"] == 4 * hour + 47 * minute


def test_late_data_merges_into_its_minute(store):
    key, minute = KEYS[0], DAY + timedelta(minutes=3)
    store.put("p", [Datum(key, minute, "Count", 60, (stats.single(5.0),))], DAY)
    store.put("p", [Datum(key, DAY + timedelta(minutes=9), "Count", 60,
                          (stats.single(1.0),))], DAY)
    store.put("p", [Datum(key, minute + timedelta(seconds=59), "Count", 1,
                          (StatisticSet(3.0, 6.0, -1.0, 4.0),)),
                    Datum(key, minute, "Count", 60, tuple(stats.from_values([9.0], [2.0])))],
              DAY)
    assert store.aggregate("p", key, DAY, DAY + timedelta(minutes=10), 60) == [
        BucketStats(minute, "Count", StatisticSet(6.0, 29.0, -1.0, 9.0)),
        BucketStats(DAY + timedelta(minutes=9), "Count", StatisticSet(1.0, 1.0, 1.0, 1.0)),
    ]


def test_short_periods_and_unaligned_starts_read_the_samples(store, raw):
    rng = random.Random(3)
    put_in_batches(store, rng, random_data(rng, 400, dyadic, span=timedelta(minutes=30)))
    store.fold_staged()
    for start, period in ((DAY, 10), (DAY, 30), (DAY + timedelta(seconds=5), 60),
                          (DAY + timedelta(seconds=10), 120)):
        args = ("p", KEYS[0], start, start + timedelta(minutes=30), period, None)
        with statements(store) as seen:
            found = store.aggregate(*args)
        assert not any("metric_minutes" in s for s in seen)
        assert found == raw.aggregate(*args)
        assert found


def test_high_resolution_data_read_by_the_minute_and_by_ten_seconds(store, raw):
    key = KEYS[1]
    store.put("p", [Datum(key, DAY + timedelta(seconds=s), "Percent", 1,
                          (stats.single(float(s)),)) for s in range(0, 120, 5)], DAY)
    by_minute = store.aggregate("p", key, DAY, DAY + timedelta(minutes=2), 60)
    assert by_minute == [
        BucketStats(DAY, "Percent", StatisticSet(12.0, float(sum(range(0, 60, 5))), 0.0, 55.0)),
        BucketStats(DAY + timedelta(minutes=1), "Percent",
                    StatisticSet(12.0, float(sum(range(60, 120, 5))), 60.0, 115.0)),
    ]
    by_ten = store.aggregate("p", key, DAY, DAY + timedelta(minutes=2), 10)
    assert len(by_ten) == 12
    assert by_ten[1] == BucketStats(DAY + timedelta(seconds=10), "Percent",
                                    StatisticSet(2.0, 25.0, 10.0, 15.0))
    assert by_ten == raw.aggregate("p", key, DAY, DAY + timedelta(minutes=2), 10)


def test_a_failed_put_leaves_no_rollup(store):
    good = Datum(KEYS[0], DAY, "Count", 60, (stats.single(1.0),))
    broken = Datum(KEYS[0], DAY, "Count", 60, (StatisticSet(1, None, 1.0, 1.0),))
    with pytest.raises(sqlite3.IntegrityError):
        store.put("p", [good, broken], DAY)
    for table in ("metric_minutes", "metric_hours"):
        assert store._conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    store.put("p", [good], DAY)
    assert [b.stats.sum for b in store.aggregate("p", KEYS[0], DAY,
                                                 DAY + timedelta(minutes=1), 60)] == [1.0]


def test_file_of_an_earlier_release_gains_filled_rollups(store_path):
    """A store file made before the roll-ups existed gets them, filled, once, at open."""
    rng = random.Random(11)
    first = SQLiteMetricStore(store_path)
    data = random_data(rng, 600, dyadic)
    put_in_batches(first, rng, data)
    first.close()
    old = sqlite3.connect(store_path)
    old.execute("DROP TABLE metric_minutes")
    old.execute("DROP TABLE metric_hours")
    old.commit()
    old.close()
    reference = RawReads(store_path)
    reopened = SQLiteMetricStore(store_path)
    again = SQLiteMetricStore(store_path)  # a second process opening it finds it filled
    try:
        for start, end, period in READS:
            args = ("p", KEYS[0], DAY + start, DAY + end, period, None)
            assert reopened.aggregate(*args) == reference.aggregate(*args)
        extra = Datum(KEYS[0], DAY + timedelta(minutes=1), "Seconds", 60,
                      (stats.single(0.5),))
        again.put("p", [extra], DAY)
        args = ("p", KEYS[0], DAY, DAY + timedelta(hours=3), 300, None)
        assert reopened.aggregate(*args) == reference.aggregate(*args)
        groups = {(d.key, d.timestamp.replace(second=0), d.unit) for d in [*data, extra]}
        assert reopened._conn.execute("SELECT count(*) FROM metric_minutes").fetchone() == (
            len(groups),)
        hours = {(k, t.replace(minute=0), u) for k, t, u in groups}
        assert reopened._conn.execute("SELECT count(*) FROM metric_hours").fetchone() == (
            len(hours),)
    finally:
        for store in (reference, reopened, again):
            store.close()


def test_the_migration_rounds_minutes_down_as_put_does(store_path):
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = SQLiteMetricStore(store_path)
    first.put("p", [Datum(KEYS[0], epoch + timedelta(seconds=s), "Count", 1,
                          (stats.single(float(s)),)) for s in (-61, -60, -30, -1, 0, 59, 60)],
              DAY)
    first.fold_staged()
    tables = ("metric_minutes", "metric_hours")
    expected = [first._conn.execute(f"SELECT * FROM {t} ORDER BY 2").fetchall() for t in tables]
    for table in tables:
        first._conn.execute(f"DROP TABLE {table}")
    first.close()
    reopened = SQLiteMetricStore(store_path)
    try:
        assert [reopened._conn.execute(f"SELECT * FROM {t} ORDER BY 2").fetchall()
                for t in tables] == expected
        assert [[slot for _, slot, *_ in rows] for rows in expected] == [[-2, -1, 0, 1],
                                                                         [-1, 0]]
    finally:
        reopened.close()


def test_the_value_store_keeps_no_rollups(tmp_path):
    values = SQLiteMetricValues(str(tmp_path / "metric_values.sqlite3"), timedelta(days=15))
    try:
        assert not values.keeps_rollups
        with statements(values) as seen:
            values.put("p", [Datum(KEYS[0], DAY, "Count", 60, (stats.single(2.0),))], DAY)
        assert not any("metric_minutes" in s or "metric_hours" in s for s in seen)
        tables = {row[0] for row in values._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not {"metric_minutes", "metric_hours"} & tables
        assert values.expire_values(DAY + timedelta(days=16)) == 1
    finally:
        values.close()
