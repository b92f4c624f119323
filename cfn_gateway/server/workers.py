"""The serve process's worker processes: forked one per listening socket, kept alive.

``Supervisor.run`` forks a worker for each socket that ``listener.bind_listeners`` bound
(worker ``idx`` serves socket ``idx``, also when it is replaced) and then only watches:

- a worker that dies is replaced (a second later if it died within a second of its
  start, so that a worker that cannot start does not make the serve process spin);
- SIGHUP renews every worker: a new one starts on each socket and, once it says it is
  listening (a byte on a pipe) or ``READY_TIMEOUT_S`` passed, the old one is asked to
  stop (SIGTERM: it answers what it has begun).  The sockets stay open in the serve
  process throughout, so connections that arrive meanwhile wait in their backlog;
- SIGTERM or SIGINT stops every worker the same way, and those still alive after
  ``kill_timeout`` seconds are killed; then ``run`` returns.

Signals only write their number to a pipe (``signal.set_wakeup_fd``) that the loop
selects on, so nothing runs inside a handler.  A worker starts with the default handlers
and its own ``run_worker(sock, ready)``; it exits with 0 when that returns, else 1.  The
supervisor waits for its own workers only (``waitpid`` by pid), so the serve process's
other children (the engine) keep their exit status for their ``Popen``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LOG = logging.getLogger(__name__)

#: How long a renewed worker has to say it listens before its predecessor is stopped.
READY_TIMEOUT_S = 30.0
#: A worker that dies this soon after its start is replaced only after as long again.
QUICK_DEATH_S = 1.0

RunWorker = Callable[[socket.socket, Callable[[], None]], None]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
WATCHED_SIGNALS = (*STOP_SIGNALS, signal.SIGHUP, signal.SIGCHLD)


@dataclass
class Worker:
    idx: int
    pid: int
    started: float
    ready_fd: int | None = None
    """Read end of the pipe the worker writes a byte to once it listens."""


@dataclass
class Supervisor:
    sockets: list[socket.socket]
    run_worker: RunWorker
    kill_timeout: float = 10.0
    workers: dict[int, Worker] = field(default_factory=dict)
    """The current worker of each socket."""
    retiring: dict[int, Worker] = field(default_factory=dict)
    """Workers asked to stop, by pid."""
    respawn_at: dict[int, float] = field(default_factory=dict)
    """Sockets whose worker died, and when to start the next."""

    def run(self) -> int:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        previous = {signum: signal.signal(signum, _note) for signum in WATCHED_SIGNALS}
        old_wakeup = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
        self._wake_fds = (wake_read, wake_write)
        try:
            for idx in range(len(self.sockets)):
                self.spawn(idx)
            while True:
                signums = _read_signals(wake_read, timeout=0.5)
                if any(signum in STOP_SIGNALS for signum in signums):
                    break
                self.reap()
                if signal.SIGHUP in signums:
                    self.renew()
                self.respawn_due()
            self.stop_all()
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            os.close(wake_read)
            os.close(wake_write)
        return 0

    def spawn(self, idx: int) -> Worker:
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(ready_read)
            self._become_worker(idx, ready_write)
        os.close(ready_write)
        worker = Worker(idx, pid, time.monotonic(), ready_read)
        self.workers[idx] = worker
        return worker

    def _become_worker(self, idx: int, ready_write: int) -> None:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for signum in WATCHED_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            for fd in self._wake_fds:
                os.close(fd)

            def ready() -> None:
                with contextlib.suppress(OSError):
                    os.write(ready_write, b"1")
                    os.close(ready_write)

            self.run_worker(self.sockets[idx], ready)
            code = 0
        except BaseException:
            LOG.exception("worker %d failed", os.getpid())
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)

    def reap(self) -> None:
        """Take note of the workers that exited; replace the current ones."""
        for worker in [*self.workers.values(), *self.retiring.values()]:
            try:
                pid, status = os.waitpid(worker.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = worker.pid, 0
            if pid == 0:
                continue
            self._close_ready(worker)
            if self.retiring.pop(worker.pid, None) is not None:
                continue
            del self.workers[worker.idx]
            LOG.warning("worker %d exited (%s): starting another", worker.pid,
                        _exit_text(status))
            quick = time.monotonic() - worker.started < QUICK_DEATH_S
            self.respawn_at[worker.idx] = time.monotonic() + (QUICK_DEATH_S if quick else 0)

    def respawn_due(self) -> None:
        now = time.monotonic()
        for idx, when in list(self.respawn_at.items()):
            if when <= now:
                del self.respawn_at[idx]
                self.spawn(idx)

    def renew(self) -> None:
        """SIGHUP: a new worker on every socket, then the old ones stop."""
        old = list(self.workers.values())
        LOG.info("renewing %d workers", len(old))
        new = [self.spawn(worker.idx) for worker in old]
        deadline = time.monotonic() + READY_TIMEOUT_S
        for worker in new:
            self._wait_ready(worker, deadline)
        for worker in old:
            self._close_ready(worker)
            self.retiring[worker.pid] = worker
            _signal(worker.pid, signal.SIGTERM)

    def stop_all(self) -> None:
        """SIGTERM to every worker; SIGKILL to those alive ``kill_timeout`` later."""
        self.respawn_at.clear()
        for worker in list(self.workers.values()):
            self._close_ready(worker)
            self.retiring[worker.pid] = worker
        self.workers.clear()
        for pid in self.retiring:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_timeout
        while self.retiring and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.05)
        for pid in list(self.retiring):
            LOG.warning("worker %d did not stop within %.0f s: killed", pid,
                        self.kill_timeout)
            _signal(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.retiring.clear()

    def _wait_ready(self, worker: Worker, deadline: float) -> None:
        if worker.ready_fd is None:
            return
        remaining = max(0.0, deadline - time.monotonic())
        with contextlib.suppress(InterruptedError):
            select.select([worker.ready_fd], [], [], remaining)
        self._close_ready(worker)

    @staticmethod
    def _close_ready(worker: Worker) -> None:
        if worker.ready_fd is not None:
            os.close(worker.ready_fd)
            worker.ready_fd = None


def _note(signum: int, frame: object) -> None:
    """Signal handler: nothing; the wakeup fd carries the signal to ``run``'s loop."""


def _read_signals(fd: int, timeout: float) -> set[int]:
    with contextlib.suppress(InterruptedError):
        select.select([fd], [], [], timeout)
    try:
        return set(os.read(fd, 256))
    except BlockingIOError:
        return set()


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"status {os.waitstatus_to_exitcode(status)}"
