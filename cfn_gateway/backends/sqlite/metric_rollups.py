"""Per-minute and per-hour roll-ups of the embedded metric store, kept at ingest, read by
``aggregate``.

``metric_minutes`` holds, per (metric, minute, unit), the merged statistic set of every
``metric_samples`` row of that minute (``minute`` is ``floor(ts / 60000)``, minutes since
the epoch); ``metric_hours`` the same per hour.  Rows reach them when staged samples are
folded (``metric_staging``): ``add_staged`` merges the staged rows per (metric, slot,
unit) and upserts each group once per level, adding counts and sums and keeping the
smaller minimum and the larger maximum, in the transaction that moves those rows into
``metric_samples``.  Merging sets is exact for SampleCount, Minimum and Maximum; sums may
differ from a sum over the raw rows in the last bits only, as floating-point additions
done in another order do (integer and dyadic values add exactly either way).

A read whose period is a multiple of a level's span (60 s, 3600 s) and whose start is on a
whole span of it reads its whole buckets from that level (bucket ``(slot - start_slot) /
period_slots``), the coarsest that fits, with one ``GROUP BY`` straight on its table (none
when the period is the span: each row is a bucket); a last, partial bucket (an end that is
not ``start + k * period``) comes from that level, then the finer ones, then the raw rows
of its last, partial minute.  Periods under a minute, starts off the minute and the sample
sets of percentiles read ``metric_samples`` directly.  Hours serve only starts on a whole
hour (with Period 3600 from 10:07, no hour lies within one bucket).

A store file made before a roll-up table existed gets it at open, filled from the samples
it already holds, in the same write transaction that creates it (so concurrent openers of
an old file fill it exactly once).
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    """One roll-up table: rows of ``span_ms`` each, numbered by ``slot`` since the epoch."""

    table: str
    slot: str
    span_ms: int


MINUTES = Level("metric_minutes", "minute", 60_000)
HOURS = Level("metric_hours", "hour", 3_600_000)
#: Finest first; each span is a multiple of the one before.
LEVELS = (MINUTES, HOURS)

#: One ``metric_samples`` row as ``put`` writes it, and one roll-up row:
#: (metric_id, ts or slot, unit, sample_count, sum, minimum, maximum).
Row = tuple[int, int, str, float, float, float, float]

_COLUMNS = "metric_id, {slot}, unit, sample_count, sum, minimum, maximum"

CREATE_TABLE = """
CREATE TABLE {table} (
    metric_id INTEGER NOT NULL REFERENCES metrics (id),
    {slot} INTEGER NOT NULL,
    unit TEXT NOT NULL,
    sample_count REAL NOT NULL,
    sum REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL,
    PRIMARY KEY (metric_id, {slot}, unit)
) WITHOUT ROWID
"""

# The finest level from the samples, each coarser one from the level before (far fewer
# rows).  ``ts`` (or the finer slot) is rounded down, not towards zero, so that the SQL and
# ``slot_of`` agree on every time stamp; the division is then exact.
_FILL = """
INSERT INTO {table} ({columns})
SELECT metric_id, ({source} - (({source} % {ratio}) + {ratio}) % {ratio}) / {ratio} AS slot,
       unit, SUM(sample_count), SUM(sum), MIN(minimum), MAX(maximum)
FROM {source_table}
GROUP BY metric_id, slot, unit
"""

# The same, added to a level's rows already there: counts and sums added, the smaller
# minimum and the larger maximum kept.
_ADD = _FILL + """ON CONFLICT (metric_id, {slot}, unit) DO UPDATE SET
    sample_count = sample_count + excluded.sample_count,
    sum = sum + excluded.sum,
    minimum = min(minimum, excluded.minimum),
    maximum = max(maximum, excluded.maximum)
"""

# A fold's rows merged per minute once (a few rows per metric), which every level then
# takes its groups from (a temporary table: each connection has its own).
_STAGED_MINUTES = "temp.staged_minutes"
_CREATE_STAGED_MINUTES = f"""
CREATE TABLE IF NOT EXISTS {_STAGED_MINUTES} (
    metric_id INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    unit TEXT NOT NULL,
    sample_count REAL NOT NULL,
    sum REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL
)
"""

# A level's rows in [:low_{n}, :high_{n}), by bucket; ``{select}`` is either the row's own
# statistics (each row a bucket of its own) or their aggregates (``{group}``: GROUP BY).
_PART = """
    SELECT ({slot} - :start_{n}) / :period_{n} AS bucket, unit, {select}
    FROM {table}
    WHERE metric_id = :metric_id AND {slot} >= :{prefix}low_{n} AND {slot} < :{prefix}high_{n}
          {unit_clause} {group}
"""

_TAIL = """
    SELECT (ts - :start) / :period AS bucket, unit, sample_count, sum, minimum, maximum
    FROM metric_samples
    WHERE metric_id = :metric_id AND ts >= :tail_start AND ts < :end {unit_clause}
"""

_ROW = "sample_count, sum, minimum, maximum"
_AGGREGATES = "SUM(sample_count), SUM(sum), MIN(minimum), MAX(maximum)"
_GROUP = "GROUP BY bucket, unit"

_UNIT_CLAUSE = "AND unit = :unit"


def _columns(level: Level) -> str:
    return _COLUMNS.format(slot=level.slot)


def slot_of(ts: int, level: Level = MINUTES) -> int:
    """The slot of ``level`` (minutes or hours since the epoch) of a time stamp in ms."""
    return ts // level.span_ms


def ensure_tables(conn: sqlite3.Connection) -> list[str]:
    """Create and fill the roll-up tables the file lacks (inside a write transaction on
    ``conn``); the tables it created."""
    have = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                           "'table'")}
    created = []
    source, source_table, span = "ts", "metric_samples", 1
    for level in LEVELS:
        if level.table not in have:
            conn.execute(CREATE_TABLE.format(table=level.table, slot=level.slot))
            conn.execute(_FILL.format(table=level.table, columns=_columns(level),
                                      source=source, source_table=source_table,
                                      ratio=level.span_ms // span))
            created.append(level.table)
        source, source_table, span = level.slot, level.table, level.span_ms
    return created


def present(conn: sqlite3.Connection) -> bool:
    """Whether the file has the roll-up tables."""
    names = [level.table for level in LEVELS]
    found = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name "
                         f"IN ({', '.join('?' * len(names))})", names).fetchone()[0]
    return found == len(names)


def add_staged(conn: sqlite3.Connection, staged: str) -> None:
    """Add every row of ``staged`` (a table, or a parenthesised ``SELECT``, of
    ``metric_samples``' columns) to each level (inside the caller's write transaction):
    the rows merged per minute once, then one grouped upsert per level from them."""
    conn.execute(_CREATE_STAGED_MINUTES)
    conn.execute(f"DELETE FROM {_STAGED_MINUTES}")
    conn.execute(_FILL.format(table=_STAGED_MINUTES, columns=_columns(MINUTES), source="ts",
                              source_table=staged, ratio=MINUTES.span_ms))
    for level in LEVELS:
        conn.execute(_ADD.format(table=level.table, columns=_columns(level),
                                 slot=level.slot, source=MINUTES.slot,
                                 source_table=_STAGED_MINUTES,
                                 ratio=level.span_ms // MINUTES.span_ms))
    conn.execute(f"DELETE FROM {_STAGED_MINUTES}")


@functools.cache
def _read_sql(coarsest: int, by_unit: bool, one_slot_per_bucket: bool) -> str:
    unit_clause = _UNIT_CLAUSE if by_unit else ""
    level = LEVELS[coarsest]
    bulk = _PART.format(n=coarsest, slot=level.slot, table=level.table, prefix="",
                        unit_clause=unit_clause,
                        select=_ROW if one_slot_per_bucket else _AGGREGATES,
                        group="" if one_slot_per_bucket else _GROUP)
    rest = [_PART.format(n=n, slot=level.slot, table=level.table, prefix="rest_",
                         unit_clause=unit_clause, select=_ROW, group="")
            for n, level in reversed(list(enumerate(LEVELS[:coarsest + 1])))]
    rest.append(_TAIL.format(unit_clause=unit_clause))
    return (bulk + "UNION ALL\n"
            f"SELECT bucket, unit, {_AGGREGATES}\nFROM (" + "UNION ALL".join(rest) + ")\n"
            + _GROUP)


def read_plan(metric_id: int, start_ms: int, end_ms: int, period_ms: int,
              unit: str | None) -> tuple[str, dict[str, object]] | None:
    """The SQL and parameters that aggregate ``[start_ms, end_ms)`` by ``period_ms`` from
    the roll-ups (rows as the raw ``GROUP BY`` gives them, in no particular order), or None
    when no level fits.

    The whole buckets come from the coarsest level that fits, grouped straight from its
    table (or, when the period is that level's span, one row per bucket as stored); the
    last, partial bucket, if any, from that level, the finer ones and the raw rows of its
    last partial minute, each reading from where the coarser one stopped.
    """
    fitting = [n for n, level in enumerate(LEVELS)
               if period_ms % level.span_ms == 0 and start_ms % level.span_ms == 0]
    if not fitting:
        return None
    coarsest = fitting[-1]
    span = LEVELS[coarsest].span_ms
    whole = start_ms + max(0, (end_ms - start_ms) // period_ms) * period_ms
    params: dict[str, object] = {"metric_id": metric_id, "unit": unit, "start": start_ms,
                                 "end": end_ms, "period": period_ms,
                                 f"low_{coarsest}": start_ms // span,
                                 f"high_{coarsest}": whole // span}
    low = whole
    for n in range(coarsest, -1, -1):
        span = LEVELS[n].span_ms
        high = end_ms // span
        params.update({f"start_{n}": start_ms // span, f"period_{n}": period_ms // span,
                       f"rest_low_{n}": low // span, f"rest_high_{n}": high})
        low = max(low, high * span)
    params["tail_start"] = low
    return _read_sql(coarsest, unit is not None,
                     period_ms == LEVELS[coarsest].span_ms), params


def aggregate_rows(conn: sqlite3.Connection, metric_id: int, start_ms: int, end_ms: int,
                   period_ms: int, unit: str | None) -> list[tuple] | None:
    """The rows (bucket, unit, count, sum, min, max) of ``read_plan``, ordered by bucket
    and unit; None when no level fits."""
    plan = read_plan(metric_id, start_ms, end_ms, period_ms, unit)
    if plan is None:
        return None
    rows = conn.execute(*plan).fetchall()
    rows.sort()  # (bucket, unit) is unique; str order is SQLite's BINARY order of UTF-8
    return rows
