"""The write path of SQLiteMetricStore (``metric_writes``, ``metric_staging``): the same
rows whichever way a request takes and however often staged rows are folded, metric ids
resolved in chunks, the id cache."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway import errors
from cfn_gateway.backends.metrics import AggregateRequest
from cfn_gateway.backends.sqlite import metric_staging, metric_writes
from cfn_gateway.backends.sqlite.metrics import WAL_CHECKPOINT_PAGES, SQLiteMetricStore
from cfn_gateway.common import deferral
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, MetricFilter, MetricKey, StatisticSet
from cfn_gateway.domain.periods import to_millis

DAY = datetime(2026, 11, 29, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TABLES = ("metrics", "metric_dimensions", "metric_samples", "metric_minutes", "metric_hours")


@pytest.fixture
def reference(tmp_path) -> Iterator[SQLiteMetricStore]:
    opened = SQLiteMetricStore(str(tmp_path / "reference.sqlite3"))
    yield opened
    opened.close()


def contents(store: SQLiteMetricStore) -> list[list[tuple]]:
    store.fold_staged()
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


def test_folds_after_each_request_write_what_one_fold_writes(store, reference):
    rng = random.Random(5)
    requests = random_requests(rng, 120)
    for data in requests:
        store.put("p", data, DAY)
        store.fold_staged()  # each request's rows upserted into rows already there
    for data in requests:
        reference.put("p", data, DAY)
    assert reference._conn.execute("SELECT count(*) FROM metric_staged").fetchone()[0] > 0
    assert contents(store) == contents(reference)
    assert any(len({d.key for d in data}) < len(data) for data in requests)


def test_writes_that_leave_enough_rows_staged_fold_them_a_slice_each(store, monkeypatch):
    monkeypatch.setattr(metric_staging, "FOLD_ROWS", 10)
    keys = [MetricKey.of("ns", f"m{i}") for i in range(4)]  # ids 1-4: one per slice
    staged, folded = [], []
    for n in range(6):
        store.put("p", [Datum(key, DAY, "Count", 60, (stats.single(float(n)),))
                        for key in keys], DAY)
        staged.append(store._conn.execute("SELECT count(*) FROM metric_staged").fetchone()[0])
        folded.append(sorted({row[0] for row in store._conn.execute(
            "SELECT metric_id FROM metric_samples")}))
    # From the third write on, each folds the metrics of the oldest staged row's slice.
    assert staged == [4, 8, 12 - 3, 13 - 4, 13 - 5, 12 - 6]
    assert folded == [[], [], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]
    assert store._conn.execute("SELECT count(*) FROM metric_samples").fetchone() == (18,)
    assert store.aggregate("p", keys[0], DAY, DAY + timedelta(minutes=1), 60)[0].stats == (
        StatisticSet(6.0, 15.0, 0.0, 5.0))
    assert store._conn.execute("SELECT count(*) FROM metric_staged").fetchone() == (0,)


def test_folds_by_slices_while_writing_write_what_one_fold_writes(store, reference,
                                                                    monkeypatch):
    monkeypatch.setattr(metric_staging, "FOLD_ROWS", 7)
    requests = random_requests(random.Random(11), 150)
    for data in requests:
        store.put("p", data, DAY)
    assert store._conn.execute("SELECT count(*) FROM metric_samples").fetchone()[0] > 0
    monkeypatch.setattr(metric_staging, "FOLD_ROWS", 10**9)
    for data in requests:
        reference.put("p", data, DAY)
    assert reference._conn.execute("SELECT count(*) FROM metric_samples").fetchone() == (0,)
    assert contents(store) == contents(reference)


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


def put_deferred(store: SQLiteMetricStore, requests: list[list[Datum]]) -> list:
    """Every request's put under a deferral of its own, as the inline front makes them: they
    queue while the loop runs, and the loop then writes them together."""
    async def main():
        loop = asyncio.get_running_loop()
        deferrals = [deferral.Deferral(loop) for _ in requests]
        for request, data in zip(deferrals, requests, strict=True):
            with deferral.deferring(request):
                store.put("p", data, DAY)
        return [await request.settled() for request in deferrals]
    return asyncio.run(main())


def test_requests_written_together_write_what_they_write_one_by_one(store, reference,
                                                                    monkeypatch):
    requests = random_requests(random.Random(11), 150)
    for data in requests:
        reference.put("p", data, DAY)
    together: list[int] = []
    write_all = metric_writes.write_all

    def counting(conn, batches):
        together.append(len(batches))
        return write_all(conn, batches)

    monkeypatch.setattr(metric_writes, "write_all", counting)
    assert put_deferred(store, requests) == [None] * len(requests)
    assert max(together) > 10, together
    assert contents(store) == contents(reference)
    assert store._known == reference._known


def test_a_fold_due_in_a_transaction_the_loop_leads_is_left_to_the_committer(
        store, reference, monkeypatch):
    """The loop's transactions stage rows only; once enough are staged, the committer
    thread folds a slice in a transaction of its own, and what the store holds is what
    writing one by one holds."""
    monkeypatch.setattr(metric_staging, "FOLD_ROWS", 7)
    folds: list[tuple[str, bool]] = []
    fold_if_full = metric_staging.fold_if_full

    def recording(conn, rollups):
        moved = fold_if_full(conn, rollups)
        if moved:
            folds.append((threading.current_thread().name, store._writes.on_event_loop))
        return moved

    monkeypatch.setattr(metric_staging, "fold_if_full", recording)
    requests = random_requests(random.Random(3), 60)
    for chunk in range(0, 60, 20):  # three loop turns, each leaving rows to fold
        assert put_deferred(store, requests[chunk:chunk + 20]) == [None] * 20
        deadline = time.monotonic() + 10
        while not folds and time.monotonic() < deadline:
            time.sleep(0.01)
    assert folds and set(folds) == {("cfn-gateway-committer", False)}
    assert store._conn.execute("SELECT count(*) FROM metric_samples").fetchone()[0] > 0
    monkeypatch.setattr(metric_staging, "FOLD_ROWS", 10**9)
    for data in requests:
        reference.put("p", data, DAY)
    assert contents(store) == contents(reference)


def test_a_stale_cached_id_among_requests_together_is_written_again_alone(store):
    key, other = MetricKey.of("ns", "gone"), MetricKey.of("ns", "kept")
    store.put("p", [Datum(key, DAY, "Count", 60, (stats.single(1.0),)),
                    Datum(other, DAY, "Count", 60, (stats.single(1.0),))], DAY)
    # The metric row removed behind the store's back: its cached id points nowhere.
    behind = sqlite3.connect(store._conn.execute("PRAGMA database_list").fetchone()[2])
    with behind:
        for table in ("metric_minutes", "metric_hours", "metric_samples", "metric_staged",
                      "metric_dimensions"):
            behind.execute(f"DELETE FROM {table} WHERE metric_id = "
                           "(SELECT id FROM metrics WHERE name = 'gone')")
        behind.execute("DELETE FROM metrics WHERE name = 'gone'")
    behind.close()
    requests = [[Datum(other, DAY, "Count", 60, (stats.single(float(n)),))]
                for n in range(2, 12)]
    requests.insert(4, [Datum(key, DAY, "Count", 60, (stats.single(5.0),))])
    assert put_deferred(store, requests) == [None] * len(requests)
    sums = {k.name: [b.stats.sum for b in store.aggregate("p", k, DAY,
                                                          DAY + timedelta(minutes=1), 60)]
            for k in (key, other)}
    assert sums == {"gone": [5.0], "kept": [1.0 + sum(range(2, 12))]}


def test_the_page_cache_is_as_large_as_configured(store_path):
    for cache_mb, expected in ((None, -64 * 1024), (8, -8 * 1024)):
        opened = (SQLiteMetricStore(store_path) if cache_mb is None
                  else SQLiteMetricStore(store_path, cache_mb))
        try:
            assert opened._conn.execute("PRAGMA cache_size").fetchone() == (expected,)
        finally:
            opened.close()


def test_the_log_takes_many_commits_before_a_checkpoint(store):
    pages = store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert pages == WAL_CHECKPOINT_PAGES > 1000  # SQLite's default checkpoints too often


def test_a_read_sees_what_another_process_staged(store, store_path):
    other = SQLiteMetricStore(store_path)  # another worker process's store of the file
    key, minute = MetricKey.of("ns", "shared"), DAY + timedelta(minutes=1)

    def staged() -> int:
        return store._conn.execute("SELECT count(*) FROM metric_staged").fetchone()[0]

    try:
        other.put("p", [Datum(key, DAY, "Count", 60, (stats.single(4.0),))], DAY)
        assert staged() == 1
        assert [b.stats for b in store.aggregate("p", key, DAY, minute, 60)] == [
            StatisticSet(1.0, 4.0, 4.0, 4.0)]
        assert staged() == 0
        other.put("p", [Datum(key, DAY, "Count", 60, (stats.single(6.0),))], DAY)
        assert staged() == 1
        (buckets,) = store.samples("p", [AggregateRequest(key, DAY, minute, 60)])
        assert [b.samples for b in buckets] == [(stats.single(4.0), stats.single(6.0))]
        assert staged() == 0
    finally:
        other.close()


def test_rows_a_closed_process_left_staged_are_folded_when_the_file_opens(store_path):
    key = MetricKey.of("ns", "left")
    first = SQLiteMetricStore(store_path)
    first.put("p", [Datum(key, DAY, "Count", 60, (stats.single(2.5),))], DAY)
    first._conn.close()  # as a killed process would: nothing folded on the way out
    reopened = SQLiteMetricStore(store_path)
    try:
        conn = reopened._conn
        assert conn.execute("SELECT count(*) FROM metric_staged").fetchone() == (0,)
        assert conn.execute("SELECT sum FROM metric_samples").fetchall() == [(2.5,)]
        assert conn.execute("SELECT sum FROM metric_minutes").fetchall() == [(2.5,)]
    finally:
        reopened.close()


def test_a_read_under_a_deferral_waits_for_its_fold(store):
    """The inline front runs reads under a request's deferral too: the fold before the read
    must not be deferred like a put, or the read would miss the staged rows."""
    key, minute = MetricKey.of("ns", "deferred"), DAY + timedelta(minutes=1)
    store.put("p", [Datum(key, DAY, "Count", 60, (stats.single(3.0),))], DAY)

    async def main():
        request = deferral.Deferral(asyncio.get_running_loop())
        with deferral.deferring(request):
            return store.aggregate("p", key, DAY, minute, 60)

    assert [b.stats for b in asyncio.run(main())] == [StatisticSet(1.0, 3.0, 3.0, 3.0)]


def test_a_store_folds_what_is_staged_when_it_closes(store_path):
    first = SQLiteMetricStore(store_path)
    first.put("p", [Datum(MetricKey.of("ns", "m"), DAY, "Count", 60,
                          (stats.single(1.0),))], DAY)
    first.close()
    plain = sqlite3.connect(store_path)  # what an earlier version, unaware of staging, reads
    try:
        assert plain.execute("SELECT count(*) FROM metric_staged").fetchone() == (0,)
        assert plain.execute("SELECT sum FROM metric_samples").fetchall() == [(1.0,)]
    finally:
        plain.close()


def test_reads_take_the_staged_rows_when_a_fold_cannot_be_written(store, monkeypatch):
    key, minute = MetricKey.of("ns", "full"), DAY + timedelta(minutes=1)
    store.put("p", [Datum(key, DAY, "Count", 60, (stats.single(1.0),))], DAY)
    store.fold_staged()
    store.put("p", [Datum(key, DAY, "Count", 60, (stats.single(2.0),))], DAY)

    def no_room(conn, rollups):
        raise errors.ServiceUnavailable("The gateway's storage is full")

    monkeypatch.setattr(metric_staging, "fold", no_room)
    assert store.fold_staged() is False
    for period in (60, 10):  # roll-ups would serve 60: they miss the staged row
        assert [b.stats for b in store.aggregate("p", key, DAY, minute, period)] == [
            StatisticSet(2.0, 3.0, 1.0, 2.0)]
    (buckets,) = store.samples("p", [AggregateRequest(key, DAY, minute, 60)])
    assert [b.samples for b in buckets] == [(stats.single(1.0), stats.single(2.0))]
    assert store._conn.execute("SELECT count(*) FROM metric_staged").fetchone() == (1,)
