"""``LaunchConfigurationStore`` on SQLite (the gateway's store file, in both modes).

Table ``launch_configurations``: one row per (project, name) with the definition as JSON
text (``domain.launch_configurations``).  DescribeLaunchConfigurations tokens are signed
with the secret of ``launch_configuration_store_meta`` (shared by every process of the
gateway, never valid for another listing).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.launch_configurations import (
    LaunchConfigurationExists,
    LaunchConfigurationLimitExceeded,
)
from cfn_gateway.common.sqlite import connect, create_schema, write_transaction
from cfn_gateway.domain import pagination
from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.launch_configurations import LaunchConfiguration, from_json, to_json
from cfn_gateway.domain.periods import to_millis

_SCHEMA = """
CREATE TABLE IF NOT EXISTS launch_configuration_store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS launch_configurations (
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
)
"""


class SQLiteLaunchConfigurationStore:
    def __init__(self, path: str) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()
        self._secret = create_schema(self._conn, self._lock, _SCHEMA,
                                     "launch_configuration_store_meta")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def create(self, project_id: str, config: LaunchConfiguration, max_count: int) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM launch_configurations WHERE project_id = ?",
                (project_id,)).fetchone()
            exists = conn.execute(
                "SELECT 1 FROM launch_configurations WHERE project_id = ? AND name = ?",
                (project_id, config.name)).fetchone()
            if exists:
                raise LaunchConfigurationExists(config.name)
            if count >= max_count:
                raise LaunchConfigurationLimitExceeded(
                    f"the project has {count} launch configurations (at most {max_count})")
            conn.execute(
                "INSERT INTO launch_configurations VALUES (?, ?, ?, ?)",
                (project_id, config.name, to_millis(config.created_at), to_json(config)))

    def describe(self, project_id: str, names: Sequence[str], limit: int,
                 next_token: str | None = None) -> Page:
        wanted = sorted(set(names))
        digest = pagination.digest("launch_configurations", wanted)
        after = self._position(next_token, project_id, digest) if next_token else None
        sql = ["SELECT name, definition FROM launch_configurations WHERE project_id = ?"]
        args: list[object] = [project_id]
        if wanted:
            sql.append(f"AND name IN ({', '.join('?' * len(wanted))})")
            args.extend(wanted)
        if after is not None:
            sql.append("AND name > ?")
            args.append(after)
        sql.append("ORDER BY name LIMIT ?")
        args.append(limit + 1)
        with self._lock:
            rows = self._conn.execute(" ".join(sql), args).fetchall()
        page = Page(items=[from_json(definition) for _, definition in rows[:limit]])
        if len(rows) > limit:
            page.next_token = pagination.page_token(self._secret, project_id, digest,
                                                    rows[limit - 1][0])
        return page

    def delete(self, project_id: str, name: str) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            deleted = conn.execute(
                "DELETE FROM launch_configurations WHERE project_id = ? AND name = ?",
                (project_id, name)).rowcount
        return deleted > 0

    def _position(self, token: str, project_id: str, digest: str) -> str:
        try:
            after = pagination.position(self._secret, token, project_id, digest)
        except ValueError as exc:
            raise InvalidNextToken(str(exc)) from exc
        if not isinstance(after, str):
            raise InvalidNextToken("malformed token")
        return after
