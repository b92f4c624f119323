"""The metric value types, made as msgspec structs for speed (``MetricKey``,
``StatisticSet``, ``Datum``, ``BucketStats``, ``BucketSamples``), are frozen values: equal,
hashed, ordered (keys), shown, copied and replaced as frozen dataclasses are."""

from __future__ import annotations

import copy
import gc
import pickle
from datetime import UTC, datetime

import msgspec
import pytest

from cfn_gateway.domain.metrics import BucketSamples, BucketStats, Datum, MetricKey, StatisticSet

AT = datetime(2026, 12, 1, tzinfo=UTC)


def test_statistic_sets_and_datums_behave_as_frozen_values():
    stats = StatisticSet(2.0, 3.0, 1.0, 2.0)
    assert stats == StatisticSet(sample_count=2.0, sum=3.0, minimum=1.0, maximum=2.0)
    assert stats != StatisticSet(2.0, 3.0, 1.0, 2.5)
    assert stats != (2.0, 3.0, 1.0, 2.0)
    assert hash(stats) == hash(StatisticSet(2.0, 3.0, 1.0, 2.0))
    assert repr(stats) == "StatisticSet(sample_count=2.0, sum=3.0, minimum=1.0, maximum=2.0)"
    assert msgspec.structs.astuple(stats) == (2.0, 3.0, 1.0, 2.0)
    assert msgspec.structs.replace(stats, maximum=9.0) == StatisticSet(2.0, 3.0, 1.0, 9.0)
    with pytest.raises(AttributeError):
        stats.sum = 4.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        StatisticSet(1.0, 1.0, 1.0)  # type: ignore[call-arg]

    key = MetricKey.of("ns", "m", [("Host", "a")])
    datum = Datum(key, AT, "Count", 60, (stats,))
    same = Datum(key=key, timestamp=AT, unit="Count", storage_resolution=60, samples=(stats,))
    assert datum == same and hash(datum) == hash(same)
    assert msgspec.structs.replace(datum, unit="Seconds").unit == "Seconds"
    assert [f.name for f in msgspec.structs.fields(datum)] == [
        "key", "timestamp", "unit", "storage_resolution", "samples"]
    assert pickle.loads(pickle.dumps(datum)) == datum == copy.deepcopy(datum)
    with pytest.raises(AttributeError):
        datum.unit = "Bytes"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Datum(key, AT, "Count", 60)  # type: ignore[call-arg]

    bucket = BucketStats(AT, "Count", stats)
    assert bucket == BucketStats(start=AT, unit="Count", stats=stats) != BucketStats(
        AT, "Bytes", stats)
    assert BucketSamples(AT, "Count", (stats,)).samples == (stats,)
    # Values only, never in a cycle: the collector does not track them.
    assert not any(gc.is_tracked(value) for value in (stats, datum, bucket))


def test_metric_keys_are_frozen_ordered_values():
    key = MetricKey.of("ns", "m", [("B", "2"), ("A", "1")])
    assert key == MetricKey("ns", "m", (("A", "1"), ("B", "2")))
    assert hash(key) == hash(MetricKey.of("ns", "m", [("A", "1"), ("B", "2")]))
    assert key != MetricKey.of("ns", "m", [("A", "1")]) != MetricKey.of("ns", "m")
    assert MetricKey("ns", "m").dimensions == ()
    assert repr(key) == "MetricKey(namespace='ns', name='m', dimensions=(('A', '1'), ('B', '2')))"
    assert sorted([MetricKey.of("ns", "n"), key, MetricKey.of("a", "z")]) == [
        MetricKey.of("a", "z"), key, MetricKey.of("ns", "n")]
    copied = pickle.loads(pickle.dumps(key))
    assert copied == key and hash(copied) == hash(key)
    assert msgspec.structs.astuple(key) == ("ns", "m", (("A", "1"), ("B", "2")))
    renamed = msgspec.structs.replace(key, name="n")
    assert renamed == MetricKey.of("ns", "n", [("A", "1"), ("B", "2")])
    assert hash(renamed) != hash(key)
    assert {key: 1}[MetricKey.of("ns", "m", [("A", "1"), ("B", "2")])] == 1
    assert not gc.is_tracked(key)
    with pytest.raises(AttributeError):
        key.name = "n"  # type: ignore[misc]
