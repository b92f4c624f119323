"""Opening SQLite files the way every embedded store here needs them.

WAL journal (readers never block the writer), a busy timeout so several gateway worker
processes can share one file, foreign keys on, and ``synchronous=FULL`` so that a transaction
that was committed (and so acknowledged to a client) survives a power loss too.
"""

from __future__ import annotations

import os
import sqlite3


def connect(path: str) -> sqlite3.Connection:
    """Open (creating its folder) the SQLite file at ``path`` in autocommit mode."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn
