"""The alarms issue's two targets, each measured beside moto_server in the same run.

Run on demand (it is not a test)::

    .venv/bin/pip install 'moto[server]'      # once per machine; not a project dependency
    .venv/bin/python bench/alarms.py          # 10,000 alarms, about 2 minutes
    .venv/bin/python bench/alarms.py --alarms 2000 --passes 4 --calls 100 --skip-moto

Both servers get the same ``--alarms`` threshold alarms (``bench-00000`` ...; Period 60,
EvaluationPeriods 3, Average > 50, each on its own metric ``Bench/Alarms Load
Alarm=<n>``) and the same datapoints (one per metric and minute, 60 on even alarms and 40
on odd ones, so half go to ALARM and half to OK and stay there), all through boto3 (JSON
1.0 protocol, SigV4) from a pool of ``--threads`` threads; PutMetricData in batches of
1000 datums.  The gateway is a real ``cfn-gateway serve`` (``--workers``, its own data
folder and credential) whose config file turns its own engine off (``[alarms]
engine_in_serve = false``) and raises the per-project quota (5000 by default, as on AWS)
to ``--alarms``.  moto is ``moto_server``, in memory.

1. **Engine**: ``--passes`` runs of ``cfn-gateway engine --once --now T`` on the gateway's
   data folder, ``T`` 60 s apart so that every alarm is due again, each pass's CPU
   (user + sys of the engine process, from ``wait4``) and wall time; then one more run at
   the last ``T``, when nothing is due: the cost of the process itself.  The first pass
   moves every alarm out of INSUFFICIENT_DATA (one state write each); the later ones
   change nothing.  Target: 10,000 alarms a minute within 10% of one core, that is at
   most 6 CPU seconds per pass of 10,000.  Then (``--no-breakdown`` skips it) the same
   two kinds of pass in this process, on a copy of the data folder taken before pass 1,
   with the store calls timed, to show where a pass spends its time.  moto never
   evaluates alarms: its side of this target is only the time to create them.
2. **DescribeAlarms**: ``--calls`` calls each, one after the other on one keep-alive
   boto3 client: the first page of ``MaxRecords=100``, a page from the middle (its
   NextToken found by paging there), ``AlarmNamePrefix`` queries matching 100 alarms
   each, and once all alarms page by page.  Client latency (the boto3 call) and HTTP
   time (request sent to response read, before boto3 parses it) are reported.  Target: a
   page of 100 under 10 ms on the gateway.  moto ignores MaxRecords and NextToken and
   answers every call with every matching alarm, so its calls without a prefix are
   bounded by ``--moto-budget`` seconds per scenario.  With the breakdown, the gateway's
   own steps for a first page are also timed in this process: the store's query, the
   handler's conversion, the JSON rendering.

Every process this starts is stopped by its pid at the end, even after an error.  Results
and their reading: README.md in this folder.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import gc
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from procstats import cpu_used, tree_cpu
from servers import BIN_DIR, Candidate, RunningServer, free_port, http_get
from wsgi_servers import cfn_gateway_command, create_credentials, table

REGION = "us-east-1"
NAMESPACE = "Bench/Alarms"
METRIC = "Load"
DIMENSION = "Alarm"
THRESHOLD = 50.0
PERIOD = 60
EVALUATION_PERIODS = 3
#: Slots an evaluation at T fetches (the engine's ``range_size``: N + 2).
WINDOW_PERIODS = EVALUATION_PERIODS + 2
PAGE = 100
BATCH = 1000
TARGET_CPU_PER_PASS_S = 6.0
"""10% of one core over the minute in which 10,000 alarms are due."""
TARGET_PAGE_MS = 10.0
ENGINE_TIMEOUT_S = 600.0
PASS_LINE = re.compile(r"engine pass at \S+: (\d+) alarms evaluated, (\d+) actions run")


# --- machine and servers ------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="ascii",
                                            errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gib = 0.0
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as f:
        memory_gib = int(f.readline().split()[1]) / 1024 / 1024

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu_model": model,
        "tmp_filesystem": filesystem(Path(tempfile.gettempdir())),
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory_gib, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "boto3": version("boto3"),
        "granian": version("granian"),
        "moto": version("moto"),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def filesystem(path: Path) -> str:
    """The type of the file system holding ``path`` (where the SQLite file lives)."""
    best, kind = "", "?"
    with contextlib.suppress(OSError), open("/proc/mounts", encoding="ascii",
                                            errors="replace") as f:
        for line in f:
            _, mount, fs_type, *_ = line.split()
            if str(path.resolve()).startswith(mount) and len(mount) > len(best):
                best, kind = mount, fs_type
    return kind


def gateway_candidate(config: Path, data_dir: Path) -> Candidate:
    def command(port: int, workers: int) -> list[str]:
        return [*cfn_gateway_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--config", str(config),
                "--data-dir", str(data_dir)]

    return Candidate("gateway", "cfn-gateway serve", "cfn-gateway", command)


@dataclass
class MotoServer:
    """``moto_server`` on 127.0.0.1 (one process, threaded, everything in memory)."""

    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        script = BIN_DIR / "moto_server"
        if not script.exists():
            raise RuntimeError(f"{script} not found: .venv/bin/pip install 'moto[server]' "
                               "(or run with --skip-moto)")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(script), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited {self.process.returncode}")
            with contextlib.suppress(OSError):
                http_get(self.port, "/", 1.0)  # any answer will do
                return
            time.sleep(0.1)
        raise RuntimeError(f"moto_server did not answer in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def protocol_models(root: Path, protocol: str) -> Path:
    """A copy of botocore's CloudWatch model that lists ``protocol`` only (botocore speaks
    the first protocol its model lists it can: RPC v2 CBOR by default)."""
    loader = botocore.session.Session().get_component("data_loader")
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    folder = root / "cloudwatch" / "2010-08-01"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    return root


class HttpClock:
    """Time from botocore's ``before-send`` to ``before-parse`` of the last call on this
    thread: the HTTP exchange, response body read, without boto3's parsing."""

    def __init__(self) -> None:
        self._local = threading.local()

    def sent(self, **_: Any) -> None:
        self._local.sent = time.perf_counter()

    def received(self, response_dict: dict[str, Any], **_: Any) -> None:
        self._local.http_s = time.perf_counter() - self._local.sent
        self._local.size = len(response_dict.get("body") or b"")

    @property
    def last(self) -> tuple[float, int]:
        return self._local.http_s, self._local.size


def client(endpoint: str, key: str, secret: str, models: Path, pool: int,
           clock: HttpClock | None = None) -> Any:
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(models))
    made = boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                      max_pool_connections=pool, tcp_keepalive=True))
    if clock is not None:
        made.meta.events.register("before-send.*", clock.sent)
        made.meta.events.register("before-parse.*", clock.received)
    return made


# --- the alarms and their data ------------------------------------------------------------


def alarm_name(i: int) -> str:
    return f"bench-{i:05d}"


def alarm_params(i: int) -> dict[str, Any]:
    return {
        "AlarmName": alarm_name(i),
        "Namespace": NAMESPACE,
        "MetricName": METRIC,
        "Dimensions": [{"Name": DIMENSION, "Value": f"{i:05d}"}],
        "Statistic": "Average",
        "Period": PERIOD,
        "EvaluationPeriods": EVALUATION_PERIODS,
        "Threshold": THRESHOLD,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmDescription": f"bench alarm {i} of the alarms benchmark",
    }


def datum_batches(alarms: int, minutes: list[dt.datetime]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for i in range(alarms):
        for minute in minutes:
            batch.append({
                "MetricName": METRIC,
                "Dimensions": [{"Name": DIMENSION, "Value": f"{i:05d}"}],
                "Timestamp": minute,
                "Value": 60.0 if i % 2 == 0 else 40.0,
            })
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


@dataclass
class Creation:
    server: str
    put_data_s: float
    put_data_calls: int
    put_alarms_s: float
    alarms: int
    alarm_p50_ms: float
    alarm_p99_ms: float
    server_cpu_s: float
    """CPU of the server's processes while the alarms were created."""

    @property
    def alarms_per_s(self) -> float:
        return self.alarms / self.put_alarms_s if self.put_alarms_s else 0.0


def create(name: str, cw: Any, pid: int, args: argparse.Namespace,
           minutes: list[dt.datetime]) -> Creation:
    started = time.perf_counter()
    calls = 0
    with ThreadPoolExecutor(args.threads) as pool:
        for _ in pool.map(lambda batch: cw.put_metric_data(Namespace=NAMESPACE,
                                                           MetricData=batch),
                          datum_batches(args.alarms, minutes)):
            calls += 1
    put_data_s = time.perf_counter() - started

    def put(i: int) -> float:
        began = time.perf_counter()
        cw.put_metric_alarm(**alarm_params(i))
        return time.perf_counter() - began

    before = tree_cpu(pid)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        latencies = list(pool.map(put, range(args.alarms)))
    put_alarms_s = time.perf_counter() - started
    used = cpu_used(before, tree_cpu(pid))
    stats = percentiles(latencies)
    result = Creation(name, put_data_s, calls, put_alarms_s, args.alarms, stats["p50_ms"],
                      stats["p99_ms"], used)
    print(f"{name}: {calls} PutMetricData in {put_data_s:.1f} s, {args.alarms} "
          f"PutMetricAlarm in {put_alarms_s:.1f} s ({result.alarms_per_s:.0f}/s, server "
          f"CPU {used:.1f} s)", flush=True)
    return result


# --- engine passes ------------------------------------------------------------------------


@dataclass
class EnginePass:
    label: str
    now: str
    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    evaluated: int
    max_rss_mib: float


def engine_pass(label: str, now: dt.datetime, data_dir: Path, config: Path) -> EnginePass:
    """``cfn-gateway engine --once --now`` as a child; its CPU from ``wait4``."""
    moment = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    command = [*cfn_gateway_command(), "engine", "--once", "--now", moment,
               "--data-dir", str(data_dir), "--config", str(config)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    watchdog = threading.Timer(ENGINE_TIMEOUT_S, lambda: _kill(process.pid))
    watchdog.start()
    try:
        assert process.stdout is not None
        output = process.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        watchdog.cancel()
        if process.returncode is None:
            _kill(process.pid)
            process.wait()
    found = PASS_LINE.search(output)
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"engine pass {label} failed ({process.returncode}):\n"
                           f"{output[-3000:]}")
    result = EnginePass(label, moment, wall, usage.ru_utime + usage.ru_stime, usage.ru_utime,
                        usage.ru_stime, int(found.group(1)), usage.ru_maxrss / 1024)
    print(f"engine {label} at {moment}: {result.evaluated} evaluated, {wall:.2f} s wall, "
          f"{result.cpu_s:.2f} s CPU (user {result.user_s:.2f}, sys {result.sys_s:.2f})",
          flush=True)
    return result


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def states(store: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        return dict(conn.execute(
            "SELECT state_value, count(*) FROM alarms GROUP BY state_value").fetchall())


def backup(source: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(source)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


# --- where a pass spends its time (in this process) ---------------------------------------


@dataclass
class Timer:
    calls: int = 0
    seconds: float = 0.0


def breakdown(store: Path, moments: list[dt.datetime]) -> list[dict[str, Any]]:
    """Passes of the real evaluator on ``store`` (a copy), its store calls timed."""
    from cfn_gateway.backends.sqlite.alarms import SQLiteAlarmStore
    from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
    from cfn_gateway.domain import alarm_evaluation, alarm_history
    from cfn_gateway.domain.alarm_inputs import WATCH_DIMENSION
    from cfn_gateway.engine import evaluator as evaluator_module

    alarms = SQLiteAlarmStore(str(store))
    metrics = SQLiteMetricStore(str(store))
    evaluator = evaluator_module.AlarmEvaluator(alarms, metrics, REGION)
    timers: dict[str, Timer] = {}

    def timed(key: str, function: Callable[..., Any],
              pick: Callable[..., str] | None = None) -> Callable[..., Any]:
        def wrapper(*a: Any, **kw: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*a, **kw)
            finally:
                timer = timers.setdefault(pick(*a, **kw) if pick else key, Timer())
                timer.calls += 1
                timer.seconds += time.perf_counter() - began
        return wrapper

    def aggregate_kind(project: str, key: Any, *_: Any, **__: Any) -> str:
        watch = any(name == WATCH_DIMENSION for name, _ in key.dimensions)
        return ("metrics.aggregate, an AlarmName= watch metric" if watch
                else "metrics.aggregate, the alarm's metric")

    alarms.claim_due = timed("alarms.claim_due (SQL + decoding rows)",  # type: ignore
                             alarms.claim_due)
    alarms.set_state = timed("alarms.set_state (one transaction each)",  # type: ignore
                             alarms.set_state)
    alarms.parents_of = timed("alarms.parents_of (composites naming it)",  # type: ignore
                              alarms.parents_of)
    metrics.aggregate = timed("", metrics.aggregate, aggregate_kind)  # type: ignore
    patched = [(alarm_evaluation, "datapoints"), (alarm_evaluation, "evaluate"),
               (alarm_history, "state_change")]
    originals = [getattr(module, attr) for module, attr in patched]
    labels = ["alarm_evaluation.datapoints", "alarm_evaluation.evaluate (decision, reason)",
              "alarm_history.state_change (history item)"]
    results = []
    try:
        for (module, attr), original, label in zip(patched, originals, labels, strict=True):
            setattr(module, attr, timed(label, original))
        for moment in moments:
            timers.clear()
            cpu, began = time.process_time(), time.perf_counter()
            evaluated = evaluator.run(moment)
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            parts = {k: {"calls": t.calls, "seconds": round(t.seconds, 3)}
                     for k, t in sorted(timers.items(), key=lambda kv: -kv[1].seconds)}
            # alarm_history.state_change is called inside set_state's caller, not inside
            # set_state; nothing else here nests, so the rest is the evaluator's own work.
            rest = wall - sum(t.seconds for t in timers.values())
            parts["the rest (evaluator loop, fed_by keys, window)"] = {
                "calls": evaluated, "seconds": round(rest, 3)}
            results.append({"now": moment.isoformat(), "evaluated": evaluated,
                            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "parts": parts})
            print(f"breakdown at {moment:%H:%M}: {evaluated} evaluated in {wall:.2f} s "
                  f"({cpu:.2f} s CPU)", flush=True)
    finally:
        for (module, attr), original in zip(patched, originals, strict=True):
            setattr(module, attr, original)
        alarms.close()
        metrics.close()
    return results


def describe_breakdown(store: Path, calls: int) -> dict[str, Any]:
    """What a first page of DescribeAlarms costs in the gateway's own steps, in this
    process on ``store``: the store's query and row decoding, the handler's conversion to
    AWS's members, and the JSON 1.0 rendering.  Medians of ``calls`` runs each."""
    from cfn_gateway.api.cloudwatch.alarms import alarm_lists
    from cfn_gateway.backends.sqlite.alarms import SQLiteAlarmStore
    from cfn_gateway.context import CLOUDWATCH, JSON
    from cfn_gateway.domain import alarms as al
    from cfn_gateway.protocol import render_result
    from cfn_gateway.protocol.models import operation_model

    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        (project,) = conn.execute("SELECT project_id FROM alarms LIMIT 1").fetchone()
    alarms = SQLiteAlarmStore(str(store))
    op = operation_model(CLOUDWATCH, "DescribeAlarms", JSON)
    query = al.AlarmFilter(alarm_types=(al.METRIC_ALARM,))
    steps: dict[str, list[float]] = {"store.describe (SQL + rows to Alarm)": [],
                                     "handler: Alarm to AWS members": [],
                                     "render JSON 1.0": []}
    size = 0
    try:
        for _ in range(calls):
            began = time.perf_counter()
            page = alarms.describe(project, query, PAGE)
            converted = time.perf_counter()
            result = alarm_lists(project, alarms, page.items)
            rendered = time.perf_counter()
            reply = render_result(CLOUDWATCH, JSON, op, result, "bench")
            done = time.perf_counter()
            size = len(reply.body)
            for key, seconds in zip(steps, (converted - began, rendered - converted,
                                            done - rendered), strict=True):
                steps[key].append(seconds)
    finally:
        alarms.close()
    medians = {k: round(statistics.median(v) * 1e3, 3) for k, v in steps.items()}
    print(f"describe breakdown: {medians}", flush=True)
    return {"alarms": PAGE, "body_kib": round(size / 1024, 1), "median_ms": medians}


# --- DescribeAlarms -----------------------------------------------------------------------


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1e3

    return {"p50_ms": round(statistics.median(ordered) * 1e3, 2), "p90_ms": round(rank(90), 2),
            "p99_ms": round(rank(99), 2)}


@dataclass
class Latency:
    server: str
    scenario: str
    calls: int
    items: int
    """Alarms in one answer."""
    response_kib: float
    client: dict[str, float]
    http: dict[str, float]
    server_cpu_ms: float
    """Server CPU per call."""
    note: str = ""


def time_calls(server: str, scenario: str, call: Callable[[int], dict[str, Any]],
               clock: HttpClock, pid: int, calls: int, budget_s: float | None,
               note: str = "") -> Latency:
    for k in range(3):  # warm-up
        call(k)
    totals, https, items, size = [], [], 0, 0
    before = tree_cpu(pid)
    started = time.perf_counter()
    for k in range(calls):
        began = time.perf_counter()
        answer = call(k)
        totals.append(time.perf_counter() - began)
        http_s, size = clock.last
        https.append(http_s)
        items = len(answer.get("MetricAlarms", ()))
        if budget_s is not None and time.perf_counter() - started > budget_s:
            break
    used = cpu_used(before, tree_cpu(pid))
    result = Latency(server, scenario, len(totals), items, size / 1024, percentiles(totals),
                     percentiles(https), used / len(totals) * 1e3, note)
    print(f"{server} {scenario}: {result.calls} calls, {items} alarms each, client p50 "
          f"{result.client['p50_ms']} p99 {result.client['p99_ms']} ms", flush=True)
    return result


def describe_gateway(cw: Any, clock: HttpClock, pid: int, args: argparse.Namespace) -> list[
        Latency]:
    pages = max(1, args.alarms // PAGE)
    prefixes = max(1, args.alarms // 100)
    token, walked = None, 0
    while walked < pages // 2:
        token = cw.describe_alarms(MaxRecords=PAGE, **({"NextToken": token} if token else {}))[
            "NextToken"]
        walked += 1
    results = [
        time_calls("gateway", "first page", lambda _: cw.describe_alarms(MaxRecords=PAGE),
                   clock, pid, args.calls, None),
        time_calls("gateway", f"page {walked + 1} (NextToken)",
                   lambda _: cw.describe_alarms(MaxRecords=PAGE, NextToken=token or ""),
                   clock, pid, args.calls, None),
        time_calls("gateway", "AlarmNamePrefix (100 match)",
                   lambda k: cw.describe_alarms(MaxRecords=PAGE,
                                                AlarmNamePrefix=prefix_for(k, prefixes)),
                   clock, pid, args.calls, None),
    ]
    results.append(walk_all(cw, pid, args.alarms))
    return results


def prefix_for(k: int, prefixes: int) -> str:
    return f"bench-{(k * 37) % prefixes:03d}"


def walk_all(cw: Any, pid: int, alarms: int) -> Latency:
    before = tree_cpu(pid)
    started = time.perf_counter()
    seen, calls, token = 0, 0, None
    while True:
        answer = cw.describe_alarms(MaxRecords=PAGE, **({"NextToken": token} if token else {}))
        seen += len(answer["MetricAlarms"])
        calls += 1
        token = answer.get("NextToken")
        if not token:
            break
    elapsed = time.perf_counter() - started
    used = cpu_used(before, tree_cpu(pid))
    if seen != alarms:
        raise RuntimeError(f"paging found {seen} alarms, not {alarms}")
    total = {"p50_ms": round(elapsed * 1e3, 1), "p90_ms": 0.0, "p99_ms": 0.0}
    print(f"gateway all pages: {calls} pages, {seen} alarms in {elapsed:.2f} s", flush=True)
    return Latency("gateway", f"all {alarms} ({calls} pages of {PAGE})", 1, seen, 0.0,
                   total, {}, used * 1e3, "total time of the walk")


def describe_moto(cw: Any, clock: HttpClock, pid: int, args: argparse.Namespace) -> list[
        Latency]:
    prefixes = max(1, args.alarms // 100)
    first = time_calls(
        "moto", "first page", lambda _: cw.describe_alarms(MaxRecords=PAGE), clock, pid,
        args.calls, args.moto_budget,
        note="moto ignores MaxRecords and NextToken: every alarm in one answer")
    prefix = time_calls(
        "moto", "AlarmNamePrefix (100 match)",
        lambda k: cw.describe_alarms(MaxRecords=PAGE, AlarmNamePrefix=prefix_for(k, prefixes)),
        clock, pid, args.calls, args.moto_budget)
    return [first, prefix]


# --- report -------------------------------------------------------------------------------


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    m = results["machine"]
    out = [f"{m['cpu_model']}, {m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']}, "
           f"moto {m['moto']}; {args.alarms} alarms, {args.workers} gateway workers, "
           f"{args.threads} client threads, protocol {args.protocol}", ""]
    rows = []
    for c in results["creation"]:
        rows.append([c["server"], f"{c['put_data_calls']} x PutMetricData: "
                     f"{c['put_data_s']:.1f} s", f"{c['put_alarms_s']:.1f} s",
                     f"{c['alarms'] / c['put_alarms_s']:.0f}",
                     f"{c['alarm_p50_ms']:.1f} / {c['alarm_p99_ms']:.1f}",
                     f"{c['server_cpu_s'] / c['alarms'] * 1e3:.2f}"])
    out.append(table(["server", "datapoints", f"{args.alarms} x PutMetricAlarm",
                      "alarms/s", "p50 / p99 ms", "server CPU ms/alarm"], rows))
    passes = results["engine"]
    if passes:
        out.append("")
        rows = [[p["label"], p["now"], str(p["evaluated"]), f"{p['wall_s']:.2f}",
                 f"{p['cpu_s']:.2f}", f"{p['user_s']:.2f} / {p['sys_s']:.2f}",
                 f"{p['max_rss_mib']:.0f}"] for p in passes]
        out.append(table(["gateway engine --once", "--now", "evaluated", "wall s", "CPU s",
                          "user / sys s", "max RSS MiB"], rows))
        summary = results["engine_summary"]
        kind = ("steady passes (no state change)" if summary["steady_passes"] < len(passes) - 1
                else "the only pass (every alarm changes state)")
        out.append(
            f"{kind}: CPU min {summary['steady_cpu_min_s']:.2f} s, "
            f"median {summary['steady_cpu_median_s']:.2f} s; wall min "
            f"{summary['steady_wall_min_s']:.2f} s, median {summary['steady_wall_median_s']:.2f}"
            f" s; per 10,000 alarms: {summary['steady_cpu_per_10k_s']:.2f} CPU s = "
            f"{summary['steady_core_share_pct']:.1f}% of a core -> target (<= "
            f"{TARGET_CPU_PER_PASS_S:g} s) {'MET' if summary['target_met'] else 'NOT MET'}")
        out.append(f"first pass (every alarm changes state): {summary['first_cpu_s']:.2f} CPU "
                   f"s, {summary['first_wall_s']:.2f} s wall; of every pass, "
                   f"{summary['startup_cpu_s']:.2f} CPU s is the process itself (idle pass)")
        out.append("moto: no evaluation to compare with (moto never evaluates alarms; "
                   "their state stays as put or as SetAlarmState left it)")
    for b in results.get("breakdown", []):
        out.append("")
        out.append(f"in-process pass at {b['now']}: {b['evaluated']} alarms, "
                   f"{b['wall_s']:.2f} s wall, {b['cpu_s']:.2f} s CPU")
        rows = [[name, str(part["calls"]), f"{part['seconds']:.2f}",
                 f"{part['seconds'] / b['wall_s'] * 100:.0f}%" if b["wall_s"] else "-",
                 f"{part['seconds'] / part['calls'] * 1e6:.0f}" if part["calls"] else "-"]
                for name, part in b["parts"].items()]
        out.append(table(["where", "calls", "s", "share", "us/call"], rows))
    out.append("")
    rows = []
    for r in results["describe"]:
        rows.append([r["server"], r["scenario"], str(r["calls"]), str(r["items"]),
                     f"{r['response_kib']:.0f}" if r["response_kib"] else "-",
                     _lat(r["client"]), _lat(r["http"]) if r["http"] else "-",
                     f"{r['server_cpu_ms']:.2f}", r["note"]])
    out.append(table(["server", "DescribeAlarms", "calls", "alarms", "KiB",
                      "client p50 / p90 / p99 ms", "HTTP p50 / p90 / p99 ms",
                      "server CPU ms/call", "note"], rows))
    pages = [r for r in results["describe"]
             if r["server"] == "gateway" and r["calls"] > 1]
    if pages:
        for kind, label in (("http", "HTTP (gateway + wire)"), ("client", "client (boto3 "
                                                                          "parsing included)")):
            worst = max(r[kind]["p50_ms"] for r in pages)
            out.append(f"gateway page of {PAGE}, {label}: worst median {worst:.2f} ms -> "
                       f"target (< {TARGET_PAGE_MS:g} ms) "
                       f"{'MET' if worst < TARGET_PAGE_MS else 'NOT MET'}")
    split = results.get("describe_breakdown")
    if split:
        steps = ", ".join(f"{k} {v:.2f} ms" for k, v in split["median_ms"].items())
        out.append(f"in-process, first page of {split['alarms']} ({split['body_kib']} KiB): "
                   f"{steps}")
    return "\n".join(out)


def _lat(stats: dict[str, float]) -> str:
    if not stats.get("p90_ms"):
        return f"{stats['p50_ms']:.1f} (total)"
    return f"{stats['p50_ms']:.2f} / {stats['p90_ms']:.2f} / {stats['p99_ms']:.2f}"


def summarize(passes: list[EnginePass], alarms: int) -> dict[str, Any]:
    evaluating = [p for p in passes if p.label.startswith("pass")]
    steady = evaluating[1:] or evaluating
    idle = [p for p in passes if p.label.startswith("idle")]
    cpu = [p.cpu_s for p in steady]
    startup = idle[0].cpu_s if idle else 0.0
    # The process's own cost once, the evaluation's scaled to 10,000 alarms.
    per_10k = startup + (statistics.median(cpu) - startup) * 10_000 / max(1, alarms)
    return {
        "steady_passes": len(steady),
        "first_cpu_s": evaluating[0].cpu_s,
        "first_wall_s": evaluating[0].wall_s,
        "steady_cpu_min_s": min(cpu),
        "steady_cpu_median_s": statistics.median(cpu),
        "steady_wall_min_s": min(p.wall_s for p in steady),
        "steady_wall_median_s": statistics.median(p.wall_s for p in steady),
        "startup_cpu_s": startup,
        "steady_cpu_per_10k_s": per_10k,
        "steady_core_share_pct": per_10k / 60 * 100,
        "target_met": per_10k <= TARGET_CPU_PER_PASS_S,
    }


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alarms", type=int, default=10_000,
                        help="metric alarms (and metrics) on each server (default 10000)")
    parser.add_argument("--passes", type=int, default=3,
                        help="engine passes, 60 s of --now apart (default 3: the first "
                        "changes every state, the others nothing)")
    parser.add_argument("--calls", type=int, default=200,
                        help="DescribeAlarms calls per scenario (default 200)")
    parser.add_argument("--skip-moto", action="store_true", help="the gateway only")
    parser.add_argument("--moto-budget", type=float, default=20.0,
                        help="seconds per moto DescribeAlarms scenario, since moto answers "
                        "every call with all alarms (default 20)")
    parser.add_argument("--threads", type=int, default=4,
                        help="client threads creating alarms and data (default 4)")
    parser.add_argument("--workers", type=int, default=2,
                        help="gateway worker processes (default 2)")
    parser.add_argument("--protocol", default="json", choices=["json", "query"],
                        help="wire protocol of boto3 for both servers (default json)")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the in-process passes with timed store calls")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="also write the results as JSON to FILE (default: stdout)")
    parser.add_argument("--keep-tmp", action="store_true",
                        help="keep the data folder and the server logs")
    args = parser.parse_args(argv)
    if args.alarms < 1 or args.passes < 1 or args.calls < 1 or args.threads < 1:
        parser.error("--alarms, --passes, --calls and --threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="cfn-gateway-alarms-"))
    data_dir = tmp / "gateway"
    data_dir.mkdir()
    config = tmp / "gateway.conf"
    config.write_text("[alarms]\nengine_in_serve = false\n"
                      f"max_alarms_per_project = {max(args.alarms, 5000)}\n")
    models = protocol_models(tmp / "models", args.protocol)
    # The evaluation moments: the last on the current minute; the datapoints fill every
    # window of every pass, one per minute, all in the past.
    last = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    moments = [last - dt.timedelta(minutes=args.passes - 1 - k) for k in range(args.passes)]
    first_slot = moments[0] - dt.timedelta(minutes=WINDOW_PERIODS)
    minutes = [first_slot + dt.timedelta(minutes=k)
               for k in range(WINDOW_PERIODS + args.passes - 1)]
    results: dict[str, Any] = {"machine": machine(), "args": vars(args), "creation": [],
                               "engine": [], "describe": []}
    gateway = RunningServer(gateway_candidate(config, data_dir), args.workers, data_dir,
                            tmp / "gateway.log", log_level="WARNING")
    moto = MotoServer(tmp / "moto.log")
    try:
        key, secret = create_credentials(data_dir)
        gateway.start()
        print(f"gateway pid {gateway.pid} port {gateway.port}, data {data_dir}", flush=True)
        gw_clock = HttpClock()
        gw = client(gateway.url, key, secret, models, args.threads, gw_clock)
        results["creation"].append(asdict(create("gateway", gw, gateway.pid, args, minutes)))
        if not args.skip_moto:
            moto.start()
            print(f"moto_server pid {moto.pid} port {moto.port}", flush=True)
            mt_clock = HttpClock()
            mt = client(moto.url, "testing", "testing", models, args.threads, mt_clock)
            results["creation"].append(asdict(create("moto", mt, moto.pid, args, minutes)))
            found = len(mt.describe_alarms()["MetricAlarms"])
            if found != args.alarms:
                raise RuntimeError(f"moto holds {found} alarms, not {args.alarms}")

        store = data_dir / "store.sqlite3"
        if not args.no_breakdown:
            backup(store, tmp / "copy.sqlite3")
        passes = [engine_pass(f"pass {k + 1}", moment, data_dir, config)
                  for k, moment in enumerate(moments)]
        passes.append(engine_pass("idle (nothing due)", moments[-1], data_dir, config))
        results["engine"] = [asdict(p) for p in passes]
        results["engine_summary"] = summarize(passes, args.alarms)
        results["states"] = states(store)
        print(f"states after the passes: {results['states']}", flush=True)
        if not args.no_breakdown:
            results["breakdown"] = breakdown(tmp / "copy.sqlite3", moments[:2])
            results["describe_breakdown"] = describe_breakdown(tmp / "copy.sqlite3",
                                                               min(args.calls, 50))

        # What this process built so far (10,000 of everything) would make the client's
        # garbage collections, not the servers, set the latency tail.
        gc.collect()
        gc.freeze()
        results["describe"] += [asdict(r) for r in describe_gateway(gw, gw_clock, gateway.pid,
                                                                     args)]
        if not args.skip_moto:
            results["describe"] += [asdict(r) for r in describe_moto(mt, mt_clock, moto.pid,
                                                                      args)]
    finally:
        gateway.stop()
        moto.stop()
        log_tail = gateway.log_tail(2000)
        if args.keep_tmp:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["elapsed_s"] = round(time.monotonic() - began, 1)
    print()
    print(report(results, args))
    print(f"\n{results['elapsed_s']:.0f} s in all")
    if "Traceback" in log_tail:
        print(f"\ngateway log tail:\n{log_tail}")
    if args.json:
        text = json.dumps(results, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
