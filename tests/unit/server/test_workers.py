"""The worker supervisor with small worker functions in place of the HTTP server, in a
serve process of its own (it takes over signals): a worker that cannot start is not
restarted in a tight loop; SIGHUP renews every worker once the new ones are ready;
SIGTERM stops them and ends the supervisor."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

SUPERVISED = textwrap.dedent("""
    import os, socket, sys, time
    from cfn_gateway.server.workers import Supervisor

    log, behaviour = sys.argv[1], sys.argv[2]

    def run_worker(sock, ready):
        with open(log, "a") as f:
            f.write(f"start {os.getpid()}\\n")
        if behaviour == "fail":
            raise RuntimeError("cannot start")
        ready()
        while True:
            time.sleep(0.1)

    sockets = [socket.socket(), socket.socket()]
    sys.exit(Supervisor(sockets, run_worker, kill_timeout=2).run())
""")


def supervise(tmp_path: Path, behaviour: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "starts.log"
    log.touch()
    process = subprocess.Popen([sys.executable, "-c", SUPERVISED, str(log), behaviour],
                               stderr=subprocess.DEVNULL)
    return process, log


def starts(log: Path) -> list[int]:
    return [int(line.split()[1]) for line in log.read_text().splitlines()]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_that_cannot_start_is_retried_once_a_second(tmp_path):
    process, log = supervise(tmp_path, "fail")
    try:
        time.sleep(2.5)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    # Two sockets: each worker at 0 s, then about once a second.
    assert 4 <= len(starts(log)) <= 8, starts(log)


def test_sighup_renews_every_worker_and_sigterm_stops_them(tmp_path):
    process, log = supervise(tmp_path, "serve")
    try:
        wait_for(lambda: len(starts(log)) == 2)
        first = starts(log)
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(starts(log)) == 4)
        wait_for(lambda: not any(_alive(pid) for pid in first))
        renewed = starts(log)[2:]
        assert all(_alive(pid) for pid in renewed)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    assert not any(_alive(pid) for pid in starts(log))


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
