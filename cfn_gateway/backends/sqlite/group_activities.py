"""The scaling activities of ``SQLiteGroupStore`` (table ``as_activities``): a mixin.

One row per activity, indexed by (project, group, start time).  Activities outlive their
group, as on AWS, until ``purge_activities`` drops the ended ones older than AWS's six
weeks.  ``put_activity_row`` is what a group's ``save`` writes them with, in its own
transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cfn_gateway.backends.alarms import InvalidNextToken, token_position
from cfn_gateway.backends.sqlite.group_parts import Rows, sql_in
from cfn_gateway.common.sqlite import write_transaction
from cfn_gateway.domain import pagination
from cfn_gateway.domain.activity_filters import ActivityFilter
from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.groups import Activity
from cfn_gateway.domain.periods import from_millis, to_millis

ACTIVITIES_SCHEMA = """
CREATE TABLE IF NOT EXISTS as_activities (
    project_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    description TEXT NOT NULL,
    cause TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    status_code TEXT NOT NULL,
    status_message TEXT,
    progress INTEGER NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (project_id, activity_id)
);
CREATE INDEX IF NOT EXISTS as_activities_by_group
    ON as_activities (project_id, group_name, start_ms)
"""

_COLUMNS = ("activity_id, group_name, description, cause, start_ms, end_ms, "
            "status_code, status_message, progress, details")


def _activity(row: Sequence[Any]) -> Activity:
    (activity_id, group_name, description, cause, start_ms, end_ms, status_code,
     status_message, progress, details) = row
    return Activity(activity_id, group_name, description, cause, from_millis(start_ms),
                    status_code, progress, None if end_ms is None else from_millis(end_ms),
                    status_message, details)


def put_activity_row(conn: sqlite3.Connection, project_id: str, activity: Activity) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO as_activities (project_id, {_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (project_id, activity.activity_id, activity.group_name, activity.description,
         activity.cause, to_millis(activity.start_time),
         None if activity.end_time is None else to_millis(activity.end_time),
         activity.status_code, activity.status_message, activity.progress, activity.details))


class ActivityRows(Rows):
    def put_activity(self, project_id: str, activity: Activity) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            put_activity_row(conn, project_id, activity)

    def open_activities(self, project_id: str, group_name: str) -> list[Activity]:
        return [_activity(row) for row in self._read(
            f"SELECT {_COLUMNS} FROM as_activities WHERE project_id = ? AND "
            "group_name = ? AND end_ms IS NULL ORDER BY start_ms, activity_id",
            (project_id, group_name))]

    def activities_by_id(self, project_id: str, activity_ids: Sequence[str]) -> list[Activity]:
        wanted = sorted(set(activity_ids))
        if not wanted:
            return []
        return [_activity(row) for row in self._read(
            f"SELECT {_COLUMNS} FROM as_activities WHERE project_id = ? AND "
            f"activity_id {sql_in(wanted)} ORDER BY start_ms DESC, activity_id DESC",
            [project_id, *wanted])]

    def purge_activities(self, started_before: datetime) -> int:
        with write_transaction(self._conn, self._lock) as conn:
            return conn.execute(
                "DELETE FROM as_activities WHERE start_ms < ? AND end_ms IS NOT NULL",
                (to_millis(started_before),)).rowcount

    def activities(self, project_id: str, group_names: Sequence[str], limit: int,
                   next_token: str | None = None,
                   only: ActivityFilter | None = None) -> Page:
        wanted = sorted(set(group_names))
        only = only or ActivityFilter()
        digest = pagination.digest("activities", [wanted, only.key])
        after = token_position(self._secret, next_token, project_id, digest) if next_token else None
        sql = [f"SELECT {_COLUMNS} FROM as_activities WHERE project_id = ?"]
        args: list[Any] = [project_id]
        if wanted:
            sql.append(f"AND group_name {sql_in(wanted)}")
            args.extend(wanted)
        if only.started_from is not None:
            sql.append("AND start_ms >= ?")
            args.append(to_millis(only.started_from))
        if only.started_until is not None:
            sql.append("AND start_ms <= ?")
            args.append(to_millis(only.started_until))
        if only.statuses:
            sql.append(f"AND status_code {sql_in(only.statuses)}")
            args.extend(only.statuses)
        if after is not None:
            if (not isinstance(after, list) or len(after) != 2
                    or not isinstance(after[0], int) or not isinstance(after[1], str)):
                raise InvalidNextToken("malformed token")
            sql.append("AND (start_ms < ? OR (start_ms = ? AND activity_id < ?))")
            args.extend([after[0], after[0], after[1]])
        sql.append("ORDER BY start_ms DESC, activity_id DESC LIMIT ?")
        args.append(limit + 1)
        rows = self._read(" ".join(sql), args)
        page = Page(items=[_activity(row) for row in rows[:limit]])
        if len(rows) > limit:
            last = rows[limit - 1]
            page.next_token = pagination.page_token(self._secret, project_id, digest,
                                                    [last[4], last[0]])
        return page
