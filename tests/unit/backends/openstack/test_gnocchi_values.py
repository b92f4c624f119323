"""GnocchiMetricStore with a value store: Gnocchi and the values written at once, the values
withdrawn when Gnocchi fails; percentiles read the values, within their retention;
``open_backends`` wires it from ``[gnocchi]``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.backends import OpenedOnFirstUse
from cfn_gateway.backends.metrics import AggregateRequest
from cfn_gateway.backends.openstack.gnocchi_metrics import GnocchiMetricStore
from cfn_gateway.backends.sqlite.metric_values import SQLiteMetricValues
from cfn_gateway.config import CONF
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, MetricKey
from cfn_gateway.engine.service import Engine, EngineSettings
from cfn_gateway.engine.webhooks import RetryPolicy
from tests.unit.backends.openstack.test_gnocchi_api import FakeGnocchi

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
KEY = MetricKey.of("ns", "Latency", [("Host", "a")])
RETENTION = timedelta(days=15)
#: What Gnocchi answers a first put: the resource search, its creation, the batch.
ACCEPTED = [(200, [], 0.0), (201, {}, 0.0), (202, None, 0.0)]


@pytest.fixture
def values(tmp_path) -> SQLiteMetricValues:
    return SQLiteMetricValues(str(tmp_path / "metric_values.sqlite3"), RETENTION)


def store_for(gnocchi: FakeGnocchi, values: SQLiteMetricValues | None) -> GnocchiMetricStore:
    store = GnocchiMetricStore(session_for=lambda project: ks_session.Session(),
                               setup_session=ks_session.Session, clock=lambda: NOW,
                               values=values)
    store._endpoint = {"endpoint_override": gnocchi.url}
    store._schema_ready = True
    return store


@pytest.fixture
def store(gnocchi, values) -> Iterator[GnocchiMetricStore]:
    opened = store_for(gnocchi, values)
    yield opened
    opened.close()


def data(*values: float, at: datetime = NOW) -> list[Datum]:
    return [Datum(KEY, at, "Milliseconds", 60, tuple(stats.single(v) for v in values))]


def percentile_values(store: GnocchiMetricStore, start: datetime, end: datetime,
                      project: str = "p1") -> dict[datetime, list[float]]:
    (found,) = store.samples(project, [AggregateRequest(KEY, start, end, 60)])
    return {b.start: sorted(s.sum for s in b.samples) for b in found}


def test_without_a_value_store_percentiles_are_not_implemented(gnocchi):
    store = store_for(gnocchi, None)
    try:
        assert not store.keeps_values
        with pytest.raises(errors.NotImplemented):
            store.samples("p1", [AggregateRequest(KEY, NOW, NOW + timedelta(minutes=1), 60)])
        assert store.expire_values(NOW) == 0
    finally:
        store.close()


def test_put_keeps_the_values_after_gnocchi_accepted_them(gnocchi, store):
    gnocchi.script = list(ACCEPTED)
    store.put("p1", data(3.0, 1.0, 2.0), NOW)
    assert "batch" in gnocchi.requests[-1][1]
    assert store.keeps_values
    assert percentile_values(store, NOW, NOW + timedelta(minutes=1)) == {NOW: [1.0, 2.0, 3.0]}
    assert percentile_values(store, NOW, NOW + timedelta(minutes=1), project="p2") == {}


def test_a_stopping_worker_folds_what_the_value_store_staged(gnocchi, store, values):
    gnocchi.script = list(ACCEPTED)
    store.put("p1", data(1.0, 2.0), NOW)
    staged = "SELECT count(*) FROM metric_staged"
    assert values._conn.execute(staged).fetchone() == (2,)
    store.fold_staged()
    assert values._conn.execute(staged).fetchone() == (0,)
    assert values._conn.execute("SELECT count(*) FROM metric_samples").fetchone() == (2,)


def test_a_refused_batch_keeps_no_values(gnocchi, store):
    gnocchi.script = [(200, [], 0.0), (201, {}, 0.0), (503, {"description": "down"}, 0.0)]
    with pytest.raises(errors.ServiceUnavailable):
        store.put("p1", data(1.0), NOW)
    assert percentile_values(store, NOW, NOW + timedelta(minutes=1)) == {}


def test_the_values_are_written_while_gnocchi_stores_the_batch(gnocchi, store, values,
                                                             monkeypatch):
    started: list[float] = []
    put = values.put

    def timed(*args: object) -> None:
        started.append(time.monotonic())
        put(*args)

    monkeypatch.setattr(values, "put", timed)
    gnocchi.script = [(200, [], 0.0), (201, {}, 0.0), (202, None, 1.0)]
    began = time.monotonic()
    store.put("p1", data(1.0), NOW)
    assert time.monotonic() - began >= 1.0
    assert started[0] - began < 0.5  # not after Gnocchi's answer, a second later
    assert percentile_values(store, NOW, NOW + timedelta(minutes=1)) == {NOW: [1.0]}


def test_a_refused_batch_takes_back_only_its_own_values(gnocchi, store):
    gnocchi.script = list(ACCEPTED)
    store.put("p1", data(1.0, 2.0), NOW)
    gnocchi.script = [(503, {"description": "down"}, 0.3)]
    with pytest.raises(errors.ServiceUnavailable):
        store.put("p1", data(1.0, 2.0), NOW)  # the same values again, refused
    assert percentile_values(store, NOW, NOW + timedelta(minutes=1)) == {NOW: [1.0, 2.0]}


def test_gnocchi_s_error_wins_when_both_writes_fail(gnocchi, store, values, monkeypatch):
    def broken(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(values, "put", broken)
    gnocchi.script = [(200, [], 0.0), (201, {}, 0.0), (503, {"description": "down"}, 0.0)]
    with pytest.raises(errors.ServiceUnavailable):
        store.put("p1", data(1.0), NOW)


def test_a_failed_value_write_fails_the_request(gnocchi, store, values, monkeypatch, caplog):
    def broken(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(values, "put", broken)
    gnocchi.script = list(ACCEPTED)
    with pytest.raises(errors.InternalFailure, match="stored the data"):
        store.put("p1", data(1.0), NOW)
    assert "batch" in gnocchi.requests[-1][1]  # Gnocchi, the store of record, has them
    assert "keeping their values failed" in caplog.text


def test_a_full_disk_fails_the_request_as_an_internal_failure(gnocchi, store, values,
                                                              monkeypatch):
    def full(*args: object) -> None:
        raise errors.ServiceUnavailable("The gateway's storage is full")

    monkeypatch.setattr(values, "put", full)
    gnocchi.script = list(ACCEPTED)
    with pytest.raises(errors.InternalFailure):  # not "nothing was stored": Gnocchi was
        store.put("p1", data(1.0), NOW)


def test_periods_before_the_retention_have_no_values(gnocchi, store, values):
    old = NOW - RETENTION - timedelta(minutes=1)
    values.put("p1", data(5.0, at=old) + data(6.0, at=NOW - RETENTION), NOW)
    assert percentile_values(store, old, NOW) == {NOW - RETENTION: [6.0]}


def test_the_engine_expires_the_values_of_openstack_mode(gnocchi, store, values):
    old = NOW - RETENTION - timedelta(minutes=1)
    values.put("p1", data(5.0, at=old) + data(6.0, at=NOW), NOW)
    engine = Engine(None, store, EngineSettings("us-east-1", RetryPolicy()), lambda: NOW)
    assert engine.purge_history(NOW) == 1
    (found,) = values.samples("p1", [AggregateRequest(KEY, old, NOW + timedelta(minutes=1),
                                                      60)])
    assert [b.start for b in found] == [NOW]


@pytest.fixture
def openstack_conf(tmp_path) -> Iterator[None]:
    CONF.set_override("mode", "openstack")
    CONF.set_override("data_dir", str(tmp_path / "data"))
    yield
    for name, group in (("mode", None), ("data_dir", None), ("keep_values", "gnocchi"),
                        ("values_retention_days", "gnocchi")):
        CONF.clear_override(name, group)


def test_open_backends_keeps_values_in_their_own_file(openstack_conf, tmp_path):
    CONF.set_override("values_retention_days", 3, "gnocchi")
    opened = OpenedOnFirstUse()
    backends = opened.get()
    try:
        assert backends.metrics.keeps_values
        kept = backends.metrics._values
        assert isinstance(kept, SQLiteMetricValues)
        assert kept.retention == timedelta(days=3)
        assert (tmp_path / "data" / "metric_values.sqlite3").is_file()
    finally:
        opened.close()


def test_keep_values_off(openstack_conf, tmp_path):
    CONF.set_override("keep_values", False, "gnocchi")
    opened = OpenedOnFirstUse()
    backends = opened.get()
    try:
        assert not backends.metrics.keeps_values
        assert not (tmp_path / "data" / "metric_values.sqlite3").exists()
    finally:
        opened.close()
