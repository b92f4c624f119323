"""What the minute and hour roll-ups of the standalone metric store buy on reads and cost on writes.

Run on demand (it is not a test), from the repository root::

    .venv/bin/python bench/rollups.py                  # about a minute
    .venv/bin/python bench/rollups.py --points 20000 --rounds 5 --json out.json

Everything happens in this process on SQLite files in a temporary folder on the disk (not
tmpfs: ``synchronous=FULL`` fsyncs every commit, as the gateway does).

1. **Reads.**  One store gets ``--points`` datapoints of one metric spread over one day
   (high-resolution time stamps, so about 70 samples a minute), interleaved with
   ``--noise-metrics`` other metrics of ``--noise-points`` points each, put in requests of
   1000 datums.  Then, ``--rounds`` times, alternately: ``aggregate`` for Period 60 over the
   day (1,440 buckets) the way the store read before roll-ups (``metric_samples``, one
   ``GROUP BY``) and from the roll-ups; the same for Period 3600 (24 buckets).  A second
   metric with one point per minute over ``--long-days`` days is read at Period 3600 over
   60 days (1,440 buckets): from a whole hour (the hour roll-ups serve it) and from 7
   minutes past (the minute roll-ups do).
   An alarm's window (5 minutes at Period 60) shows what small reads pay.  The day at
   Period 60 is also timed as SQL alone (without building the 1,440 ``BucketStats``).  Answers are
   checked equal.  A copy of the store whose roll-up tables have rowids (the primary key
   then being a separate index) is read too.
2. **Ingest.**  Three fresh stores side by side: without roll-ups (what the store did
   before), with roll-ups (``WITHOUT ROWID`` tables), with roll-ups in rowid tables.  Each
   round puts, in rotating order, ``--single-puts`` requests of 1 datum into each store,
   then ``--batch-puts`` requests of 1000 datums of two shapes: 1000 datums falling into
   1000 different (metric, minute) groups (100 metrics x 10 minutes: one upsert per datum,
   the worst case) and 1000 datums falling into 10 groups (10 metrics, one minute).

Medians over every call; the spread is the 10th to 90th percentile.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cfn_gateway.backends.sqlite import metric_rollups
from cfn_gateway.backends.sqlite import metrics as metrics_module
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, MetricKey
from cfn_gateway.domain.periods import to_millis

PROJECT = "bench"
DAY = datetime(2026, 11, 1, tzinfo=UTC)
MAIN = MetricKey.of("Bench", "Latency", [("Host", "main")])
LONG = MetricKey.of("Bench", "Latency", [("Host", "long")])
BATCH = 1000

_ROWID_TABLE = metric_rollups.CREATE_TABLE.replace(" WITHOUT ROWID", "")


class RawStore(SQLiteMetricStore):
    """The store as it was before roll-ups: samples only, reads grouped from them."""

    keeps_rollups = False


def rowid_store(path: Path) -> SQLiteMetricStore:
    """A store whose roll-up tables have rowids (created before the store opens, so the
    store keeps them)."""
    SQLiteMetricStore(str(path)).close()
    conn = sqlite3.connect(path)
    for level in metric_rollups.LEVELS:
        conn.execute(f"DROP TABLE {level.table}")
        conn.execute(_ROWID_TABLE.format(table=level.table, slot=level.slot))
    conn.commit()
    conn.close()
    return SQLiteMetricStore(str(path))


def datum(key: MetricKey, at: datetime, value: float, resolution: int = 1) -> Datum:
    return Datum(key, at, "Milliseconds", resolution, (stats.single(value),))


def fill(stores: Sequence[SQLiteMetricStore], args: argparse.Namespace) -> None:
    rng = random.Random(1)
    day_ms = 86_400_000
    data = [datum(MAIN, DAY + timedelta(milliseconds=rng.randrange(day_ms) // 1000 * 1000),
                  rng.lognormvariate(3, 1)) for _ in range(args.points)]
    for n in range(args.noise_metrics):
        key = MetricKey.of("Bench", "Noise", [("Host", f"n{n}")])
        data += [datum(key, DAY + timedelta(seconds=rng.randrange(86_400)), rng.random())
                 for _ in range(args.noise_points)]
    data.sort(key=lambda d: d.timestamp)  # arrival order: the metrics interleave
    minutes = args.long_days * 1440
    start = DAY - timedelta(days=args.long_days - 1)
    data += [datum(LONG, start + timedelta(minutes=m), float(m % 97), 60)
             for m in range(minutes)]
    for store in stores:
        for i in range(0, len(data), BATCH):
            store.put(PROJECT, data[i:i + BATCH], DAY)
        store.fold_staged()  # not left to the first timed read


def timed(function: Callable[..., object], *args: object) -> tuple[float, object]:
    began = time.perf_counter()
    result = function(*args)
    return (time.perf_counter() - began) * 1000, result


def summary(samples: list[float]) -> dict[str, float]:
    deciles = (statistics.quantiles(samples, n=10, method="inclusive") if len(samples) > 1
               else samples * 9)
    return {"median_ms": statistics.median(samples), "p10_ms": deciles[0],
            "p90_ms": deciles[-1], "calls": len(samples)}


def bench_reads(folder: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    path, rowid_path = folder / "reads.sqlite3", folder / "reads-rowid.sqlite3"
    store, rowid = SQLiteMetricStore(str(path)), rowid_store(rowid_path)
    began = time.perf_counter()
    fill([store, rowid], args)
    print(f"filled two read stores in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    raw = RawStore(str(path))
    long_start = DAY - timedelta(days=args.long_days - 1)
    reads = {
        "day, Period 60": (MAIN, DAY, DAY + timedelta(days=1), 60),
        "day, Period 3600": (MAIN, DAY, DAY + timedelta(days=1), 3600),
        "60 days, Period 3600": (LONG, long_start, long_start + timedelta(days=60), 3600),
        "60 days, Period 3600, start at :07": (
            LONG, long_start + timedelta(minutes=7), long_start + timedelta(days=60), 3600),
        "alarm window, 5 min, Period 60": (MAIN, DAY + timedelta(hours=12),
                                           DAY + timedelta(hours=12, minutes=5), 60),
    }
    candidates = {"raw samples": raw, "roll-ups": store, "roll-ups, rowid table": rowid}
    times: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, (key, start, end, period) in reads.items():
            answers = []
            for label, candidate in candidates.items():
                took, answer = timed(candidate.aggregate, PROJECT, key, start, end, period)
                times.setdefault(f"{name}: {label}", []).append(took)
                answers.append(answer)
            assert all(_close(a, answers[0]) for a in answers), name
        for label, query in (("raw samples", _raw_sql), ("roll-ups", _rollup_sql)):
            took, _ = timed(query, store, MAIN, DAY, DAY + timedelta(days=1), 60)
            times.setdefault(f"day, Period 60, SQL alone: {label}", []).append(took)
    for opened in (raw, store, rowid):
        opened.close()
    return {name: summary(samples) for name, samples in times.items()}


def _raw_sql(store: SQLiteMetricStore, key: MetricKey, start: datetime, end: datetime,
             period: int) -> list:
    """The raw ``GROUP BY`` alone: ``aggregate`` without its Python side."""
    metric_id = store._metric_id(PROJECT, key)
    return store._conn.execute(metrics_module._AGGREGATE.format(unit_clause=""), {
        "metric_id": metric_id, "start": to_millis(start), "end": to_millis(end),
        "period": period * 1000, "unit": None}).fetchall()


def _rollup_sql(store: SQLiteMetricStore, key: MetricKey, start: datetime, end: datetime,
                period: int) -> list:
    """The roll-up query alone."""
    metric_id = store._metric_id(PROJECT, key)
    plan = metric_rollups.read_plan(metric_id, to_millis(start), to_millis(end),
                                    period * 1000, None)
    assert plan is not None
    return store._conn.execute(*plan).fetchall()


def _close(found: list, expected: list) -> bool:
    return len(found) == len(expected) and all(
        (f.start, f.unit, f.stats.sample_count, f.stats.minimum, f.stats.maximum)
        == (e.start, e.unit, e.stats.sample_count, e.stats.minimum, e.stats.maximum)
        and abs(f.stats.sum - e.stats.sum) <= 1e-12 * abs(e.stats.sum)
        for f, e in zip(found, expected, strict=True))


def bench_ingest(folder: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    stores = {
        "no roll-ups": RawStore(str(folder / "ingest-raw.sqlite3")),
        "roll-ups": SQLiteMetricStore(str(folder / "ingest-rollups.sqlite3")),
        "roll-ups, rowid table": rowid_store(folder / "ingest-rowid.sqlite3"),
    }
    rng = random.Random(2)
    at = DAY + timedelta(hours=12)
    spread = [datum(MetricKey.of("Bench", "Put", [("Host", f"h{i % 100}")]),
                    at + timedelta(minutes=i // 100), rng.random(), 60)
              for i in range(BATCH)]
    dense = [datum(MetricKey.of("Bench", "Put", [("Host", f"h{i % 10}")]),
                   at + timedelta(seconds=i % 60), rng.random()) for i in range(BATCH)]
    single = [datum(MetricKey.of("Bench", "Put", [("Host", "h0")]), at, 1.0, 60)]
    for store in stores.values():  # the metrics exist before anything is timed
        store.put(PROJECT, spread, DAY)
    shapes = {f"1 datum ({args.single_puts} requests a round)": (single, args.single_puts),
              "1000 datums, 1000 groups": (spread, args.batch_puts),
              "1000 datums, 10 groups": (dense, args.batch_puts)}
    times: dict[str, list[float]] = {}
    names = list(stores)
    for round_ in range(args.rounds):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for shape, (data, count) in shapes.items():
            for name in order:
                for _ in range(count):
                    took, _ = timed(stores[name].put, PROJECT, data, DAY)
                    times.setdefault(f"{shape}: {name}", []).append(took)
    sizes = {}
    for store in stores.values():
        store.close()
    for path in folder.glob("ingest-*.sqlite3"):
        sizes[path.name] = path.stat().st_size
    print(f"ingest store sizes: {sizes}", file=sys.stderr)
    return {name: summary(samples) for name, samples in times.items()}


def report(title: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    width = max(len(name) for name in results)
    print(f"{'':{width}}  median ms   p10 ms   p90 ms  calls")
    for name, row in results.items():
        print(f"{name:{width}}  {row['median_ms']:9.2f} {row['p10_ms']:8.2f} "
              f"{row['p90_ms']:8.2f}  {row['calls']:5d}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--noise-metrics", type=int, default=50)
    parser.add_argument("--noise-points", type=int, default=2000)
    parser.add_argument("--long-days", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--single-puts", type=int, default=20)
    parser.add_argument("--batch-puts", type=int, default=2)
    parser.add_argument("--dir", default=None, help="parent of the temporary folder")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rollups-", dir=args.dir) as tmp:
        folder = Path(tmp)
        reads = bench_reads(folder, args)
        report(f"aggregate (ms; {args.rounds} rounds, candidates alternating)", reads)
        ingest = bench_ingest(folder, args)
        report(f"put (ms; {args.rounds} rounds, stores in rotating order)", ingest)
    print(f"\nsqlite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"reads": reads, "ingest": ingest}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
