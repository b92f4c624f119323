"""The rows a group owns besides its instances: scaling policies and scheduled actions.

Mixins of ``sqlite/groups.SQLiteGroupStore`` (they use its connection, lock and token
secret); the tables are created with the store's (``PARTS_SCHEMA``) and their rows go with
their group:

- ``as_policies``: one row per scaling policy (project, group, name) with its ARN, type
  and definition as JSON text (``domain.policies``);
- ``as_notification_queue``: the group notifications to deliver, each leased to the
  engine delivering it (``engine.notifications``); queued in the step's own write.
- ``as_scheduled_actions``: one row per scheduled action (project, group, name) with its
  next run (epoch ms, indexed: the engine's due list) and its definition as JSON text
  (``domain.scheduled_actions``).

Both list by (group, name), ``limit`` at a time, after the position a signed token holds
(``_by_group_and_name``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cfn_gateway.backends.alarms import InvalidNextToken, token_position
from cfn_gateway.backends.groups import (
    GroupGone,
    PolicyLimitExceeded,
    QueuedNotification,
    ScheduledActionLimitExceeded,
)
from cfn_gateway.common.sqlite import write_transaction
from cfn_gateway.domain import pagination
from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.periods import from_millis, to_millis
from cfn_gateway.domain.policies import ScalingPolicy
from cfn_gateway.domain.policies import from_json as policy_from_json
from cfn_gateway.domain.policies import to_json as policy_to_json
from cfn_gateway.domain.scheduled_actions import ScheduledAction
from cfn_gateway.domain.scheduled_actions import from_json as scheduled_from_json
from cfn_gateway.domain.scheduled_actions import to_json as scheduled_to_json

PARTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS as_policies (
    project_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    policy_type TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (project_id, group_name, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS as_policies_by_arn ON as_policies (arn);
CREATE TABLE IF NOT EXISTS as_scheduled_actions (
    project_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    next_run_ms INTEGER,
    definition TEXT NOT NULL,
    PRIMARY KEY (project_id, group_name, name)
);
CREATE INDEX IF NOT EXISTS as_scheduled_actions_due ON as_scheduled_actions (next_run_ms);
CREATE TABLE IF NOT EXISTS as_notification_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    topic TEXT NOT NULL,
    message TEXT NOT NULL,
    lease_until_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS as_notification_queue_free ON as_notification_queue (lease_until_ms)
"""


def queue_notifications(conn: sqlite3.Connection, project_id: str, group_name: str,
                        notifications: Sequence[tuple[str, str]]) -> None:
    conn.executemany("INSERT INTO as_notification_queue (project_id, group_name, topic, "
                     "message) VALUES (?, ?, ?, ?)",
                     [(project_id, group_name, topic, message)
                      for topic, message in notifications])


def sql_in(values: Sequence[str]) -> str:
    """``IN (?, ?, ...)`` for ``values``."""
    return f"IN ({', '.join('?' * len(values))})"


class Rows:
    """What the mixins use of the store."""

    _conn: sqlite3.Connection
    _lock: threading.Lock
    _secret: bytes

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _group_exists(self, conn: sqlite3.Connection, project_id: str, name: str) -> bool:
        return conn.execute("SELECT 1 FROM as_groups WHERE project_id = ? AND name = ?",
                            (project_id, name)).fetchone() is not None

    def _by_group_and_name(self, table: str, columns: str, project_id: str,
                           group_name: str | None, where: list[str], args: list[Any],
                           digest_parts: list[Any], limit: int,
                           next_token: str | None) -> tuple[list[Any], str | None]:
        """Rows (``columns``) of ``table`` matching ``where`` by (group, name), and the
        token of the next page (bound to the project and to the query)."""
        digest = pagination.digest(table, [group_name or "", *digest_parts])
        sql = [f"SELECT group_name, name, {columns} FROM {table} WHERE project_id = ?"]
        params: list[Any] = [project_id]
        if group_name is not None:
            sql.append("AND group_name = ?")
            params.append(group_name)
        for clause in where:
            sql.append(f"AND {clause}")
        params.extend(args)
        if next_token:
            after = token_position(self._secret, next_token, project_id, digest)
            if (not isinstance(after, list) or len(after) != 2
                    or not all(isinstance(part, str) for part in after)):
                raise InvalidNextToken("malformed token")
            sql.append("AND (group_name > ? OR (group_name = ? AND name > ?))")
            params.extend([after[0], after[0], after[1]])
        sql.append("ORDER BY group_name, name LIMIT ?")
        params.append(limit + 1)
        rows = self._read(" ".join(sql), params)
        token = (pagination.page_token(self._secret, project_id, digest,
                                       [rows[limit - 1][0], rows[limit - 1][1]])
                 if len(rows) > limit else None)
        return [row[2:] for row in rows[:limit]], token


class PolicyRows(Rows):

    def put_policy(self, project_id: str, policy: ScalingPolicy, max_policies: int) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            if not self._group_exists(conn, project_id, policy.group_name):
                raise GroupGone(policy.group_name)
            exists = conn.execute(
                "SELECT 1 FROM as_policies WHERE project_id = ? AND group_name = ? AND "
                "name = ?", (project_id, policy.group_name, policy.name)).fetchone()
            if not exists:
                (count,) = conn.execute(
                    "SELECT count(*) FROM as_policies WHERE project_id = ? AND "
                    "group_name = ?", (project_id, policy.group_name)).fetchone()
                if count >= max_policies:
                    raise PolicyLimitExceeded(f"the group has {count} policies")
            conn.execute("INSERT OR REPLACE INTO as_policies VALUES (?, ?, ?, ?, ?, ?)",
                         (project_id, policy.group_name, policy.name, policy.arn,
                          policy.policy_type, policy_to_json(policy)))

    def get_policy(self, project_id: str, group_name: str | None,
                   name_or_arn: str) -> ScalingPolicy | None:
        column = "arn" if name_or_arn.startswith("arn:") else "name"
        sql = f"SELECT definition FROM as_policies WHERE project_id = ? AND {column} = ?"
        args: list[Any] = [project_id, name_or_arn]
        if group_name is not None:
            sql += " AND group_name = ?"
            args.append(group_name)
        rows = self._read(sql + " ORDER BY group_name LIMIT 1", args)
        return policy_from_json(rows[0][0]) if rows else None

    def delete_policy(self, project_id: str, group_name: str, name: str) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            return conn.execute("DELETE FROM as_policies WHERE project_id = ? AND "
                                "group_name = ? AND name = ?",
                                (project_id, group_name, name)).rowcount > 0

    def describe_policies(self, project_id: str, group_name: str | None,
                          names: Sequence[str], policy_types: Sequence[str], limit: int,
                          next_token: str | None = None) -> Page:
        wanted_names, wanted_types = sorted(set(names)), sorted(set(policy_types))
        where, args = [], []
        if wanted_names:
            where.append(f"(name {sql_in(wanted_names)} OR arn {sql_in(wanted_names)})")
            args.extend(wanted_names * 2)
        if wanted_types:
            where.append(f"policy_type {sql_in(wanted_types)}")
            args.extend(wanted_types)
        rows, token = self._by_group_and_name(
            "as_policies", "definition", project_id, group_name, where, args,
            [wanted_names, wanted_types], limit, next_token)
        return Page(items=[policy_from_json(definition) for (definition,) in rows],
                    next_token=token)


class ScheduledActionRows(Rows):

    def put_scheduled_action(self, project_id: str, action: ScheduledAction,
                             next_run: datetime | None, max_per_group: int) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            if not self._group_exists(conn, project_id, action.group_name):
                raise GroupGone(action.group_name)
            key = (project_id, action.group_name, action.name)
            if not conn.execute("SELECT 1 FROM as_scheduled_actions WHERE project_id = ? "
                                "AND group_name = ? AND name = ?", key).fetchone():
                (count,) = conn.execute(
                    "SELECT count(*) FROM as_scheduled_actions WHERE project_id = ? AND "
                    "group_name = ?", key[:2]).fetchone()
                if count >= max_per_group:
                    raise ScheduledActionLimitExceeded(f"the group has {count}")
            conn.execute("INSERT OR REPLACE INTO as_scheduled_actions VALUES (?, ?, ?, ?, ?)",
                         (*key, None if next_run is None else to_millis(next_run),
                          scheduled_to_json(action)))

    def get_scheduled_action(self, project_id: str, group_name: str,
                             name: str) -> ScheduledAction | None:
        rows = self._read("SELECT definition FROM as_scheduled_actions WHERE project_id = ? "
                          "AND group_name = ? AND name = ?", (project_id, group_name, name))
        return scheduled_from_json(rows[0][0]) if rows else None

    def delete_scheduled_action(self, project_id: str, group_name: str, name: str) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            return conn.execute("DELETE FROM as_scheduled_actions WHERE project_id = ? AND "
                                "group_name = ? AND name = ?",
                                (project_id, group_name, name)).rowcount > 0

    def describe_scheduled_actions(self, project_id: str, group_name: str | None,
                                   names: Sequence[str], limit: int,
                                   next_token: str | None = None) -> Page:
        wanted = sorted(set(names))
        where, args = ([f"name {sql_in(wanted)}"], list(wanted)) if wanted else ([], [])
        rows, token = self._by_group_and_name(
            "as_scheduled_actions", "definition, next_run_ms", project_id, group_name, where,
            args, [wanted], limit, next_token)
        return Page(items=[(scheduled_from_json(definition),
                            None if next_ms is None else from_millis(next_ms))
                           for definition, next_ms in rows], next_token=token)

    def due_scheduled_actions(self, now: datetime, limit: int
                              ) -> list[tuple[str, ScheduledAction, datetime]]:
        return [(project_id, scheduled_from_json(definition), from_millis(next_ms))
                for project_id, next_ms, definition in self._read(
                    "SELECT project_id, next_run_ms, definition FROM as_scheduled_actions "
                    "WHERE next_run_ms <= ? ORDER BY next_run_ms LIMIT ?",
                    (to_millis(now), limit))]

    def advance_scheduled_action(self, project_id: str, group_name: str, name: str,
                                 expected: datetime, following: datetime | None) -> bool:
        key = (project_id, group_name, name, to_millis(expected))
        with write_transaction(self._conn, self._lock) as conn:
            if following is None:
                return conn.execute(
                    "DELETE FROM as_scheduled_actions WHERE project_id = ? AND "
                    "group_name = ? AND name = ? AND next_run_ms = ?", key).rowcount > 0
            return conn.execute(
                "UPDATE as_scheduled_actions SET next_run_ms = ? WHERE project_id = ? AND "
                "group_name = ? AND name = ? AND next_run_ms = ?",
                (to_millis(following), *key)).rowcount > 0


class NotificationRows(Rows):
    def queue_notifications(self, project_id: str, group_name: str,
                            notifications: Sequence[tuple[str, str]]) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            queue_notifications(conn, project_id, group_name, notifications)

    def claim_notifications(self, now: datetime, limit: int,
                            lease_seconds: float) -> list[QueuedNotification]:
        now_ms = to_millis(now)
        with write_transaction(self._conn, self._lock) as conn:
            rows = conn.execute(
                "UPDATE as_notification_queue SET lease_until_ms = ? WHERE id IN (SELECT id "
                "FROM as_notification_queue WHERE lease_until_ms <= ? ORDER BY id LIMIT ?) "
                "RETURNING id, project_id, group_name, topic, message",
                (now_ms + max(1, round(lease_seconds * 1000)), now_ms, limit)).fetchall()
        return [QueuedNotification(*row) for row in sorted(rows)]

    def finish_notification(self, notification_id: int) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            conn.execute("DELETE FROM as_notification_queue WHERE id = ?", (notification_id,))
