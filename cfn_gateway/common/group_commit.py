"""Group commit: concurrent writes to one SQLite connection share one transaction and one
fsync, and each is acknowledged only after that commit.

With ``synchronous=FULL`` every commit waits for the disk (an fsync of the WAL).  A
process that commits each request on its own spends most of its write path waiting for
it, and worker processes queue for SQLite's write lock through its busy handler, which
polls with sleeps of 1, 2, 5, 10 ms and more.  Here:

- Within a process, the first writer to arrive leads: it takes the writes queued at that
  moment (its own and those that arrived while the previous batch committed, at most
  ``max_batch``), runs each in a SAVEPOINT of its own inside one ``BEGIN IMMEDIATE``
  transaction, commits once, and wakes their threads.  A write that raises is rolled back
  to its savepoint alone, and its thread gets the error.  Writes that queued meanwhile are
  led by the first of them.
- Across processes, a leader holds an exclusive ``flock`` on a lock file beside the
  database (``<file>-writers``) for its transaction, so the workers' leaders take turns,
  woken by the kernel the moment the lock is free, instead of polling SQLite's lock.
  Other writers of the file that do not take it still work: SQLite's own lock orders
  them.
- Durability is unchanged: no writer returns before the COMMIT that holds its write has
  returned (with ``synchronous=FULL``, after the fsync).  A COMMIT that fails fails every
  write of its batch, none of which was kept; so does a write whose error lost the
  transaction (SQLite rolled it back) or found the disk full.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cfn_gateway.common.private_files import private_file
from cfn_gateway.common.sqlite import database_file, disk_full, write_transaction

T = TypeVar("T")

#: Writes one transaction takes at most (its statements run while the others wait).
MAX_BATCH = 256
LOCK_SUFFIX = "-writers"


class ProcessLock:
    """An exclusive ``flock`` on a file: one holder among all processes that take it.

    The lock belongs to the open file, so the threads of one process share it: callers
    hold a thread lock around it."""

    def __init__(self, path: str) -> None:
        private_file(path)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def __enter__(self) -> ProcessLock:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


@dataclass(eq=False)
class _Write(Generic[T]):
    work: Callable[[sqlite3.Connection], T]
    woken: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Runs writes on ``conn`` (an autocommit connection guarded by ``lock``) in shared
    transactions."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock,
                 max_batch: int = MAX_BATCH) -> None:
        self._conn = conn
        self._lock = lock
        self._max_batch = max_batch
        self._writers = ProcessLock(database_file(conn) + LOCK_SUFFIX)
        self._queue_lock = threading.Lock()
        self._queue: list[_Write[Any]] = []
        self._leading = False

    def close(self) -> None:
        self._writers.close()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(conn)`` inside a write transaction; returns its result once the
        transaction that holds it has committed (or raises what ``work`` or the commit
        raised: then nothing of ``work`` was kept)."""
        write: _Write[T] = _Write(work)
        with self._queue_lock:
            self._queue.append(write)
            if not self._leading:
                self._leading = write.leads = True
        while not write.leads and not write.done:
            write.woken.wait()
            write.woken.clear()
        if not write.done:
            self._lead()
        if write.error is not None:
            raise write.error
        return write.result

    def _lead(self) -> None:
        """Commit one batch, then hand the lead to the first write that queued since."""
        with self._queue_lock:
            batch = self._queue[:self._max_batch]
            del self._queue[:self._max_batch]
        try:
            self._commit(batch)
        finally:
            with self._queue_lock:
                if self._queue:
                    self._queue[0].leads = True
                    self._queue[0].woken.set()
                else:
                    self._leading = False
            for write in batch:
                write.done = True
                write.woken.set()

    def _commit(self, batch: list[_Write[Any]]) -> None:
        try:
            with self._writers, write_transaction(self._conn, self._lock) as conn:
                for write in batch:
                    conn.execute("SAVEPOINT write")
                    try:
                        write.result = write.work(conn)
                    except Exception as exc:
                        if not conn.in_transaction or (
                                isinstance(exc, sqlite3.Error) and disk_full(exc)):
                            raise  # the transaction itself is lost: the batch fails
                        conn.execute("ROLLBACK TO write")
                        write.error = exc
                    conn.execute("RELEASE write")
        except BaseException as exc:
            for write in batch:
                if write.error is None:
                    write.error = exc
                    write.result = None
            if not isinstance(exc, Exception):
                raise
