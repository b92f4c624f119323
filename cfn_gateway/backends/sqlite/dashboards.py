"""``DashboardStore`` on SQLite (the gateway's store file, in both modes).

Table ``dashboards``: one row per (project, name) with the body exactly as PutDashboard
received it, its size in bytes and when it was last written (epoch milliseconds);
``dashboard_tags`` holds their tags (deleted with the dashboard).  ListDashboards tokens
are signed with the secret of ``dashboard_store_meta`` (shared by every process of the
gateway, never valid for another project or prefix).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from cfn_gateway.backends.alarms import InvalidNextToken, Tag, token_position
from cfn_gateway.backends.sqlite.alarm_sql import prefix_end
from cfn_gateway.common.sqlite import connect, create_schema, write_transaction
from cfn_gateway.domain import pagination
from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.dashboards import Dashboard, DashboardSummary
from cfn_gateway.domain.periods import from_millis, to_millis

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dashboard_store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dashboards (
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
);
CREATE TABLE IF NOT EXISTS dashboard_tags (
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (project_id, name, key),
    FOREIGN KEY (project_id, name) REFERENCES dashboards (project_id, name)
        ON DELETE CASCADE
)
"""

_UPSERT_TAG = ("INSERT INTO dashboard_tags VALUES (?, ?, ?, ?) "
               "ON CONFLICT (project_id, name, key) DO UPDATE SET value = excluded.value")


class SQLiteDashboardStore:
    def __init__(self, path: str) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()
        self._secret = create_schema(self._conn, self._lock, _SCHEMA, "dashboard_store_meta")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _read(self, sql: str, args: Sequence[Any]) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def put(self, project_id: str, dashboard: Dashboard, tags: Sequence[Tag]) -> bool:
        row = (dashboard.body, dashboard.size, to_millis(dashboard.last_modified),
               project_id, dashboard.name)
        with write_transaction(self._conn, self._lock) as conn:
            updated = conn.execute(
                "UPDATE dashboards SET body = ?, size = ?, last_modified_ms = ? "
                "WHERE project_id = ? AND name = ?", row).rowcount
            if updated:
                return False
            conn.execute("INSERT INTO dashboards (body, size, last_modified_ms, project_id, "
                         "name) VALUES (?, ?, ?, ?, ?)", row)
            conn.executemany(_UPSERT_TAG, [(project_id, dashboard.name, key, value)
                                           for key, value in tags])
        return True

    def get(self, project_id: str, name: str) -> Dashboard | None:
        rows = self._read("SELECT body, last_modified_ms FROM dashboards "
                          "WHERE project_id = ? AND name = ?", (project_id, name))
        if not rows:
            return None
        ((body, millis),) = rows
        return Dashboard(name=name, body=body, last_modified=from_millis(millis))

    def list(self, project_id: str, prefix: str, limit: int,
             next_token: str | None = None) -> Page:
        digest = pagination.digest("dashboards", prefix)
        sql = ["SELECT name, last_modified_ms, size FROM dashboards WHERE project_id = ?"]
        args: list[Any] = [project_id]
        if prefix:
            sql.append("AND name >= ?")
            args.append(prefix)
            end = prefix_end(prefix)
            if end is not None:
                sql.append("AND name < ?")
                args.append(end)
        if next_token:
            after = token_position(self._secret, next_token, project_id, digest)
            if not isinstance(after, str):
                raise InvalidNextToken("malformed token")
            sql.append("AND name > ?")
            args.append(after)
        sql.append("ORDER BY name LIMIT ?")
        args.append(limit + 1)
        rows = self._read(" ".join(sql), args)
        token = (pagination.page_token(self._secret, project_id, digest, rows[limit - 1][0])
                 if len(rows) > limit else None)
        return Page(items=[DashboardSummary(name=name, last_modified=from_millis(millis),
                                            size=size) for name, millis, size in rows[:limit]],
                    next_token=token)

    def delete(self, project_id: str, names: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return []
        marks = ", ".join("?" * len(wanted))
        with write_transaction(self._conn, self._lock) as conn:
            found = {name for (name,) in conn.execute(
                f"SELECT name FROM dashboards WHERE project_id = ? AND name IN ({marks})",
                (project_id, *wanted))}
            missing = [name for name in wanted if name not in found]
            if not missing:
                conn.execute(
                    f"DELETE FROM dashboards WHERE project_id = ? AND name IN ({marks})",
                    (project_id, *wanted))
        return missing

    def tags(self, project_id: str, name: str) -> list[Tag] | None:
        rows = self._read(
            "SELECT t.key, t.value FROM dashboards AS d LEFT JOIN dashboard_tags AS t "
            "ON t.project_id = d.project_id AND t.name = d.name "
            "WHERE d.project_id = ? AND d.name = ? ORDER BY t.key", (project_id, name))
        if not rows:
            return None
        return [(key, value) for key, value in rows if key is not None]

    def tag(self, project_id: str, name: str, tags: Sequence[Tag]) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            if not self._exists(conn, project_id, name):
                return False
            conn.executemany(_UPSERT_TAG, [(project_id, name, key, value)
                                           for key, value in tags])
        return True

    def untag(self, project_id: str, name: str, keys: Sequence[str]) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            if not self._exists(conn, project_id, name):
                return False
            conn.executemany(
                "DELETE FROM dashboard_tags WHERE project_id = ? AND name = ? AND key = ?",
                [(project_id, name, key) for key in keys])
        return True

    @staticmethod
    def _exists(conn: Any, project_id: str, name: str) -> bool:
        return conn.execute("SELECT 1 FROM dashboards WHERE project_id = ? AND name = ?",
                            (project_id, name)).fetchone() is not None
