"""``SQLiteMetricValues``: the values of OpenStack mode's data, kept for percentiles.

Gnocchi keeps per-period sums, counts, minima and maxima; percentiles need the values.  In
OpenStack mode the Gnocchi driver hands every datum to this store too, and reads it back
only through ``samples``.  It is ``SQLiteMetricStore`` (same tables, same ``put`` and
``samples``, project scoping included) on a file of its own, plus a retention: unlike the
standalone store, whose data live as long as AWS keeps them, this one only serves recent
periods, and ``expire_values`` drops what is older than ``retention``.  It keeps no
minute or hour roll-ups (``keeps_rollups`` False): nothing reads its ``aggregate``, so its
``put`` writes the samples only and its expiry has no roll-ups to keep in step.

``withdraw`` undoes a ``put`` whose data the Gnocchi driver then failed to store (it writes
both at once).  A sample row has no identity beyond its columns, so removing, for each
row the put wrote, one row equal to it restores exactly the multiset of rows there was.

Expiry deletes ``metric_samples`` rows in batches of ``PURGE_BATCH`` (tens of ms), one
write transaction each, found through an index on ``ts`` that only this store's file has
(so a batch never scans the table while holding the write lock), and rests as long as the
batch took before the next one, so that PutMetricData writers waiting for the lock get it
in between.  Metric rows stay: ids the stores cached remain valid, and a metric is one
small row.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from cfn_gateway.backends.sqlite import metric_staging, metric_writes
from cfn_gateway.backends.sqlite.metrics import DEFAULT_CACHE_MB, SQLiteMetricStore
from cfn_gateway.common.sqlite import write_transaction
from cfn_gateway.domain.metrics import Datum
from cfn_gateway.domain.periods import to_millis

#: Rows one expiry transaction deletes at most (about 30 ms on the test machine).
PURGE_BATCH = 2000

_TIME_INDEX = "CREATE INDEX IF NOT EXISTS metric_samples_by_ts ON metric_samples (ts)"
_METRIC_ID = ("SELECT id FROM metrics "
              "WHERE project_id = ? AND namespace = ? AND name = ? AND dimensions = ?")
#: One row equal to the given one, found through the (metric_id, ts) index.
_WITHDRAW_ROW = (
    "DELETE FROM metric_samples WHERE rowid = (SELECT rowid FROM metric_samples "
    "WHERE metric_id = ? AND ts = ? AND unit = ? AND sample_count = ? AND sum = ? "
    "AND minimum = ? AND maximum = ? LIMIT 1)")


class SQLiteMetricValues(SQLiteMetricStore):
    """The values of the last ``retention`` of data, on the SQLite file at ``path``."""

    keeps_rollups = False

    def __init__(self, path: str, retention: timedelta,
                 cache_mb: int = DEFAULT_CACHE_MB) -> None:
        super().__init__(path, cache_mb)
        self.retention = retention
        with write_transaction(self._conn, self._lock) as conn:
            conn.execute(_TIME_INDEX)

    def kept_since(self, now: datetime) -> datetime:
        """The oldest moment whose values are served at ``now``."""
        return now - self.retention

    def withdraw(self, project_id: str, data: Sequence[Datum], received_at: datetime) -> int:
        """Undo a ``put(project_id, data, received_at)`` that returned: for each row it
        wrote, one equal row goes.  Returns how many went.  Metric rows stay (a put may
        also have found them)."""
        batch = metric_writes.prepare(project_id, data, to_millis(received_at), self._known)

        def delete(conn: sqlite3.Connection) -> int:
            metric_staging.fold(conn, self._rollups)  # the rows to remove may be staged
            rows = batch.rows
            for key, positions in batch.waiting.items():
                found = conn.execute(_METRIC_ID, (project_id, key.namespace, key.name,
                                                  metric_writes.encode_dimensions(key)))
                metric_id = (found.fetchone() or (0,))[0]
                for i in positions:
                    rows[i] = (metric_id, *rows[i][1:])
            return conn.executemany(_WITHDRAW_ROW, [row for row in rows if row[0]]).rowcount

        return self._writes.run(delete)

    def expire_values(self, now: datetime) -> int:
        """Delete the values stamped before ``kept_since(now)``; returns how many went."""
        cutoff, total = to_millis(self.kept_since(now)), 0
        self.fold_staged()  # staged rows may be old too
        while True:
            started = time.monotonic()
            with self._transaction() as conn:
                deleted = conn.execute(
                    "DELETE FROM metric_samples WHERE rowid IN (SELECT rowid FROM "
                    "metric_samples WHERE ts < ? LIMIT ?)", (cutoff, PURGE_BATCH)).rowcount
            total += deleted
            if deleted < PURGE_BATCH:
                return total
            time.sleep(time.monotonic() - started)
