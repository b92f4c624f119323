"""The candidate WSGI servers, each started on 127.0.0.1 with the same number of workers.

Every candidate serves ``gateway_wsgi:application`` (this folder on ``PYTHONPATH``) with
its own temporary data folder, is configured the way it would run in production (no server
access log: the gateway writes its own; worker import after the fork), and is stopped by
the pid the benchmark started.

- ``gunicorn-sync``: what ``cfn-gateway serve`` runs today (same options as serve.py);
  one request at a time per worker, no keep-alive.
- ``gunicorn-gthread``: gunicorn's threaded worker, 4 threads per worker, keep-alive.
- ``granian``: the Rust (hyper/tokio) server, ``--interface wsgi``; HTTP parsing and
  keep-alive in Rust, the app called on a pool of blocking threads (granian's default pool
  size, half the per-worker backpressure: 256 threads with the default backlog).
- ``granian-bt1``: the same with ``--blocking-threads 1``: Rust in front, then one Python
  thread per worker, like a sync worker.
- ``granian-bt4``: ``--blocking-threads 4``, comparable with gthread (not run by default,
  to keep a full run under 5 minutes: ``--servers granian-bt4,...``).
- ``uwsgi``: uWSGI 2.0 with ``--http-socket`` (workers parse HTTP themselves: no separate
  router process, so the worker count stays equal), ``--master --lazy-apps``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from procstats import cmdline, parent_pid, process_tree

BENCH_DIR = Path(__file__).resolve().parent
BIN_DIR = Path(sys.executable).parent

CommandBuilder = Callable[[int, int], list[str]]


def _gunicorn(worker_class: str, threads: int = 1) -> CommandBuilder:
    def command(port: int, workers: int) -> list[str]:
        return [
            str(BIN_DIR / "gunicorn"),
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--threads", str(threads),
            # The options cfn_gateway/cmd/serve.py sets.
            "--timeout", "60",
            "--graceful-timeout", "10",
            "--keep-alive", "5",
            "--error-logfile", "-",
            "--log-level", "warning",
            "gateway_wsgi:application",
        ]

    return command


def _granian(blocking_threads: int | None) -> CommandBuilder:
    def command(port: int, workers: int) -> list[str]:
        extra = [] if blocking_threads is None else ["--blocking-threads", str(blocking_threads)]
        return [
            str(BIN_DIR / "granian"),
            "--interface", "wsgi",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--workers", str(workers),
            *extra,
            "--log-level", "warning",
            "--no-access-log",
            "gateway_wsgi:application",
        ]

    return command


def _uwsgi(port: int, workers: int) -> list[str]:
    return [
        str(BIN_DIR / "uwsgi"),
        "--http-socket", f"127.0.0.1:{port}",
        # --http-socket closes the connection after each response; saying so lets clients
        # (wrk included) tell it from an error.  --http11-socket keeps connections alive
        # but pins a worker to each one: 2 idle keep-alive clients would stall 2 workers.
        "--add-header", "Connection: close",
        "--master",
        "--processes", str(workers),
        "--lazy-apps",  # import the app in each worker, after the fork
        "--home", sys.prefix,
        "--pythonpath", str(BENCH_DIR),
        "--module", "gateway_wsgi:application",
        "--need-app",
        "--die-on-term",  # uWSGI 2.0 reloads on SIGTERM unless told otherwise
        "--enable-threads",
        "--single-interpreter",
        "--disable-logging",  # no per-request log line from uWSGI itself
        "--listen", "1024",
        "--buffer-size", "32768",
        "--harakiri", "60",
    ]


@dataclass
class Candidate:
    name: str
    summary: str
    binary: str
    command: CommandBuilder
    default: bool = True
    """Part of a run without ``--servers``."""

    def missing(self) -> str | None:
        """Why this candidate cannot run here, or None."""
        if not (BIN_DIR / self.binary).exists():
            return f"{BIN_DIR / self.binary} not installed (pip install {self.binary})"
        return None


CANDIDATES = [
    Candidate("gunicorn-sync", "gunicorn sync workers (today's serve.py)", "gunicorn",
              _gunicorn("sync")),
    Candidate("gunicorn-gthread", "gunicorn gthread, 4 threads/worker", "gunicorn",
              _gunicorn("gthread", threads=4)),
    Candidate("granian", "granian wsgi, default blocking threads", "granian", _granian(None)),
    Candidate("granian-bt1", "granian wsgi, 1 blocking thread/worker", "granian",
              _granian(1)),
    Candidate("granian-bt4", "granian wsgi, 4 blocking threads/worker", "granian",
              _granian(4), default=False),
    Candidate("uwsgi", "uWSGI http-socket, master, lazy-apps", "uwsgi", _uwsgi),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class RunningServer:
    candidate: Candidate
    workers: int
    data_dir: Path
    log_path: Path
    paste_config: str | None = None
    log_level: str = "INFO"
    cpus: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    startup_s: float = 0.0
    health_path: str = "/healthcheck"
    """What ``start`` polls until it answers 200."""
    env_update: dict[str, str | None] = field(default_factory=dict)
    """Applied to the server's environment last; None removes a variable."""

    @property
    def name(self) -> str:
        return self.candidate.name

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(BENCH_DIR), *filter(None, [env.get("PYTHONPATH")])]
        )
        env["CFN_BENCH_DATA_DIR"] = str(self.data_dir)
        env["CFN_BENCH_LOG_LEVEL"] = self.log_level
        if self.paste_config:
            env["CFN_BENCH_PASTE_CONFIG"] = self.paste_config
        for name, value in self.env_update.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        command = self.candidate.command(self.port, self.workers)
        if self.cpus:
            command = ["taskset", "-c", self.cpus, *command]
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(BENCH_DIR),
                start_new_session=True,
            )
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if http_get(self.port, self.health_path, 1.0)[0] == 200 and len(
                    self.worker_pids()
                ) >= self.workers:
                    self.startup_s = time.monotonic() - started
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.health_path} in {timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The worker processes: the master's children, less multiprocessing helpers."""
        if self.process is None:
            return []
        tree = process_tree(self.pid)
        # taskset execs the server, so the started pid is the server's master.
        children = [pid for pid in tree[1:] if parent_pid(pid) == self.pid]
        return [pid for pid in children if "tracker" not in cmdline(pid)]

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the server's master (graceful), SIGKILL to its own group after that."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        # Workers that outlived their master (none should) are in the group we created.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
