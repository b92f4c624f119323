"""Staged samples: PutMetricData's rows land in time order, and are folded into the
per-metric tables in bulk.

``metric_samples`` is indexed by (metric, time) and the roll-ups are clustered by metric
(``metric_rollups``), so a request of a thousand metrics, written straight there, dirtied a
leaf page per metric in each of the three: about 3,000 pages a commit, whose WAL frames
made most of the commit's time (measured: 2.7 ms of sample inserts, 4.2 ms of roll-up
upserts, 8-10 ms of COMMIT per 1000-metric request).  Here a request's rows go to
``metric_staged``, a table in arrival order with no index, whose inserts touch only its
last pages; ``fold`` moves everything staged into ``metric_samples`` (sorted by metric and
time) and adds it to the roll-ups with one grouped upsert per level, then empties the
table.  Many requests of the same metrics then dirty each page once per fold instead of
once per request.

When a fold runs:

- a slice at a time in the write transactions of requests, once ``FOLD_ROWS`` or more
  rows are staged (``fold_if_full``), so the table stays small: each such write folds the
  rows of one ``SLICES``-th of the metrics (those whose id has the remainder, modulo
  ``SLICES``, of the oldest staged row's), and the next write the slice that then holds
  the oldest row.  A whole fold held the file's write lock for 100-250 ms, all the
  workers' writes (and so their requests) waiting behind it; a slice touches a
  ``SLICES``-th of the pages, for a ``SLICES``-th of that time (still 70-80 ms under
  1-datum puts: a transaction led on a worker's event loop leaves it to a transaction of
  its own on the committer thread, ``SQLiteMetricStore``);
- before every read of the samples or the roll-ups (``SQLiteMetricStore`` asks
  ``has_staged`` and, if so, folds in a write of its own), so that every read sees every
  write acknowledged before it began, through the per-metric tables as before; when that
  write fails (a full disk), the read takes the raw samples and the staged rows together
  (``WITH_STAGED``) instead of the roll-ups, so reads still answer whole;
- when a store closes (a file left so holds nothing staged, which matters to an earlier
  version of the gateway opening it), and when it opens (what a killed process left).

A fold (whole or one slice) is one statement per table inside a write transaction: it
happens entirely or not at all (a staged row is in ``metric_staged`` or in the per-metric
tables, never both), and staged rows are as durable as any (they were committed before
their request was answered).  Roll-up sums are added per group by SQLite in an order of
its own, which may differ from a sum over the raw rows in the last bits only, as
``metric_rollups`` says.
"""

from __future__ import annotations

import sqlite3

from cfn_gateway.backends.sqlite import metric_rollups

#: Staged rows from which writes fold them, a slice each (about 50 requests of 1000
#: metrics; a whole fold of that many takes 100-250 ms, paid by ``SLICES`` batches of
#: writes and spared by the others).
FOLD_ROWS = 50_000
#: The slices (by metric id) that writes fold staged rows in.
SLICES = 4

TABLE = "metric_staged"
COLUMNS = "metric_id, ts, unit, sample_count, sum, minimum, maximum"

#: The columns of a sample row, as ``metric_samples`` and this table declare them.
SAMPLE_COLUMNS = """
    metric_id INTEGER NOT NULL REFERENCES metrics (id),
    ts INTEGER NOT NULL,
    unit TEXT NOT NULL,
    sample_count REAL NOT NULL,
    sum REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL
"""
CREATE_TABLE = f"CREATE TABLE IF NOT EXISTS {TABLE} ({SAMPLE_COLUMNS});"
INSERT = f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
#: The samples with the staged rows, for a read whose fold could not be written.
WITH_STAGED = (f"(SELECT {COLUMNS} FROM metric_samples "
               f"UNION ALL SELECT {COLUMNS} FROM {TABLE})")
_TO_SAMPLES = (f"INSERT INTO metric_samples ({COLUMNS}) "
               f"SELECT {COLUMNS} FROM {{source}} ORDER BY metric_id, ts")
_ANY = f"SELECT EXISTS (SELECT 1 FROM {TABLE})"
#: The span of rowids staged (at least the row count: rows leave by slices, and rowids
#: grow from the largest one left) and the metric of the oldest row: each a lookup at one
#: end of the table (``min`` and ``max`` in one SELECT would scan it whole).
_SPAN = (f"SELECT (SELECT rowid FROM {TABLE} ORDER BY rowid DESC LIMIT 1) - rowid + 1, "
         f"metric_id FROM {TABLE} ORDER BY rowid LIMIT 1")
_IN_SLICE = f" WHERE metric_id % {SLICES} = {{remainder}}"
_SLICE = f"(SELECT {COLUMNS} FROM {TABLE}{_IN_SLICE})"
_DELETE = f"DELETE FROM {TABLE}{{where}}"


def has_staged(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute(_ANY).fetchone()[0])


def fold(conn: sqlite3.Connection, rollups: bool) -> int:
    """Move every staged row into ``metric_samples`` (and the roll-ups when ``rollups``),
    inside the caller's write transaction; how many moved."""
    return _move(conn, rollups, TABLE, "")


def fold_slice(conn: sqlite3.Connection, rollups: bool, remainder: int) -> int:
    """``fold`` the staged rows of the metrics whose id is ``remainder`` modulo ``SLICES``
    only; how many moved."""
    return _move(conn, rollups, _SLICE.format(remainder=remainder),
                 _IN_SLICE.format(remainder=remainder))


def is_full(conn: sqlite3.Connection) -> bool:
    """Whether ``FOLD_ROWS`` or more rows may be staged (``fold_if_full`` would fold)."""
    return _oldest_if_full(conn) is not None


def fold_if_full(conn: sqlite3.Connection, rollups: bool) -> int:
    """When ``FOLD_ROWS`` or more rows may be staged, fold the slice that holds the oldest
    staged row; how many moved."""
    oldest_metric = _oldest_if_full(conn)
    if oldest_metric is None:
        return 0
    return fold_slice(conn, rollups, oldest_metric % SLICES)


def _oldest_if_full(conn: sqlite3.Connection) -> int | None:
    """The metric of the oldest staged row, when ``FOLD_ROWS`` or more may be staged."""
    found = conn.execute(_SPAN).fetchone()
    if found is None or found[0] < FOLD_ROWS:
        return None
    return found[1]


def _move(conn: sqlite3.Connection, rollups: bool, source: str, where: str) -> int:
    moved = conn.execute(_TO_SAMPLES.format(source=source)).rowcount
    if moved:
        if rollups:
            metric_rollups.add_staged(conn, source)
        conn.execute(_DELETE.format(where=where))
    return moved
