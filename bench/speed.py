"""The speed issue's four workloads, against the gateway and moto_server side by side.

Run on demand (it is not a test)::

    .venv/bin/python bench/speed.py                   # 4 workloads x 3 rounds: about 5 min
    .venv/bin/python bench/speed.py --workloads put1-json --rounds 5 --duration 10
    .venv/bin/python bench/speed.py --workloads none --soak 600   # memory under 80% load

Both servers run on 127.0.0.1, loaded one at a time:

- the gateway as ``cfn-gateway serve`` runs by default (standalone, 2 workers, the
  native HTTP/1.1 server, the engine beside them), from this checkout (its root goes first on
  ``PYTHONPATH``), with its own temporary data folder and a credential from
  ``cfn-gateway credentials create``;
- ``moto_server -H 127.0.0.1 -p PORT`` (werkzeug's threaded server, one process; any
  credential will do).

Every workload starts both servers afresh, so each sees only its own data.  The workloads:

- ``put1-query``: ``PutMetricData`` with 1 datum, Query protocol (form body), wrk;
- ``put1-json``: the same over JSON 1.0, wrk;
- ``put1000-json``: 1000 datums per request over JSON, wrk; reported in datapoints/s;
- ``get-stats``: 100,000 points of one metric over the last day (100 PutMetricData calls of
  1000 datums, about 70 in each of 1440 minutes), then ``GetMetricStatistics`` (all five
  statistics, Period 60, that day) timed ``--get-requests`` times per round from Python,
  one request at a time on a fresh connection, after checking that both servers answer
  the same 1440 datapoints (sample counts and sums);
- ``get-stats-query`` (only when named): ``get-stats`` in the Query protocol, as boto 2 and
  the AWS CLI v1 speak it.  (No 1000-datum put in Query here: moto_server 5.2.1 answered
  none within 60 s; ``serve_front.py``'s ``put1000q`` measures the gateway's.)

Requests are SigV4-signed by botocore (``signed.py``), through a copy of the CloudWatch
model that lists only the workload's protocol (``tests/protocol_models.py``), so the
protocol does not depend on botocore's choice, and re-signed before every run.  Bodies go
uncompressed to both (botocore would gzip those of 10 KiB and more, which moto_server 5.2.1
cannot read; ``--gzip`` restores botocore's default).  Each workload first checks that its
request answers 200 on both and gives each server a 2 s warm-up, then alternates the
servers every round (order reversed every other round).  Each measured wrk run follows its
own 1 s warm-up (one request for the 1000-datum put, whose requests take seconds) and a
wait until the server is idle again.  ``--soak SECONDS`` then drives a fresh gateway with
the 1-datum JSON put at 80% of the peak measured for it (this run's ``put1-json`` median,
or a short measurement), at a constant rate (wrk's ``delay()`` hook, ``loadgen.py``), and
samples the RSS of its processes every few seconds.

Everything started is stopped by its pid at the end, also after an error, SIGTERM or
Ctrl-C.  Results and their reading: README.md in this folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore
import granian
from loadgen import HTTPRequest, WrkResult, run_wrk, wrk_path
from lxml import etree
from procstats import cmdline, cpu_used, memory, process_tree, system_busy_seconds, tree_cpu
from servers import BENCH_DIR, Candidate, RunningServer
from signed import SignedRequests
from wsgi_servers import OTHER_LOAD_WARN, QuietGate, create_credentials, send, table

REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))
from tests.protocol_models import write_protocol_model  # noqa: E402

GET_NAMESPACE = "BenchSpeedGet"
GET_POINTS = 100_000
GET_BATCH = 1000
MINUTES = 1440
STATISTICS = ["SampleCount", "Sum", "Average", "Minimum", "Maximum"]
WARMUP_S = 1.0
FIRST_WARMUP_S = 2.0
SIGN_LIFETIME_S = 240.0
"""Longest wrk run replaying one signed request (SigV4 allows 15 minutes of skew)."""


@dataclass
class Workload:
    name: str
    title: str
    protocol: str
    datums: int = 1
    target: float = 0.0
    """Absolute target: req/s or datapoints/s for puts, ms (at most) for get-stats."""
    target_ratio: float | None = None
    """Gateway/moto ratio wanted: throughput over moto's, or how many times faster."""
    unit: str = "req/s"
    slow: bool = False
    """Requests take seconds under 32 connections: each run lasts 4 x ``--duration``, with a
    longer wrk timeout, so that it holds many of them (see ``Run.closed_loop_rps``)."""
    extra: bool = False
    """Not one of the issue's four: run only when named in ``--workloads``."""

    @property
    def latency(self) -> bool:
        return self.unit == "ms"


WORKLOADS = {w.name: w for w in [
    Workload("put1-query", "PutMetricData, 1 datum, Query", "query", 1, 10_000, 25),
    Workload("put1-json", "PutMetricData, 1 datum, JSON", "json", 1, 10_000),
    Workload("put1000-json", "PutMetricData, 1000 datums, JSON", "json", 1000, 300_000, 7,
             unit="dp/s", slow=True),
    Workload("get-stats", "GetMetricStatistics, 100k points, 1 day, Period 60", "json",
             target=20, target_ratio=25, unit="ms"),
    Workload("get-stats-query", "GetMetricStatistics, 100k points, 1 day, Period 60, Query",
             "query", unit="ms", extra=True),
]}


@dataclass
class Run:
    """One measured wrk run."""

    workload: str
    target: str
    round: int
    requests: int
    duration_s: float
    rps: float
    """Completed requests / run time, as wrk reports it."""
    closed_loop_rps: float
    """Connections / mean latency (Little's law for wrk's closed loop): a cross-check.  When
    a request takes seconds, moto finishes its 32 concurrent requests together, in bursts,
    so completions / time depends on how many bursts fit in the run (it reads low by up to
    one burst); Little's law does not, but reads high for a FIFO server, whose first 32
    requests wait less than the later ones."""
    value: float
    """The headline: ``rps``, times the datums per request for multi-datum puts."""
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float
    server_cpu_us: float
    """Server CPU (all its processes) per request."""
    wrk_cores: float
    other_cores: float


@dataclass
class Latencies:
    """GetMetricStatistics timings of one target in one round."""

    workload: str
    target: str
    round: int
    ms: list[float]
    server_cpu_ms: float
    """Server CPU per request."""


@dataclass
class Target:
    """One server under test and what it needs to sign requests for it."""

    name: str
    server: RunningServer
    access_key: str
    secret_key: str
    models: dict[str, Path]
    """Protocol -> a CloudWatch model folder that lists only that protocol."""
    compress: bool = False
    """Let botocore gzip bodies of 10 KiB and more (moto_server 5.2.1 cannot read them)."""
    signers: dict[str, SignedRequests] = field(default_factory=dict)

    def signer(self, protocol: str) -> SignedRequests:
        if protocol not in self.signers:
            self.signers[protocol] = SignedRequests(
                self.server.url, self.access_key, self.secret_key, self.models[protocol],
                compress=self.compress)
        return self.signers[protocol]


# --- starting the servers -----------------------------------------------------------------


def moto_server_path(given: str | None) -> str:
    """The real moto_server script: given, in this virtualenv, or on PATH (a pyenv shim is
    resolved, since it would start bash first)."""
    beside = Path(sys.executable).parent / "moto_server"
    path = given or (str(beside) if beside.exists() else shutil.which("moto_server"))
    if not path:
        raise SystemExit("moto_server not found: pip install 'moto[server]' or --moto-server")
    if "/shims/" in path and shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "which", "moto_server"], capture_output=True, text=True,
                             timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return path


def moto_version(script: str) -> str:
    try:
        with open(script, encoding="utf-8", errors="replace") as f:
            interpreter = f.readline()[2:].strip()
        out = subprocess.run([interpreter, "-c", "import moto; print(moto.__version__)"],
                             capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or "?"
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def gateway_candidate(data_dir: Path) -> Candidate:
    def command(port: int, workers: int) -> list[str]:
        # Nothing but what a test needs: host, port, data folder; the rest is serve's default.
        return [sys.executable, "-m", "cfn_gateway.cmd.main", "serve", "--host", "127.0.0.1",
                "--port", str(port), "--data-dir", str(data_dir)]

    return Candidate("gateway", "cfn-gateway serve (defaults)", "python", command)


def moto_candidate(script: str) -> Candidate:
    def command(port: int, workers: int) -> list[str]:
        return [script, "-H", "127.0.0.1", "-p", str(port)]

    return Candidate("moto", "moto_server", "python", command)


def gateway_env() -> dict[str, str | None]:
    """This checkout first on PYTHONPATH, so serve, its workers and its engine import it."""
    rest = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([str(REPO), str(BENCH_DIR), *filter(None, [rest])])}


def start_gateway(tmp: Path, tag: str, args: argparse.Namespace) -> Target:
    data_dir = tmp / f"gateway-{tag}"
    data_dir.mkdir()
    access, secret = create_credentials(data_dir)
    server = RunningServer(gateway_candidate(data_dir), 2, data_dir,
                           tmp / f"gateway-{tag}.log", cpus=args.server_cpus,
                           env_update=gateway_env())
    server.start()
    return Target("gateway", server, access, secret, args.models, args.gzip)


def start_moto(tmp: Path, tag: str, args: argparse.Namespace) -> Target:
    data_dir = tmp / f"moto-{tag}"
    data_dir.mkdir()
    # moto's own interpreter and packages; nothing of the bench on its path.
    server = RunningServer(moto_candidate(args.moto_server), 0, data_dir,
                           tmp / f"moto-{tag}.log", cpus=args.server_cpus,
                           health_path="/moto-api/data.json",
                           env_update={"PYTHONPATH": None, "CFN_BENCH_DATA_DIR": None,
                                       "CFN_BENCH_LOG_LEVEL": None})
    server.start()
    return Target("moto", server, "AKIDBENCHMOTO0000000", "bench-moto-secret", args.models,
                  args.gzip)


@contextmanager
def both_servers(tmp: Path, tag: str, args: argparse.Namespace,
                 started: list[RunningServer]) -> Iterator[list[Target]]:
    """Fresh gateway and moto for one workload; both stopped when it ends."""
    targets: list[Target] = []
    try:
        for start in (start_gateway, start_moto):
            target = start(tmp, tag, args)
            started.append(target.server)
            targets.append(target)
            log(f"{tag}: {target.name} up on port {target.server.port} "
                f"in {target.server.startup_s:.1f} s")
        yield targets
    finally:
        for target in targets:
            target.server.stop()


# --- requests -------------------------------------------------------------------------------


def put_request(target: Target, workload: Workload) -> HTTPRequest:
    """``signed.put_metric_data``: 4 metrics x N hosts, 2 dimensions each, one timestamp."""
    return target.signer(workload.protocol).put_metric_data(workload.datums)


def get_window() -> tuple[int, int]:
    """The last whole day: 1440 whole minutes ending at the current minute."""
    end = int(time.time()) // 60 * 60
    return end - MINUTES * 60, end


def get_points(start: int) -> list[list[dict[str, Any]]]:
    """100,000 points of one metric over the day, in batches of 1000: point i falls in
    minute i % 1440 (about 70 a minute), at second (i // 1440) % 60 of it."""
    points = [
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "bench"}],
         "Timestamp": start + (i % MINUTES) * 60 + (i // MINUTES) % 60,
         "Value": float((i * 7919) % 1000) / 10.0, "Unit": "Milliseconds"}
        for i in range(GET_POINTS)
    ]
    return [points[i:i + GET_BATCH] for i in range(0, GET_POINTS, GET_BATCH)]


def get_request(target: Target, protocol: str, start: int, end: int) -> HTTPRequest:
    return target.signer(protocol).call(
        "get_metric_statistics", Namespace=GET_NAMESPACE, MetricName="Latency",
        Dimensions=[{"Name": "Service", "Value": "bench"}], StartTime=start, EndTime=end,
        Period=60, Statistics=STATISTICS)


def answer(target: Target, request: HTTPRequest, what: str) -> bytes:
    status, body = send(target.server.port, request, timeout=60)
    if status != 200:
        raise RuntimeError(f"{target.name}: {what} answered {status}: "
                           f"{body[:400].decode(errors='replace')}")
    return body


def datapoints(body: bytes, protocol: str) -> dict[int, tuple[float, float]]:
    """Timestamp (epoch s) -> (SampleCount, Sum) of a GetMetricStatistics answer."""
    out = {}
    points = json.loads(body).get("Datapoints", []) if protocol == "json" else [
        {child.tag.rpartition("}")[2]: child.text for child in member}
        for member in etree.fromstring(body).iter("{*}member")]
    for point in points:
        stamp = point["Timestamp"]
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        out[int(stamp)] = (float(point["SampleCount"]), float(point["Sum"]))
    return out


def compare_datapoints(answers: dict[str, dict[int, tuple[float, float]]]) -> str:
    """'' when every target has 1440 datapoints with the same counts and sums, else why not."""
    problems = [f"{name}: {len(points)} datapoints" for name, points in answers.items()
                if len(points) != MINUTES]
    first, *others = answers.values()
    for other in others:
        if set(first) != set(other):
            problems.append("the timestamps differ")
            continue
        for stamp, (count, total) in first.items():
            count2, total2 = other[stamp]
            if count != count2 or abs(total - total2) > 1e-9 * max(1.0, abs(total)):
                problems.append(f"at {stamp}: {count}/{total} against {count2}/{total2}")
                break
    counts = {name: sum(c for c, _ in points.values()) for name, points in answers.items()}
    problems += [f"{name}: {count:.0f} samples in all" for name, count in counts.items()
                 if count != GET_POINTS]
    return "; ".join(problems)


# --- measuring ------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wrk_once(target: Target, request: HTTPRequest, duration: float,
             args: argparse.Namespace, rate: float | None = None) -> WrkResult:
    return run_wrk(target.server.url, request, duration, args.connections,
                   cpus=args.client_cpus, rate=rate)


def settle(target: Target, timeout_s: float = 60.0) -> None:
    """Wait until the server has finished what an ended wrk run left in flight (its
    processes used under 5% of a core for 0.5 s), at most ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    before = tree_cpu(target.server.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = tree_cpu(target.server.pid)
        if cpu_used(before, after) < 0.025:
            return
        before = after


def measure_wrk(target: Target, workload: Workload, round_no: int, args: argparse.Namespace,
                gate: QuietGate) -> Run:
    if workload.slow:
        answer(target, put_request(target, workload), "warm-up")  # 32 left in flight: no
    else:
        wrk_once(target, put_request(target, workload), WARMUP_S, args)
    settle(target)
    gate.wait()
    request = put_request(target, workload)
    cpu_before, busy_before = tree_cpu(target.server.pid), system_busy_seconds()
    duration = args.duration * (4 if workload.slow else 1)
    result = run_wrk(target.server.url, request, duration, args.connections,
                     timeout_s=60 if workload.slow else 10, cpus=args.client_cpus)
    server_cpu = cpu_used(cpu_before, tree_cpu(target.server.pid))
    busy = system_busy_seconds() - busy_before
    other = max(0.0, busy - server_cpu - result.client_cpu_s)
    seconds = result.duration_s or duration
    closed_loop = args.connections / (result.mean_ms / 1000) if result.mean_ms else 0.0
    return Run(
        workload=workload.name, target=target.name, round=round_no,
        requests=result.requests, duration_s=result.duration_s, rps=result.rps,
        closed_loop_rps=closed_loop,
        value=result.rps * workload.datums,
        errors=result.errors,
        p50_ms=result.p50_ms, p99_ms=result.p99_ms,
        server_cpu_us=server_cpu / result.requests * 1e6 if result.requests else 0.0,
        wrk_cores=result.client_cpu_s / seconds, other_cores=other / seconds,
    )


def run_put_workload(workload: Workload, targets: list[Target], args: argparse.Namespace,
                     gate: QuietGate, runs: list[Run]) -> None:
    for target in targets:
        answer(target, put_request(target, workload), workload.name)
        if not workload.slow:
            wrk_once(target, put_request(target, workload), FIRST_WARMUP_S, args)
    for round_no in range(args.rounds):
        for target in targets if round_no % 2 == 0 else targets[::-1]:
            run = measure_wrk(target, workload, round_no + 1, args, gate)
            runs.append(run)
            failed = sum(run.errors.values())
            log(f"round {run.round} {workload.name:12} {target.name:7} {run.value:9.0f} "
                f"{workload.unit}  p50 {run.p50_ms:7.2f}  p99 {run.p99_ms:8.2f} ms  "
                f"failed {failed}  {run.server_cpu_us:6.0f} us/req  other "
                f"{run.other_cores:.2f}")


def load_points(target: Target, batches: list[list[dict[str, Any]]]) -> float:
    started = time.monotonic()
    signer = target.signer("json")
    for batch in batches:
        request = signer.call("put_metric_data", Namespace=GET_NAMESPACE, MetricData=batch)
        answer(target, request, "loading PutMetricData")
    return time.monotonic() - started


def run_get_workload(workload: Workload, targets: list[Target], args: argparse.Namespace,
                     gate: QuietGate, latencies: list[Latencies]) -> str:
    start, end = get_window()
    batches = get_points(start)
    for target in targets:
        seconds = load_points(target, batches)
        log(f"{target.name}: {GET_POINTS} points loaded in {seconds:.1f} s "
            f"({GET_POINTS / seconds:.0f} dp/s, one call at a time)")
    answers = {t.name: datapoints(answer(t, get_request(t, workload.protocol, start, end),
                                         workload.name), workload.protocol)
               for t in targets}
    problem = compare_datapoints(answers)
    if problem:
        log(f"WARNING: the answers differ: {problem}")
    else:
        log(f"both answer {MINUTES} datapoints with the same sample counts and sums")
    for round_no in range(args.rounds):
        for target in targets if round_no % 2 == 0 else targets[::-1]:
            request = get_request(target, workload.protocol, start, end)
            answer(target, request, "warm-up")
            settle(target)
            gate.wait()
            cpu_before = tree_cpu(target.server.pid)
            timings = []
            for _ in range(args.get_requests):
                began = time.perf_counter()
                answer(target, request, workload.name)
                timings.append((time.perf_counter() - began) * 1000)
            server_cpu = cpu_used(cpu_before, tree_cpu(target.server.pid))
            latencies.append(Latencies(workload.name, target.name, round_no + 1, timings,
                                       server_cpu / len(timings) * 1000))
            log(f"round {round_no + 1} {workload.name:12} {target.name:7} median "
                f"{statistics.median(timings):7.1f} ms  p90 {percentile(timings, 90):7.1f} ms"
                f"  {server_cpu / len(timings) * 1000:6.1f} ms CPU/req")
    return problem


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- the soak ---------------------------------------------------------------------------------


@dataclass
class Sample:
    at_s: float
    rss_kib: dict[int, int]
    """By pid: the serve process, its workers and its engine."""
    pss_kib: int

    @property
    def total_rss_kib(self) -> int:
        return sum(self.rss_kib.values())


@dataclass
class SoakResult:
    seconds: float
    peak_rps: float
    rate: float
    achieved_rps: float
    requests: int
    errors: int
    p99_ms: float
    samples: list[Sample]
    commands: dict[int, str]


def sample_memory(root: int, started: float) -> Sample:
    rss, pss = {}, 0
    for pid in process_tree(root):
        reading = memory(pid)
        if reading:
            rss[pid] = reading.rss_kib
            pss += reading.pss_kib
    return Sample(time.monotonic() - started, rss, pss)


def run_soak(tmp: Path, args: argparse.Namespace, peak_rps: float | None,
             started_servers: list[RunningServer]) -> SoakResult:
    target = start_gateway(tmp, "soak", args)
    started_servers.append(target.server)
    workload = WORKLOADS["put1-json"]
    try:
        answer(target, put_request(target, workload), "soak PutMetricData")
        wrk_once(target, put_request(target, workload), FIRST_WARMUP_S, args)
        if not peak_rps:
            peaks = [wrk_once(target, put_request(target, workload), args.duration, args).rps
                     for _ in range(args.rounds)]
            peak_rps = statistics.median(peaks)
            log(f"soak: peak of put1-json on the soak gateway {peak_rps:.0f} req/s "
                f"({', '.join(f'{p:.0f}' for p in peaks)})")
        rate = args.soak_fraction * peak_rps
        log(f"soak: {args.soak:.0f} s at {rate:.0f} req/s ({args.soak_fraction:.0%} of "
            f"{peak_rps:.0f}), RSS every {args.soak_sample:g} s")
        began = time.monotonic()
        samples = [sample_memory(target.server.pid, began)]
        stop = threading.Event()

        def sampler() -> None:
            while not stop.wait(args.soak_sample):
                samples.append(sample_memory(target.server.pid, began))

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        results: list[WrkResult] = []
        try:
            left = args.soak
            while left > 0.5:
                segment = min(left, SIGN_LIFETIME_S, 60.0)
                result = wrk_once(target, put_request(target, workload), segment, args,
                                  rate=rate)
                results.append(result)
                left = args.soak - (time.monotonic() - began)
                last = samples[-1]
                log(f"soak: {time.monotonic() - began:5.0f} s  {result.rps:6.0f} req/s  "
                    f"p99 {result.p99_ms:7.2f} ms  failed {result.error_count}  RSS "
                    f"{last.total_rss_kib / 1024:6.1f} MiB")
        finally:
            stop.set()
            thread.join(timeout=10)
        samples.append(sample_memory(target.server.pid, began))
        requests = sum(r.requests for r in results)
        seconds = sum(r.duration_s for r in results)
        root = target.server.pid
        commands = {pid: "serve" if pid == root else "engine" if " engine" in cmdline(pid)
                    else "worker" for pid in samples[-1].rss_kib}
        return SoakResult(
            seconds=time.monotonic() - began, peak_rps=peak_rps, rate=rate,
            achieved_rps=requests / seconds if seconds else 0.0, requests=requests,
            errors=sum(r.error_count for r in results),
            p99_ms=max((r.p99_ms for r in results), default=0.0), samples=samples,
            commands=commands)
    finally:
        target.server.stop()


def soak_report(soak: SoakResult) -> str:
    first, last = soak.samples[0], soak.samples[-1]
    middle = min(soak.samples, key=lambda s: abs(s.at_s - soak.seconds / 2))
    mib = 1 / 1024
    rows = []
    pids = sorted(last.rss_kib, key=lambda p: -last.rss_kib[p])
    for pid in pids:
        values = [s.rss_kib[pid] for s in soak.samples if pid in s.rss_kib]
        rows.append([f"{soak.commands.get(pid, '?')} (pid {pid})",
                     f"{first.rss_kib.get(pid, 0) * mib:.1f}",
                     f"{middle.rss_kib.get(pid, 0) * mib:.1f}",
                     f"{last.rss_kib[pid] * mib:.1f}", f"{max(values) * mib:.1f}"])
    totals = [s.total_rss_kib for s in soak.samples]
    rows.append(["all (RSS sum)", f"{first.total_rss_kib * mib:.1f}",
                 f"{middle.total_rss_kib * mib:.1f}", f"{last.total_rss_kib * mib:.1f}",
                 f"{max(totals) * mib:.1f}"])
    rows.append(["all (PSS sum)", f"{first.pss_kib * mib:.1f}", f"{middle.pss_kib * mib:.1f}",
                 f"{last.pss_kib * mib:.1f}",
                 f"{max(s.pss_kib for s in soak.samples) * mib:.1f}"])
    head = (f"soak: {soak.seconds:.0f} s of PutMetricData x1 JSON at {soak.rate:.0f} req/s "
            f"(80% of {soak.peak_rps:.0f}); achieved {soak.achieved_rps:.0f} req/s, "
            f"{soak.requests} requests, {soak.errors} failed, worst p99 {soak.p99_ms:.1f} ms, "
            f"{len(soak.samples)} RSS samples")
    return head + "\n" + table(["process", "start MiB", "middle MiB", "end MiB", "max MiB"],
                               rows)


# --- the report -------------------------------------------------------------------------------


def spread(values: list[float], fmt: str) -> str:
    text = fmt.format(statistics.median(values))
    if len(values) > 1:
        text += f" ({fmt.format(min(values))}-{fmt.format(max(values))})"
    return text


def target_text(workload: Workload) -> str:
    if not workload.target and not workload.target_ratio:
        return "-"
    if workload.latency:
        text = f"<= {workload.target:g} ms"
        ratio = f"{workload.target_ratio:g}x faster" if workload.target_ratio else ""
    else:
        text = f">= {workload.target:,.0f} {workload.unit}"
        ratio = f"{workload.target_ratio:g}x moto" if workload.target_ratio else ""
    return f"{text}, {ratio}" if ratio else text


def summary_rows(workloads: list[Workload], runs: list[Run], latencies: list[Latencies],
                 problems: dict[str, str]) -> tuple[list[list[str]], list[dict[str, Any]]]:
    rows, records = [], []
    for workload in workloads:
        if workload.latency:
            mine = {t: [x for lat in latencies if lat.workload == workload.name
                        and lat.target == t for x in lat.ms] for t in ("gateway", "moto")}
            if not mine["gateway"] or not mine["moto"]:
                continue
            medians = {t: statistics.median(v) for t, v in mine.items()}
            cells = {t: f"{medians[t]:.1f} ms (p90 {percentile(v, 90):.1f})"
                     for t, v in mine.items()}
            ratio = medians["moto"] / medians["gateway"] if medians["gateway"] else 0.0
            met_abs = medians["gateway"] <= workload.target
            ratio_text = f"{ratio:.2f}x faster"
        else:
            values = {t: [r.value for r in runs if r.workload == workload.name
                          and r.target == t] for t in ("gateway", "moto")}
            if not values["gateway"] or not values["moto"]:
                continue
            medians = {t: statistics.median(v) for t, v in values.items()}
            cells = {t: spread(v, "{:,.0f}") for t, v in values.items()}
            ratio = medians["gateway"] / medians["moto"] if medians["moto"] else 0.0
            met_abs = medians["gateway"] >= workload.target
            ratio_text = f"{ratio:.2f}x"
        met_ratio = workload.target_ratio is None or ratio >= workload.target_ratio
        met = "-" if workload.extra else "yes" if met_abs and met_ratio else "no"
        if problems.get(workload.name):
            met += " (answers differ)"
        rows.append([workload.title, cells["gateway"], cells["moto"], ratio_text,
                     target_text(workload), met])
        records.append({"workload": workload.name, "unit": workload.unit,
                        "gateway_median": medians["gateway"], "moto_median": medians["moto"],
                        "ratio": ratio, "target": workload.target,
                        "target_ratio": workload.target_ratio, "met": met_abs and met_ratio})
    return rows, records


def detail_rows(workloads: list[Workload], runs: list[Run],
                latencies: list[Latencies]) -> list[list[str]]:
    rows = []
    for workload in workloads:
        for name in ("gateway", "moto"):
            if workload.latency:
                mine_l = [lat for lat in latencies
                          if lat.workload == workload.name and lat.target == name]
                if not mine_l:
                    continue
                all_ms = [x for lat in mine_l for x in lat.ms]
                rows.append([workload.name, name, f"{len(all_ms)} requests", "",
                             f"{statistics.median(all_ms):.1f}",
                             f"{percentile(all_ms, 99):.1f}", "0",
                             f"{statistics.median(lat.server_cpu_ms for lat in mine_l) * 1000:.0f}",
                             "", ""])
                continue
            mine = [r for r in runs if r.workload == workload.name and r.target == name]
            if not mine:
                continue
            rows.append([workload.name, name, spread([r.rps for r in mine], "{:,.0f}"),
                         spread([r.closed_loop_rps for r in mine], "{:,.0f}"),
                         f"{statistics.median(r.p50_ms for r in mine):.2f}",
                         f"{statistics.median(r.p99_ms for r in mine):.2f}",
                         str(sum(sum(r.errors.values()) for r in mine)),
                         f"{statistics.median(r.server_cpu_us for r in mine):.0f}",
                         f"{statistics.median(r.wrk_cores for r in mine):.2f}",
                         f"{max(r.other_cores for r in mine):.2f}"])
    return rows


def machine_facts(args: argparse.Namespace) -> dict[str, str]:
    def output(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    cpu = "?"
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = output(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": str(os.cpu_count()), "cpu": cpu, "kernel": platform.release(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "granian": granian.__version__,
        "botocore": botocore.__version__,
        "moto": moto_version(args.moto_server),
        "wrk": output([wrk_path(), "-v"]).split(" [")[0],
        "gateway": commit + (" + uncommitted changes" if dirty else ""),
    }


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3,
                        help="measured runs per server and workload, interleaved (3)")
    parser.add_argument("--duration", type=float, default=5.0,
                        help="seconds of each measured wrk run (5)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--workloads",
                        default=",".join(w.name for w in WORKLOADS.values() if not w.extra),
                        help=f"comma-separated, from {', '.join(WORKLOADS)}; 'none' for "
                             "only the soak (default: all but get-stats-query)")
    parser.add_argument("--get-requests", type=int, default=20,
                        help="GetMetricStatistics timed per server and round (20)")
    parser.add_argument("--soak", type=float, default=0.0, metavar="SECONDS",
                        help="afterwards, drive a fresh gateway at 80%% of its put1-json peak "
                             "for SECONDS and report its memory (off)")
    parser.add_argument("--soak-fraction", type=float, default=0.8, help=argparse.SUPPRESS)
    parser.add_argument("--soak-sample", type=float, default=5.0,
                        help="seconds between RSS samples during the soak (5)")
    parser.add_argument("--gzip", action="store_true",
                        help="let botocore gzip bodies of 10 KiB and more, as it does by default "
                             "(off: moto_server 5.2.1 answers 500 to them)")
    parser.add_argument("--client-cpus", help="taskset CPU list for wrk (unpinned)")
    parser.add_argument("--server-cpus", help="taskset CPU list for both servers (unpinned)")
    parser.add_argument("--moto-server", help="the moto_server script (found on PATH)")
    parser.add_argument("--quiet-wait", type=float, default=10.0,
                        help="at most this long before each run for other load to pass (10)")
    parser.add_argument("--quiet-budget", type=float, default=60.0,
                        help="at most this long in all for that (60)")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement here")
    parser.add_argument("--keep-tmp", action="store_true",
                        help="keep the data folders and the server logs")
    args = parser.parse_args(argv)
    names = [] if args.workloads == "none" else [w for w in args.workloads.split(",") if w]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    if not names and not args.soak:
        parser.error("nothing to do: no workloads and no --soak")
    args.workload_list = [WORKLOADS[w] for w in names]
    args.moto_server = moto_server_path(args.moto_server)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    facts = machine_facts(args)
    log("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    tmp = Path(tempfile.mkdtemp(prefix="cfngw-speed-"))
    args.models = {protocol: write_protocol_model(tmp / "models", protocol)
                   for protocol in ("query", "json")}
    gate = QuietGate(args.quiet_wait, args.quiet_budget)
    started: list[RunningServer] = []
    runs: list[Run] = []
    latencies: list[Latencies] = []
    problems: dict[str, str] = {}
    soak: SoakResult | None = None
    began = time.monotonic()
    try:
        for workload in args.workload_list:
            with both_servers(tmp, workload.name, args, started) as targets:
                if workload.latency:
                    problems[workload.name] = run_get_workload(workload, targets, args, gate,
                                                               latencies)
                else:
                    run_put_workload(workload, targets, args, gate, runs)
        if args.soak:
            peak = [r.rps for r in runs if r.workload == "put1-json" and r.target == "gateway"]
            soak = run_soak(tmp, args, statistics.median(peak) if peak else None, started)
    finally:
        for server in started:
            server.stop()
        logs = {s.log_path.name: s.log_tail(1500) for s in started}
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"gateway: cfn-gateway serve defaults (2 workers); moto_server {facts['moto']}; "
          f"wrk -t1 -c{args.connections}, {args.duration:g} s x {args.rounds} rounds, "
          f"interleaved; {time.monotonic() - began:.0f} s in all")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    rows, records = summary_rows(args.workload_list, runs, latencies, problems)
    if rows:
        print()
        print(table(["workload", "gateway median (range)", "moto median (range)",
                     "ratio", "target", "met"], rows))
        print()
        print(table(["workload", "server", "req/s (range)", "conns / mean latency", "p50 ms",
                     "p99 ms", "failed", "server CPU us/req", "wrk cores", "other cores (max)"],
                    detail_rows(args.workload_list, runs, latencies)))
    for name, problem in problems.items():
        if problem:
            print(f"WARNING: {name}: the servers' answers differ: {problem}")
    if any(r.other_cores > OTHER_LOAD_WARN for r in runs):
        print("WARNING: some runs shared the machine with other load (see 'other cores').")
    if gate.waited_s > 1:
        print(f"(waited {gate.waited_s:.0f} s in all for other load to pass)")
    if soak:
        print()
        print(soak_report(soak))
    for name, text in logs.items():
        if "Traceback" in text:
            print(f"\n{name} tail:\n{text}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": facts, "args": {k: v for k, v in vars(args).items()
                                       if isinstance(v, str | int | float | None)},
            "summary": records, "runs": [asdict(r) for r in runs],
            "latencies": [asdict(lat) for lat in latencies], "problems": problems,
            "soak": asdict(soak) if soak else None,
        }, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
