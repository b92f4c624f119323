"""The one-line log formatter, the throttled log, private files and the disk-full mapping."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import sys
import threading

import pytest

from cfn_gateway import errors
from cfn_gateway.common import logs
from cfn_gateway.common import sqlite as common_sqlite
from cfn_gateway.common.logs import OneLineFormatter, ThrottledLog, escape_controls
from cfn_gateway.common.private_files import private_file, private_folder


def test_escape_controls():
    assert escape_controls("a\nb\r\x00\x1b[1m\x7f\x85\u2028ok é") == (
        "a\\x0ab\\x0d\\x00\\x1b[1m\\x7f\\x85\\u2028ok é")


def test_formatter_keeps_one_line_per_message_but_tracebacks_intact():
    formatter = OneLineFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key %s", ("a\nb",),
                                   sys.exc_info())
    text = formatter.format(record)
    first, *rest = text.split("\n")
    assert first == "ERROR key a\\x0ab"
    assert rest[0] == "Traceback (most recent call last):"


def test_formatter_time_is_logging_own_across_seconds():
    ours, reference = OneLineFormatter(logs.LOG_FORMAT), logging.Formatter(logs.LOG_FORMAT)
    for created in (1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.0005, 1_700_000_001.5,
                    1_699_999_999.25, 1_700_086_400.0):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.formatTime(record) == reference.formatTime(record)
        assert ours.formatTime(record, "%H:%M") == reference.formatTime(record, "%H:%M")


def test_throttled_log_reports_once_per_interval(caplog, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(logs.time, "monotonic", lambda: clock[0])
    throttled = ThrottledLog(logging.getLogger("t"), interval=60)
    with caplog.at_level(logging.WARNING, logger="t"):
        for _ in range(5):
            throttled.warning("disk full %s", "x")
        clock[0] += 61
        throttled.warning("disk full %s", "y")
    assert [r.getMessage() for r in caplog.records] == [
        "disk full x", "disk full y (4 more since the last report)"]


def test_private_folder_and_file(tmp_path):
    umask = os.umask(0o022)
    try:
        folder = private_folder(str(tmp_path / "a" / "b"))
        private_file(os.path.join(folder, "f"))
    finally:
        os.umask(umask)
    for path in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b" / "f").stat().st_mode) == 0o600


def test_existing_folder_is_left_alone_and_wide_file_narrowed(tmp_path):
    os.chmod(tmp_path, 0o755)
    wide = tmp_path / "store.sqlite3"
    wide.write_bytes(b"")
    os.chmod(wide, 0o644)
    private_folder(str(tmp_path))
    private_file(str(wide))
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
    assert stat.S_IMODE(wide.stat().st_mode) == 0o600


def test_connect_makes_private_files(tmp_path):
    path = tmp_path / "d" / "x.sqlite3"
    conn = common_sqlite.connect(str(path))
    with common_sqlite.write_transaction(conn, threading.Lock()):
        conn.execute("CREATE TABLE t (v)")
    for name in ("x.sqlite3", "x.sqlite3-wal", "x.sqlite3-shm"):
        assert stat.S_IMODE((tmp_path / "d" / name).stat().st_mode) == 0o600, name
    conn.close()


def test_full_database_is_service_unavailable_and_rolled_back(tmp_path):
    conn = common_sqlite.connect(str(tmp_path / "x.sqlite3"))
    lock = threading.Lock()
    with common_sqlite.write_transaction(conn, lock):
        conn.execute("CREATE TABLE t (v)")
        conn.execute("INSERT INTO t VALUES (1)")
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL, as on a full disk
    with pytest.raises(errors.ServiceUnavailable), common_sqlite.write_transaction(conn, lock):
        conn.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,)] * 50)
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_other_database_errors_pass_through(tmp_path):
    conn = common_sqlite.connect(str(tmp_path / "x.sqlite3"))
    with pytest.raises(sqlite3.OperationalError), common_sqlite.write_transaction(
            conn, threading.Lock()):
        conn.execute("SELECT * FROM missing")
    assert not conn.in_transaction
