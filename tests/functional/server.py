"""Start and stop a real ``cfn-gateway serve`` process on 127.0.0.1 for functional tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

BIN_DIR = Path(sys.executable).parent


def cfn_gateway_command() -> list[str]:
    script = BIN_DIR / "cfn-gateway"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cfn_gateway.cmd.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Credentials:
    access_key: str
    secret_key: str
    project: str


@dataclass
class GatewayProcess:
    data_dir: Path
    port: int
    log_path: Path
    config_file: Path | None = None
    process: subprocess.Popen | None = None
    #: a command line the server runs under (e.g. ``unshare -m ...``), ending in ``--``
    wrapper: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int = 2, timeout: float = 30.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*self.wrapper, *cfn_gateway_command(), "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(workers),
                 "--data-dir", str(self.data_dir),
                 *(["--config", str(self.config_file)] if self.config_file else [])],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_healthy(timeout)
        except BaseException:
            self.stop()  # never leave a half-started gateway behind
            raise

    def _wait_until_healthy(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text()[-4000:]}")
            try:
                if requests.get(self.endpoint + "/healthcheck", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gateway did not start: {self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def create_credentials(self, project: str) -> Credentials:
        out = subprocess.run(
            [*cfn_gateway_command(), "credentials", "create", "--project", project,
             "--data-dir", str(self.data_dir), "--json"],
            check=True, capture_output=True, text=True,
        ).stdout
        data = json.loads(out)
        return Credentials(data["AccessKeyId"], data["SecretAccessKey"], data["Project"])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """granian's worker processes: the serve process's children but the alarm engine
        (Linux ``/proc``)."""
        assert self.process is not None
        return [pid for pid in children_of(self.process.pid) if not is_engine(pid)]

    def engine_pids(self) -> list[int]:
        """The alarm engine serve started beside its workers (standalone mode)."""
        assert self.process is not None
        return [pid for pid in children_of(self.process.pid) if is_engine(pid)]


def is_engine(pid: int) -> bool:
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"engine" in arguments


def parent_pid(pid: int) -> int | None:
    """The parent of ``pid``, or None if there is no such process (Linux ``/proc``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # the name, in parentheses, may hold spaces
    return None if fields[0] == "Z" else int(fields[1])  # a zombie has exited already


def children_of(pid: int) -> list[int]:
    return sorted(int(entry.name) for entry in Path("/proc").iterdir()
                  if entry.name.isdigit() and parent_pid(int(entry.name)) == pid)


@contextmanager
def serving(root: Path, config_file: Path | None = None,
            port: int | None = None) -> Iterator[GatewayProcess]:
    """A gateway on ``port`` (default: a free one) with its data under ``root``, stopped at
    the end; then its log must show that, whatever the tests sent, it never failed inside
    (no 500, no traceback)."""
    process = GatewayProcess(data_dir=root / "data", port=port or free_port(),
                             log_path=root / "log", config_file=config_file)
    process.start()
    try:
        yield process
    finally:
        process.stop()
    log = process.log_text()
    assert "Traceback" not in log, around(log, "Traceback")
    assert "status=500" not in log, around(log, "status=500")


def around(log: str, mark: str) -> str:
    """The part of ``log`` that shows the first ``mark``: what led to it and what followed."""
    at = log.find(mark)
    return log[max(0, at - 1500):at + 3000]
