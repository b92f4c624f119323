"""PutMetricData rate of the gateway in OpenStack mode next to Gnocchi's own rate, one run.

On the running test bed (tools/testbed/up.sh) it starts two gateways in OpenStack mode,
``[keystone_ec2] local_check = gaps`` (the default: one ``/v3/ec2tokens`` per request) and
``always`` (EC2 secrets read through Keystone's credentials API and cached), and loads, in
interleaved rounds and at each concurrency, each of three targets for ``--duration``
seconds with wrk (keep-alive, one connection per concurrent client, closed loop):

- ``gateway gaps`` / ``gateway always``: a one-datum PutMetricData, JSON protocol, signed
  by botocore as boto3 sends it (signed again before every run; no Timestamp, so every
  request stores "now").
- ``gnocchi direct``: the batch write the gateway makes for that datum, ``POST
  v1/batch/resources/metrics/measures?create_metrics=true`` with the same body (built by
  the gateway's own ``gnocchi_mapping.build_measures``: 4 measures, sum/count/min/max,
  the measure timestamp drawn in the current minute per request as the gateway does), with
  one project-scoped token of the same tenant's user (keystoneauth1, obtained once).

Every answer other than 200 (gateway) / 202 (Gnocchi) is counted; any makes the bench fail.
Printed per concurrency: req/s (median and range over the rounds), the ratio of each
gateway's median to Gnocchi's, and CPU milliseconds per request of the gateway's processes,
Keystone, gnocchi-api, gnocchi-metricd (their process trees, PIDs from ``testbed.json``),
the PostgreSQL backends of Keystone's and Gnocchi's databases, wrk, and the rest of the
machine ("other": load that is not ours).  Everything it starts is stopped by PID at the
end, also on errors.  ``--also-checkout DIR`` adds two gateways (``gaps``, ``always``) running the
code of another checkout, e.g. the one before a change (``git worktree add DIR HEAD``).

From the repository root, with the test bed up (``tools/testbed/up.sh``; a worktree
without its own test bed sets ``TESTBED_DIR=<main checkout>/.testbed``)::

    PYTHONPATH=. .venv/bin/python bench/openstack_rate.py --duration 10 --rounds 3 \
        --concurrency 1,8
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests  # noqa: E402
from keystoneauth1 import session as ks_session  # noqa: E402
from keystoneauth1.identity import v3  # noqa: E402
from loadgen import HTTPRequest, lua_string, wrk_path  # noqa: E402
from procstats import cmdline, cpu_seconds, cpu_used, system_busy_seconds, tree_cpu  # noqa: E402
from signed import SignedRequests  # noqa: E402

from cfn_gateway.api.cloudwatch.views import metric_data_from_aws  # noqa: E402
from cfn_gateway.backends.openstack import gnocchi_mapping  # noqa: E402
from tests.functional.conftest import openstack_config, tenant_credentials  # noqa: E402
from tests.functional.server import GatewayProcess, free_port  # noqa: E402
from tests.testbed import load_testbed  # noqa: E402

RESULT_MARK = "RATE-RESULT "
STAMP = "@@STAMP@@"
BATCH_PATH = "/v1/batch/resources/metrics/measures?create_metrics=true"
#: test bed services whose CPU is charged (name in testbed.json "pids")
SERVICES = ("keystone", "gnocchi-api", "gnocchi-metricd")

# The thread-local counter of unexpected answers, summed over wrk's threads at the end.
LUA_TAIL = """
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) unexpected = 0; first_bad = "" end
response = function(status, headers, body)
  if status ~= __EXPECTED__ then
    unexpected = unexpected + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 300) end
  end
end
done = function(summary, latency, requests)
  local bad, sample = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("unexpected")
    if sample == "" then sample = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"socket_errors":%d,"timeouts":%d,'
    .. '"unexpected":%d,"p50_us":%d,"p90_us":%d}\\n', "__MARK__", summary.requests,
    summary.duration, e.connect + e.read + e.write, e.timeout, bad,
    latency:percentile(50.0), latency:percentile(90.0)))
  io.write("RATE-SAMPLE " .. sample .. "\\n")
end
"""

# Gnocchi: the measure timestamp drawn anew per request, in the current minute, as the
# gateway does (a datum without Timestamp is truncated to the minute, then a random offset
# within the storage resolution is added).
LUA_STAMPED_BODY = """
local body_parts = __PARTS__
math.randomseed(os.time())
request = function()
  local minute = os.time() - os.time() % 60
  local stamp = os.date("!%Y-%m-%dT%H:%M:%S", minute + math.random(0, 59))
    .. string.format(".%09d", math.random(0, 999999999))
  return wrk.format(nil, nil, nil, table.concat(body_parts, stamp))
end
"""


@dataclass
class Run:
    target: str
    concurrency: int
    requests: int
    seconds: float
    unexpected: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    cpu: dict[str, float]  # CPU seconds by process group, over the run
    sample: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Target:
    """What wrk sends to one target, and the processes whose CPU is its own."""

    name: str
    url: str
    make_request: Any  # () -> HTTPRequest, called right before every run
    expected_status: int
    stamped: bool = False
    gateway: GatewayProcess | None = None
    runs: list[Run] = field(default_factory=list)


def wrk_script(request: HTTPRequest, expected: int, stamped: bool) -> str:
    lines = [f"wrk.method = {lua_string(request.method.encode())}",
             f"wrk.path = {lua_string(request.path.encode())}"]
    for name, value in request.headers.items():
        if name.lower() != "content-length":  # wrk computes it
            lines.append(f"wrk.headers[{lua_string(name.encode())}] = "
                         f"{lua_string(value.encode())}")
    if stamped:
        parts = request.body.split(STAMP.encode())
        lines.append(LUA_STAMPED_BODY.replace(
            "__PARTS__", "{" + ", ".join(lua_string(p) for p in parts) + "}"))
    else:
        lines.append(f"wrk.body = {lua_string(request.body)}")
    tail = LUA_TAIL.replace("__EXPECTED__", str(expected)).replace("__MARK__", RESULT_MARK)
    return "\n".join(lines) + "\n" + tail


class Wrk:
    """Runs wrk, one at a time; ``stop`` kills the one running (by its PID)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, url: str, script: str, seconds: int, connections: int
            ) -> tuple[dict[str, Any], str, float]:
        """wrk's result line, its sample of an unexpected answer, its CPU seconds."""
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(script)
        command = [wrk_path(), "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
                   "--timeout", "10s", "-s", f.name, url]
        try:
            with tempfile.TemporaryFile() as out:
                self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
                watchdog = threading.Timer(seconds + 40, self.stop)
                watchdog.start()
                try:
                    _, _, usage = os.wait4(self.process.pid, 0)
                finally:
                    watchdog.cancel()
                    self.process = None
                out.seek(0)
                text = out.read().decode(errors="replace")
        finally:
            os.unlink(f.name)
        result, sample = None, ""
        for line in text.splitlines():
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK):])
            elif line.startswith("RATE-SAMPLE "):
                sample = line[len("RATE-SAMPLE "):]
        if result is None:
            raise RuntimeError(f"wrk gave no result:\n{text[-2000:]}")
        return result, sample, usage.ru_utime + usage.ru_stime

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)


# --- the requests --------------------------------------------------------------------------


def datum_params(namespace: str) -> dict[str, Any]:
    """One datum as cfn-push-stats sends it: no Timestamp (the gateway stores "now")."""
    return {"Namespace": namespace, "MetricData": [{
        "MetricName": "MemoryUtilization", "Value": 42.0, "Unit": "Percent",
        "Dimensions": [{"Name": "InstanceId", "Value": "i-0bench0000000001"}]}]}


def gnocchi_body(project_id: str, params: dict[str, Any]) -> bytes:
    """The gateway's batch body for ``params`` (its own code), the stamp a placeholder."""
    now = dt.datetime.now(dt.UTC)
    data = metric_data_from_aws(params, now)
    body, _ = gnocchi_mapping.build_measures(project_id, data, now)
    stamps = {m["timestamp"] for metrics in body.values() for entry in metrics.values()
              for m in entry["measures"]}
    measures = sum(len(e["measures"]) for metrics in body.values() for e in metrics.values())
    if len(stamps) != 1 or measures != 4:
        raise RuntimeError(f"unexpected batch body: {body}")
    text = json.dumps(body)  # keystoneauth's json= (jsonutils.dumps): the same separators
    return text.replace(stamps.pop(), STAMP).encode()


def tenant_session(testbed: dict[str, Any], index: int) -> ks_session.Session:
    tenant = testbed["tenants"][index]
    auth = v3.Password(auth_url=testbed["auth_url"], username=tenant["user"],
                       password=tenant["password"], user_domain_name="Default",
                       project_id=tenant["project_id"])
    return ks_session.Session(auth=auth)


def gnocchi_target(testbed: dict[str, Any], index: int, params: dict[str, Any]) -> Target:
    session = tenant_session(testbed, index)
    token = session.get_token()  # once: Gnocchi's keystonemiddleware caches its validation
    endpoint = session.get_endpoint(service_type="metric", interface="public",
                                    region_name=testbed.get("region", "RegionOne"))
    split = urlsplit(endpoint)
    base = split.path.rstrip("/")
    body = gnocchi_body(testbed["tenants"][index]["project_id"], params)
    headers = {"Host": split.netloc, "Content-Type": "application/json",
               "Accept": "application/json", "X-Auth-Token": token,
               "User-Agent": "cfn-gateway-bench keystoneauth1"}
    request = HTTPRequest("POST", base + BATCH_PATH, headers, body)
    return Target("gnocchi direct", f"{split.scheme}://{split.netloc}", lambda: request, 202,
                  stamped=True)


def gateway_target(name: str, gateway: GatewayProcess, creds: Any,
                   params: dict[str, Any]) -> Target:
    signer = SignedRequests(gateway.endpoint, creds.access_key, creds.secret_key)
    return Target(name, gateway.endpoint,
                  lambda: signer.call("put_metric_data", **params), 200, gateway=gateway)


def send_once(target: Target) -> requests.Response:
    """One request as wrk would send it (the stamp filled in)."""
    request = target.make_request()
    body = request.body
    if target.stamped:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        body = body.replace(STAMP.encode(), gnocchi_mapping.format_time(
            now.replace(tzinfo=dt.UTC)).encode())
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return requests.request(request.method, target.url + request.path, headers=headers,
                            data=body, timeout=30)


# --- measuring -----------------------------------------------------------------------------


def service_pids(testbed: dict[str, Any]) -> dict[str, int]:
    pids = testbed.get("pids") or {}
    missing = [name for name in SERVICES if name not in pids]
    if missing:
        raise SystemExit(f"testbed.json has no PID for {missing}: {sorted(pids)}")
    return {name: int(pids[name]) for name in SERVICES}


def database_names(testbed: dict[str, Any]) -> dict[str, str]:
    """PostgreSQL database of Keystone and Gnocchi (their backends' CPU is theirs too)."""
    urls = testbed.get("database") or {}
    return {f"{name}-db": urlsplit(urls[name]).path.lstrip("/")
            for name in ("keystone", "gnocchi") if name in urls}


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of every PostgreSQL backend process serving ``database``."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            command = cmdline(int(entry))
            if command.startswith("postgres: ") and f" {database} " in command:
                found[int(entry)] = cpu_seconds(int(entry))
    return found


def cpu_snapshot(target: Target, services: dict[str, int],
                 databases: dict[str, str]) -> dict[str, dict[int, float]]:
    snap = {name: tree_cpu(pid) for name, pid in services.items()}
    snap.update((name, postgres_backends(db)) for name, db in databases.items())
    if target.gateway is not None and target.gateway.process is not None:
        snap["gateway"] = tree_cpu(target.gateway.process.pid)
    return snap


def measure(wrk: Wrk, target: Target, concurrency: int, seconds: int, warmup: int,
            services: dict[str, int], databases: dict[str, str]) -> Run:
    request = target.make_request()  # signed now
    script = wrk_script(request, target.expected_status, target.stamped)
    if warmup:
        wrk.run(target.url, script, warmup, concurrency)
    before = cpu_snapshot(target, services, databases)
    busy_before = system_busy_seconds()
    result, sample, wrk_cpu = wrk.run(target.url, script, seconds, concurrency)
    busy = system_busy_seconds() - busy_before
    after = cpu_snapshot(target, services, databases)
    cpu = {name: cpu_used(before[name], after[name]) for name in before}
    cpu["wrk"] = wrk_cpu
    cpu["other"] = max(0.0, busy - sum(cpu.values()))
    return Run(target.name, concurrency, result["requests"], result["duration_us"] / 1e6,
               result["unexpected"] + result["timeouts"], result["socket_errors"],
               result["p50_us"] / 1000, result["p90_us"] / 1000, cpu, sample)


COLUMNS = {"gateway": "gateway", "keystone": "keystone", "keystone-db": "keystone-db",
           "gnocchi-api": "gnocchi-api", "gnocchi-db": "gnocchi-db",
           "gnocchi-metricd": "metricd", "wrk": "wrk", "other": "other"}


def report(targets: list[Target], concurrencies: list[int]) -> None:
    print("\nreq/s: median [min-max] over the rounds; vs gnocchi: median / gnocchi direct's "
          "median; then CPU ms per request (-db: PostgreSQL backends of that database; "
          "other: the rest of the machine)")
    print(f"{'target':20} {'conc':>4} {'req/s':>6} {'[min-max]':>10} {'vs gnocchi':>10} "
          f"{'p50 ms':>6} " + " ".join(f"{label:>11}" for label in COLUMNS.values()))
    for concurrency in concurrencies:
        base = statistics.median(r.rate for r in targets[-1].runs
                                 if r.concurrency == concurrency)
        for target in targets:
            runs = [r for r in target.runs if r.concurrency == concurrency]
            rates = [r.rate for r in runs]
            total = sum(r.requests for r in runs) or 1
            med = statistics.median(rates)
            cells = [f"{sum(r.cpu[c] for r in runs) * 1000 / total:>11.2f}"
                     if c in runs[0].cpu else f"{'-':>11}" for c in COLUMNS]
            print(f"{target.name:20} {concurrency:>4} {med:>6.1f} "
                  f"{f'[{min(rates):.0f}-{max(rates):.0f}]':>10} {med / base:>10.0%} "
                  f"{statistics.median(r.p50_ms for r in runs):>6.1f} " + " ".join(cells))
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", default="1,8", help="comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="gateway worker processes")
    parser.add_argument("--tenant", type=int, default=0, help="index in testbed.json")
    parser.add_argument("--keep", action="store_true", help="keep the gateways' folders")
    parser.add_argument("--json", type=Path, help="also write every run here")
    parser.add_argument("--also-checkout", type=Path, metavar="DIR",
                        help="also measure the gateway of another checkout (local_check "
                        "gaps and always), e.g. the code before a change: `git worktree add` it")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    testbed = load_testbed()
    if testbed is None:
        print("no test bed: run tools/testbed/up.sh first", file=sys.stderr)
        return 2
    services = service_pids(testbed)
    databases = database_names(testbed)
    root = Path(tempfile.mkdtemp(prefix="cfngw-osrate-"))
    gateways: dict[str, GatewayProcess] = {}
    wrk = Wrk()
    failed = False
    try:
        variants = [("gaps", "gaps", None), ("always", "always", None)]
        if args.also_checkout:  # the same gateway code from elsewhere (before a change)
            other = args.also_checkout.resolve()
            variants += [("gaps@other", "gaps", other), ("always@other", "always", other)]
        for name, check, checkout in variants:
            config = openstack_config(root / f"{name}.conf", testbed)
            with open(config, "a", encoding="utf-8") as f:
                f.write(f"\n[keystone_ec2]\nlocal_check = {check}\n")
            wrapper = ("env", f"PYTHONPATH={checkout}") if checkout else ()
            gateways[name] = GatewayProcess(root / name, free_port(), root / f"{name}.log",
                                            config_file=config, wrapper=wrapper)
            gateways[name].start(workers=args.workers)
        creds = tenant_credentials(testbed, args.tenant)
        params = datum_params(f"Bench/{uuid.uuid4().hex[:8]}")
        targets = [gateway_target(f"gateway {name}", gateway, creds, params)
                   for name, gateway in gateways.items()]
        targets.append(gnocchi_target(testbed, args.tenant, params))
        for target in targets:  # the gateway first: it creates the resource
            answer = send_once(target)
            if answer.status_code != target.expected_status:
                hint = ""
                if target.name.startswith("gateway always"):
                    hint = (" (local_check = always reads EC2 secrets with a system-scoped "
                            "token: the gateway user needs the reader role on the system)")
                raise SystemExit(f"{target.name}: HTTP {answer.status_code} "
                                 f"{answer.text[:500]}{hint}")
        print(f"gateways: {args.workers} workers each; wrk 1 thread; {args.rounds} rounds x "
              f"{args.duration} s (+{args.warmup} s warm-up) per target and concurrency",
              flush=True)
        for round_ in range(args.rounds):
            order = targets if round_ % 2 == 0 else targets[::-1]
            for concurrency in concurrencies:
                for target in order:
                    run = measure(wrk, target, concurrency, args.duration, args.warmup,
                                  services, databases)
                    target.runs.append(run)
                    print(f"round {round_ + 1} c={concurrency:<2} {target.name:20} "
                          f"{run.rate:7.1f} req/s  p50 {run.p50_ms:6.1f} ms  "
                          f"unexpected {run.unexpected}  socket errors {run.socket_errors}",
                          flush=True)
                    if run.unexpected or run.socket_errors:
                        failed = True
                        print(f"  first unexpected answer: {run.sample!r}", file=sys.stderr)
        report(targets, concurrencies)
        if args.json:
            args.json.write_text(json.dumps(
                [r.__dict__ for t in targets for r in t.runs], indent=1))
    finally:
        wrk.stop()
        for gateway in gateways.values():
            gateway.stop()
    for check, gateway in gateways.items():
        log = gateway.log_text()
        if "Traceback" in log or "status=500" in log:
            failed = True
            print(f"gateway {check}: errors in its log {gateway.log_path}", file=sys.stderr)
    if failed:
        print("FAILED: some requests did not succeed (see above)", file=sys.stderr)
        print(f"logs kept in {root}", file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"kept {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
