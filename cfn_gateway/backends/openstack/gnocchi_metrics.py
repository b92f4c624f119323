"""``GnocchiMetricStore``: the ``MetricStore`` on Gnocchi 4.7 (OpenStack mode).

Every call on behalf of a caller uses ``project_session(project_id)``: the gateway's service
user scoped to the caller's project (role ``member``), so Gnocchi itself confines reads and
writes to that project; the driver adds explicit project filters on top.  The mapping is
explained in ``gnocchi_mapping`` (identity, statistics), ``gnocchi_schema`` (retention,
late data) and ``gnocchi_reads`` (exact statistics from pre-aggregated buckets).

PutMetricData: one batch-measures call (``create_metrics=true``) carries every measure of
the request, with those of the project's requests that waited for it (``gnocchi_batches``);
it is the commit point.  Before it, resources that this process has not seen are looked up
with one search per 1000, missing ones created, and ``last_put`` (the ListMetrics
activity) is refreshed when older than ``[gnocchi] activity_update_interval``.  If
anything fails the request fails (503): the batch either was accepted whole or not at all,
apart from failures inside Gnocchi's storage.

Values (``[gnocchi] keep_values``): percentiles need the values of each period, which
Gnocchi does not keep, so the same data also go to a value store of this gateway
(``SQLiteMetricValues``: an SQLite file of the data folder, kept ``values_retention_days``),
which only ``samples`` reads.  Gnocchi is the store of record: the request is acknowledged
only when both writes succeeded, and the values of data Gnocchi did not accept do not
stay.  The two writes run at once (the value write and its fsync, about a millisecond,
on a thread of ``_keeping`` while the request waits for Gnocchi, which takes ten): when
Gnocchi fails, the values already committed are withdrawn again (``withdraw``), and the
request fails with Gnocchi's error.  When the value write fails after Gnocchi accepted
the data, the request fails (``InternalFailure``) although Gnocchi kept them; a client
that retries writes them to Gnocchi a second time (its sums and counts count them twice)
and to the value store once.  A reader may see a put's values while its Gnocchi write is
still under way, and a gateway killed between the two answers may keep the values of a
put that Gnocchi refused; both are as rare and as short as the window in which Gnocchi
holds data whose values are not yet written.

GetMetricStatistics: the resource is read (its metric ids), then each needed (metric,
granularity) is fetched with ``refresh=true``, so what was acknowledged is visible.
Percentiles read the value store; periods that start before its retention have none.

ListMetrics: one resource search per page (``gnocchi_listing``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from gnocchiclient import exceptions as g_exc
from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.backends.metrics import (
    LIST_PAGE_SIZE,
    PERCENTILES_NEED_VALUES,
    AggregateRequest,
    MetricPage,
)
from cfn_gateway.backends.openstack import gnocchi_mapping as mapping
from cfn_gateway.backends.openstack import gnocchi_statistics as statistics_read
from cfn_gateway.backends.openstack.gnocchi_api import (
    GnocchiAPI,
    Parallel,
    chunked,
    description,
    internal,
)
from cfn_gateway.backends.openstack.gnocchi_batches import MeasureBatch, SharedBatches
from cfn_gateway.backends.openstack.gnocchi_listing import (
    RESOURCES,
    SEARCH,
    MetricLister,
    token_secret,
)
from cfn_gateway.backends.openstack.gnocchi_setup import ensure_schema
from cfn_gateway.backends.sqlite.metric_values import SQLiteMetricValues
from cfn_gateway.domain.metrics import (
    BucketSamples,
    BucketStats,
    Datum,
    MetricFilter,
    MetricKey,
)

LOG = logging.getLogger(__name__)
_KNOWN_MAX = 100_000
_SEARCH_MAX = 1000  # Gnocchi's default [api] max_limit
SessionFactory = Callable[[str], ks_session.Session]


class GnocchiMetricStore:
    """``MetricStore`` on Gnocchi, reached through the catalog of the given sessions;
    ``values``: where the values percentiles need are kept (None: nowhere, and percentiles
    answer ``NotImplemented``)."""

    def __init__(self, session_for: SessionFactory | None = None,
                 setup_session: Callable[[], ks_session.Session] | None = None,
                 clock: Callable[[], datetime] | None = None,
                 values: SQLiteMetricValues | None = None) -> None:
        from cfn_gateway.common import openstack_session as sessions
        from cfn_gateway.config import CONF

        self._options = CONF.gnocchi
        self._session_for = session_for or sessions.project_session
        self._setup_session = setup_session or sessions.service_session
        self._endpoint = sessions.endpoint_filter("metric")
        self._with_catalog_endpoint = sessions.with_catalog_endpoint
        self._clock = clock or (lambda: datetime.now(UTC))
        self._pool = Parallel(self._options.parallel_requests)
        self._batches = SharedBatches()
        self._reads = Parallel(self._options.parallel_requests)
        self._data_token_secret = functools.cache(lambda: token_secret(
            self._options.list_token_secret, self._setup_session, "GetMetricData"))
        self._values = values
        self.keeps_values = values is not None
        self._keeping = (ThreadPoolExecutor(max_workers=self._options.parallel_requests,
                                            thread_name_prefix="values")
                         if values is not None else None)
        self._lock = threading.Lock()
        self._schema_ready = False
        self._lister = MetricLister(
            lambda: token_secret(self._options.list_token_secret, self._setup_session))
        # (project, resource id) -> the last_put Gnocchi holds, as far as this process knows
        self._known: dict[tuple[str, str], datetime] = {}

    def close(self) -> None:
        self._reads.shutdown()
        self._pool.shutdown()
        if self._keeping is not None:
            self._keeping.shutdown()
        if self._values is not None:
            self._values.close()

    def fold_staged(self) -> None:
        """Fold what the value store staged (``metric_staging``), when there is one."""
        if self._values is not None:
            self._values.fold_staged()

    def _api(self, project_id: str) -> GnocchiAPI:
        session = self._session_for(project_id)
        return GnocchiAPI(session, self._with_catalog_endpoint(session, self._endpoint),
                          self._options.request_timeout)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._lock:
            if not self._schema_ready:
                ensure_schema(self._setup_session(), self._endpoint,
                              create=self._options.auto_setup,
                              timeout=self._options.request_timeout)
                self._schema_ready = True

    # --- PutMetricData --------------------------------------------------------------------

    def put(self, project_id: str, data: Sequence[Datum], received_at: datetime) -> None:
        if not data:
            return
        self._ensure_schema()
        body, keys = mapping.build_measures(project_id, data, self._clock())
        api = self._api(project_id)
        kept = (self._keeping.submit(self._values.put, project_id, data, received_at)
                if self._keeping is not None else None)
        try:
            self._touch(api, project_id, body, keys, received_at)
            if body:
                self._batches.write(project_id, MeasureBatch(body, keys, received_at),
                                    lambda batch: self._write(api, project_id, batch))
        except BaseException:
            if kept is not None:
                self._withdraw_values(kept, project_id, data, received_at)
            raise
        if kept is not None:
            self._values_kept(kept, project_id, data)

    @staticmethod
    def _values_kept(kept: Future[None], project_id: str, data: Sequence[Datum]) -> None:
        """After Gnocchi accepted ``data``: the value write must have succeeded too."""
        try:
            kept.result()
        except (sqlite3.Error, errors.ServiceUnavailable) as exc:
            LOG.error("Gnocchi stored %d datums of project %s, but keeping their values "
                      "failed: %s", len(data), project_id, exc)
            raise errors.InternalFailure(
                "The metric service stored the data, but the gateway failed to keep their "
                "values for percentiles.") from None

    def _withdraw_values(self, kept: Future[None], project_id: str, data: Sequence[Datum],
                         received_at: datetime) -> None:
        """After Gnocchi failed to store ``data``: their values go again, once written."""
        assert self._values is not None
        try:
            kept.result()
        except Exception:  # nothing of them was kept
            return
        try:
            self._values.withdraw(project_id, data, received_at)
        except (sqlite3.Error, errors.ServiceUnavailable) as exc:
            LOG.error("Gnocchi refused %d datums of project %s, and withdrawing their "
                      "values failed; percentiles will count them: %s", len(data),
                      project_id, exc)

    def _touch(self, api: GnocchiAPI, project_id: str, body: dict[str, Any],
               keys: dict[str, MetricKey], received_at: datetime) -> None:
        """Create missing resources; move ``last_put`` forward where it is stale."""
        due = received_at - timedelta(seconds=self._options.activity_update_interval)
        with self._lock:
            stale = [rid for rid in keys
                     if (known := self._known.get((project_id, rid))) is None or known < due]
        if not stale:
            return
        held: dict[str, datetime] = {}
        for chunk in chunked(stale, _SEARCH_MAX):
            rows = api.call("POST", SEARCH, json={"and": [
                {"in": {"id": chunk}}, {"=": {"project_id": project_id}},
                {"=": {"created_by_project_id": project_id}}]},
                params={"attrs": ["id", "last_put"], "limit": len(chunk)})
            held.update((row["id"], statistics_read.parse_time(row["last_put"])) for row in rows)
        self._pool.map(lambda rid: self._create(api, project_id, keys[rid], received_at,
                                                body.get(rid, {})),
                       [rid for rid in stale if rid not in held])
        patched = [rid for rid in stale if rid in held and held[rid] < due]
        self._pool.map(lambda rid: self._patch(api, rid, received_at), patched)
        for rid in patched:
            held[rid] = received_at
        with self._lock:
            if len(self._known) + len(stale) > _KNOWN_MAX:
                self._known.clear()
            for rid in stale:
                self._known[(project_id, rid)] = held.get(rid, received_at)

    def _create(self, api: GnocchiAPI, project_id: str, key: MetricKey,
                received_at: datetime, measures: dict[str, Any]) -> None:
        """The resource, with the metrics ``measures`` are for (one transaction)."""
        body = mapping.resource_body(project_id, key, received_at)
        body["metrics"] = {name: {"archive_policy_name": entry["archive_policy_name"]}
                           for name, entry in measures.items()}
        try:
            api.call("POST", RESOURCES, json=body, handled=(g_exc.Conflict,))
        except g_exc.Conflict:
            # Made meanwhile by another request, or an id taken by someone else.
            try:
                found = api.call("GET", f"{RESOURCES}/{body['id']}",
                                 handled=(g_exc.NotFound,))
            except g_exc.NotFound:
                found = None
            if found is None or not statistics_read.owned_by(found, project_id):
                raise internal(f"resource {body['id']} exists outside project "
                               f"{project_id}") from None
            if statistics_read.parse_time(found["last_put"]) < received_at:
                self._patch(api, body["id"], received_at)

    def _patch(self, api: GnocchiAPI, rid: str, received_at: datetime) -> None:
        # NotFound: deleted behind our back; the batch finds it unknown and recreates it.
        with contextlib.suppress(g_exc.NotFound):
            api.call("PATCH", f"{RESOURCES}/{rid}",
                     json={"last_put": mapping.format_time(received_at)},
                     handled=(g_exc.NotFound,))

    def _write(self, api: GnocchiAPI, project_id: str, batch: MeasureBatch) -> None:
        body, keys, received_at = batch.body, batch.keys, batch.received_at
        for attempt in (1, 2):
            try:
                api.call("POST", "v1/batch/resources/metrics/measures", json=body,
                         params={"create_metrics": "true"}, handled=(g_exc.BadRequest,))
                return
            except g_exc.BadRequest as exc:
                detail = description(exc)
                unknown = (detail.get("detail") if isinstance(detail, dict)
                           and detail.get("cause") == "Unknown resources" else None)
                if not unknown or attempt == 2:
                    raise internal(f"batch measures refused: {exc}") from None
            missing = [item["resource_id"] for item in unknown]
            with self._lock:
                for rid in missing:
                    self._known.pop((project_id, rid), None)
            self._pool.map(lambda rid: self._create(api, project_id, keys[rid], received_at,
                                                    body.get(rid, {})),
                           [rid for rid in missing if rid in keys])

    # --- ListMetrics ----------------------------------------------------------------------

    def list_metrics(self, project_id: str, query: MetricFilter, active_since: datetime,
                     next_token: str | None = None,
                     limit: int = LIST_PAGE_SIZE) -> MetricPage:
        self._ensure_schema()  # a first ListMetrics must not search an unknown type
        return self._lister.list_metrics(self._api(project_id), project_id, query,
                                         active_since, next_token, limit)

    # --- GetMetricStatistics --------------------------------------------------------------

    def aggregate_many(self, project_id: str,
                       requests: Sequence[AggregateRequest]) -> list[list[BucketStats]]:
        # Its own pool: each aggregate fans out on ``_pool``, which must stay free for it.
        return self._reads.map(lambda r: self.aggregate(
            project_id, r.key, r.start, r.end, r.period, r.unit), requests)

    def token_secret(self) -> bytes:
        return self._data_token_secret()

    def samples(self, project_id: str, requests: Sequence[AggregateRequest]
                ) -> list[list[BucketSamples]]:
        if self._values is None:
            raise errors.NotImplemented(PERCENTILES_NEED_VALUES)
        since = self._values.kept_since(self._clock())
        return [[bucket for bucket in found if bucket.start >= since]
                for found in self._values.samples(project_id, requests)]

    def expire_values(self, now: datetime) -> int:
        return 0 if self._values is None else self._values.expire_values(now)

    def aggregate(self, project_id: str, key: MetricKey, start: datetime, end: datetime,
                  period: int, unit: str | None = None) -> list[BucketStats]:
        self._ensure_schema()
        return statistics_read.aggregate(self._api(project_id), self._pool.map, project_id,
                                         key, start, end, period, unit, self._clock())
