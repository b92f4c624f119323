"""The no-cloud instance driver of standalone mode, kept in the store file.

Like ``backends.instances.NoCloudInstances`` (a wanted member runs ``boot_seconds`` after
it is first wanted; a member can be made to fail), but in table ``nocloud_instances`` so
that every gateway process and the engine see the same instances, and a restart finds
them.  Instances that left a group running (``Member.keep``) stay in the table under the
group id ``""`` until a group adopts them (``Member.cloud_id``: here the instance id).
``fail`` is what a test (or ``cfn-gateway`` tooling) does to a running instance to
see the group replace it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from cfn_gateway.backends.instances import BOOTING, FAILED, RUNNING, Member
from cfn_gateway.common.sqlite import connect, create_schema, write_transaction
from cfn_gateway.domain.periods import from_millis, to_millis

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nocloud_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nocloud_instances (
    project_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    launched_ms INTEGER NOT NULL,
    failed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, group_id, instance_id)
);
CREATE TABLE IF NOT EXISTS nocloud_kept (
    project_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    PRIMARY KEY (project_id, group_id, instance_id)
)
"""

#: The group id of instances that run outside any group.
OUTSIDE = ""


class SQLiteNoCloudInstances:
    def __init__(self, path: str, clock: Callable[[], datetime],
                 boot_seconds: float = 0.0) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()
        create_schema(self._conn, self._lock, _SCHEMA, "nocloud_meta")
        self._clock = clock
        self._boot = timedelta(seconds=boot_seconds)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def apply(self, project_id: str, group_id: str, members: Sequence[Member]) -> None:
        now = to_millis(self._clock())
        wanted = {m.instance_id: m for m in members}
        with write_transaction(self._conn, self._lock) as conn:
            have = {row[0] for row in conn.execute(
                "SELECT instance_id FROM nocloud_instances WHERE project_id = ? AND "
                "group_id = ?", (project_id, group_id))}
            self._let_go(conn, project_id, group_id, have - set(wanted))
            for instance_id, member in wanted.items():
                if instance_id in have:
                    continue
                adopted = member.cloud_id and conn.execute(
                    "UPDATE nocloud_instances SET group_id = ? WHERE project_id = ? AND "
                    "group_id = ? AND instance_id = ?",
                    (group_id, project_id, OUTSIDE, member.cloud_id)).rowcount
                if not adopted:
                    conn.execute(
                        "INSERT INTO nocloud_instances (project_id, group_id, instance_id, "
                        "launched_ms) VALUES (?, ?, ?, ?)",
                        (project_id, group_id, instance_id, now))
            conn.execute("DELETE FROM nocloud_kept WHERE project_id = ? AND group_id = ?",
                         (project_id, group_id))
            conn.executemany(
                "INSERT INTO nocloud_kept (project_id, group_id, instance_id) "
                "VALUES (?, ?, ?)",
                [(project_id, group_id, i) for i, m in wanted.items() if m.keep])

    @staticmethod
    def _let_go(conn: sqlite3.Connection, project_id: str, group_id: str,
                instance_ids: Iterable[str]) -> None:
        """The group no longer has ``instance_ids``: those it keeps run on outside any
        group, the others are deleted."""
        kept = {row[0] for row in conn.execute(
            "SELECT instance_id FROM nocloud_kept WHERE project_id = ? AND group_id = ?",
            (project_id, group_id))}
        for instance_id in instance_ids:
            if instance_id in kept:
                conn.execute(
                    "UPDATE nocloud_instances SET group_id = ? WHERE project_id = ? AND "
                    "group_id = ? AND instance_id = ?",
                    (OUTSIDE, project_id, group_id, instance_id))
            else:
                conn.execute(
                    "DELETE FROM nocloud_instances WHERE project_id = ? AND group_id = ? "
                    "AND instance_id = ?", (project_id, group_id, instance_id))

    def kept(self, project_id: str, group_id: str) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT instance_id FROM nocloud_kept WHERE project_id = ? AND group_id = ?",
                (project_id, group_id)).fetchall()
        return {instance_id: instance_id for (instance_id,) in rows}

    def observe(self, project_id: str, group_id: str) -> dict[str, str]:
        now = self._clock()
        with self._lock:
            rows = self._conn.execute(
                "SELECT instance_id, launched_ms, failed FROM nocloud_instances "
                "WHERE project_id = ? AND group_id = ?", (project_id, group_id)).fetchall()
        return {instance_id: FAILED if failed else
                RUNNING if now - from_millis(launched_ms) >= self._boot else BOOTING
                for instance_id, launched_ms, failed in rows}

    def forget(self, project_id: str, group_id: str) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            have = [row[0] for row in conn.execute(
                "SELECT instance_id FROM nocloud_instances WHERE project_id = ? AND "
                "group_id = ?", (project_id, group_id))]
            self._let_go(conn, project_id, group_id, have)
            conn.execute("DELETE FROM nocloud_kept WHERE project_id = ? AND group_id = ?",
                         (project_id, group_id))

    def outside(self, project_id: str) -> set[str]:
        """The ids of the project's instances that run outside any group."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT instance_id FROM nocloud_instances WHERE project_id = ? AND "
                "group_id = ?", (project_id, OUTSIDE)).fetchall()
        return {instance_id for (instance_id,) in rows}

    def fail(self, project_id: str, instance_id: str) -> bool:
        """Make an instance fail; False when no such instance runs."""
        with write_transaction(self._conn, self._lock) as conn:
            return conn.execute(
                "UPDATE nocloud_instances SET failed = 1 WHERE project_id = ? AND "
                "instance_id = ?", (project_id, instance_id)).rowcount > 0
