"""The metric value types made as msgspec structs for speed (``StatisticSet``, ``Datum``,
``BucketStats``, ``BucketSamples``) and the one whose hash is remembered (``MetricKey``)
are frozen values: equal, hashed, shown, copied and replaced as frozen dataclasses are."""

from __future__ import annotations

import copy
import dataclasses
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


def test_a_metric_key_remembers_its_hash_but_does_not_pickle_it():
    key = MetricKey.of("ns", "m", [("B", "2"), ("A", "1")])
    assert hash(key) == hash(("ns", "m", (("A", "1"), ("B", "2"))))
    assert hash(key) == hash(MetricKey("ns", "m", (("A", "1"), ("B", "2"))))
    assert "_hash" in vars(key)  # worked out once
    assert key == MetricKey.of("ns", "m", [("A", "1"), ("B", "2")])
    assert repr(key) == "MetricKey(namespace='ns', name='m', dimensions=(('A', '1'), ('B', '2')))"
    copied = pickle.loads(pickle.dumps(key))
    assert "_hash" not in vars(copied) and copied == key and hash(copied) == hash(key)
    assert dataclasses.astuple(key) == ("ns", "m", (("A", "1"), ("B", "2")))
    assert dataclasses.replace(key, name="n") == MetricKey.of("ns", "n", [("A", "1"), ("B", "2")])
    assert hash(dataclasses.replace(key, name="n")) != hash(key)
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.name = "n"  # type: ignore[misc]
