"""``LaunchConfigurationStore`` on SQLite (the gateway's store file, in both modes).

Table ``launch_configurations``: one row per (project, name) with the definition as JSON
text (``domain.launch_configurations``).  One that a group of ``sqlite/groups.py`` (same
file) uses is not deleted.  DescribeLaunchConfigurations tokens are signed
with the secret of ``launch_configuration_store_meta`` (shared by every process of the
gateway, never valid for another listing).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from cfn_gateway.backends.launch_configurations import (
    LaunchConfigurationExists,
    LaunchConfigurationInUse,
    LaunchConfigurationLimitExceeded,
)
from cfn_gateway.backends.sqlite.named_pages import named_page
from cfn_gateway.common.sqlite import connect, create_schema, write_transaction
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
        def read(sql: str, args: Sequence[Any]) -> list[Any]:
            with self._lock:
                return self._conn.execute(sql, args).fetchall()

        rows, token = named_page(read, self._secret, "launch_configurations", "definition",
                                 project_id, names, limit, next_token)
        return Page(items=[from_json(definition) for _, definition in rows],
                    next_token=token)

    def count(self, project_id: str) -> int:
        with self._lock:
            (count,) = self._conn.execute(
                "SELECT count(*) FROM launch_configurations WHERE project_id = ?",
                (project_id,)).fetchone()
        return count

    def delete(self, project_id: str, name: str) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            # The group store shares the file: a group using it keeps it (in the same
            # transaction, so no group can take it up meanwhile).
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                            "name = 'as_groups'").fetchone() and conn.execute(
                    "SELECT 1 FROM as_groups WHERE project_id = ? AND "
                    "launch_configuration_name = ? LIMIT 1", (project_id, name)).fetchone():
                raise LaunchConfigurationInUse(name)
            deleted = conn.execute(
                "DELETE FROM launch_configurations WHERE project_id = ? AND name = ?",
                (project_id, name)).rowcount
        return deleted > 0
