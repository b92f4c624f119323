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

- in the write transaction of a request that leaves ``FOLD_ROWS`` or more rows staged, so
  the table stays small (its rows are numbered from 1 again once it is empty: its largest
  rowid is its row count);
- before every read of the samples or the roll-ups (``SQLiteMetricStore`` asks
  ``has_staged`` and, if so, folds in a write of its own), so that every read sees every
  write acknowledged before it began, through the per-metric tables as before; when that
  write fails (a full disk), the read takes the raw samples and the staged rows together
  (``WITH_STAGED``) instead of the roll-ups, so reads still answer whole;
- when a store closes (a file left so holds nothing staged, which matters to an earlier
  version of the gateway opening it), and when it opens (what a killed process left).

A fold is one statement per table inside a write transaction: it happens entirely or not
at all, and staged rows are as durable as any (they were committed before their request
was answered).  Roll-up sums are added per group by SQLite in an order of its own, which
may differ from a sum over the raw rows in the last bits only, as ``metric_rollups`` says.
"""

from __future__ import annotations

import sqlite3

from cfn_gateway.backends.sqlite import metric_rollups

#: Staged rows that make the write leaving them fold them (about 50 requests of 1000
#: metrics; a fold of that many takes on the order of 100 ms, paid by one batch of writes
#: and spared by the other 49).
FOLD_ROWS = 50_000

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
               f"SELECT {COLUMNS} FROM {TABLE} ORDER BY metric_id, ts")
_ANY = f"SELECT EXISTS (SELECT 1 FROM {TABLE})"
_COUNT = f"SELECT max(rowid) FROM {TABLE}"
_EMPTY = f"DELETE FROM {TABLE}"


def has_staged(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute(_ANY).fetchone()[0])


def staged_rows(conn: sqlite3.Connection) -> int:
    """How many rows are staged (the largest rowid: the table is emptied whole)."""
    return conn.execute(_COUNT).fetchone()[0] or 0


def fold(conn: sqlite3.Connection, rollups: bool) -> int:
    """Move every staged row into ``metric_samples`` (and the roll-ups when ``rollups``),
    inside the caller's write transaction; how many moved."""
    moved = conn.execute(_TO_SAMPLES).rowcount
    if moved:
        if rollups:
            metric_rollups.add_staged(conn, TABLE)
        conn.execute(_EMPTY)
    return moved


def fold_if_full(conn: sqlite3.Connection, rollups: bool) -> int:
    """``fold`` when ``FOLD_ROWS`` or more rows are staged; how many moved."""
    return fold(conn, rollups) if staged_rows(conn) >= FOLD_ROWS else 0
