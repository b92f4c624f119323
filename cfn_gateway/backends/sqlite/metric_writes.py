"""The write of one PutMetricData into the embedded metric store's tables: metric rows and
their ids, sample rows, roll-ups (``metrics.SQLiteMetricStore.put`` runs it).

Split in two so that the write lock is held only for SQL:

- ``prepare`` (no lock, no SQL) turns the data into ``metric_samples`` rows, taking metric
  ids from the store's cache of ids (``Ids``); a row of a metric not in it waits for its
  id, and metrics whose ``last_put`` the cache says is stale are listed;
- ``write`` (inside the write transaction) resolves the missing ids, a hundred metrics per
  ``INSERT ... ON CONFLICT ... RETURNING`` (the row of each metric, new or not, with its
  ``last_put`` moved forward), inserts their ``metric_dimensions`` rows with one
  ``executemany``, moves the stale ``last_put`` forward and stages the samples with one
  ``executemany`` (``metric_staging``: they reach ``metric_samples`` and the roll-ups at
  the next fold, which the store runs when a write leaves enough rows staged);
  ``write_all`` does the same for the batches of several requests at once, with one
  statement per table for them all.

The cache may only learn ids after the transaction that holds them has committed: a
rolled-back metric row must never be remembered (``remember``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from cfn_gateway.backends.sqlite import metric_rollups, metric_staging
from cfn_gateway.domain.metrics import Datum, MetricKey
from cfn_gateway.domain.periods import to_millis

#: ``last_put`` is rewritten at most this often per metric (ListMetrics' windows are hours
#: or weeks; AWS itself says its RecentlyActive result may be 50 minutes off).
LAST_PUT_SLACK_MS = 60_000
#: (project, metric) entries the cache of ids holds at most (cleared when full).
KNOWN_METRICS_MAX = 100_000

#: (project, metric) -> (metric id, the last_put this process wrote).  Metric rows are
#: never deleted, so an id, once committed, stays valid.
Ids = dict[tuple[str, MetricKey], tuple[int, int]]

#: Metrics per ``INSERT ... RETURNING``, largest first (a few statement shapes only, each
#: prepared once; 5 parameters a metric stays below every build's variable limit).
_CHUNKS = (100, 10, 1)

_UPSERT_METRICS = """
INSERT INTO metrics (project_id, namespace, name, dimensions, last_put)
VALUES {values}
ON CONFLICT (project_id, namespace, name, dimensions)
DO UPDATE SET last_put = max(last_put, excluded.last_put)
RETURNING id, namespace, name, dimensions
"""
_UPSERTS = {size: _UPSERT_METRICS.format(values=", ".join(["(?, ?, ?, ?, ?)"] * size))
            for size in _CHUNKS}
_INSERT_DIMENSIONS = ("INSERT OR IGNORE INTO metric_dimensions (metric_id, name, value) "
                      "VALUES (?, ?, ?)")
_TOUCH = "UPDATE metrics SET last_put = max(last_put, ?) WHERE id = ?"


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_dimensions(key: MetricKey) -> str:
    """The canonical text of a metric's dimensions (``metrics.dimensions``)."""
    return _JSON.encode([list(d) for d in key.dimensions])


@dataclass
class Batch:
    """One request's rows, ready to write."""

    last_put: int
    #: Sample rows; those of ``waiting`` metrics hold 0 for their id so far.
    rows: list[metric_rollups.Row] = field(default_factory=list)
    #: Metrics without a cached id -> the positions of their rows.
    waiting: dict[MetricKey, list[int]] = field(default_factory=dict)
    #: Cached ids whose ``last_put`` is to move forward -> their metric.
    stale: dict[int, MetricKey] = field(default_factory=dict)


def prepare(project_id: str, data: Sequence[Datum], last_put: int, known: Ids) -> Batch:
    """``data`` as rows, with the ids ``known`` has (read without a lock: reads of a dict
    are atomic, and a missing id is only looked up again)."""
    batch = Batch(last_put)
    rows, waiting, stale = batch.rows, batch.waiting, batch.stale
    due = last_put - LAST_PUT_SLACK_MS
    moment, ts = None, 0
    for datum in data:
        if datum.timestamp is not moment:  # the data of one request mostly share one
            moment, ts = datum.timestamp, to_millis(datum.timestamp)
        found = known.get((project_id, datum.key))
        if found is None:
            metric_id = 0
            waiting.setdefault(datum.key, []).extend(
                range(len(rows), len(rows) + len(datum.samples)))
        else:
            metric_id = found[0]
            if found[1] < due:
                stale[metric_id] = datum.key
        unit = datum.unit
        for s in datum.samples:
            rows.append((metric_id, ts, unit, s.sample_count, s.sum, s.minimum, s.maximum))
    return batch


def write(conn: sqlite3.Connection, project_id: str, batch: Batch) -> dict[MetricKey, int]:
    """Write ``batch`` (inside the write transaction); the ids of its ``waiting`` metrics."""
    return write_all(conn, [(project_id, batch)])[0]


def write_all(conn: sqlite3.Connection, batches: Sequence[tuple[str, Batch]],
              ) -> list[dict[MetricKey, int]]:
    """Write the ``(project_id, batch)`` of several requests (inside the write transaction)
    with one statement per table for them all; each batch's new ids, in order."""
    new_ids = []
    rows: list[metric_rollups.Row] = []
    touched: list[tuple[int, int]] = []
    for project_id, batch in batches:
        ids = _metric_ids(conn, project_id, list(batch.waiting), batch.last_put)
        own = batch.rows
        for key, positions in batch.waiting.items():
            metric_id = ids[key]
            for i in positions:
                own[i] = (metric_id, *own[i][1:])
        touched.extend((batch.last_put, metric_id) for metric_id in batch.stale)
        rows.extend(own)
        new_ids.append(ids)
    if touched:
        conn.executemany(_TOUCH, touched)
    conn.executemany(metric_staging.INSERT, rows)
    return new_ids


def remember(known: Ids, project_id: str, batch: Batch, ids: dict[MetricKey, int]) -> None:
    """After the commit (under the store's lock): the new ids, and the ``last_put`` moved."""
    if len(known) + len(ids) + len(batch.stale) > KNOWN_METRICS_MAX:
        known.clear()
    for key, metric_id in ids.items():
        known[(project_id, key)] = (metric_id, batch.last_put)
    for metric_id, key in batch.stale.items():
        known[(project_id, key)] = (metric_id, batch.last_put)


def _metric_ids(conn: sqlite3.Connection, project_id: str, keys: list[MetricKey],
                last_put: int) -> dict[MetricKey, int]:
    """Upsert the metric rows of ``keys`` (and their dimension rows); their ids."""
    if not keys:
        return {}
    texts = {(key.namespace, key.name, encode_dimensions(key)): key for key in keys}
    params = [(project_id, *text, last_put) for text in texts]
    ids: dict[MetricKey, int] = {}
    start = 0
    for size in _CHUNKS:
        while len(params) - start >= size:
            flat = [value for row in params[start:start + size] for value in row]
            for metric_id, *text in conn.execute(_UPSERTS[size], flat):
                ids[texts[tuple(text)]] = metric_id
            start += size
    conn.executemany(_INSERT_DIMENSIONS, [
        (ids[key], name, value) for key in keys for name, value in key.dimensions])
    return ids
