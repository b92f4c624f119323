"""The embedded metric store: one SQLite file shared by the gateway's worker processes.

Tables:
- ``metrics``: one row per (project, namespace, name, exact dimension set).  The dimension
  set is stored canonically (sorted JSON pairs) under a UNIQUE constraint, which is what
  makes {A} and {A, B} different metrics; ``last_put`` (ms) serves ListMetrics' activity
  windows.
- ``metric_dimensions``: the same dimensions one per row, for ListMetrics' filters.
- ``metric_samples``: one row per stored statistic set (a single Value, one Values/Counts
  pair, or a StatisticValues), indexed by (metric_id, ts).  The project is not repeated
  there: a metric id is only ever found through ``metrics``, whose lookups always include
  the project, so the index on (metric_id, ts) is already per project.
- ``metric_minutes``, ``metric_hours``: per (metric, minute or hour, unit) roll-ups of the
  samples, written in the transaction that moves staged samples into ``metric_samples``,
  from which ``aggregate`` reads periods of whole minutes (``metric_rollups``; a store
  with ``keeps_rollups`` False has none).
- ``metric_staged``: the sample rows of recent writes, in arrival order, not yet folded
  into ``metric_samples`` and the roll-ups (``metric_staging``).  Every read of samples or
  roll-ups folds what is staged first (a write of its own, waited for), so reads see every
  acknowledged write.
- ``metric_store_meta``: the secret that signs ListMetrics tokens (shared by processes).

One connection per store, shared by the threads of a process and guarded by a lock.
PutMetricData writes go through ``common.group_commit``: the writes that arrive together
share one ``BEGIN IMMEDIATE`` transaction and one fsync, each acknowledged only after that
commit, and worker processes take turns on a lock file instead of polling SQLite's lock
(WAL and the busy timeout come from ``common.sqlite``).  What one write does (rows built
before the lock, metric ids from a per-process cache, the SQL of the transaction) is
``metric_writes``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from cfn_gateway import errors
from cfn_gateway.backends.metrics import (
    LIST_PAGE_SIZE,
    AggregateRequest,
    InvalidNextToken,
    MetricPage,
)
from cfn_gateway.backends.sqlite import metric_rollups, metric_staging, metric_writes
from cfn_gateway.common.batch_writes import Together
from cfn_gateway.common.group_commit import GroupCommit
from cfn_gateway.common.logs import ThrottledLog
from cfn_gateway.common.sqlite import connect, create_schema, write_transaction
from cfn_gateway.domain import pagination
from cfn_gateway.domain.metrics import (
    BucketSamples,
    BucketStats,
    Datum,
    MetricFilter,
    MetricKey,
    StatisticSet,
)
from cfn_gateway.domain.periods import from_millis, to_millis

LOG = logging.getLogger(__name__)
_FOLD_LOG = ThrottledLog(LOG)

#: MiB of the file's pages a connection keeps (``[DEFAULT] metric_store_cache_mb``).
DEFAULT_CACHE_MB = 64
#: Pages in the write-ahead log before a commit copies them into the file (SQLite's
#: ``wal_autocheckpoint``; its default is 1000).  A fold of staged samples from a thousand
#: metrics (``metric_staging``; before staging, every 1000-datum put) dirties about three
#: thousand pages: with the default, nearly every such commit also ran a checkpoint, writing
#: the same hot pages into the file again and again.  At 4 KiB a page, the log grows to
#: about 40 MiB between checkpoints.
WAL_CHECKPOINT_PAGES = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    last_put INTEGER NOT NULL,
    UNIQUE (project_id, namespace, name, dimensions)
);
CREATE INDEX IF NOT EXISTS metrics_by_project ON metrics (project_id, id);
CREATE TABLE IF NOT EXISTS metric_dimensions (
    metric_id INTEGER NOT NULL REFERENCES metrics (id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (metric_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metric_samples (""" + metric_staging.SAMPLE_COLUMNS + """);
CREATE INDEX IF NOT EXISTS metric_samples_by_time ON metric_samples (metric_id, ts);
""" + metric_staging.CREATE_TABLE

_SAMPLES = """
SELECT (ts - :start) / :period AS bucket, unit, sample_count, sum, minimum, maximum
FROM {samples}
WHERE metric_id = :metric_id AND ts >= :start AND ts < :end {unit_clause}
ORDER BY bucket, unit
"""

_AGGREGATE = """
SELECT (ts - :start) / :period AS bucket, unit,
       SUM(sample_count), SUM(sum), MIN(minimum), MAX(maximum)
FROM {samples}
WHERE metric_id = :metric_id AND ts >= :start AND ts < :end {unit_clause}
GROUP BY bucket, unit
ORDER BY bucket, unit
"""


def _decode_dimensions(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, value in json.loads(text))


def _query_digest(query: MetricFilter) -> str:
    dims = [[f.name, f.value] for f in query.dimensions]
    return pagination.digest(query.namespace, query.name, dims, query.recently_active)


class SQLiteMetricStore:
    """``MetricStore`` on an SQLite file (created, with its folder, when missing)."""

    keeps_values = True
    #: Whether ``put`` keeps the per-minute and per-hour roll-ups that ``aggregate`` reads
    #: periods of whole minutes from (``metric_rollups``).
    keeps_rollups = True

    def __init__(self, path: str, cache_mb: int = DEFAULT_CACHE_MB) -> None:
        self._conn = connect(path)
        self._conn.execute(f"PRAGMA cache_size={-int(cache_mb) * 1024}")  # KiB when < 0
        self._conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        self._lock = threading.Lock()
        self._secret = create_schema(self._conn, self._lock, _SCHEMA, "metric_store_meta")
        with self._transaction() as conn:
            if self.keeps_rollups:
                metric_rollups.ensure_tables(conn)
            #: Whether the file has roll-ups, which every fold then keeps in step.
            self._rollups = metric_rollups.present(conn)
        self._writes = GroupCommit(self._conn, self._lock)
        #: A fold is queued for the committer (``_fold_when_full``).
        self._fold_asked = False
        self._known: metric_writes.Ids = {}
        self.fold_staged()  # what a killed process left

    def close(self) -> None:
        """Fold what is staged (a file left so is whole for any version's reads), then
        close; should the fold fail, the next open folds instead."""
        self.fold_staged()
        with self._lock:
            self._conn.close()
        self._writes.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn, self._lock)

    # --- PutMetricData --------------------------------------------------------------------

    def put(self, project_id: str, data: Sequence[Datum], received_at: datetime) -> None:
        """Store ``data``: returns once committed, or at once under a request's deferral
        (``common.deferral``: the request is answered once committed)."""
        if not data:
            return
        last_put = to_millis(received_at)
        known = self._known
        first = metric_writes.prepare(project_id, data, last_put, known)

        def work(conn: sqlite3.Connection) -> tuple[metric_writes.Batch, dict[MetricKey, int]]:
            conn.execute("SAVEPOINT cached_ids")
            try:
                written = first, metric_writes.write(conn, project_id, first)
            except sqlite3.IntegrityError:
                # A cached metric id no longer exists (only possible if rows were removed
                # behind this process's back): forget the cache, write again resolving
                # every id.  (clear() is atomic; the store's lock is the transaction's.)
                conn.execute("ROLLBACK TO cached_ids")
                known.clear()
                again = metric_writes.prepare(project_id, data, last_put, known)
                written = again, metric_writes.write(conn, project_id, again)
            conn.execute("RELEASE cached_ids")
            self._fold_when_full(conn)
            return written

        def remember(written: tuple[metric_writes.Batch, dict[MetricKey, int]]) -> None:
            # Only after the commit: a rolled-back metric row must never be remembered.
            batch, ids = written
            if ids or batch.stale:
                with self._lock:
                    metric_writes.remember(known, project_id, batch, ids)

        self._writes.run(work, remember, Together(self._write_together, (project_id, first)))

    def _write_together(self, conn: sqlite3.Connection,
                        batches: list[tuple[str, metric_writes.Batch]],
                        ) -> list[tuple[metric_writes.Batch, dict[MetricKey, int]]]:
        """Several requests' prepared batches in one go (``GroupCommit``'s ``Together``;
        should a cached id be stale, this raises and each request's ``work`` runs alone)."""
        ids = metric_writes.write_all(conn, batches)
        self._fold_when_full(conn)
        return [(batch, new_ids) for (_, batch), new_ids in zip(batches, ids, strict=True)]

    def _fold_when_full(self, conn: sqlite3.Connection) -> None:
        """After a write, in its transaction: fold a slice when enough rows are staged
        (``metric_staging``).  In a transaction led on a worker's event loop, the fold (70-80
        ms) would hold up every request of that worker: the committer thread folds in a
        transaction of its own instead, soon after."""
        if not self._writes.on_event_loop:
            metric_staging.fold_if_full(conn, self._rollups)
        elif not self._fold_asked and metric_staging.is_full(conn):
            self._fold_asked = True
            self._writes.run_later(self._fold_asked_for)

    def _fold_asked_for(self, conn: sqlite3.Connection) -> None:
        self._fold_asked = False
        metric_staging.fold_if_full(conn, self._rollups)

    # --- ListMetrics ----------------------------------------------------------------------

    def list_metrics(
        self,
        project_id: str,
        query: MetricFilter,
        active_since: datetime,
        next_token: str | None = None,
        limit: int = LIST_PAGE_SIZE,
    ) -> MetricPage:
        query_digest = _query_digest(query)
        after = self._position(next_token, project_id, query_digest) if next_token else 0
        sql = ["SELECT id, namespace, name, dimensions FROM metrics",
               "WHERE project_id = ? AND last_put >= ? AND id > ?"]
        args: list[Any] = [project_id, to_millis(active_since), after]
        if query.namespace is not None:
            sql.append("AND namespace = ?")
            args.append(query.namespace)
        if query.name is not None:
            sql.append("AND name = ?")
            args.append(query.name)
        for dim in query.dimensions:
            sql.append("AND EXISTS (SELECT 1 FROM metric_dimensions AS d "
                       "WHERE d.metric_id = metrics.id AND d.name = ?"
                       + (" AND d.value = ?)" if dim.value is not None else ")"))
            args.append(dim.name)
            if dim.value is not None:
                args.append(dim.value)
        sql.append("ORDER BY id LIMIT ?")
        args.append(limit + 1)
        with self._lock:
            rows = self._conn.execute(" ".join(sql), args).fetchall()
        page = MetricPage(metrics=[
            MetricKey(namespace, name, _decode_dimensions(dims))
            for _, namespace, name, dims in rows[:limit]
        ])
        if len(rows) > limit:
            page.next_token = pagination.page_token(self._secret, project_id, query_digest,
                                                    rows[limit - 1][0])
        return page

    def _position(self, token: str, project_id: str, query_digest: str) -> int:
        try:
            after = pagination.position(self._secret, token, project_id, query_digest)
        except ValueError as exc:
            raise InvalidNextToken(str(exc)) from exc
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise InvalidNextToken("malformed token")
        return after

    # --- GetMetricStatistics --------------------------------------------------------------

    def aggregate_many(self, project_id: str,
                       requests: Sequence[AggregateRequest]) -> list[list[BucketStats]]:
        return [self.aggregate(project_id, r.key, r.start, r.end, r.period, r.unit)
                for r in requests]

    def token_secret(self) -> bytes:
        return self._secret

    def samples(self, project_id: str, requests: Sequence[AggregateRequest]
                ) -> list[list[BucketSamples]]:
        return [self._samples(project_id, r) for r in requests]

    def fold_staged(self) -> bool:
        """Fold the staged rows, if any, into the per-metric tables now, and wait for it
        (``metric_staging``; every read does this first).  False when rows stay staged:
        the fold could not be written (a full disk), and a read must then take the staged
        rows with the samples (``_samples_source``)."""
        with self._lock:
            staged = metric_staging.has_staged(self._conn)
        if not staged:
            return True
        rollups = self._rollups
        try:
            self._writes.run(lambda conn: metric_staging.fold(conn, rollups), wait=True)
        except (sqlite3.Error, errors.ServiceUnavailable) as exc:
            _FOLD_LOG.warning("staged samples not folded (reads take them as they are): %s",
                              exc)
            return False
        return True

    @staticmethod
    def _samples_source(folded: bool) -> str:
        """What the raw reads read: the samples, or the samples and the staged rows."""
        return "metric_samples" if folded else metric_staging.WITH_STAGED

    def _samples(self, project_id: str, request: AggregateRequest) -> list[BucketSamples]:
        start_ms, period_ms = to_millis(request.start), request.period * 1000
        folded = self.fold_staged()
        with self._lock:
            metric_id = self._metric_id(project_id, request.key)
            if metric_id is None:
                return []
            sql = _SAMPLES.format(
                samples=self._samples_source(folded),
                unit_clause="AND unit = :unit" if request.unit is not None else "")
            rows = self._conn.execute(sql, {
                "metric_id": metric_id, "start": start_ms, "end": to_millis(request.end),
                "period": period_ms, "unit": request.unit}).fetchall()
        grouped: dict[tuple[int, str], list[StatisticSet]] = {}
        for bucket, unit, count, total, low, high in rows:
            grouped.setdefault((bucket, unit), []).append(
                StatisticSet(sample_count=count, sum=total, minimum=low, maximum=high))
        return [BucketSamples(from_millis(start_ms + bucket * period_ms), unit, tuple(sets))
                for (bucket, unit), sets in grouped.items()]

    def expire_values(self, now: datetime) -> int:
        """Nothing expires here: the standalone store keeps every sample set for as long
        as it keeps the metric (AWS keeps data 15 months).  OpenStack mode's value store
        (``SQLiteMetricValues``) does expire them."""
        return 0

    def _metric_id(self, project_id: str, key: MetricKey) -> int | None:
        found = self._conn.execute(
            "SELECT id FROM metrics WHERE project_id = ? AND namespace = ? AND name = ? "
            "AND dimensions = ?",
            (project_id, key.namespace, key.name, metric_writes.encode_dimensions(key)),
        ).fetchone()
        return None if found is None else found[0]

    def aggregate(
        self,
        project_id: str,
        key: MetricKey,
        start: datetime,
        end: datetime,
        period: int,
        unit: str | None = None,
    ) -> list[BucketStats]:
        start_ms, end_ms, period_ms = to_millis(start), to_millis(end), period * 1000
        folded = self.fold_staged()
        with self._lock:
            metric_id = self._metric_id(project_id, key)
            if metric_id is None:
                return []
            rows = (metric_rollups.aggregate_rows(self._conn, metric_id, start_ms, end_ms,
                                                  period_ms, unit)
                    if self.keeps_rollups and folded else None)
            if rows is None:
                sql = _AGGREGATE.format(
                    samples=self._samples_source(folded),
                    unit_clause="AND unit = :unit" if unit is not None else "")
                rows = self._conn.execute(sql, {
                    "metric_id": metric_id, "start": start_ms, "end": end_ms,
                    "period": period_ms, "unit": unit,
                }).fetchall()
        # Positional arguments and one timedelta product per row: 1,440 buckets take half
        # the time ``from_millis`` and keywords take.
        first, step = from_millis(start_ms), timedelta(milliseconds=period_ms)
        return [
            BucketStats(first + step * bucket, row_unit,
                        StatisticSet(count, total, low, high))
            for bucket, row_unit, count, total, low, high in rows
        ]
