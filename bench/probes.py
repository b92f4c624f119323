"""Robustness probes, measured rather than asserted: slow clients and a graceful restart.

Slow clients: ``count`` connections each send a request and stop half-way, either inside
the headers (a slowloris) or inside a declared body (a slow upload, like an instance on a
congested link posting metrics).  While they hang, ``HEALTH_CHECKS`` ordinary ``GET
/healthcheck`` requests are made at once, each on its own connection (so that they reach
every worker whatever the kernel's accept order), and those answered within the timeout are
counted.  A server that reads requests on its worker threads gets
stuck once the stalled connections outnumber them; one that buffers requests before
handing them to Python does not.  All stalled sockets are closed afterwards and the probe
waits until the server answers again.

Graceful restart: while wrk replays the health check, the master receives SIGHUP (reload
for gunicorn, granian and uWSGI alike).  The probe counts failed requests, reports the
worst latency and how long it took until every worker had been replaced and the server
answered again.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from loadgen import WrkResult, run_wrk
from servers import RunningServer, http_get
from signed import health_check

STALLS = {
    "headers": b"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n",
    "body": b"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n"
    b"X-Amz-Target: GraniteServiceVersion20100801.ListMetrics\r\n"
    b"Content-Length: 1000\r\n\r\n{\"Namespace\":",
}


HEALTH_CHECKS = 4


@dataclass
class SlowClientResult:
    stall: str
    stalled: int
    answered_ms: list[float]
    """Latencies of the health checks answered while the clients stalled."""
    asked: int
    recovered_s: float | None
    """Seconds until the server answered again once the stalled clients left."""

    def describe(self, timeout_s: float) -> str:
        if not self.answered_ms:
            text = f"0/{self.asked}: blocked (>{timeout_s:g} s)"
        else:
            text = f"{len(self.answered_ms)}/{self.asked} in <= {max(self.answered_ms):.0f} ms"
        if self.recovered_s is None:
            text += ", not recovered"
        return text


def timed_health_check(port: int, timeout_s: float) -> float | None:
    started = time.monotonic()
    try:
        status, _ = http_get(port, "/healthcheck", timeout_s)
    except OSError:
        return None
    return (time.monotonic() - started) * 1000 if status == 200 else None


def slow_clients(server: RunningServer, stall: str, count: int,
                 timeout_s: float) -> SlowClientResult:
    payload = STALLS[stall].replace(b"{host}", server.host.encode())
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=2)
            s.sendall(payload)
            sockets.append(s)
        time.sleep(0.5)  # let the server accept and start reading them
        with ThreadPoolExecutor(HEALTH_CHECKS) as pool:
            answers = list(pool.map(lambda _: timed_health_check(server.port, timeout_s),
                                    range(HEALTH_CHECKS)))
    finally:
        for s in sockets:
            s.close()
    answered = [ms for ms in answers if ms is not None]
    return SlowClientResult(stall, count, answered, HEALTH_CHECKS, wait_healthy(server, 30.0))


def wait_healthy(server: RunningServer, timeout_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if http_get(server.port, "/healthcheck", 2.0)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    return None


@dataclass
class RestartResult:
    load: WrkResult
    replaced_s: float | None
    """Seconds from SIGHUP until every worker was new and the server answered."""


def graceful_restart(server: RunningServer, duration_s: float, connections: int,
                     client_cpus: str | None, signal_after_s: float = 1.0) -> RestartResult:
    old_workers = set(server.worker_pids())
    holder: dict[str, WrkResult | BaseException] = {}

    def load() -> None:
        try:
            holder["result"] = run_wrk(server.url, health_check(server.host), duration_s,
                                       connections, cpus=client_cpus)
        except BaseException as exc:  # reported by the caller
            holder["result"] = exc

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    time.sleep(signal_after_s)
    sent = time.monotonic()
    os.kill(server.pid, signal.SIGHUP)
    replaced_s = None
    deadline = sent + duration_s + 30
    while time.monotonic() < deadline:
        workers = set(server.worker_pids())
        if len(workers) >= server.workers and not workers & old_workers:
            try:
                if http_get(server.port, "/healthcheck", 2.0)[0] == 200:
                    replaced_s = time.monotonic() - sent
                    break
            except OSError:
                pass
        time.sleep(0.05)
    thread.join(duration_s + 60)
    result = holder.get("result")
    if not isinstance(result, WrkResult):
        raise RuntimeError(f"wrk failed during the restart probe: {result!r}")
    return RestartResult(result, replaced_s)
