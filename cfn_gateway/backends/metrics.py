"""The metric store interface: what PutMetricData, ListMetrics and GetMetricStatistics need.

Everything here is backend-neutral and snake_case; the API layer converts AWS dicts to and
from these types, the domain layer holds the math, and drivers (``sqlite/metrics.py`` now, a
Gnocchi driver later) implement ``MetricStore``.

Design: a datum is stored as one or more ``StatisticSet`` samples.  A single ``Value`` is a
set with ``sample_count=1, sum=minimum=maximum=value``; each ``Values``/``Counts`` pair is a
set with ``minimum == maximum`` (so individual values survive, which percentiles need: AWS
computes percentiles only on samples whose minimum equals maximum); ``StatisticValues`` is
stored as given.  Reads return per-bucket, per-unit *aggregates* (``BucketStats``) rather
than raw samples: SQLite computes them with one ``GROUP BY`` (over minute and hour roll-ups
kept at ingest when the period is whole minutes), and Gnocchi can answer them
from its own pre-aggregated archives (fetching 60 s granularity and merging it into the
requested period with ``domain.statistics.merge``), so neither driver ships raw samples.
Percentiles alone read the sample sets (``samples``): the SQLite store has them; Gnocchi
does not, so in OpenStack mode the driver keeps them in an SQLite store of its own
(``sqlite/metric_values.py``) for a limited time, which ``expire_values`` enforces.

Every call is scoped by ``project_id``; nothing of one project is visible to another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cfn_gateway.domain.metrics import (
    BucketSamples,
    BucketStats,
    Datum,
    MetricFilter,
    MetricKey,
)

#: AWS returns ListMetrics results in pages of at most this many metrics.
LIST_PAGE_SIZE = 500


@dataclass
class MetricPage:
    metrics: list[MetricKey] = field(default_factory=list)
    next_token: str | None = None


#: What a request for percentiles is answered (``NotImplemented``) by a store that does not
#: keep values.
PERCENTILES_NEED_VALUES = (
    "Percentile statistics are not available: this gateway keeps metrics in Gnocchi, which "
    "keeps per-period sums, counts, minima and maxima, and was configured not to keep the "
    "values percentiles need.")


@dataclass(frozen=True)
class AggregateRequest:
    """One ``aggregate`` of ``aggregate_many``."""

    key: MetricKey
    start: datetime
    end: datetime
    period: int
    unit: str | None = None


class InvalidNextToken(ValueError):
    """A ListMetrics token this store did not issue (or issued for another query)."""


class MetricStore(Protocol):
    #: Whether the store keeps the values percentiles are computed from (``samples``).
    keeps_values: bool

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

    def aggregate_many(self, project_id: str,
                       requests: Sequence[AggregateRequest]) -> list[list[BucketStats]]:
        """``aggregate`` of each request, in order (GetMetricData reads up to 500 metrics:
        a driver that calls a service makes the calls concurrently, bounded)."""
        ...

    def token_secret(self) -> bytes:
        """The key this store signs its page tokens with; GetMetricData signs its own with
        it too, so that every process of the gateway accepts the tokens of the others."""
        ...

    def samples(self, project_id: str, requests: Sequence[AggregateRequest]
                ) -> list[list[BucketSamples]]:
        """The stored sample sets of each request's metric, by period and unit, as
        ``aggregate`` buckets them (percentiles need the values, not their sums).  A
        driver that keeps no values answers ``NotImplemented``."""
        ...

    def expire_values(self, now: datetime) -> int:
        """Drop the sample sets ``samples`` serves that are older than the store keeps
        them at ``now``, in short transactions; returns how many went.  A store whose
        values live as long as its statistics (standalone) drops nothing.  The engine
        calls it periodically."""
        ...
