"""SQLiteMetricStore on a real file: identity, isolation, units, buckets, atomicity."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import (
    BucketStats,
    Datum,
    DimensionFilter,
    MetricFilter,
    MetricKey,
    StatisticSet,
)
from tests.tokens import forged

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
T0 = NOW - timedelta(minutes=30)
LONG_AGO = NOW - timedelta(weeks=2)
HOST = MetricKey.of("ns", "CPU", [("InstanceId", "i-1")])
HOST_DISK = MetricKey.of("ns", "CPU", [("InstanceId", "i-1"), ("Disk", "vda")])


def datum(key=HOST, value=1.0, at=T0, unit="Percent", samples=None) -> Datum:
    return Datum(key, at, unit, 60, samples or (stats.single(value),))


def window(store, key=HOST, project="p1", start=T0, minutes=5, period=60, unit=None):
    return store.aggregate(project, key, start, start + timedelta(minutes=minutes), period, unit)


def test_buckets_and_statistics(store):
    store.put("p1", [datum(value=v, at=T0 + timedelta(seconds=s))
                     for s, v in ((0, 1.0), (20, 2.0), (40, 6.0))]
              + [datum(value=10.0, at=T0 + timedelta(minutes=1))], NOW)
    assert window(store) == [
        BucketStats(T0, "Percent", StatisticSet(3, 9.0, 1.0, 6.0)),
        BucketStats(T0 + timedelta(minutes=1), "Percent", StatisticSet(1, 10.0, 10.0, 10.0)),
    ]
    # Buckets run from the given start, not from multiples of the period since the epoch.
    shifted = window(store, start=T0 - timedelta(minutes=1), period=120)
    assert [(b.start, b.stats.sum) for b in shifted] == [
        (T0 - timedelta(minutes=1), 9.0), (T0 + timedelta(minutes=1), 10.0)]


def test_window_start_inclusive_end_exclusive(store):
    store.put("p1", [datum(value=1.0, at=T0), datum(value=2.0, at=T0 + timedelta(minutes=2))],
              NOW)
    points = store.aggregate("p1", HOST, T0, T0 + timedelta(minutes=2), 60)
    assert [b.stats.sum for b in points] == [1.0]


def test_exact_dimension_set_is_the_metric(store):
    store.put("p1", [datum(HOST, 1.0), datum(HOST_DISK, 99.0)], NOW)
    assert [b.stats.sum for b in window(store, HOST)] == [1.0]
    assert [b.stats.sum for b in window(store, HOST_DISK)] == [99.0]
    reordered = MetricKey.of("ns", "CPU", [("Disk", "vda"), ("InstanceId", "i-1")])
    assert [b.stats.sum for b in window(store, reordered)] == [99.0]
    assert window(store, MetricKey.of("ns", "CPU")) == []
    assert window(store, MetricKey.of("ns", "CPU", [("InstanceId", "i-2")])) == []


def test_projects_are_isolated(store):
    store.put("p1", [datum()], NOW)
    assert window(store, project="p2") == []
    assert store.list_metrics("p2", MetricFilter(), LONG_AGO).metrics == []
    assert store.list_metrics("p1", MetricFilter(), LONG_AGO).metrics == [HOST]


def test_units_are_kept_apart_and_filterable(store):
    store.put("p1", [datum(value=1.0, unit="Seconds"), datum(value=5.0, unit="Count"),
                     datum(value=10.0, unit="None"), datum(value=7.0, unit="Count")], NOW)
    assert [(b.unit, b.stats.sum) for b in window(store)] == [
        ("Count", 12.0), ("None", 10.0), ("Seconds", 1.0)]
    assert [(b.unit, b.stats.sample_count) for b in window(store, unit="Count")] == [
        ("Count", 2)]
    assert window(store, unit="Bytes") == []


def test_statistic_sets_merge_with_values(store):
    store.put("p1", [
        datum(samples=(StatisticSet(10, 55.0, 1.0, 10.0),)),
        datum(samples=tuple(stats.from_values([0.5, 20.0], [2, 1]))),
        datum(value=3.0),
    ], NOW)
    (bucket,) = window(store)
    assert bucket.stats == StatisticSet(14, 79.0, 0.5, 20.0)


def test_a_failed_put_stores_nothing(store):
    good = datum(MetricKey.of("ns", "Fresh"), 1.0)
    broken = datum(samples=(StatisticSet(1, None, 1.0, 1.0),))  # NOT NULL violation
    with pytest.raises(Exception):  # noqa: B017 - whatever sqlite3 raises
        store.put("p1", [good, broken], NOW)
    assert store.list_metrics("p1", MetricFilter(), LONG_AGO).metrics == []
    assert window(store, good.key) == []
    # The rolled-back metric ids were not remembered: the same metrics can be written now.
    store.put("p1", [good, datum()], NOW)
    assert [b.stats.sum for b in window(store, good.key)] == [1.0]
    assert len(store.list_metrics("p1", MetricFilter(), LONG_AGO).metrics) == 2


def test_list_filters(store):
    store.put("p1", [
        datum(MetricKey.of("ns", "CPUUtilization")),
        datum(MetricKey.of("ns", "MemoryUtilization", [("InstanceId", "one")])),
        datum(MetricKey.of("ns", "DiskReadOps", [("InstanceId", "two")])),
        datum(MetricKey.of("ns", "DiskWriteOps", [("InstanceId", "two"), ("Disk", "vda")])),
        datum(MetricKey.of("other", "CPUUtilization")),
    ], NOW)

    def names(**query):
        page = store.list_metrics("p1", MetricFilter(**query), LONG_AGO)
        return sorted((k.namespace, k.name) for k in page.metrics)

    assert len(names()) == 5
    assert names(namespace="ns", name="CPUUtilization") == [("ns", "CPUUtilization")]
    assert names(name="CPUUtilization") == [("ns", "CPUUtilization"),
                                            ("other", "CPUUtilization")]
    assert len(names(namespace="ns", dimensions=(DimensionFilter("InstanceId"),))) == 3
    assert names(dimensions=(DimensionFilter("InstanceId", "two"),)) == [
        ("ns", "DiskReadOps"), ("ns", "DiskWriteOps")]
    assert names(dimensions=(DimensionFilter("InstanceId", "two"), DimensionFilter("Disk"))) == [
        ("ns", "DiskWriteOps")]
    assert names(dimensions=(DimensionFilter("Nope"),)) == []


def test_listed_metrics_carry_their_dimensions(store):
    store.put("p1", [datum(HOST_DISK)], NOW)
    (listed,) = store.list_metrics("p1", MetricFilter(), LONG_AGO).metrics
    assert listed == HOST_DISK
    assert listed.dimensions == (("Disk", "vda"), ("InstanceId", "i-1"))


def test_activity_window(store):
    store.put("p1", [datum(MetricKey.of("ns", "Old"))], NOW - timedelta(hours=4))
    store.put("p1", [datum(MetricKey.of("ns", "New"))], NOW)
    recent = store.list_metrics("p1", MetricFilter(), NOW - timedelta(hours=3)).metrics
    assert [k.name for k in recent] == ["New"]
    # A later put makes the old metric active again (also through the id cache).
    store.put("p1", [datum(MetricKey.of("ns", "Old"))], NOW)
    recent = store.list_metrics("p1", MetricFilter(), NOW - timedelta(hours=3)).metrics
    assert sorted(k.name for k in recent) == ["New", "Old"]


def test_pagination(store):
    keys = [MetricKey.of("ns", f"m{i:04d}") for i in range(1201)]
    store.put("p1", [datum(k) for k in keys], NOW)
    query = MetricFilter(namespace="ns")
    pages, token = [], None
    while True:
        page = store.list_metrics("p1", query, LONG_AGO, token)
        pages.append(len(page.metrics))
        token = page.next_token
        if token is None:
            break
    assert pages == [500, 500, 201]
    small = store.list_metrics("p1", query, LONG_AGO, limit=601)
    rest = store.list_metrics("p1", query, LONG_AGO, small.next_token, limit=601)
    assert sorted(small.metrics + rest.metrics) == keys


def test_exactly_one_page_has_no_token(store):
    store.put("p1", [datum(MetricKey.of("ns", f"m{i}")) for i in range(500)], NOW)
    assert store.list_metrics("p1", MetricFilter(), LONG_AGO).next_token is None


def test_bad_tokens(store):
    from cfn_gateway.backends.metrics import InvalidNextToken

    store.put("p1", [datum(MetricKey.of("ns", f"m{i}")) for i in range(3)], NOW)
    token = store.list_metrics("p1", MetricFilter(), LONG_AGO, limit=1).next_token
    assert token
    with pytest.raises(InvalidNextToken):
        store.list_metrics("p2", MetricFilter(), LONG_AGO, token, limit=1)
    with pytest.raises(InvalidNextToken):
        store.list_metrics("p1", MetricFilter(namespace="ns"), LONG_AGO, token, limit=1)
    with pytest.raises(InvalidNextToken):
        store.list_metrics("p1", MetricFilter(), LONG_AGO, forged(token), limit=1)
    with pytest.raises(InvalidNextToken):
        store.list_metrics("p1", MetricFilter(), LONG_AGO, "garbage", limit=1)


def test_other_processes_share_data_and_tokens(store, store_path):
    store.put("p1", [datum(MetricKey.of("ns", f"m{i}")) for i in range(3)], NOW)
    token = store.list_metrics("p1", MetricFilter(), LONG_AGO, limit=2).next_token
    other = SQLiteMetricStore(store_path)
    try:
        assert [k.name for k in other.list_metrics(
            "p1", MetricFilter(), LONG_AGO, token, limit=2).metrics] == ["m2"]
        other.put("p1", [datum(value=5.0)], NOW)
        assert [b.stats.sum for b in window(store)] == [5.0]
    finally:
        other.close()


def test_threads_share_one_store(store):
    def writer(n):
        for i in range(20):
            store.put("p1", [datum(MetricKey.of("ns", f"t{n}"), float(i))], NOW)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(8):
        (bucket,) = window(store, MetricKey.of("ns", f"t{n}"))
        assert bucket.stats.sample_count == 20
        assert bucket.stats.sum == sum(range(20))


def test_a_thousand_datums_are_fast(store):
    data = [datum(MetricKey.of("ns", f"m{i % 10}"), float(i),
                  at=T0 + timedelta(seconds=i % 300)) for i in range(1000)]
    store.put("p1", data, NOW)  # first write creates the metrics
    started = time.perf_counter()
    store.put("p1", data, NOW)
    assert time.perf_counter() - started < 0.25  # a few ms in practice


def _write_from_another_process(path: str, name: str) -> None:
    other = SQLiteMetricStore(path)
    for i in range(50):
        other.put("p1", [datum(MetricKey.of("ns", name), float(i))], NOW)
    other.close()


def test_processes_share_one_file(store, store_path):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_from_another_process, args=(store_path, f"w{n}"))
               for n in range(3)]
    for worker in workers:
        worker.start()
    for i in range(50):
        store.put("p1", [datum(MetricKey.of("ns", "parent"), float(i))], NOW)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    for name in ("parent", "w0", "w1", "w2"):
        (bucket,) = window(store, MetricKey.of("ns", name))
        assert (bucket.stats.sample_count, bucket.stats.sum) == (50, sum(range(50)))
