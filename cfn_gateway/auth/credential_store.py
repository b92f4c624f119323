"""The local credential store: EC2-style access key / secret key pairs, each owned by a project.

One SQLite file (WAL, busy timeout: see ``cfn_gateway.common.sqlite``) shared by every gateway
worker process and the ``cfn-gateway credentials`` command.  Each process opens its own
connection, again after a fork; within a process one connection is used under a lock.
The secret is kept as is: the HMAC check needs it.  The file is created readable by its
owner only.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import string
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from cfn_gateway.common.sqlite import connect

CREDENTIALS_FILE = "credentials.sqlite3"
ACCESS_KEY_PREFIX = "AKIA"
ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits
SECRET_KEY_ALPHABET = string.ascii_letters + string.digits + "+/"
ACCESS_KEY_LENGTH = 20
SECRET_KEY_LENGTH = 40
MAX_PROJECT_LENGTH = 255
MAX_ATTEMPTS = 8  # to draw an unused access key (36**16 of them: one is plenty)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS credentials (
        access_key TEXT PRIMARY KEY,
        secret_key TEXT NOT NULL,
        project TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS credentials_by_project ON credentials (project, created_at)",
)
COLUMNS = "access_key, secret_key, project, created_at"


@dataclass(frozen=True)
class Credential:
    access_key: str
    secret_key: str
    project: str
    created_at: datetime

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return (
            f"Credential(access_key={self.access_key!r}, secret_key='***', "
            f"project={self.project!r}, created_at={self.created_at!r})"
        )


def new_access_key() -> str:
    body = "".join(
        secrets.choice(ACCESS_KEY_ALPHABET)
        for _ in range(ACCESS_KEY_LENGTH - len(ACCESS_KEY_PREFIX))
    )
    return ACCESS_KEY_PREFIX + body


def new_secret_key() -> str:
    return "".join(secrets.choice(SECRET_KEY_ALPHABET) for _ in range(SECRET_KEY_LENGTH))


def _credential(row: tuple[str, str, str, str]) -> Credential:
    access_key, secret_key, project, created_at = row
    return Credential(access_key, secret_key, project, datetime.fromisoformat(created_at))


class CredentialStore:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        with self._lock:
            self._connection()

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (call with the lock held)."""
        if self._conn is None or self._pid != os.getpid():
            # A connection inherited across fork() must not be used (nor closed) here.
            conn = connect(self.path)  # a private file (0600) in a private folder
            for statement in SCHEMA:
                conn.execute(statement)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def create(self, project: str) -> Credential:
        """A new key pair for ``project``."""
        if not isinstance(project, str) or not project or len(project) > MAX_PROJECT_LENGTH:
            raise ValueError(f"project must be 1 to {MAX_PROJECT_LENGTH} characters")
        created_at = datetime.now(UTC)
        with self._lock:
            conn = self._connection()
            for _ in range(MAX_ATTEMPTS):
                credential = Credential(new_access_key(), new_secret_key(), project, created_at)
                try:
                    conn.execute(
                        f"INSERT INTO credentials ({COLUMNS}) VALUES (?, ?, ?, ?)",
                        (
                            credential.access_key,
                            credential.secret_key,
                            credential.project,
                            created_at.isoformat(),
                        ),
                    )
                except sqlite3.IntegrityError:  # an access key taken already: draw again
                    continue
                return credential
        raise RuntimeError("could not draw an unused access key")

    def get(self, access_key: str) -> Credential | None:
        if not access_key:
            return None
        with self._lock:
            row = (
                self._connection()
                .execute(f"SELECT {COLUMNS} FROM credentials WHERE access_key = ?", (access_key,))
                .fetchone()
            )
        return _credential(row) if row else None

    def list(self, project: str | None = None) -> list[Credential]:
        """Every credential, or those of ``project``, oldest first."""
        query = f"SELECT {COLUMNS} FROM credentials"
        args: tuple[str, ...] = ()
        if project is not None:
            query += " WHERE project = ?"
            args = (project,)
        query += " ORDER BY created_at, access_key"
        with self._lock:
            rows = self._connection().execute(query, args).fetchall()
        return [_credential(row) for row in rows]

    def delete(self, access_key: str) -> bool:
        """Remove a credential; False when there was none."""
        with self._lock:
            cursor = self._connection().execute(
                "DELETE FROM credentials WHERE access_key = ?", (access_key,)
            )
        return cursor.rowcount > 0

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
