"""One batch of a group commit (``common.group_commit``) inside its transaction.

Each write runs in a SAVEPOINT of its own, so a write that raises is rolled back alone and
its writer gets the error, while the others stay.  Writes of one kind may say how to run
``Together``: next to each other in a batch, they are done by one call of their
``combine`` (one savepoint, one statement per table for them all, where each write alone
would run its own); if that call raises, its savepoint is rolled back and each write runs
alone, so a failure still fails only its own write.  An error that loses the transaction
itself (SQLite rolled it back, or the disk is full) is raised: the whole batch fails.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cfn_gateway.common import deferral as deferrals
from cfn_gateway.common.sqlite import disk_full

T = TypeVar("T")
P = TypeVar("P")

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Together(Generic[P, T]):
    """How a write runs together with the writes next to it that share its ``combine``:
    ``combine(conn, payloads)`` does what their ``work`` calls would do one after the
    other, and returns their results in the same order."""

    combine: Callable[[sqlite3.Connection, list[P]], list[T]]
    payload: P


@dataclass(eq=False)
class QueuedWrite(Generic[T]):
    """A write waiting in a group commit's queue, then its outcome."""

    work: Callable[[sqlite3.Connection], T]
    after: Callable[[T], None] | None = None
    together: Together[Any, T] | None = None
    #: The request that awaits this write without blocking (None: its thread waits, or
    #: no one does: ``run_later``).
    deferral: deferrals.Deferral | None = None
    #: What wakes a blocking writer's thread (a deferred or later write has none).
    woken: threading.Event | None = None
    leads: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = None


def run_batch(conn: sqlite3.Connection, batch: list[QueuedWrite[Any]]) -> None:
    """Every write of ``batch`` (inside the caller's transaction), each its result or its
    error; raises what lost the transaction."""
    for run in _runs(batch):
        if len(run) > 1 and _run_together(conn, run):
            continue
        for write in run:
            _run_alone(conn, write)


def _runs(batch: list[QueuedWrite[Any]]) -> list[list[QueuedWrite[Any]]]:
    """``batch`` cut into runs of neighbours that may go together (each other write alone)."""
    runs: list[list[QueuedWrite[Any]]] = []
    for write in batch:
        together = write.together
        last = runs[-1][-1].together if runs else None
        if together is not None and last is not None and last.combine == together.combine:
            runs[-1].append(write)
        else:
            runs.append([write])
    return runs


def _run_together(conn: sqlite3.Connection, run: list[QueuedWrite[Any]]) -> bool:
    """The writes of ``run`` by one ``combine`` call; False (and nothing of them kept)
    when it raised: then they run alone."""
    combine = run[0].together.combine if run[0].together is not None else None
    payloads = [write.together.payload for write in run if write.together is not None]
    assert combine is not None and len(payloads) == len(run)
    conn.execute("SAVEPOINT together")
    try:
        results = combine(conn, payloads)
        if len(results) != len(run):
            raise RuntimeError(f"{len(run)} writes together gave {len(results)} results")
    except Exception as exc:
        if not conn.in_transaction or (isinstance(exc, sqlite3.Error) and disk_full(exc)):
            raise  # the transaction itself is lost: the batch fails
        conn.execute("ROLLBACK TO together")
        conn.execute("RELEASE together")
        LOG.debug("%d writes run alone: together they failed (%s)", len(run), exc)
        return False
    conn.execute("RELEASE together")
    for write, result in zip(run, results, strict=True):
        write.result = result
    return True


def _run_alone(conn: sqlite3.Connection, write: QueuedWrite[Any]) -> None:
    conn.execute("SAVEPOINT write")
    try:
        write.result = write.work(conn)
    except Exception as exc:
        if not conn.in_transaction or (isinstance(exc, sqlite3.Error) and disk_full(exc)):
            raise  # the transaction itself is lost: the batch fails
        conn.execute("ROLLBACK TO write")
        write.error = exc
    conn.execute("RELEASE write")
