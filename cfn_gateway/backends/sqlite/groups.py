"""``GroupStore`` on SQLite (the gateway's store file, in both modes).

Tables (prefixed ``as_`` so they never meet another store's):
- ``as_groups``: one row per (project, group name) with the definition as JSON text
  (``domain.groups.group_to_json``), its ``version`` (grows on every update: what
  ``update`` compares and sets), its launch configuration name (for
  ``uses_launch_configuration``) and whether it is ``settled``.
- ``as_instances``: one row per instance id, with its group and state columns.
- ``as_detached_instances``: instances detached from a group (DetachInstances), which run
  on outside any group until AttachInstances claims them; an attach deletes the row in
  the same transaction as it adds the instance to its group, so an instance joins one
  group only.
- ``as_policies`` and ``as_scheduled_actions``: the group's scaling policies and scheduled
  actions, and ``as_notification_queue`` (``sqlite/group_parts.py``).
- ``as_activities``: the scaling activities (``sqlite/group_activities.py``).
- ``group_store_meta``: the secret that signs DescribeAutoScalingGroups and
  DescribeScalingActivities tokens.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from cfn_gateway.backends.alarms import InvalidNextToken, token_position
from cfn_gateway.backends.groups import (
    GroupExists,
    GroupLimitExceeded,
    InstanceNotDetached,
    StaleGroup,
    StoredGroup,
)
from cfn_gateway.backends.sqlite.group_activities import (
    ACTIVITIES_SCHEMA,
    ActivityRows,
    put_activity_row,
)
from cfn_gateway.backends.sqlite.group_parts import (
    PARTS_SCHEMA,
    NotificationRows,
    PolicyRows,
    ScheduledActionRows,
    queue_notifications,
    sql_in,
)
from cfn_gateway.backends.sqlite.named_pages import named_page
from cfn_gateway.common.sqlite import connect, create_schema, write_transaction
from cfn_gateway.domain import pagination
from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.groups import (
    DetachedInstance,
    Group,
    GroupChanges,
    Instance,
    group_from_json,
    group_to_json,
    waits_from_json,
    waits_to_json,
)
from cfn_gateway.domain.periods import from_millis, to_millis
from cfn_gateway.domain.tag_filters import Filter, group_matches, tag_matches

_SCHEMA = """
CREATE TABLE IF NOT EXISTS group_store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS as_groups (
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    launch_configuration_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, name)
);
CREATE INDEX IF NOT EXISTS as_groups_unsettled ON as_groups (settled, project_id, name);
CREATE INDEX IF NOT EXISTS as_groups_by_launch_configuration
    ON as_groups (project_id, launch_configuration_name);
CREATE TABLE IF NOT EXISTS as_instances (
    project_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    lifecycle_state TEXT NOT NULL,
    launch_configuration_name TEXT,
    instance_type TEXT,
    launched_ms INTEGER NOT NULL,
    health_status TEXT NOT NULL,
    protected_from_scale_in INTEGER NOT NULL,
    activity_id TEXT,
    waits TEXT,
    cloud_id TEXT,
    PRIMARY KEY (project_id, instance_id)
);
CREATE TABLE IF NOT EXISTS as_detached_instances (
    project_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    launch_configuration_name TEXT,
    instance_type TEXT,
    launched_ms INTEGER NOT NULL,
    cloud_id TEXT NOT NULL,
    detached_from TEXT NOT NULL,
    PRIMARY KEY (project_id, instance_id)
);
CREATE INDEX IF NOT EXISTS as_instances_by_group ON as_instances (project_id, group_name)
"""

_INSTANCE_COLUMNS = ("instance_id, group_name, availability_zone, lifecycle_state, "
                     "launch_configuration_name, instance_type, launched_ms, health_status, "
                     "protected_from_scale_in, activity_id, waits, cloud_id")
#: Columns added since the first stores were made (``common.sqlite.create_schema``).
_ADDED_COLUMNS = (("as_instances", "cloud_id", "TEXT"),)
_DETACHED_COLUMNS = ("instance_id, availability_zone, launch_configuration_name, "
                     "instance_type, launched_ms, cloud_id, detached_from")


def _instance(row: Sequence[Any]) -> Instance:
    (instance_id, group_name, zone, state, configuration, instance_type, launched_ms,
     health, protected, activity_id, waits, cloud_id) = row
    return Instance(instance_id, group_name, zone, state, configuration, instance_type,
                    from_millis(launched_ms), health, bool(protected), activity_id,
                    waits_from_json(waits), cloud_id)



def _put_instance(conn: sqlite3.Connection, project_id: str, instance: Instance) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO as_instances (project_id, {_INSTANCE_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (project_id, instance.instance_id, instance.group_name, instance.availability_zone,
         instance.lifecycle_state, instance.launch_configuration_name, instance.instance_type,
         to_millis(instance.launched_at), instance.health_status,
         int(instance.protected_from_scale_in), instance.activity_id,
         waits_to_json(instance.waits), instance.cloud_id))


def _detached(row: Sequence[Any]) -> DetachedInstance:
    (instance_id, zone, configuration, instance_type, launched_ms, cloud_id,
     detached_from) = row
    return DetachedInstance(instance_id, zone, configuration, instance_type,
                            from_millis(launched_ms), cloud_id, detached_from)




class SQLiteGroupStore(ActivityRows, PolicyRows, ScheduledActionRows, NotificationRows):
    def __init__(self, path: str) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()
        schema = ";\n".join((_SCHEMA, PARTS_SCHEMA, ACTIVITIES_SCHEMA))
        self._secret = create_schema(self._conn, self._lock, schema, "group_store_meta",
                                     _ADDED_COLUMNS)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # --- groups ---------------------------------------------------------------------------

    def create(self, project_id: str, group: Group, max_groups: int) -> StoredGroup:
        with write_transaction(self._conn, self._lock) as conn:
            if conn.execute("SELECT 1 FROM as_groups WHERE project_id = ? AND name = ?",
                            (project_id, group.name)).fetchone():
                raise GroupExists(group.name)
            (count,) = conn.execute("SELECT count(*) FROM as_groups WHERE project_id = ?",
                                    (project_id,)).fetchone()
            if count >= max_groups:
                raise GroupLimitExceeded(f"the project has {count} groups (at most "
                                         f"{max_groups})")
            conn.execute("INSERT INTO as_groups VALUES (?, ?, 1, ?, ?, 0)",
                         (project_id, group.name, group.launch_configuration_name,
                          group_to_json(group)))
        return StoredGroup(project_id, group, 1)

    def get(self, project_id: str, name: str) -> StoredGroup | None:
        rows = self._read("SELECT version, definition, settled FROM as_groups "
                          "WHERE project_id = ? AND name = ?", (project_id, name))
        if not rows:
            return None
        version, definition, settled = rows[0]
        return StoredGroup(project_id, group_from_json(definition), version, bool(settled))

    def describe(self, project_id: str, names: Sequence[str], limit: int,
                 next_token: str | None = None) -> Page:
        rows, token = named_page(self._read, self._secret, "as_groups",
                                 "version, definition, settled", project_id, names, limit,
                                 next_token)
        return Page(items=[StoredGroup(project_id, group_from_json(definition), version,
                                       bool(settled))
                           for _, version, definition, settled in rows], next_token=token)

    def _project_groups(self, project_id: str) -> list[StoredGroup]:
        return [StoredGroup(project_id, group_from_json(definition), version, bool(settled))
                for version, definition, settled in self._read(
                    "SELECT version, definition, settled FROM as_groups WHERE project_id = ? "
                    "ORDER BY name", (project_id,))]

    def _after(self, next_token: str | None, project_id: str, digest: str) -> Any:
        return token_position(self._secret, next_token, project_id, digest) \
            if next_token else None

    def describe_matching(self, project_id: str, names: Sequence[str],
                          filters: Sequence[Filter], limit: int,
                          next_token: str | None = None) -> Page:
        wanted = set(names)
        digest = pagination.digest("as_groups-filtered", [
            sorted(wanted), [[f.name, sorted(f.values)] for f in filters]])
        after = self._after(next_token, project_id, digest)
        if after is not None and not isinstance(after, str):
            raise InvalidNextToken("malformed token")
        found = [stored for stored in self._project_groups(project_id)
                 if (not wanted or stored.group.name in wanted)
                 and (after is None or stored.group.name > after)
                 and group_matches(stored.group.tags, filters)]
        page = Page(items=found[:limit])
        if len(found) > limit:
            page.next_token = pagination.page_token(self._secret, project_id, digest,
                                                    found[limit - 1].group.name)
        return page

    def describe_tags(self, project_id: str, filters: Sequence[Filter], limit: int,
                      next_token: str | None = None) -> Page:
        digest = pagination.digest("as_tags", [[f.name, sorted(f.values)] for f in filters])
        after = self._after(next_token, project_id, digest)
        if after is not None and (not isinstance(after, list) or len(after) != 2
                                  or not all(isinstance(part, str) for part in after)):
            raise InvalidNextToken("malformed token")
        found = [(stored.group.name, tag) for stored in self._project_groups(project_id)
                 for tag in sorted(stored.group.tags, key=lambda t: t.key)
                 if (after is None or [stored.group.name, tag.key] > after)
                 and tag_matches(stored.group.name, tag, filters)]
        page = Page(items=found[:limit])
        if len(found) > limit:
            name, tag = found[limit - 1]
            page.next_token = pagination.page_token(self._secret, project_id, digest,
                                                    [name, tag.key])
        return page

    def update(self, project_id: str, group: Group, expected_version: int) -> StoredGroup:
        with write_transaction(self._conn, self._lock) as conn:
            updated = conn.execute(
                "UPDATE as_groups SET version = version + 1, launch_configuration_name = ?, "
                "definition = ?, settled = 0 WHERE project_id = ? AND name = ? AND version = ?",
                (group.launch_configuration_name, group_to_json(group), project_id,
                 group.name, expected_version)).rowcount
        if not updated:
            raise StaleGroup(f"group {group.name!r} is no longer at version "
                             f"{expected_version}")
        return StoredGroup(project_id, group, expected_version + 1)

    def delete(self, project_id: str, name: str) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            deleted = conn.execute("DELETE FROM as_groups WHERE project_id = ? AND name = ?",
                                   (project_id, name)).rowcount
            conn.execute("DELETE FROM as_instances WHERE project_id = ? AND group_name = ?",
                         (project_id, name))
            for table in ("as_policies", "as_scheduled_actions"):
                conn.execute(f"DELETE FROM {table} WHERE project_id = ? AND group_name = ?",
                             (project_id, name))
        return deleted > 0

    def count(self, project_id: str) -> int:
        ((count,),) = self._read("SELECT count(*) FROM as_groups WHERE project_id = ?",
                                 (project_id,))
        return count

    def uses_launch_configuration(self, project_id: str, name: str) -> bool:
        return bool(self._read("SELECT 1 FROM as_groups WHERE project_id = ? AND "
                               "launch_configuration_name = ? LIMIT 1", (project_id, name)))

    # --- instances ------------------------------------------------------------------------

    def instances(self, project_id: str, group_name: str) -> list[Instance]:
        return [_instance(row) for row in self._read(
            f"SELECT {_INSTANCE_COLUMNS} FROM as_instances WHERE project_id = ? AND "
            "group_name = ? ORDER BY instance_id", (project_id, group_name))]

    def describe_instances(self, project_id: str, instance_ids: Sequence[str], limit: int,
                           next_token: str | None = None) -> Page:
        rows, token = named_page(self._read, self._secret, "as_instances",
                                 _INSTANCE_COLUMNS, project_id, instance_ids, limit,
                                 next_token, key="instance_id")
        return Page(items=[_instance(row[1:]) for row in rows], next_token=token)

    def find_instance(self, project_id: str, instance_id: str) -> Instance | None:
        rows = self._read(f"SELECT {_INSTANCE_COLUMNS} FROM as_instances WHERE "
                          "project_id = ? AND instance_id = ?", (project_id, instance_id))
        return _instance(rows[0]) if rows else None

    def put_instance(self, project_id: str, instance: Instance) -> None:
        with write_transaction(self._conn, self._lock) as conn:
            _put_instance(conn, project_id, instance)

    def detached_instances(self, project_id: str,
                           instance_ids: Sequence[str]) -> list[DetachedInstance]:
        wanted = sorted(set(instance_ids))
        if not wanted:
            return []
        return [_detached(row) for row in self._read(
            f"SELECT {_DETACHED_COLUMNS} FROM as_detached_instances WHERE project_id = ? "
            f"AND instance_id {sql_in(wanted)} ORDER BY instance_id", [project_id, *wanted])]

    def remove_instance(self, project_id: str, instance_id: str) -> bool:
        with write_transaction(self._conn, self._lock) as conn:
            return conn.execute(
                "DELETE FROM as_instances WHERE project_id = ? AND instance_id = ?",
                (project_id, instance_id)).rowcount > 0

    # --- the scaling engine's writes ------------------------------------------------------

    def save(self, project_id: str, changes: GroupChanges,
             expected_version: int) -> StoredGroup:
        group = changes.group
        with write_transaction(self._conn, self._lock) as conn:
            updated = conn.execute(
                "UPDATE as_groups SET version = version + 1, launch_configuration_name = ?, "
                "definition = ?, settled = ? WHERE project_id = ? AND name = ? AND "
                "version = ?",
                (group.launch_configuration_name, group_to_json(group), int(changes.settled),
                 project_id, group.name, expected_version)).rowcount
            if not updated:
                raise StaleGroup(f"group {group.name!r} is no longer at version "
                                 f"{expected_version}")
            for instance_id in changes.attached:
                if not conn.execute(
                        "DELETE FROM as_detached_instances WHERE project_id = ? AND "
                        "instance_id = ?", (project_id, instance_id)).rowcount:
                    raise InstanceNotDetached(instance_id)
            for instance in changes.put_instances:
                _put_instance(conn, project_id, instance)
            for instance_id in changes.removed_instances:
                conn.execute("DELETE FROM as_instances WHERE project_id = ? AND "
                             "instance_id = ? AND group_name = ?",
                             (project_id, instance_id, group.name))
            for activity in changes.activities:
                put_activity_row(conn, project_id, activity)
            conn.executemany(
                f"INSERT OR REPLACE INTO as_detached_instances (project_id, "
                f"{_DETACHED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(project_id, i.instance_id, i.availability_zone,
                  i.launch_configuration_name, i.instance_type, to_millis(i.launched_at),
                  i.cloud_id, i.detached_from) for i in changes.detached])
            queue_notifications(conn, project_id, group.name, changes.notifications)
        return StoredGroup(project_id, group, expected_version + 1, changes.settled)

    def unsettled(self, limit: int) -> list[tuple[str, str]]:
        return [(project_id, name) for project_id, name in self._read(
            "SELECT project_id, name FROM as_groups WHERE settled = 0 "
            "ORDER BY project_id, name LIMIT ?", (limit,))]

    def all_groups(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str]]:
        if after is None:
            rows = self._read("SELECT project_id, name FROM as_groups "
                              "ORDER BY project_id, name LIMIT ?", (limit,))
        else:
            rows = self._read("SELECT project_id, name FROM as_groups WHERE (project_id, name) "
                              "> (?, ?) ORDER BY project_id, name LIMIT ?", (*after, limit))
        return [(project_id, name) for project_id, name in rows]
