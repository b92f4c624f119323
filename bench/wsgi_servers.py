"""Which WSGI server should serve the gateway?  Measure the candidates side by side.

Run on demand (it is not a test)::

    .venv/bin/python bench/wsgi_servers.py                  # the default run, about 5 minutes
    .venv/bin/python bench/wsgi_servers.py --duration 5 --connections 32 --servers granian,uwsgi

Every candidate (see ``servers.py``: gunicorn sync, gunicorn gthread, granian, uWSGI)
serves the gateway's real paste pipeline (``gateway_wsgi.py``: ``paste.deploy.loadapp`` on
``cfn_gateway/api-paste.ini`` with ``CONF`` filled as ``cfn-gateway serve`` fills it) with
the same number of worker processes and its own temporary data folder and credential
(``cfn-gateway credentials create --project bench --data-dir DIR --json``).  All
candidates run at once on their own ports and are loaded one at a time, the scenarios
interleaved across servers (and the server order reversed every other round), so that
drift of the machine during the run hits every server alike.

Scenarios, each a warm-up then a measured wrk run (``loadgen.py``):

- ``health``: ``GET /healthcheck``, the pipeline's overhead without auth;
- ``list``:   ``ListMetrics`` over JSON 1.0, SigV4-signed by botocore (20 metrics stored);
- ``put``:    ``PutMetricData`` with 20 datums, SigV4-signed by botocore.

Per run it reports throughput (req/s), latency (p50, p99), failed requests, the CPU the
server's processes used per request and the share of a core that wrk itself took.  Then,
per server: memory per worker and in all (``procstats.py``), and two robustness probes
(``probes.py``): health checks while 16 clients stall mid-request, and a SIGHUP graceful
reload under load.  A signed scenario whose check request does not answer 200 (say the
auth layer is not there yet) is reported as skipped with the gateway's answer, and the
rest still runs.  ``README.md`` in this folder records results and the recommendation.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loadgen import HTTPRequest, WrkResult, run_wrk, wrk_path
from probes import RestartResult, SlowClientResult, graceful_restart, slow_clients
from procstats import TreeMemory, cpu_used, system_busy_seconds, tree_cpu, tree_memory
from servers import BIN_DIR, CANDIDATES, Candidate, RunningServer
from signed import DATUMS, SignedRequests, health_check

OTHER_LOAD_WARN = 0.2
"""Cores of foreign CPU load above which a run is flagged."""

SCENARIOS = {
    "health": "GET /healthcheck",
    "list": "ListMetrics, JSON 1.0, SigV4",
    "put": f"PutMetricData x{DATUMS}, JSON 1.0, SigV4",
}


@dataclass
class Measurement:
    server: str
    scenario: str
    round: int
    result: WrkResult
    server_cpu_s: float
    other_cpu_s: float
    """CPU that neither the server nor wrk used during the run: other processes, steal."""

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.result.requests * 1e6 if self.result.requests else 0.0


@dataclass
class ServerState:
    server: RunningServer
    signer: SignedRequests | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    """Scenario -> why it cannot run against this server."""
    notes: list[str] = field(default_factory=list)
    memory: TreeMemory | None = None
    slow: list[SlowClientResult] = field(default_factory=list)
    restart: RestartResult | None = None

    def request(self, scenario: str) -> HTTPRequest:
        if scenario == "health":
            return health_check(self.server.host)
        assert self.signer is not None
        return self.signer.list_metrics() if scenario == "list" else self.signer.put_metric_data()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [c.name for c in CANDIDATES]
    defaults = [c.name for c in CANDIDATES if c.default]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0,
                        help="seconds of each measured wrk run (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds of the unrecorded wrk run before each (default 1)")
    parser.add_argument("--connections", type=int, default=16,
                        help="concurrent keep-alive connections of wrk (default 16)")
    parser.add_argument("--threads", type=int, default=1,
                        help="wrk threads (default 1: wrk takes at most one core)")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes of every server (default 2, one per core)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measure every (server, scenario) this many times, interleaved; "
                        "medians are shown, with the req/s range (default 2)")
    parser.add_argument("--servers", default=",".join(defaults),
                        help=f"comma-separated, from: {', '.join(names)} (default: "
                        f"{', '.join(defaults)})")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of: {', '.join(SCENARIOS)}")
    parser.add_argument("--client-cpus", help="taskset CPU list for wrk (default: unpinned)")
    parser.add_argument("--server-cpus", help="taskset CPU list for the servers (default: "
                        "unpinned)")
    parser.add_argument("--slow-clients", type=int, default=16,
                        help="stalled connections in the slow-client probe (default 16, more "
                        "than 2 workers x 4 threads)")
    parser.add_argument("--probe-timeout", type=float, default=3.0,
                        help="seconds a health check may take during the slow-client probe")
    parser.add_argument("--restart-duration", type=float, default=9.0,
                        help="seconds of load during the SIGHUP probe, sent after 1 s (default "
                        "9: granian replaces its workers one by one, 3.5 s apart)")
    parser.add_argument("--quiet-wait", type=float, default=10.0,
                        help="before each measured run, wait up to this many seconds for other "
                        "load on the machine to drop below 0.2 cores (default 10)")
    parser.add_argument("--quiet-budget", type=float, default=30.0,
                        help="total seconds the whole benchmark may spend waiting so "
                        "(default 30)")
    parser.add_argument("--no-probes", action="store_true",
                        help="skip the slow-client and restart probes")
    parser.add_argument("--paste-config", help="another paste file (default: the gateway's)")
    parser.add_argument("--log-level", default="INFO",
                        help="level of the gateway's loggers in the workers (default INFO, as "
                        "in production: one access log line per request, to a file)")
    parser.add_argument("--json", dest="json_path", help="also write all results to this file")
    parser.add_argument("--keep-tmp", action="store_true",
                        help="keep the temporary data folders and server logs")
    args = parser.parse_args(argv)
    for value, known, flag in ((args.servers, names, "--servers"),
                               (args.scenarios, list(SCENARIOS), "--scenarios")):
        unknown = set(value.split(",")) - set(known)
        if unknown:
            parser.error(f"{flag}: unknown {', '.join(sorted(unknown))}")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


def cfn_gateway_command() -> list[str]:
    script = BIN_DIR / "cfn-gateway"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cfn_gateway.cmd.main"]


def create_credentials(data_dir: Path) -> tuple[str, str]:
    out = subprocess.run(
        [*cfn_gateway_command(), "credentials", "create", "--project", "bench",
         "--data-dir", str(data_dir), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0:
        lines = (out.stderr or out.stdout).strip().splitlines() or ["no output"]
        raise RuntimeError(f"credentials create failed: {lines[-1]}")
    data = json.loads(out.stdout)
    return data["AccessKeyId"], data["SecretAccessKey"]


def send(port: int, request: HTTPRequest, timeout: float = 10.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(request.method, request.path, request.body or None,
                           request.headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def try_send(port: int, request: HTTPRequest) -> tuple[int, bytes]:
    try:
        return send(port, request)
    except OSError as exc:
        return 0, str(exc).encode()


def check_signed(state: ServerState, scenarios: list[str]) -> None:
    """Seed the store with one PutMetricData, then check each signed scenario answers 200."""
    wanted = [s for s in scenarios if s != "health" and s not in state.skipped]
    if not wanted or state.signer is None:
        return
    port = state.server.port
    status, body = try_send(port, state.request("put"))
    if status != 200:
        # Without a stored metric, ListMetrics would measure an empty store.
        for scenario in wanted:
            state.skipped[scenario] = (
                f"PutMetricData answered {status}: {body[:300].decode(errors='replace')}"
            )
        return
    if "list" in wanted:
        status, body = try_send(port, state.request("list"))
        if status != 200:
            state.skipped["list"] = (
                f"ListMetrics answered {status}: {body[:300].decode(errors='replace')}"
            )
            return
        try:
            count = len(json.loads(body).get("Metrics", []))
        except (ValueError, AttributeError):
            count = -1
        state.notes.append(f"ListMetrics returns {count} metrics")


class QuietGate:
    """Waits, within a budget, for other processes to leave the CPUs alone before a run.

    The machine may be shared (other people's test suites); a run that starts while
    something else takes a core measures that something as much as the server.  Before each
    measured run the gate samples the machine's busy CPU in 0.5 s windows (the servers are
    idle then) until a window shows less than ``OTHER_LOAD_WARN`` cores, for at most
    ``per_run_s``, and never more than ``total_s`` over the whole benchmark.  Load that
    starts during a run is still reported, in the ``other cores`` column.
    """

    def __init__(self, per_run_s: float, total_s: float) -> None:
        self.per_run_s = per_run_s
        self.left_s = total_s
        self.waited_s = 0.0

    def wait(self) -> None:
        if self.left_s <= 0:
            return
        deadline = time.monotonic() + min(self.per_run_s, self.left_s)
        while True:
            before, started = system_busy_seconds(), time.monotonic()
            time.sleep(0.5)
            elapsed = time.monotonic() - started
            load = (system_busy_seconds() - before) / elapsed
            self.left_s -= elapsed
            self.waited_s += elapsed
            if load < OTHER_LOAD_WARN or time.monotonic() >= deadline or self.left_s <= 0:
                return


def measure(state: ServerState, scenario: str, round_no: int,
            args: argparse.Namespace, gate: QuietGate) -> Measurement:
    server = state.server
    gate.wait()
    if args.warmup > 0:
        run_wrk(server.url, state.request(scenario), args.warmup, args.connections,
                args.threads, cpus=args.client_cpus)
    request = state.request(scenario)  # freshly signed
    before, busy_before = tree_cpu(server.pid), system_busy_seconds()
    result = run_wrk(server.url, request, args.duration, args.connections, args.threads,
                     cpus=args.client_cpus)
    used = cpu_used(before, tree_cpu(server.pid))
    other = system_busy_seconds() - busy_before - used - result.client_cpu_s
    return Measurement(server.name, scenario, round_no, result, used, max(0.0, other))


def machine_summary(args: argparse.Namespace) -> list[str]:
    cpu_model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = []
    for module in ("gunicorn", "granian"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            versions.append(f"{module} not installed")
    uwsgi = BIN_DIR / "uwsgi"
    if uwsgi.exists():
        out = subprocess.run([str(uwsgi), "--version"], capture_output=True, text=True)
        versions.append(f"uWSGI {out.stdout.strip()}")
    else:
        versions.append("uWSGI not installed")
    wrk = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True)
    wrk_version = (wrk.stdout or wrk.stderr).splitlines()[0].split(" Copyright")[0]
    return [
        f"date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {os.cpu_count()} cores ({cpu_model}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"servers: {', '.join(versions)}; load: {wrk_version}",
        f"settings: {args.workers} workers each, wrk -t{args.threads} -c{args.connections}, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s measured, {args.rounds} round(s); "
        f"wrk cpus: {args.client_cpus or 'any'}, server cpus: {args.server_cpus or 'any'}",
    ]


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(r) for r in rows)])


def median_of(items: list[Measurement], key: Callable[[Measurement], float]) -> float:
    return statistics.median(key(m) for m in items)


def results_table(measurements: list[Measurement], states: list[ServerState],
                  scenarios: list[str]) -> str:
    rows = []
    for scenario in scenarios:
        for state in states:
            runs = [m for m in measurements
                    if m.server == state.server.name and m.scenario == scenario]
            if not runs:
                reason = state.skipped.get(scenario, "not run")
                rows.append([SCENARIOS[scenario], state.server.name, "skipped: " + reason[:70],
                             "", "", "", "", "", "", ""])
                continue
            rps = [m.result.rps for m in runs]
            spread = f" ({min(rps):.0f}-{max(rps):.0f})" if len(runs) > 1 else ""
            errors = sum(m.result.error_count for m in runs)
            requests = sum(m.result.requests for m in runs)
            rows.append([
                SCENARIOS[scenario],
                state.server.name,
                f"{statistics.median(rps):.0f}{spread}",
                f"{median_of(runs, lambda m: m.result.p50_ms):.2f}",
                f"{median_of(runs, lambda m: m.result.p99_ms):.2f}",
                f"{errors}/{requests}" if errors else "0",
                f"{median_of(runs, lambda m: m.cpu_us_per_request):.0f}",
                f"{median_of(runs, lambda m: m.server_cpu_s / m.result.duration_s):.2f}",
                f"{median_of(runs, lambda m: m.result.client_cpu_s / m.result.duration_s):.2f}",
                f"{max(m.other_cpu_s / m.result.duration_s for m in runs):.2f}",
            ])
    return table(["scenario", "server", "req/s", "p50 ms", "p99 ms", "failed",
                  "server CPU us/req", "server cores", "wrk cores", "other cores (max)"], rows)


def robustness_table(states: list[ServerState], args: argparse.Namespace) -> str:
    rows = []
    for state in states:
        memory = state.memory
        slow = {s.stall: s.describe(args.probe_timeout) for s in state.slow}
        restart = "-"
        if state.restart:
            load = state.restart.load
            replaced = (f"{state.restart.replaced_s:.1f} s" if state.restart.replaced_s
                        is not None else "not replaced")
            failed = f"{load.error_count}/{load.requests} failed"
            if load.errors:
                failed += " (" + ", ".join(f"{k} {v}" for k, v in load.errors.items()) + ")"
            restart = f"{failed}, max {load.max_ms:.0f} ms, workers new in {replaced}"
        rows.append([
            state.server.name,
            f"{state.server.startup_s:.1f}",
            f"{memory.worker_rss_mib:.0f} / {memory.worker_uss_mib:.0f}" if memory else "-",
            f"{memory.total_pss_mib:.0f}" if memory else "-",
            slow.get("headers", "-"),
            slow.get("body", "-"),
            restart,
        ])
    return table(["server", "start s", "worker RSS / USS MiB", "total PSS MiB",
                  f"health, {args.slow_clients} stalled in headers",
                  f"health, {args.slow_clients} stalled in body", "SIGHUP under load"], rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path()
    started = time.monotonic()
    scenarios = [s for s in SCENARIOS if s in args.scenarios.split(",")]
    wanted = args.servers.split(",")
    candidates: list[Candidate] = []
    for candidate in CANDIDATES:
        if candidate.name not in wanted:
            continue
        missing = candidate.missing()
        if missing:
            print(f"skipping {candidate.name}: {missing}", flush=True)
        else:
            candidates.append(candidate)
    for line in machine_summary(args):
        print(line, flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="cfn-gateway-bench-"))
    states: list[ServerState] = []
    measurements: list[Measurement] = []
    gate = QuietGate(args.quiet_wait, args.quiet_budget)
    try:
        for candidate in candidates:
            data_dir = tmp / candidate.name
            data_dir.mkdir()
            server = RunningServer(candidate, args.workers, data_dir, tmp / f"{candidate.name}.log",
                                   paste_config=args.paste_config, log_level=args.log_level,
                                   cpus=args.server_cpus)
            state = ServerState(server)
            if any(s != "health" for s in scenarios):
                try:
                    key, secret = create_credentials(data_dir)
                    state.signer = SignedRequests(server.url, key, secret)
                except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                    for s in scenarios:
                        if s != "health":
                            state.skipped[s] = str(exc)
            try:
                server.start()
            except RuntimeError as exc:
                print(f"{candidate.name} did not start: {exc}", flush=True)
                continue
            print(f"started {candidate.name} (pid {server.pid}, port {server.port}, "
                  f"workers {server.worker_pids()}) in {server.startup_s:.1f} s", flush=True)
            states.append(state)
            check_signed(state, scenarios)
            for scenario, reason in state.skipped.items():
                print(f"  {candidate.name}: skipping {scenario}: {reason[:300]}", flush=True)
            for note in state.notes:
                print(f"  {candidate.name}: {note}", flush=True)

        # One longer warm-up per server before any measurement (first requests of a fresh
        # worker: imports, model loading, SQLite pages, thread pools).
        for state in states:
            run_wrk(state.server.url, health_check(state.server.host), max(2.0, args.warmup),
                    args.connections, args.threads, cpus=args.client_cpus)
        idle_before = {s.server.name: tree_cpu(s.server.pid) for s in states}
        time.sleep(2.0)
        for state in states:
            idle = cpu_used(idle_before[state.server.name], tree_cpu(state.server.pid)) / 2.0
            if idle > 0.01:
                state.notes.append(f"uses {idle:.2f} cores while idle")
                print(f"  {state.server.name}: uses {idle:.2f} cores while idle", flush=True)

        for round_no in range(args.rounds):
            for scenario in scenarios:
                order = states if round_no % 2 == 0 else states[::-1]
                for state in order:
                    if scenario in state.skipped:
                        continue
                    m = measure(state, scenario, round_no, args, gate)
                    measurements.append(m)
                    r = m.result
                    print(f"round {round_no + 1} {scenario:6} {state.server.name:16} "
                          f"{r.rps:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:7.2f} ms"
                          f"  failed {r.error_count}  server {m.cpu_us_per_request:.0f} us/req"
                          f"  other load {m.other_cpu_s / r.duration_s:.2f} cores", flush=True)

        for state in states:
            state.memory = tree_memory(state.server.pid, state.server.worker_pids())
        if not args.no_probes:
            for state in states:
                for stall in ("headers", "body"):
                    state.slow.append(slow_clients(state.server, stall, args.slow_clients,
                                                   args.probe_timeout))
                state.restart = graceful_restart(state.server, args.restart_duration,
                                                 args.connections, args.client_cpus)
                print(f"probed {state.server.name}: "
                      + "; ".join(s.describe(args.probe_timeout) for s in state.slow),
                      flush=True)
    finally:
        for state in states:
            state.server.stop()
        if args.keep_tmp:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    for line in machine_summary(args):
        print(line)
    print()
    print(results_table(measurements, states, scenarios))
    print()
    print("server CPU us/req: CPU time of all the server's processes per request (does not "
          "depend on how much CPU wrk took); server/wrk cores: CPU seconds per second; other "
          "cores: CPU taken by anything else (other processes, hypervisor steal) during the "
          "worst run of the row.")
    busy = [m for m in measurements if m.other_cpu_s / m.result.duration_s > OTHER_LOAD_WARN]
    if busy:
        print(f"WARNING: {len(busy)} of {len(measurements)} runs shared the machine with more "
              f"than {OTHER_LOAD_WARN} cores of other load; rerun on an idle machine before "
              "trusting small differences.")
    print()
    print(robustness_table(states, args))
    print()
    print(f"total time {time.monotonic() - started:.0f} s, of which {gate.waited_s:.0f} s "
          "waiting for other load to pass")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump({
                "machine": machine_summary(args),
                "measurements": [
                    {**asdict(m), "rps": m.result.rps,
                     "cpu_us_per_request": m.cpu_us_per_request} for m in measurements
                ],
                "servers": [
                    {"name": s.server.name, "startup_s": s.server.startup_s,
                     "memory": asdict(s.memory) if s.memory else None,
                     "slow_clients": [asdict(x) for x in s.slow],
                     "restart": asdict(s.restart) if s.restart else None,
                     "skipped": s.skipped, "notes": s.notes}
                    for s in states
                ],
            }, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
