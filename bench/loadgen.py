"""Drive wrk (Debian's ``wrk`` package) and read its results as numbers.

Why wrk rather than a Python client: on a 2-core machine the load generator takes CPU from
the server it measures.  wrk is C with one epoll loop per thread; it spends a few
microseconds of CPU per request, where a Python keep-alive client spends tens (about as much
as the gateway's own health check), so a Python client would measure itself.  wrk runs with
one thread, so it never takes more than one core, and the benchmark reports both the CPU
wrk used and the CPU the server used per request (``procstats``), which does not depend on
that competition.

One request is replayed for the whole run.  For signed scenarios that is a real SigV4
request captured from botocore just before the run (``signed``): the signature carries a
timestamp the gateway accepts for 15 minutes, and a run lasts seconds.  The generated Lua
script sets method, path, headers and body, and its ``done`` hook prints one JSON line
with the counts and latency percentiles, so nothing is parsed out of wrk's human output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field

RESULT_MARK = "WRK-RESULT "

DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    "__MARK__", summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50.0), latency:percentile(90.0),
    latency:percentile(99.0), latency.max))
end
"""


@dataclass
class HTTPRequest:
    """One request to replay: what wrk sends and what the check before the run sends."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_s: float
    """CPU seconds wrk itself used (user + system)."""

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def wrk_path() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk not found: apt-get update && apt-get install -y wrk")
    return path


def lua_string(data: bytes) -> str:
    """A Lua string literal holding exactly ``data`` (decimal escapes for anything unsafe)."""
    out = []
    for byte in data:
        char = chr(byte)
        if 32 <= byte < 127 and char not in '"\\':
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_script(request: HTTPRequest) -> str:
    lines = [
        f"wrk.method = {lua_string(request.method.encode())}",
        f"wrk.path = {lua_string(request.path.encode())}",
    ]
    if request.body:
        lines.append(f"wrk.body = {lua_string(request.body)}")
    for name, value in request.headers.items():
        if name.lower() == "content-length":
            continue  # wrk computes it from wrk.body
        lines.append(f"wrk.headers[{lua_string(name.encode())}] = {lua_string(value.encode())}")
    return "\n".join(lines) + "\n" + DONE_HOOK.replace("__MARK__", RESULT_MARK)


def run_wrk(
    url: str,
    request: HTTPRequest,
    duration_s: float,
    connections: int,
    threads: int = 1,
    timeout_s: float = 10.0,
    cpus: str | None = None,
) -> WrkResult:
    """Run wrk once against ``url`` (scheme and host:port; the path comes from ``request``).

    wrk stops by itself after ``duration_s``; a watchdog kills it if it overruns by 30 s.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(request))
    command = [
        wrk_path(),
        "-t", str(threads),
        "-c", str(connections),
        "-d", f"{max(1, round(duration_s))}s",
        "--timeout", f"{max(1, round(timeout_s))}s",
        "-s", script.name,
        url,
    ]
    if cpus:
        command = ["taskset", "-c", cpus, *command]
    try:
        with tempfile.TemporaryFile() as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            watchdog = threading.Timer(duration_s + timeout_s + 30, process.kill)
            watchdog.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                watchdog.cancel()
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode(errors="replace")
    finally:
        os.unlink(script.name)
    for line in text.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line[len(RESULT_MARK) :])
            break
    else:
        raise RuntimeError(f"wrk exited {process.returncode} without a result:\n{text[-2000:]}")
    return WrkResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        errors={k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]},
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        client_cpu_s=usage.ru_utime + usage.ru_stime,
    )
