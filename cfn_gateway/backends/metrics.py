"""The metric store interface: what PutMetricData, ListMetrics and GetMetricStatistics need.

Everything here is backend-neutral and snake_case; the API layer converts AWS dicts to and
from these types, the domain layer holds the math, and drivers (``sqlite/metrics.py`` now, a
Gnocchi driver later) implement ``MetricStore``.

Design: a datum is stored as one or more ``StatisticSet`` samples.  A single ``Value`` is a
set with ``sample_count=1, sum=minimum=maximum=value``; each ``Values``/``Counts`` pair is a
set with ``minimum == maximum`` (so individual values survive, which percentiles need: AWS
computes percentiles only on samples whose minimum equals maximum); ``StatisticValues`` is
stored as given.  Reads return per-bucket, per-unit *aggregates* (``BucketStats``) rather
than raw samples: SQLite computes them with one ``GROUP BY``, and Gnocchi can answer them
from its own pre-aggregated archives (fetching 60 s granularity and merging it into the
requested period with ``domain.statistics.merge``), so neither driver ships raw samples.

Every call is scoped by ``project_id``; nothing of one project is visible to another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

#: AWS returns ListMetrics results in pages of at most this many metrics.
LIST_PAGE_SIZE = 500

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


@dataclass(frozen=True)
class StatisticSet:
    """SampleCount, Sum, Minimum and Maximum of some samples."""

    sample_count: float
    sum: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
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


@dataclass
class MetricPage:
    metrics: list[MetricKey] = field(default_factory=list)
    next_token: str | None = None


@dataclass(frozen=True)
class BucketStats:
    """The samples of one unit whose timestamps fall in one period."""

    start: datetime
    unit: str
    stats: StatisticSet


class InvalidNextToken(ValueError):
    """A ListMetrics token this store did not issue (or issued for another query)."""


class MetricStore(Protocol):
    def put(self, project_id: str, data: Sequence[Datum], received_at: datetime) -> None:
        """Store every datum, or none of them (one transaction).

        ``received_at`` is when the request arrived; ListMetrics' activity windows (two
        weeks, or three hours with RecentlyActive) are measured against it.
        """
        ...

    def list_metrics(
        self,
        project_id: str,
        query: MetricFilter,
        active_since: datetime,
        next_token: str | None = None,
        limit: int = LIST_PAGE_SIZE,
    ) -> MetricPage:
        """Metrics matching ``query`` that received data at or after ``active_since``.

        ``next_token`` is opaque to callers and bound to the project and the filter; a token
        that does not verify raises ``InvalidNextToken``.
        """
        ...

    def aggregate(
        self,
        project_id: str,
        key: MetricKey,
        start: datetime,
        end: datetime,
        period: int,
        unit: str | None = None,
    ) -> list[BucketStats]:
        """Per-period statistics of the metric with exactly ``key``'s dimensions.

        Buckets are ``[start + k*period, start + (k+1)*period)`` clipped to ``end``
        (exclusive); ``start`` is already aligned by the caller.  Samples of different units
        land in different ``BucketStats``; with ``unit`` only that unit is returned.  Empty
        buckets are omitted; results are ordered by (start, unit).
        """
        ...
