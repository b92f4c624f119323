"""GnocchiMetricStore on the real test bed answers exactly what SQLiteMetricStore answers.

Every scenario runs the same calls on an embedded store (a temporary SQLite file) and on
Gnocchi 4.7 (``tools/testbed/up.sh``), as tenant-a and tenant-b of the test bed, and
compares the answers: statistics per period and unit, listings with every filter and with
pagination, statistic sets, Values/Counts, exact dimension sets, late and high-resolution
data, project isolation, and the values kept beside Gnocchi for percentiles.  Each run
writes under its own namespace, so runs never see each other's data in the long-lived
test bed.

``test_latency`` prints the latency of both stores (run with ``-s`` to see it).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cfn_gateway.api.cloudwatch import views
from cfn_gateway.backends.metrics import AggregateRequest, InvalidNextToken, MetricStore
from cfn_gateway.backends.sqlite.metric_values import SQLiteMetricValues
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import periods
from cfn_gateway.domain.metrics import Datum, DimensionFilter, MetricFilter, MetricKey
from cfn_gateway.engine.service import Engine, EngineSettings
from cfn_gateway.engine.webhooks import RetryPolicy
from tests import testbed as testbed_facts

TESTBED = testbed_facts.load_testbed()
if TESTBED is None:
    _reason = (f"OpenStack test bed not running ({testbed_facts.testbed_dir()}/testbed.json "
               "missing): start it with tools/testbed/up.sh")
    if os.environ.get("CFN_REQUIRE_TESTBED") == "1":
        pytest.fail(_reason, pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from cfn_gateway.backends.openstack.gnocchi_batches import SharedBatches  # noqa: E402
from cfn_gateway.backends.openstack.gnocchi_metrics import GnocchiMetricStore  # noqa: E402
from tests.tokens import forged  # noqa: E402

RUN = uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def configured() -> Iterator[dict[str, Any]]:
    """CONF for the gateway's service user of the test bed."""
    assert TESTBED is not None
    with testbed_facts.service_user_conf(TESTBED) as testbed:
        yield testbed


@pytest.fixture(scope="module")
def projects(configured) -> tuple[str, str]:
    tenants = {t["name"]: t["project_id"] for t in configured["tenants"]}
    assert len(tenants) >= 2, configured["tenants"]
    a, b = sorted(tenants)[:2]
    return tenants[a], tenants[b]


@pytest.fixture(scope="module")
def gnocchi(configured) -> Iterator[GnocchiMetricStore]:
    store = GnocchiMetricStore()
    yield store
    store.close()


@pytest.fixture
def sqlite(tmp_path) -> Iterator[SQLiteMetricStore]:
    store = SQLiteMetricStore(str(tmp_path / "store.sqlite3"))
    yield store
    store.close()


@pytest.fixture
def stores(sqlite, gnocchi) -> tuple[MetricStore, MetricStore]:
    return sqlite, gnocchi


def namespace(label: str) -> str:
    return f"cfngw-test/{RUN}/{label}"


def now() -> datetime:
    return datetime.now(UTC)


def aws_data(ns: str, members: list[dict[str, Any]], at: datetime) -> list[Datum]:
    """Datums exactly as PutMetricData builds them from AWS-shaped members."""
    return views.metric_data_from_aws({"Namespace": ns, "MetricData": members}, at)


def statistics_of(store: MetricStore, project: str, key: MetricKey, start: datetime,
                  end: datetime, period: int, unit: str | None = None,
                  at: datetime | None = None) -> list[Any]:
    """GetMetricStatistics' store call, with the API's own period rules."""
    at = at or now()
    if not periods.period_serves_start(period, start, at):
        return []
    return store.aggregate(project, key, periods.align_start(start, period, at), end, period,
                           unit)


def both(stores: tuple[MetricStore, MetricStore], fn: Callable[[MetricStore], Any]) -> Any:
    expected, actual = fn(stores[0]), fn(stores[1])
    assert actual == expected
    return expected


def listed(store: MetricStore, project: str, query: MetricFilter,
           since: datetime | None = None, limit: int = 500) -> list[list[MetricKey]]:
    """Every page of a listing."""
    since = since or periods.active_since(now(), query.recently_active)
    pages, token = [], None
    while True:
        page = store.list_metrics(project, query, since, token, limit)
        pages.append(sorted(page.metrics))
        token = page.next_token
        if token is None:
            return pages


# --- statistics ---------------------------------------------------------------------------

def test_statistics_of_an_hour_at_several_periods(stores, projects):
    p, ns, t = projects[0], namespace("hour"), now()
    start = periods.floor_to(t - timedelta(hours=1), 60)
    members = [{"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "h1"}],
                "Unit": "Percent", "Value": float(i % 7 + (i // 7)),
                "Timestamp": start + timedelta(seconds=20 * i)} for i in range(180)]
    data = aws_data(ns, members, t)
    for store in stores:
        store.put(p, data, t)
    key = MetricKey.of(ns, "CPU", [("Host", "h1")])
    for period in (60, 120, 300, 3600):
        got = both(stores, lambda s, period=period: statistics_of(
            s, p, key, start - timedelta(seconds=30), t, period))
        assert sum(b.stats.sample_count for b in got) == 180
    both(stores, lambda s: statistics_of(s, p, key, start + timedelta(minutes=7),
                                         start + timedelta(minutes=19, seconds=30), 300))


def test_units_are_separate_and_filterable(stores, projects):
    p, ns, t = projects[0], namespace("units"), now()
    at = periods.floor_to(t, 60) - timedelta(minutes=5)
    members = [{"MetricName": "Lat", "Value": v, "Unit": u, "Timestamp": at}
               for v, u in ((1.0, "Seconds"), (5.0, "Count"), (7.0, "Count"),
                            (10.0, None), (3.0, "Bytes/Second"))]
    for store in stores:
        store.put(p, aws_data(ns, members, t), t)
    key = MetricKey.of(ns, "Lat")
    got = both(stores, lambda s: statistics_of(s, p, key, at, t, 60))
    assert [b.unit for b in got] == ["Bytes/Second", "Count", "None", "Seconds"]
    for unit in ("Count", "None", "Bytes/Second", "Percent"):
        both(stores, lambda s, unit=unit: statistics_of(s, p, key, at, t, 60, unit))


def test_statistic_sets_and_values_with_counts(stores, projects):
    p, ns, t = projects[0], namespace("sets"), now()
    at = periods.floor_to(t, 60) - timedelta(minutes=3)
    members = [
        {"MetricName": "Req", "Timestamp": at, "Unit": "Count",
         "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}},
        {"MetricName": "Req", "Timestamp": at, "Unit": "Count",
         "Values": [1.0, 2.0, 3.0], "Counts": [2, 0, 5]},
        {"MetricName": "Req", "Timestamp": at + timedelta(minutes=1), "Unit": "Count",
         "Values": [4.5, 0.25]},
        {"MetricName": "Req", "Timestamp": at + timedelta(minutes=1), "Unit": "Count",
         "Value": -2.0},
    ]
    for store in stores:
        store.put(p, aws_data(ns, members, t), t)
    key = MetricKey.of(ns, "Req")
    got = both(stores, lambda s: statistics_of(s, p, key, at, t, 60))
    assert [(b.stats.sample_count, b.stats.sum) for b in got] == [(17.0, 72.0), (3.0, 2.75)]
    both(stores, lambda s: statistics_of(s, p, key, at, t, 300))


def test_several_requests_in_one_minute_all_count(stores, projects):
    p, ns, t = projects[0], namespace("same-minute"), now()
    at = periods.floor_to(t, 60) - timedelta(minutes=1)
    for i in range(20):
        data = aws_data(ns, [{"MetricName": "Hits", "Value": float(i), "Timestamp": at}], t)
        for store in stores:
            store.put(p, data, t)
    got = both(stores, lambda s: statistics_of(s, p, MetricKey.of(ns, "Hits"), at, t, 60))
    assert got[0].stats.sample_count == 20


def test_concurrent_puts_share_batch_calls_and_all_count(stores, gnocchi, projects,
                                                         monkeypatch):
    """16 requests at once: their measures reach Gnocchi in fewer calls than requests
    (``gnocchi_batches``), and every datum counts once, as in the embedded store."""
    rounds: list[int] = []

    class CountingBatches(SharedBatches):
        def _send(self, round_: list[Any], send: Callable[..., None]) -> None:
            rounds.append(len(round_))
            SharedBatches._send(round_, send)

    monkeypatch.setattr(gnocchi, "_batches", CountingBatches())
    p, ns, t = projects[0], namespace("concurrent"), now()
    at = periods.floor_to(t, 60) - timedelta(minutes=1)
    keys = [MetricKey.of(ns, "Hits"), MetricKey.of(ns, "Misses")]

    def data(i: int) -> list[Datum]:
        return aws_data(ns, [{"MetricName": "Hits", "Value": float(i), "Timestamp": at},
                             {"MetricName": "Misses", "Value": 1.0, "Timestamp": at}], t)

    for store in stores:
        store.put(p, data(0), t)  # the resources exist: the puts below only write measures
    start = threading.Barrier(16)

    def put(i: int) -> None:
        start.wait(10)
        gnocchi.put(p, data(i), t)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(1, 17)))
    for i in range(1, 17):
        stores[0].put(p, data(i), t)
    assert sum(rounds) == 17 and max(rounds) > 1, rounds
    got = [both(stores, lambda s, k=k: statistics_of(s, p, k, at, t, 60)) for k in keys]
    assert [(b.stats.sample_count, b.stats.sum) for [b] in got] == [(17.0, 136.0),
                                                                    (17.0, 17.0)]


def test_exact_dimension_sets(stores, projects):
    p, ns, t = projects[0], namespace("dims"), now()
    at = periods.floor_to(t, 60) - timedelta(minutes=2)
    dim_sets = [[], [{"Name": "A", "Value": "1"}],
                [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}],
                [{"Name": "B", "Value": "2"}, {"Name": "A", "Value": "x" * 1024}]]
    members = [{"MetricName": "M", "Dimensions": dims, "Value": float(10 ** i),
                "Timestamp": at} for i, dims in enumerate(dim_sets)]
    for store in stores:
        store.put(p, aws_data(ns, members, t), t)
    for dims in [*dim_sets, [{"Name": "B", "Value": "2"}], [{"Name": "A", "Value": "2"}]]:
        key = MetricKey.of(ns, "M", views.dimensions_from_aws(dims))
        got = both(stores, lambda s, key=key: statistics_of(s, p, key, at, t, 60))
        assert len(got) == (1 if dims in dim_sets else 0)


def test_high_resolution_data(stores, projects):
    p, ns, t = projects[0], namespace("highres"), now()
    base = periods.floor_to(t, 60) - timedelta(minutes=2)
    members = [{"MetricName": "Fast", "StorageResolution": 1, "Value": float(i),
                "Timestamp": base + timedelta(seconds=i, milliseconds=300)} for i in range(90)]
    members += [{"MetricName": "Fast", "Value": 1000.0, "Timestamp": base}]  # standard too
    for store in stores:
        store.put(p, aws_data(ns, members, t), t)
    key = MetricKey.of(ns, "Fast")
    for period in (1, 5, 10, 30, 60, 120):
        both(stores, lambda s, period=period: statistics_of(
            s, p, key, base, base + timedelta(seconds=97, milliseconds=500), period))


def test_late_and_out_of_order_data_are_kept(stores, projects):
    p, ns, t = projects[0], namespace("late"), now()
    recent = periods.floor_to(t, 60) - timedelta(minutes=1)
    ages = [timedelta(0), timedelta(hours=5), timedelta(days=13, hours=23),
            timedelta(hours=3, minutes=50), timedelta(days=2), timedelta(minutes=-90)]
    key = MetricKey.of(ns, "Old", [("Host", "h")])
    start = t - timedelta(days=13, hours=23, minutes=30)
    for i, age in enumerate(ages):  # one request each, newest first
        data = aws_data(ns, [{"MetricName": "Old", "Dimensions": [{"Name": "Host",
                                                                    "Value": "h"}],
                              "Value": float(i + 1), "Timestamp": recent - age}], t)
        for store in stores:
            store.put(p, data, t)
            # a read makes Gnocchi process this write before the next one arrives, so
            # older measures really come after newer ones (what Gnocchi's back window cuts)
            statistics_of(store, p, key, start, t + timedelta(hours=2), 3600)
    for period in (3600, 86400, 300):
        got = both(stores, lambda s, period=period: statistics_of(
            s, p, key, start, t + timedelta(hours=2), period))
        assert sum(b.stats.sample_count for b in got) == len(ages)


def test_read_after_write_and_unknown_metrics(stores, projects):
    p, ns, t = projects[0], namespace("raw"), now()
    at = periods.floor_to(t, 60)
    key = MetricKey.of(ns, "Now")
    for i in range(3):
        for store in stores:
            store.put(p, aws_data(ns, [{"MetricName": "Now", "Value": float(i),
                                        "Timestamp": at}], t), t)
        got = both(stores, lambda s: statistics_of(s, p, key, at, t + timedelta(minutes=1),
                                                   60))
        assert got[0].stats.sample_count == i + 1
    both(stores, lambda s: statistics_of(s, p, MetricKey.of(ns, "Never"), at, t, 60))


# --- ListMetrics --------------------------------------------------------------------------

def _listing_data(ns: str, t: datetime) -> list[Datum]:
    members = []
    for i in range(12):
        dims = [{"Name": "Host", "Value": f"h{i % 4}"}]
        if i % 3 == 0:
            dims.append({"Name": "Disk", "Value": "vda" if i % 2 else "v" * 300})
        members.append({"MetricName": "CPU" if i % 2 else "Mem", "Dimensions": dims,
                        "Value": 1.0, "Timestamp": t})
    members.append({"MetricName": "Empty", "Values": [5.0], "Counts": [0], "Timestamp": t})
    return aws_data(ns, members, t)


def test_listing_with_filters_and_activity(stores, projects):
    p, ns, t = projects[0], namespace("list"), now()
    old_ns = namespace("list-old")
    for store in stores:
        store.put(p, _listing_data(ns, t), t)
        store.put(p, _listing_data(old_ns, t), t - timedelta(hours=4))
    queries = [
        MetricFilter(namespace=ns), MetricFilter(namespace=ns, name="CPU"),
        MetricFilter(namespace=ns, dimensions=(DimensionFilter("Disk"),)),
        MetricFilter(namespace=ns, dimensions=(DimensionFilter("Disk", "v" * 300),)),
        MetricFilter(namespace=ns, dimensions=(DimensionFilter("Host", "h1"),
                                               DimensionFilter("Disk"))),
        MetricFilter(namespace=ns, dimensions=(DimensionFilter("Nope"),)),
        MetricFilter(namespace=ns, recently_active=True),
        MetricFilter(namespace=old_ns), MetricFilter(namespace=old_ns, recently_active=True),
    ]
    for query in queries:
        got = both(stores, lambda s, query=query: listed(s, p, query))
        assert len(got) == 1
    assert len(listed(stores[1], p, MetricFilter(namespace=ns))[0]) == 9
    assert listed(stores[1], p, MetricFilter(namespace=old_ns, recently_active=True)) == [[]]
    # publishing again makes the old namespace's metrics recently active again
    for store in stores:
        store.put(p, _listing_data(old_ns, t)[:2], t)
    both(stores, lambda s: listed(s, p, MetricFilter(namespace=old_ns, recently_active=True)))


def test_pagination(stores, projects):
    p, ns, t = projects[0], namespace("pages"), now()
    data = aws_data(ns, [{"MetricName": "M", "Dimensions": [{"Name": "N", "Value": str(i)}],
                          "Value": 1.0, "Timestamp": t} for i in range(620)], t)
    for store in stores:
        store.put(p, data[:400], t)
        store.put(p, data[400:], t)
    query = MetricFilter(namespace=ns)
    pages = [listed(s, p, query) for s in stores]
    assert [len(page) for page in pages[0]] == [len(page) for page in pages[1]] == [500, 120]
    assert sorted(k for page in pages[0] for k in page) == sorted(
        k for page in pages[1] for k in page)
    small = [listed(s, p, query, limit=97) for s in stores]
    assert [len(x) for x in small[0]] == [len(x) for x in small[1]] == [97] * 6 + [38]
    for store in stores:
        token = store.list_metrics(p, query, t - timedelta(weeks=2), None, 7).next_token
        other = MetricFilter(namespace=ns, name="M")
        with pytest.raises(InvalidNextToken):
            store.list_metrics(p, other, t - timedelta(weeks=2), token, 7)
        with pytest.raises(InvalidNextToken):
            store.list_metrics(projects[1], query, t - timedelta(weeks=2), token, 7)
        with pytest.raises(InvalidNextToken):
            store.list_metrics(p, query, t - timedelta(weeks=2), forged(token), 7)


def test_projects_are_isolated(stores, projects):
    a, b = projects
    ns, t = namespace("tenants"), now()
    at = periods.floor_to(t, 60)
    data = aws_data(ns, [{"MetricName": "Secret", "Value": 42.0, "Timestamp": at}], t)
    for store in stores:
        store.put(a, data, t)
    key = MetricKey.of(ns, "Secret")
    assert both(stores, lambda s: listed(s, b, MetricFilter(namespace=ns))) == [[]]
    assert both(stores, lambda s: statistics_of(s, b, key, at, t + timedelta(minutes=1),
                                                60)) == []
    assert len(both(stores, lambda s: statistics_of(
        s, a, key, at, t + timedelta(minutes=1), 60))) == 1
    data_b = aws_data(ns, [{"MetricName": "Secret", "Value": 1.0, "Timestamp": at}], t)
    for store in stores:
        store.put(b, data_b, t)
    got = both(stores, lambda s: statistics_of(s, b, key, at, t + timedelta(minutes=1), 60))
    assert got[0].stats.sum == 1.0


# --- percentiles: the values the gateway keeps beside Gnocchi -------------------------------

@pytest.fixture
def kept(configured, tmp_path) -> Iterator[GnocchiMetricStore]:
    """A Gnocchi store that keeps values, as OpenStack mode opens it (15 days)."""
    store = GnocchiMetricStore(values=SQLiteMetricValues(
        str(tmp_path / "metric_values.sqlite3"), timedelta(days=15)))
    yield store
    store.close()


def samples_of(store: MetricStore, project: str, key: MetricKey, start: datetime,
               end: datetime, period: int, unit: str | None = None) -> list[Any]:
    """Percentiles' store call, with the API's own period rules."""
    at = now()
    if not periods.period_serves_start(period, start, at):
        return []
    (found,) = store.samples(project, [AggregateRequest(
        key, periods.align_start(start, period, at), end, period, unit)])
    return found


def test_samples_round_trip_through_the_value_store(sqlite, kept, projects):
    stores = (sqlite, kept)
    (p, other), ns, t = projects, namespace("values"), now()
    at = periods.floor_to(t, 60) - timedelta(minutes=4)
    members = [
        {"MetricName": "Lat", "Unit": "Milliseconds", "Timestamp": at,
         "Values": [float((v * 37) % 200 + 1) for v in range(150)]},
        {"MetricName": "Lat", "Unit": "Milliseconds", "Timestamp": at,
         "Values": [3.0, 1.0, 2.0], "Counts": [2, 0, 5]},
        {"MetricName": "Lat", "Unit": "Milliseconds", "Timestamp": at + timedelta(minutes=1),
         "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4}},
        {"MetricName": "Lat", "Unit": "Seconds", "Timestamp": at + timedelta(minutes=2),
         "Value": 0.5},
        {"MetricName": "Lat", "Unit": "Milliseconds", "Timestamp": at + timedelta(minutes=3),
         "Value": -2.0},
    ]
    data = aws_data(ns, members, t)
    for store in stores:
        store.put(p, data, t)
    assert kept.keeps_values
    key = MetricKey.of(ns, "Lat")
    for period in (60, 120, 300):
        got = both(stores, lambda s, period=period: samples_of(s, p, key, at, t, period))
        assert sum(len(b.samples) for b in got) == 155  # a count of 0 is no sample
    got = both(stores, lambda s: samples_of(s, p, key, at, t, 60, "Seconds"))
    assert [(b.start, b.samples[0].sum) for b in got] == [(at + timedelta(minutes=2), 0.5)]
    assert both(stores, lambda s: samples_of(s, other, key, at, t, 60)) == []
    # Gnocchi stays the store of record for the statistics
    got = both(stores, lambda s: statistics_of(s, p, key, at, t, 60, "Milliseconds"))
    assert [b.stats.sample_count for b in got] == [157.0, 4.0, 1.0]


def test_values_past_the_retention_are_dropped(configured, sqlite, tmp_path, projects):
    """Percentiles of periods older than the retention have no values, at once (samples
    leaves them out) and for good (the engine's purge deletes them); Gnocchi's statistics
    keep them."""
    p, ns, t = projects[0], namespace("retention"), now()
    values = SQLiteMetricValues(str(tmp_path / "short.sqlite3"), timedelta(hours=1))
    store = GnocchiMetricStore(values=values)
    try:
        recent = periods.floor_to(t, 60) - timedelta(minutes=10)
        old = recent - timedelta(hours=2)
        data = aws_data(ns, [{"MetricName": "Lat", "Value": v, "Timestamp": ts}
                             for v, ts in ((1.0, old), (2.0, old), (3.0, recent))], t)
        store.put(p, data, t)
        key = MetricKey.of(ns, "Lat")
        assert [b.start for b in samples_of(store, p, key, old, t, 60)] == [recent]
        engine = Engine(None, store, EngineSettings("us-east-1", RetryPolicy()), now)
        assert engine.purge_history(now()) == 2
        (found,) = values.samples(p, [AggregateRequest(key, old, t, 60)])
        assert [(b.start, len(b.samples)) for b in found] == [(recent, 1)]
        assert [b.stats.sample_count for b in statistics_of(store, p, key, old, t, 60)] == [
            2.0, 1.0]
    finally:
        store.close()


# --- latency ------------------------------------------------------------------------------

def _timed(fn: Callable[[], Any], repeat: int) -> str:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return f"median {statistics.median(samples):7.1f} ms  max {max(samples):7.1f} ms"


def test_latency(stores, projects, capsys):
    p, t = projects[0], now()
    ns = namespace("latency")
    at = periods.floor_to(t, 60)
    since = t - timedelta(weeks=2)

    def put(members: list[dict[str, Any]]) -> Callable[[MetricStore], None]:
        data = aws_data(ns, members, t)
        return lambda store: store.put(p, data, t)

    one = put([{"MetricName": "One", "Value": 1.0, "Timestamp": at}])
    batch = put([{"MetricName": "Batch", "Value": float(i), "Timestamp": at - timedelta(
        seconds=i * 3), "Dimensions": [{"Name": "Host", "Value": f"h{i % 10}"}]}
        for i in range(1000)])
    hour = put([{"MetricName": "Hour", "Value": float(i), "Timestamp": at - timedelta(
        minutes=i)} for i in range(60)])
    key = MetricKey.of(ns, "Hour")
    everything = MetricFilter(namespace=ns)
    by_dimension = MetricFilter(namespace=ns, name="Batch",
                                dimensions=(DimensionFilter("Host", "h3"),))
    operations: list[tuple[str, int, Callable[[MetricStore], Any]]] = [
        ("PutMetricData, 1 datum", 20, one),
        ("PutMetricData, 1000 datums of 10 metrics", 5, batch),
        ("GetMetricStatistics, 1 h at 60 s", 20, lambda s: statistics_of(
            s, p, key, at - timedelta(minutes=59), at + timedelta(minutes=1), 60)),
        ("ListMetrics, name + dimension filter", 20, lambda s: s.list_metrics(
            p, by_dimension, since)),
    ]
    lines = []
    for name, store in zip(("sqlite", "gnocchi"), stores, strict=True):
        hour(store)
        batch(store)  # the metrics exist: the steady state
        for label, repeat, operation in operations:
            lines.append(f"{name:8} {label:44} {_timed(lambda o=operation, s=store: o(s), repeat)}")
        fresh = put([{"MetricName": "New", "Value": 1.0, "Timestamp": at,
                      "Dimensions": [{"Name": "Host", "Value": f"h{i}"}]} for i in range(200)])
        lines.append(f"{name:8} {'PutMetricData, 200 datums of 200 new metrics':44} "
                     f"{_timed(lambda f=fresh, s=store: f(s), 1)}")
        lines.append(f"{name:8} {'ListMetrics, 212 metrics, one page':44} "
                     f"{_timed(lambda s=store: s.list_metrics(p, everything, since), 10)}")
        assert len(statistics_of(store, p, key, at - timedelta(minutes=59),
                                 at + timedelta(minutes=1), 60)) == 60
    with capsys.disabled():
        print("\n" + "\n".join(lines))
