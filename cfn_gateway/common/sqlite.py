"""Opening SQLite files the way every embedded store here needs them.

WAL journal (readers never block the writer), a busy timeout so several gateway worker
processes can share one file, foreign keys on, and ``synchronous=FULL`` so that a transaction
that was committed (and so acknowledged to a client) survives a power loss too.  The file,
its ``-wal`` and ``-shm`` companions (SQLite gives them the database file's mode) and the
folder are private to the gateway's user.

Writes go through ``write_transaction``: ``BEGIN IMMEDIATE`` (so processes queue for the
write lock instead of failing on upgrade) ... ``COMMIT``, rolled back on any error.  A full
disk makes it raise ``ServiceUnavailable`` (503, retryable) and nothing of the transaction
is kept; it is logged once a minute, not per request.  Reads need no free space and keep
working; the next write after space came back succeeds.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from cfn_gateway import errors
from cfn_gateway.common.logs import ThrottledLog
from cfn_gateway.common.private_files import narrow, private_file, private_folder

LOG = logging.getLogger(__name__)
SQLITE_FULL = 13
_DISK_FULL_LOG = ThrottledLog(LOG)

COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")
#: How long a statement waits for another connection's lock.
BUSY_TIMEOUT_S = 30.0
WAL_RETRY_S = 0.005


def connect(path: str) -> sqlite3.Connection:
    """Open (creating it and its folder) the SQLite file at ``path`` in autocommit mode."""
    private_folder(os.path.dirname(os.path.abspath(path)))
    private_file(path)
    for suffix in COMPANION_SUFFIXES:
        narrow(path + suffix)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode.  While another process converts a new file, SQLite
    answers SQLITE_BUSY at once, without its busy handler (the workers and the engine open
    the same new files together at start-up): try again until it is done."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if _primary_code(exc) != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_S)


def disk_full(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up because the file system has no room (``SQLITE_FULL``)."""
    return _primary_code(exc) == SQLITE_FULL


def _primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``exc`` (its extended code's low byte), if known."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


@contextmanager
def write_transaction(conn: sqlite3.Connection, lock: threading.Lock) -> Iterator[
        sqlite3.Connection]:
    """One write transaction on ``conn`` (an autocommit connection shared under ``lock``)."""
    with lock:
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if not disk_full(exc):
                raise
            _DISK_FULL_LOG.warning("cannot write to %s: %s; requests that write answer "
                                   "ServiceUnavailable until there is room again",
                                   database_file(conn), exc)
            raise errors.ServiceUnavailable(
                "The gateway's storage is full; nothing of this request was stored. "
                "Please try again later.") from None


def create_schema(conn: sqlite3.Connection, lock: threading.Lock, schema: str,
                  meta_table: str,
                  added_columns: Sequence[tuple[str, str, str]] = ()) -> bytes:
    """Create a store's tables (``schema``: ``;``-separated ``CREATE ... IF NOT EXISTS``)
    and return its token secret, kept in ``meta_table`` so every process shares it.
    ``added_columns``: (table, column, declaration) of columns added to a table after
    stores were made with it; a store file that lacks one gets it (``ALTER TABLE``)."""
    with write_transaction(conn, lock) as tx:
        for statement in schema.split(";"):
            if statement.strip():
                tx.execute(statement)
        for table, column, declaration in added_columns:
            have = {row[1] for row in tx.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        tx.execute(f"INSERT OR IGNORE INTO {meta_table} (key, value) VALUES (?, ?)",
                   ("token_secret", secrets.token_hex(32)))
        (secret,) = tx.execute(
            f"SELECT value FROM {meta_table} WHERE key = 'token_secret'").fetchone()
    return bytes.fromhex(secret)


def database_file(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else "?"
