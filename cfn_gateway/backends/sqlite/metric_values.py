"""``SQLiteMetricValues``: the values of OpenStack mode's data, kept for percentiles.

Gnocchi keeps per-period sums, counts, minima and maxima; percentiles need the values.  In
OpenStack mode the Gnocchi driver hands every datum to this store too, and reads it back
only through ``samples``.  It is ``SQLiteMetricStore`` (same tables, same ``put`` and
``samples``, project scoping included) on a file of its own, plus a retention: unlike the
standalone store, whose data live as long as AWS keeps them, this one only serves recent
periods, and ``expire_values`` drops what is older than ``retention``.  It keeps no
minute or hour roll-ups (``keeps_rollups`` False): nothing reads its ``aggregate``, so its
``put`` writes the samples only and its expiry has no roll-ups to keep in step.

Expiry deletes ``metric_samples`` rows in batches of ``PURGE_BATCH`` (tens of ms), one
write transaction each, found through an index on ``ts`` that only this store's file has
(so a batch never scans the table while holding the write lock), and rests as long as the
batch took before the next one, so that PutMetricData writers waiting for the lock get it
in between.  Metric rows stay: ids the stores cached remain valid, and a metric is one
small row.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.common.sqlite import write_transaction
from cfn_gateway.domain.periods import to_millis

#: Rows one expiry transaction deletes at most (about 30 ms on the test machine).
PURGE_BATCH = 2000

_TIME_INDEX = "CREATE INDEX IF NOT EXISTS metric_samples_by_ts ON metric_samples (ts)"


class SQLiteMetricValues(SQLiteMetricStore):
    """The values of the last ``retention`` of data, on the SQLite file at ``path``."""

    keeps_rollups = False

    def __init__(self, path: str, retention: timedelta) -> None:
        super().__init__(path)
        self.retention = retention
        with write_transaction(self._conn, self._lock) as conn:
            conn.execute(_TIME_INDEX)

    def kept_since(self, now: datetime) -> datetime:
        """The oldest moment whose values are served at ``now``."""
        return now - self.retention

    def expire_values(self, now: datetime) -> int:
        """Delete the values stamped before ``kept_since(now)``; returns how many went."""
        cutoff, total = to_millis(self.kept_since(now)), 0
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
