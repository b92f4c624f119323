"""The metric value types whose ``__init__`` is written out for speed (``StatisticSet``,
``Datum``) and the one whose hash is remembered (``MetricKey``) are still frozen dataclass
values: equal, hashed, shown and replaced alike."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime

import pytest

from cfn_gateway.domain.metrics import Datum, MetricKey, StatisticSet

AT = datetime(2026, 12, 1, tzinfo=UTC)


def test_statistic_sets_and_datums_behave_as_frozen_dataclass_values():
    stats = StatisticSet(2.0, 3.0, 1.0, 2.0)
    assert stats == StatisticSet(sample_count=2.0, sum=3.0, minimum=1.0, maximum=2.0)
    assert stats != StatisticSet(2.0, 3.0, 1.0, 2.5)
    assert hash(stats) == hash(StatisticSet(2.0, 3.0, 1.0, 2.0))
    assert repr(stats) == "StatisticSet(sample_count=2.0, sum=3.0, minimum=1.0, maximum=2.0)"
    assert dataclasses.astuple(stats) == (2.0, 3.0, 1.0, 2.0)
    assert dataclasses.replace(stats, maximum=9.0) == StatisticSet(2.0, 3.0, 1.0, 9.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.sum = 4.0  # type: ignore[misc]

    key = MetricKey.of("ns", "m", [("Host", "a")])
    datum = Datum(key, AT, "Count", 60, (stats,))
    same = Datum(key=key, timestamp=AT, unit="Count", storage_resolution=60, samples=(stats,))
    assert datum == same and hash(datum) == hash(same)
    assert dataclasses.replace(datum, unit="Seconds").unit == "Seconds"
    assert [f.name for f in dataclasses.fields(datum)] == [
        "key", "timestamp", "unit", "storage_resolution", "samples"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        datum.unit = "Bytes"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Datum(key, AT, "Count", 60)  # type: ignore[call-arg]


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
