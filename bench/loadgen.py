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

wrk is closed-loop: each connection sends its next request as soon as the previous one is
answered.  With ``rate`` the script also defines wrk's ``delay()`` hook so that each wrk
thread sends at most ``rate / threads`` requests per second on a fixed schedule (read from
``CLOCK_MONOTONIC`` through LuaJIT's ffi), which is what a soak at a fraction of the peak
needs; if the server falls behind, the rate is whatever it manages, as with wrk2.
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
    .. '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
    .. '"mean_us":%d}\\n',
    "__MARK__", summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50.0), latency:percentile(90.0),
    latency:percentile(99.0), latency.max, latency.mean))
end
"""

RATE_HOOK = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local bench_ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, bench_ts)
  return tonumber(bench_ts.tv_sec) * 1000 + tonumber(bench_ts.tv_nsec) / 1e6
end
local interval_ms = __INTERVAL__
local next_ms = nil
delay = function()
  local now = now_ms()
  -- never burst more than one second's worth to catch up after a stall
  if next_ms == nil or next_ms < now - 1000 then next_ms = now end
  local wait = next_ms - now
  next_ms = next_ms + interval_ms
  if wait < 0 then return 0 end
  return math.floor(wait)
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
    mean_ms: float = 0.0

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


def lua_script(request: HTTPRequest, thread_rate: float | None = None) -> str:
    """The wrk script for ``request``; with ``thread_rate``, at most that many requests per
    second from each wrk thread."""
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
    if thread_rate:
        lines.append(RATE_HOOK.replace("__INTERVAL__", repr(1000.0 / thread_rate)))
    return "\n".join(lines) + "\n" + DONE_HOOK.replace("__MARK__", RESULT_MARK)


def run_wrk(
    url: str,
    request: HTTPRequest,
    duration_s: float,
    connections: int,
    threads: int = 1,
    timeout_s: float = 10.0,
    cpus: str | None = None,
    rate: float | None = None,
) -> WrkResult:
    """Run wrk once against ``url`` (scheme and host:port; the path comes from ``request``).

    wrk stops by itself after ``duration_s``; a watchdog kills it if it overruns by 30 s.
    ``rate`` caps the requests per second (all threads together); None: as fast as it can.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(request, rate / threads if rate else None))
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
        mean_ms=data.get("mean_us", 0) / 1000,
    )
