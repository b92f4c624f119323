"""Group commit: concurrent writes to one SQLite connection share one transaction and one
fsync, and each is acknowledged only after that commit.

With ``synchronous=FULL`` every commit waits for the disk (an fsync of the WAL).  A
process that commits each request on its own spends most of its write path waiting for
it, and worker processes queue for SQLite's write lock through its busy handler, which
polls with sleeps of 1, 2, 5, 10 ms and more.  Here:

- Within a process, the first writer to arrive leads: once it holds the file's lock
  (below), it takes the writes queued at that moment (its own and those that arrived
  while the previous batch committed or while it waited for the lock, at most
  ``max_batch``), runs each in a SAVEPOINT of its own inside one ``BEGIN IMMEDIATE``
  transaction, commits once, and wakes their threads.  A write that raises is rolled back
  to its savepoint alone, and its thread gets the error.  Writes that queued meanwhile are
  led by the first of them.
- Across processes, a leader holds an exclusive ``flock`` on a lock file beside the
  database (``<file>-writers``) for its transaction, so the workers' leaders take turns,
  woken by the kernel the moment the lock is free, instead of polling SQLite's lock.
  Taking the batch only then lets a turn carry everything that queued during the other
  processes' turns (bench/README.md: 9 writes a commit instead of 7 under 1-datum puts,
  6-12 % more requests a second).
  Other writers of the file that do not take it still work: SQLite's own lock orders
  them.
- Durability is unchanged: no writer returns before the COMMIT that holds its write has
  returned (with ``synchronous=FULL``, after the fsync).  A COMMIT that fails fails every
  write of its batch, none of which was kept; so does a write whose error lost the
  transaction (SQLite rolled it back) or found the disk full.
- A write made under a request's ``Deferral`` (``common.deferral``: the pipeline runs
  inline on a worker's event loop) does not wait: it is queued and ``run`` returns None at
  once, and the batch it is in is led on that loop, in a callback of its own once the
  loop has handled what was ready (the requests that arrived together), and each outcome
  reported to its request once the COMMIT has returned; the request is answered only
  then.  The loop leads only when the file's lock is free at once (``flock`` with
  ``LOCK_NB``); when another process holds it, the process's committer thread (started
  when first needed) waits for it and leads instead, and hands the lead back to the loop
  after its batch.  A loop that leads crosses no thread and shares no GIL for its commit:
  measured side by side (bench/README.md), 8,586 -> 11,218 1-datum JSON puts a second at
  173 -> 147 us of CPU each, against a committer thread leading every batch.  Work that may
  hold the lock long does not belong on the loop: the transaction says so
  (``on_event_loop``), and such work goes to ``run_later``, led by the committer.
  Blocking writers, the loop and the committer take turns at the lead.
- ``after(result)`` runs once the write's transaction has committed (on the thread that
  led it), for what may only be done then, such as caching the ids it made.
- Writes of one kind may say how to run ``Together`` (``common.batch_writes``, which runs
  a batch inside its transaction): neighbours in a batch done by one call, one statement
  per table for them all.  Under many small concurrent writes (1-datum PutMetricData) this
  is most of a commit's statements.
"""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import logging
import os
import sqlite3
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from cfn_gateway.common import deferral as deferrals
from cfn_gateway.common.batch_writes import QueuedWrite, Together, run_batch
from cfn_gateway.common.private_files import private_file
from cfn_gateway.common.sqlite import database_file, write_transaction

T = TypeVar("T")

LOG = logging.getLogger(__name__)

#: Writes one transaction takes at most (its statements run while the others wait).
MAX_BATCH = 256
LOCK_SUFFIX = "-writers"
#: How often a blocking writer looks again whether a loop's turn is stuck (a loop that
#: stopped before its callback ran); each hand-over to a loop also wakes them.
LOOP_TURN_RECHECK_S = 1.0


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

    def take_if_free(self) -> bool:
        """Take the lock if no other process holds it; False (not held) if one does."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


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
        self._queue: list[QueuedWrite[Any]] = []
        self._leading = False
        # The committer: its turn to lead, and its thread once first needed.
        self._turn = threading.Condition(self._queue_lock)
        self._committer_leads = False
        self._committer: threading.Thread | None = None
        #: The loop whose callback is to lead the next batch (None: no such turn is due).
        self._loop_turn: asyncio.AbstractEventLoop | None = None
        #: Blocking writers in ``run`` (the loop's own thread may be one of them).
        self._blocking = 0
        #: ``run_later`` writes queued (a loop's batch stops before the first of them).
        self._later_queued = 0
        #: Whether the transaction under way is led on an event loop (see ``run_later``).
        self.on_event_loop = False

    def close(self) -> None:
        self._writers.close()

    def run(self, work: Callable[[sqlite3.Connection], T],
            after: Callable[[T], None] | None = None,
            together: Together[Any, T] | None = None, *, wait: bool = False) -> T | None:
        """``work(conn)`` inside a write transaction; returns its result once the
        transaction that holds it has committed (or raises what ``work`` or the commit
        raised: then nothing of ``work`` was kept).  Under a request's deferral: None at
        once, and the outcome goes to the deferral after the commit, unless ``wait`` (a
        read that needs the write done before it goes on).  ``together``: how this write
        may run combined with its neighbours in the batch."""
        deferral = None if wait else deferrals.current()
        woken = None if deferral is not None else threading.Event()
        write: QueuedWrite[T] = QueuedWrite(work, after, together, deferral, woken)
        if deferral is not None:
            deferral.add()
            with self._queue_lock:
                self._queue.append(write)
                if not self._leading:
                    self._leading = True
                    self._hand_to_loop(deferral.loop)
            return None
        with self._queue_lock:
            self._queue.append(write)
            self._blocking += 1
            if not self._leading or self._may_take_loop_turn():
                self._loop_turn = None
                self._leading = write.leads = True
        assert woken is not None
        try:
            while not write.leads and not write.done:
                # Woken to lead, or done, or to see whether it must take a turn given to
                # the loop of its own thread (or to a loop that has stopped since).
                woken.wait(LOOP_TURN_RECHECK_S)
                woken.clear()
                with self._queue_lock:
                    if not write.leads and not write.done and self._may_take_loop_turn():
                        self._loop_turn = None
                        write.leads = True
            if not write.done:
                self._lead()
        finally:
            with self._queue_lock:
                self._blocking -= 1
        if write.error is not None:
            raise write.error
        return write.result

    def run_later(self, work: Callable[[sqlite3.Connection], object]) -> None:
        """``work(conn)`` in a write transaction led by the committer thread, soon; no one
        waits for it (its failure is logged).  For work that may hold the file's lock long,
        wanted by a transaction led on an event loop (``on_event_loop``)."""
        later: QueuedWrite[Any] = QueuedWrite(work)
        with self._queue_lock:
            self._queue.append(later)
            self._later_queued += 1
            if not self._leading:
                self._leading = True
                self._hand_to_committer()

    def _may_take_loop_turn(self) -> bool:
        """(Under the queue lock) whether a blocking writer takes the lead that a loop's
        callback was to take: it runs on that loop's thread (which would wait for itself),
        or that loop no longer runs."""
        loop = self._loop_turn
        return loop is not None and (not loop.is_running()
                                     or asyncio._get_running_loop() is loop)

    def _hand_to_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """(Under the queue lock) ``loop`` leads the next batch, from a callback of its
        own; the committer does when that loop cannot be reached."""
        self._loop_turn = loop
        if self._blocking:  # one of them may hold that loop's thread: see run()
            for waiting in self._queue:
                if waiting.woken is not None:
                    waiting.woken.set()
        try:  # in a context of its own: the callback belongs to no request
            deferrals.call_soon_on(loop, self._lead_on_loop, loop,
                                   context=contextvars.Context())
        except RuntimeError:  # a closed loop
            self._loop_turn = None
            self._hand_to_committer()

    def _hand_to_committer(self) -> None:
        """(Under the queue lock) the committer leads the next batch."""
        if self._committer is None:
            self._committer = threading.Thread(
                target=self._commit_forever, name="cfn-gateway-committer", daemon=True)
            self._committer.start()
        self._committer_leads = True
        self._turn.notify()

    def _lead_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """(A loop's callback) lead the next batch here if the file's lock is free at
        once; if another process holds it, the committer waits for it instead."""
        with self._queue_lock:
            if self._loop_turn is not loop:  # a blocking writer took the lead meanwhile
                return
            self._loop_turn = None
        try:
            free = self._writers.take_if_free()
        except OSError:
            free = False  # the committer's own attempt fails the batch with the error
        if not free:
            with self._queue_lock:
                self._hand_to_committer()
            return
        self.on_event_loop = True
        try:
            self._lead(locked=True)
        finally:
            self.on_event_loop = False

    def _commit_forever(self) -> None:
        while True:
            with self._queue_lock:
                while not self._committer_leads:
                    self._turn.wait()
                self._committer_leads = False
            try:
                self._lead()
            except BaseException:  # _commit has given every write of the batch its error
                LOG.exception("the committer's batch failed")

    def _lead(self, locked: bool = False) -> None:
        """Commit one batch, then hand the lead to the first write that queued since.  The
        batch is taken once this process holds the file's lock (``locked``: it does
        already), so the writes that queued while another process committed go in it too."""
        batch: list[QueuedWrite[Any]] = []
        try:
            try:
                if not locked:
                    self._writers.__enter__()
            except Exception as exc:  # no turn at the file: the writes waiting fail
                batch = self._take_batch()
                for write in batch:
                    write.error = exc
                return
            try:
                batch = self._take_batch()
                self._commit(batch)
            finally:
                self._writers.__exit__()
        finally:
            with self._queue_lock:
                self._hand_on()
            self._finish(batch)

    def _hand_on(self) -> None:
        """(Under the queue lock) the lead to the first write queued: its own thread, its
        request's loop, or (for ``run_later``) the committer."""
        if not self._queue:
            self._leading = False
            return
        first = self._queue[0]
        if first.woken is not None:
            first.leads = True
            first.woken.set()
        elif first.deferral is not None:
            self._hand_to_loop(first.deferral.loop)
        else:
            self._hand_to_committer()

    def _take_batch(self) -> list[QueuedWrite[Any]]:
        """The writes queued first, at most ``max_batch``; led on a loop, none from the
        first ``run_later`` write on (that one is the committer's to lead)."""
        with self._queue_lock:
            size = self._max_batch
            if self._later_queued:
                later = 0
                for i, write in enumerate(self._queue[:size]):
                    if write.deferral is None and write.woken is None:
                        if self.on_event_loop:
                            size = i
                            break
                        later += 1
                self._later_queued -= later
            batch = self._queue[:size]
            del self._queue[:size]
        return batch

    @staticmethod
    def _finish(batch: list[QueuedWrite[Any]]) -> None:
        """After the commit: each write's ``after``, then its writer told."""
        outcomes: list[tuple[deferrals.Deferral, BaseException | None]] = []
        for write in batch:
            if write.error is None and write.after is not None:
                try:
                    write.after(write.result)
                except Exception:  # the write is committed: it stays acknowledged
                    LOG.exception("a committed write's follow-up failed")
            if write.deferral is not None:
                outcomes.append((write.deferral, write.error))
                if write.error is not None:  # frames still refer to the batch: let the
                    forget_locals(write.error)  # write let go of what refers to them
                    write.deferral = write.error = None
            else:
                write.done = True
                if write.woken is not None:
                    write.woken.set()
                elif write.error is not None:  # run_later's: no one to tell
                    LOG.error("a write no one waited for failed", exc_info=write.error)
        if outcomes:
            deferrals.settle(outcomes)

    def _commit(self, batch: list[QueuedWrite[Any]]) -> None:
        try:
            with write_transaction(self._conn, self._lock) as conn:
                run_batch(conn, batch)
        except BaseException as exc:
            for write in batch:
                if write.error is None:
                    write.error = exc
                    write.result = None
            if not isinstance(exc, Exception):
                raise


def forget_locals(error: BaseException) -> None:
    """Clear the local variables of the frames in ``error``'s tracebacks (their lines
    stay, for the log): they held the write that holds ``error``, a cycle only the
    collector would free."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
