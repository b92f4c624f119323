"""Metric value types: what a metric is, what one stored datum holds, bucket aggregates.

Pure values shared by every layer: the API converts AWS dicts to and from them, the domain
math (statistics, dimensions, alarms) computes on them, and metric stores (``backends/``)
take and return them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

#: One dimension: (name, value).
Dimension = tuple[str, str]


@dataclass(frozen=True, order=True)
class MetricKey:
    """A metric's identity: namespace, name and the exact set of dimensions.

    ``dimensions`` is kept sorted (use ``MetricKey.of``), so the order a client sends its
    dimensions in does not matter, while {A} and {A, B} stay different metrics.
    """

    namespace: str
    name: str
    dimensions: tuple[Dimension, ...] = ()

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: Sequence[Dimension] = ()) -> MetricKey:
        return cls(namespace, name, tuple(sorted(dimensions)))

    # A key is hashed for every datum of a PutMetricData (the store's cache of metric ids),
    # and its hash walks every dimension: it is worked out once per key, and not pickled
    # (string hashes differ from one process to the next).

    def __hash__(self) -> int:
        fields = self.__dict__
        found = fields.get("_hash")
        if found is None:
            found = fields["_hash"] = hash((self.namespace, self.name, self.dimensions))
        return found

    def __getstate__(self) -> dict[str, object]:
        return {name: value for name, value in self.__dict__.items() if name != "_hash"}


# StatisticSet and Datum are made once per datum of every PutMetricData (a thousand for
# one request): their ``__init__`` fills the instance's ``__dict__`` directly, which
# takes half the time of the frozen dataclass's own (one ``object.__setattr__`` call per
# field) and makes the same value (equality, hash, repr and ``replace`` are the
# dataclass's).


@dataclass(frozen=True, init=False)
class StatisticSet:
    """SampleCount, Sum, Minimum and Maximum of some samples."""

    sample_count: float
    sum: float
    minimum: float
    maximum: float

    def __init__(self, sample_count: float, sum: float,  # noqa: A002 (the field's name)
                 minimum: float, maximum: float) -> None:
        fields = self.__dict__
        fields["sample_count"] = sample_count
        fields["sum"] = sum
        fields["minimum"] = minimum
        fields["maximum"] = maximum


@dataclass(frozen=True, init=False)
class Datum:
    """One validated MetricData member, ready to store.

    ``timestamp`` is already truncated to the datum's storage resolution (a whole second for
    high resolution, a whole minute otherwise); ``unit`` is never empty ("None" when the
    client sent no unit).
    """

    key: MetricKey
    timestamp: datetime
    unit: str
    storage_resolution: int
    samples: tuple[StatisticSet, ...]

    def __init__(self, key: MetricKey, timestamp: datetime, unit: str,
                 storage_resolution: int, samples: tuple[StatisticSet, ...]) -> None:
        fields = self.__dict__
        fields["key"] = key
        fields["timestamp"] = timestamp
        fields["unit"] = unit
        fields["storage_resolution"] = storage_resolution
        fields["samples"] = samples


@dataclass(frozen=True)
class DimensionFilter:
    """ListMetrics: the metric has a dimension ``name`` (with ``value`` when given)."""

    name: str
    value: str | None = None


@dataclass(frozen=True)
class MetricFilter:
    """What ListMetrics asks for; ``None`` means "any"."""

    namespace: str | None = None
    name: str | None = None
    dimensions: tuple[DimensionFilter, ...] = ()
    recently_active: bool = False


@dataclass(frozen=True)
class BucketStats:
    """The samples of one unit whose timestamps fall in one period."""

    start: datetime
    unit: str
    stats: StatisticSet


@dataclass(frozen=True)
class BucketSamples:
    """The sample sets of one unit whose timestamps fall in one period, as stored (what
    percentiles are computed from)."""

    start: datetime
    unit: str
    samples: tuple[StatisticSet, ...]
