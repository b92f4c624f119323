"""``cfn-gateway serve`` before and after a change, side by side: speed and slow bodies.

Run on demand (it is not a test)::

    .venv/bin/python bench/serve_front.py                      # HEAD against the work tree
    .venv/bin/python bench/serve_front.py --variant before=git:HEAD~3 --variant after=tree

Each variant is a real ``cfn-gateway serve`` (2 workers by default, its own data folder and
credential) started from a source: ``tree`` is this checkout, ``git:REF`` is ``git archive
REF`` unpacked into a temporary folder and put first on ``PYTHONPATH`` (so the same
virtualenv runs the old code).  ``NAME=SOURCE:KEY=VALUE,...`` adds environment variables.
All variants run at once on their own ports and are loaded one at a time, the order
reversed every other round (as ``wsgi_servers.py`` does), with wrk (``loadgen.py``):

- ``health``: ``GET /healthcheck``;
- ``put1``:   ``PutMetricData`` with 1 datum, JSON 1.0, SigV4-signed by botocore;
- ``put1q``:  the same in the Query protocol (botocore with a CloudWatch model that lists
  only ``query``, ``tests/protocol_models.py``), as cfn-push-stats and boto2 send it;
- ``put20``, ``put1000``: ``PutMetricData`` with 20 or 1000 datums, likewise;
  ``put1000q`` the 1000 in the Query protocol.

Then two probes per variant (``--no-probes`` skips them):

- **stalled bodies**: ``--stalled`` connections send headers with ``Content-Length: 100``
  and 11 bytes of body, then nothing.  While they hang, a signed 1-datum PutMetricData is
  timed ``PROBE_PUTS`` times in a row (each on a new connection, at most ``PUT_TIMEOUT``
  s) and ``HEALTH_CHECKS`` health checks are sent at once (each may take
  ``--probe-timeout`` s).  Then each stalled connection is watched for up to
  ``--body-timeout`` + 5 s: what it was answered, and whether the server closed it.
- **slow upload**: one client sends a 100-byte body at 10 bytes/s (the issue's case); after
  1 s a signed 1-datum PutMetricData is timed.

Every variant gets a config file with ``request_body_timeout = --body-timeout`` (older
code ignores the unknown option), plus its own ``conf.OPTION=VALUE`` entries, e.g.
``wsgi=tree:conf.request_body_timeout=0``.  ``SOURCE`` may also be ``dir:PATH``, a folder
holding a ``cfn_gateway`` package, e.g. ``granian=tree:conf.http_server=granian`` beside
``native=tree``.  Results and their reading: README.md in this folder.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from loadgen import HTTPRequest, run_wrk, wrk_path
from procstats import cpu_used, system_busy_seconds, tree_cpu
from servers import BENCH_DIR, Candidate, RunningServer
from signed import SignedRequests, health_check
from wsgi_servers import OTHER_LOAD_WARN, QuietGate, create_credentials, table, try_send

REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))
from tests.protocol_models import write_protocol_model  # noqa: E402

SCENARIOS = {
    "health": "GET /healthcheck",
    "put1": "PutMetricData x1, JSON, SigV4",
    "put1q": "PutMetricData x1, Query, SigV4",
    "put20": "PutMetricData x20, JSON, SigV4",
    "put1000": "PutMetricData x1000, JSON, SigV4",
    "put1000q": "PutMetricData x1000, Query, SigV4",
}
STALLED_BODY = (b"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n"
                b"X-Amz-Target: GraniteServiceVersion20100801.PutMetricData\r\n"
                b"Content-Length: 100\r\n\r\n{\"Namespac")
PROBE_PUTS = 3
HEALTH_CHECKS = 7
PUT_TIMEOUT = 10.0


@dataclass
class Variant:
    name: str
    source: str
    env: dict[str, str]
    pythonpath: str = ""


@dataclass
class Run:
    variant: str
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_us: float
    other_cores: float


@dataclass
class Probe:
    put_s: list[float | None] = field(default_factory=list)
    health_ok: int = 0
    stalled_answers: list[str] = field(default_factory=list)
    trickle_put_s: float | None = None


@dataclass
class State:
    variant: Variant
    server: RunningServer
    signer: SignedRequests | None = None
    query_signer: SignedRequests | None = None
    probe: Probe = field(default_factory=Probe)

    def request(self, scenario: str) -> HTTPRequest:
        if scenario == "health":
            return health_check(self.server.host)
        datums = int(scenario.removeprefix("put").removesuffix("q"))
        if scenario.endswith("q"):
            assert self.query_signer is not None
            return self.query_signer.put_metric_data(datums)
        assert self.signer is not None
        return self.signer.put_metric_data(datums)


def parse_variant(text: str) -> Variant:
    name, _, rest = text.partition("=")
    source, _, env_text = _split_source(rest)
    env = dict(item.split("=", 1) for item in env_text.split(",") if item)
    return Variant(name, source, env)


def _split_source(rest: str) -> tuple[str, str, str]:
    for kind in ("git:", "dir:"):
        if rest.startswith(kind):
            where, _, env = rest[len(kind):].partition(":")
            return kind + where, ":", env
    return rest.partition(":")


def unpack(ref: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), ref, "cfn_gateway"],
                   check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return into


def serve_command(variant: Variant, config: Path) -> Candidate:
    def command(port: int, workers: int) -> list[str]:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in variant.env.items())
        pythonpath = f"PYTHONPATH={shlex.quote(variant.pythonpath)}:$PYTHONPATH " \
            if variant.pythonpath else ""
        server = (f"-m cfn_gateway.cmd.main serve --host 127.0.0.1 --port {port} "
                  f"--workers {workers} --config {shlex.quote(str(config))} "
                  f'--data-dir "$CFN_BENCH_DATA_DIR"')
        return ["sh", "-c", f"exec env {pythonpath}{env} {shlex.quote(sys.executable)} {server}"]

    return Candidate(variant.name, variant.source, "python", command)


def measure(state: State, scenario: str, args: argparse.Namespace, gate: QuietGate) -> Run:
    server = state.server
    gate.wait()
    run_wrk(server.url, state.request(scenario), args.warmup, args.connections)
    request = state.request(scenario)
    before, busy_before = tree_cpu(server.pid), system_busy_seconds()
    result = run_wrk(server.url, request, args.duration, args.connections)
    used = cpu_used(before, tree_cpu(server.pid))
    other = system_busy_seconds() - busy_before - used - result.client_cpu_s
    return Run(state.variant.name, scenario, result.rps, result.p50_ms, result.p99_ms,
               result.error_count, result.requests,
               used / result.requests * 1e6 if result.requests else 0.0,
               max(0.0, other) / result.duration_s)


def timed_send(port: int, request: HTTPRequest, timeout: float) -> float | None:
    started = time.monotonic()
    status, _ = try_send_timeout(port, request, timeout)
    return time.monotonic() - started if status == 200 else None


def try_send_timeout(port: int, request: HTTPRequest, timeout: float) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(request.method, request.path, request.body or None, request.headers)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError as exc:
        return 0, str(exc).encode()
    finally:
        connection.close()


def probe_stalled(state: State, args: argparse.Namespace) -> None:
    server = state.server
    payload = STALLED_BODY.replace(b"{host}", server.host.encode())
    sockets = []
    stalled_at = time.monotonic()
    try:
        for _ in range(args.stalled):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=2)
            s.sendall(payload)
            sockets.append(s)
        time.sleep(0.5)
        put = state.request("put1")
        for _ in range(PROBE_PUTS):
            state.probe.put_s.append(timed_send(server.port, put, PUT_TIMEOUT))
        with ThreadPoolExecutor(HEALTH_CHECKS) as pool:
            answers = list(pool.map(
                lambda _: timed_send(server.port, health_check(server.host), args.probe_timeout),
                range(HEALTH_CHECKS)))
        state.probe.health_ok = sum(1 for a in answers if a is not None)
        deadline = stalled_at + args.body_timeout + 5
        for s in sockets:
            state.probe.stalled_answers.append(_answer(s, deadline, stalled_at))
    finally:
        for s in sockets:
            s.close()


def _answer(sock: socket.socket, deadline: float, since: float) -> str:
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except OSError as exc:
            return f"{_status(data)}, {type(exc).__name__}"
        if not chunk:
            return f"{_status(data)}, closed at {time.monotonic() - since:.1f} s"
        data += chunk
    return f"{_status(data)}, open"


def _status(data: bytes) -> str:
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    return line.removeprefix("HTTP/1.1 ") or "no answer"


def probe_trickle(state: State, args: argparse.Namespace) -> None:
    server = state.server
    body = b'{"Namespace":"Trickle","MetricData":[{"MetricName":"x","Value":1}]}'.ljust(100)
    head = (b"POST / HTTP/1.1\r\nHost: " + server.host.encode() + b"\r\n"
            b"Content-Type: application/x-amz-json-1.0\r\n"
            b"X-Amz-Target: GraniteServiceVersion20100801.PutMetricData\r\n"
            b"Content-Length: 100\r\n\r\n")
    stop = threading.Event()

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as s:
            s.sendall(head)
            for i in range(0, len(body), 1):
                if stop.wait(0.1):
                    return
                try:
                    s.sendall(body[i:i + 1])
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        state.probe.trickle_put_s = timed_send(server.port, state.request("put1"), 60)
    finally:
        stop.set()
        thread.join(15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME=SOURCE[:KEY=VALUE,...], SOURCE tree or git:REF "
                        "(default: before=git:HEAD after=tree)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stalled", type=int, default=8)
    parser.add_argument("--body-timeout", type=float, default=5.0,
                        help="request_body_timeout given to every variant (default 5)")
    parser.add_argument("--probe-timeout", type=float, default=3.0)
    parser.add_argument("--no-probes", action="store_true")
    parser.add_argument("--quiet-wait", type=float, default=10.0)
    parser.add_argument("--quiet-budget", type=float, default=60.0)
    args = parser.parse_args(argv)
    wrk_path()
    variants = [parse_variant(v) for v in args.variant or ["before=git:HEAD", "after=tree"]]
    scenarios = [s for s in SCENARIOS if s in args.scenarios.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="cfn-gateway-front-"))
    states: list[State] = []
    runs: list[Run] = []
    gate = QuietGate(args.quiet_wait, args.quiet_budget)
    try:
        for variant in variants:
            extra = os.environ.get("CFN_BENCH_EXTRA_PATH", "")
            if variant.source.startswith("git:"):
                variant.pythonpath = str(unpack(variant.source[4:], tmp / f"src-{variant.name}"))
            elif variant.source.startswith("dir:"):
                variant.pythonpath = variant.source[4:]
            if extra:
                variant.pythonpath = ":".join(filter(None, [variant.pythonpath, extra]))
            data_dir = tmp / variant.name
            data_dir.mkdir()
            options = {"request_body_timeout": str(args.body_timeout)} | {
                k[5:]: variant.env.pop(k) for k in list(variant.env) if k.startswith("conf.")}
            config = tmp / f"{variant.name}.conf"
            config.write_text("[DEFAULT]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
            server = RunningServer(serve_command(variant, config), args.workers, data_dir,
                                   tmp / f"{variant.name}.log")
            state = State(variant, server)
            key, secret = create_credentials(data_dir)
            server.start()
            state.signer = SignedRequests(server.url, key, secret)
            state.query_signer = SignedRequests(
                server.url, key, secret, write_protocol_model(tmp / "models", "query"))
            status, body = try_send(server.port, state.request("put20"))
            if status != 200:
                raise RuntimeError(f"{variant.name}: PutMetricData answered {status}: {body!r}")
            print(f"started {variant.name} ({variant.source} {variant.env}) pid {server.pid} "
                  f"port {server.port} workers {server.worker_pids()}", flush=True)
            states.append(state)
        for state in states:
            run_wrk(state.server.url, health_check(state.server.host), 2.0, args.connections)
        for round_no in range(args.rounds):
            for scenario in scenarios:
                for state in states if round_no % 2 == 0 else states[::-1]:
                    run = measure(state, scenario, args, gate)
                    runs.append(run)
                    print(f"round {round_no + 1} {scenario:6} {run.variant:10} {run.rps:7.0f} req/s"
                          f"  p50 {run.p50_ms:6.2f}  p99 {run.p99_ms:7.2f} ms  failed "
                          f"{run.errors}  {run.cpu_us:5.0f} us/req  other "
                          f"{run.other_cores:.2f}", flush=True)
        if not args.no_probes:
            for state in states:
                probe_stalled(state, args)
                probe_trickle(state, args)
                print(f"probed {state.variant.name}: {state.probe}", flush=True)
    finally:
        for state in states:
            state.server.stop()
        logs = {s.variant.name: s.server.log_tail(2000) for s in states}
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    for scenario in scenarios:
        for state in states:
            mine = [r for r in runs if r.variant == state.variant.name and r.scenario == scenario]
            rps = [r.rps for r in mine]
            rows.append([
                SCENARIOS[scenario], state.variant.name,
                f"{statistics.median(rps):.0f} ({min(rps):.0f}-{max(rps):.0f})",
                f"{statistics.median(r.p50_ms for r in mine):.2f}",
                f"{statistics.median(r.p99_ms for r in mine):.2f}",
                str(sum(r.errors for r in mine)),
                f"{statistics.median(r.cpu_us for r in mine):.0f}",
                f"{max(r.other_cores for r in mine):.2f}",
            ])
    print()
    print(f"{args.workers} workers, wrk -t1 -c{args.connections}, {args.duration:g} s x "
          f"{args.rounds} rounds, medians (req/s range)")
    print(table(["scenario", "variant", "req/s", "p50 ms", "p99 ms", "failed",
                 "server CPU us/req", "other cores (max)"], rows))
    if any(r.other_cores > OTHER_LOAD_WARN for r in runs):
        print("WARNING: some runs shared the machine with other load (see 'other cores').")
    if not args.no_probes:
        print()
        rows = []
        for state in states:
            p = state.probe
            puts = [f"{s:.2f}" if s is not None else "fail" for s in p.put_s]
            answers: dict[str, int] = {}
            for answer in p.stalled_answers:
                answers[answer.rsplit(" at ", 1)[0]] = answers.get(answer.rsplit(" at ", 1)[0],
                                                                   0) + 1
            rows.append([
                state.variant.name,
                " ".join(puts),
                f"{p.health_ok}/{HEALTH_CHECKS}",
                "; ".join(f"{n}x {a}" for a, n in answers.items()),
                f"{p.trickle_put_s:.2f}" if p.trickle_put_s is not None else "fail",
            ])
        print(table([
            "variant", f"put1 s with {args.stalled} stalled", "health answered",
            f"stalled connections after {args.body_timeout:g}+5 s",
            "put1 s behind a 10 B/s upload"], rows))
    for name, log in logs.items():
        if "Traceback" in log:
            print(f"\n{name} log tail:\n{log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
