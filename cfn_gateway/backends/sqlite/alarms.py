"""The embedded alarm store: alarms, their tags and history in the metric store's SQLite file.

The gateway opens one file (``<data_dir>/store.sqlite3``) for both embedded stores; every
table here is prefixed ``alarm`` so that the two schemas never meet.

Tables and statements: ``alarm_sql``.

One connection per store, shared by the threads of a process and guarded by a lock; every
change is one ``BEGIN IMMEDIATE`` transaction (``common.sqlite``), so that the processes of
the gateway and of its engines serialise their writes: ``claim_due`` picks and moves the due
alarms in a single UPDATE inside it, which is why two claimers never get the same alarm for
one tick, and ``set_state`` is an UPDATE guarded by the version it read.

Time ranges: DescribeAlarmHistory's start and end are both inclusive (as AWS documents
StartDate and EndDate).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any

from cfn_gateway.backends.alarms import (
    AlarmLimitExceeded,
    DescribeChange,
    InvalidNextToken,
    PendingAction,
    QueuedActions,
    StaleAlarm,
    StoredAlarm,
    Tag,
    token_position,
)
from cfn_gateway.backends.sqlite.alarm_sql import (
    CLAIM,
    CLAIM_ACTIONS,
    IN_LIST,
    INSERT_ALARM,
    INSERT_HISTORY,
    QUEUE_ACTION,
    SCHEMA,
    SET_STATE,
    STORED,
    UPDATE_DEFINITION,
    UPSERT_TAG,
    encode_dimensions,
    history_row,
    json_list,
    metric_columns,
    prefix_end,
    queue_rows,
)
from cfn_gateway.common.sqlite import connect, create_schema, write_transaction
from cfn_gateway.domain import pagination
from cfn_gateway.domain.alarm_codec import definition_from_json, definition_to_json
from cfn_gateway.domain.alarms import (
    Alarm,
    AlarmFilter,
    AlarmState,
    HistoryFilter,
    HistoryItem,
    Page,
)
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.periods import from_millis, to_millis

#: Evaluation ticks (seconds): alarms on periods under a minute are evaluated every 10 s.
STANDARD_INTERVAL = 60
HIGH_RESOLUTION_INTERVAL = 10

#: ``purge_history`` deletes this many rows per transaction, so as not to hold the write
#: lock of the shared file for long.
_PURGE_BATCH = 5000

#: The next evaluation time of a new or updated alarm: before any engine's "now", so that
#: the next pass evaluates it whatever the clocks of the gateway and the engines say (an
#: engine may also run "as at" a chosen moment, as ``cfn-gateway engine --now`` does).
_DUE_AT_ONCE = 0

#: How many decoded definitions a store keeps (it forgets them all when full).
_DEFINITIONS_MAX = 20_000


_ACTION_FIELDS = ("ok_actions", "alarm_actions", "insufficient_data_actions")


def evaluation_interval(alarm: Alarm) -> int:
    """Seconds between two evaluations of ``alarm``."""
    rule = alarm.metric_rule
    if alarm.composite_rule is None and rule is not None and rule.period < 60:
        return HIGH_RESOLUTION_INTERVAL
    return STANDARD_INTERVAL


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"a page holds at least one item, not {limit}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class SQLiteAlarmStore:
    """``AlarmStore`` on an SQLite file (created, with its folder, when missing)."""

    def __init__(self, path: str) -> None:
        self._conn = connect(path)
        self._lock = threading.Lock()
        self._secret = create_schema(self._conn, self._lock, SCHEMA, "alarm_store_meta")
        self._add_missing_columns()
        # Decoded definitions by their stored text (the values are immutable, so sharing
        # them is safe; a changed definition is another text): an engine claiming every
        # alarm each minute decodes each definition once, not once a minute.
        self._definitions: dict[str, Alarm] = {}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _add_missing_columns(self) -> None:
        """Columns added after a store file was made (files of earlier releases)."""
        with self._transaction() as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(alarms)")}
            if "state_previous_value" not in columns:
                conn.execute("ALTER TABLE alarms ADD COLUMN state_previous_value TEXT")

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._conn, self._lock)

    def _read(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _stored(self, row: Sequence[Any]) -> StoredAlarm:
        (project_id, version, definition, value, reason, reason_data, updated_ms,
         transitioned_ms, previous_value, repeated_ms) = row
        state = AlarmState(value, reason, from_millis(updated_ms),
                           from_millis(transitioned_ms), reason_data, previous_value)
        known = self._definitions.get(definition)
        if known is None:
            alarm = definition_from_json(definition, state)
            if len(self._definitions) >= _DEFINITIONS_MAX:
                self._definitions.clear()
            self._definitions[definition] = alarm
        else:
            alarm = known.with_state(state)
        return StoredAlarm(
            project_id=project_id,
            alarm=alarm,
            version=version,
            actions_repeated_at=None if repeated_ms is None else from_millis(repeated_ms),
        )

    # --- definitions ----------------------------------------------------------------------

    def put(
        self,
        project_id: str,
        alarm: Alarm,
        tags: Sequence[Tag],
        describe_change: DescribeChange,
        max_alarms: int,
    ) -> Alarm:
        """Create ``alarm`` (due for evaluation at once, with ``tags``) or update the
        definition of the alarm of that name: its state, tags and engine bookkeeping stay,
        its version grows and it is due at once.  ``tags`` of an update are ignored, as
        PutMetricAlarm / PutCompositeAlarm do on AWS (TagResource changes tags)."""
        definition = definition_to_json(alarm)
        configured_ms = to_millis(alarm.configuration_updated_at)
        interval = evaluation_interval(alarm)
        metric_values = metric_columns(alarm)
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT id, {STORED} FROM alarms WHERE project_id = ? AND name = ?",
                (project_id, alarm.name),
            ).fetchone()
            if row is None:
                (count,) = conn.execute(
                    "SELECT count(*) FROM alarms WHERE project_id = ?", (project_id,),
                ).fetchone()
                if count >= max_alarms:
                    raise AlarmLimitExceeded(
                        f"the project already has {count} alarms (at most {max_alarms})")
                state = alarm.state
                updated_ms, transitioned_ms = (to_millis(state.updated_at),
                                               to_millis(state.transitioned_at))
                # What a read will give back (times to the millisecond).
                stored = definition_from_json(definition, replace(
                    state, updated_at=from_millis(updated_ms),
                    transitioned_at=from_millis(transitioned_ms)))
                item = describe_change(None, stored)
                (alarm_id,) = conn.execute(INSERT_ALARM, (
                    project_id, alarm.name, alarm.alarm_type, definition,
                    state.value, state.reason, state.reason_data, updated_ms, transitioned_ms,
                    state.previous_value,
                    configured_ms, *metric_values, _DUE_AT_ONCE, interval,
                )).fetchone()
            else:
                alarm_id = row[0]
                old = self._stored(row[1:]).alarm
                stored = definition_from_json(definition, old.state)
                item = describe_change(old, stored)
                conn.execute(UPDATE_DEFINITION, (
                    alarm.alarm_type, definition, configured_ms, *metric_values,
                    interval, _DUE_AT_ONCE, alarm_id,
                ))
                conn.execute("DELETE FROM alarm_children WHERE alarm_id = ?", (alarm_id,))
                tags = ()  # AWS ignores the Tags of a put that updates (TagResource does)
            conn.executemany(UPSERT_TAG, [(alarm_id, k, v) for k, v in tags])
            if alarm.composite_rule is not None:
                conn.executemany(
                    "INSERT OR IGNORE INTO alarm_children (alarm_id, child_name, project_id) "
                    "VALUES (?, ?, ?)",
                    [(alarm_id, child, project_id) for child in alarm.composite_rule.children],
                )
            conn.execute(INSERT_HISTORY, history_row(project_id, item))
        return stored

    def get(self, project_id: str, name: str) -> StoredAlarm | None:
        rows = self._read(f"SELECT {STORED} FROM alarms WHERE project_id = ? AND name = ?",
                          (project_id, name))
        return self._stored(rows[0]) if rows else None

    def get_many(self, project_id: str, names: Sequence[str]) -> dict[str, StoredAlarm]:
        if not names:
            return {}
        rows = self._read(
            f"SELECT {STORED} FROM alarms WHERE project_id = ? AND name {IN_LIST}",
            (project_id, json_list(names)),
        )
        found = [self._stored(row) for row in rows]
        return {stored.alarm.name: stored for stored in found}

    def describe(
        self,
        project_id: str,
        query: AlarmFilter,
        limit: int,
        next_token: str | None = None,
    ) -> Page:
        """Alarms matching ``query`` ordered by name; an empty ``alarm_types`` means both
        types (AlarmFilter's default asks for metric alarms only)."""
        _check_limit(limit)
        query_digest = pagination.digest(
            "alarms", sorted(set(query.names)), query.name_prefix,
            sorted(set(query.alarm_types)), query.state_value, query.action_prefix)
        sql = [f"SELECT {STORED} FROM alarms WHERE project_id = ?"]
        args: list[Any] = [project_id]
        if next_token:
            after = token_position(self._secret, next_token, project_id, query_digest)
            if not isinstance(after, str):
                raise InvalidNextToken("malformed token")
            sql.append("AND name > ?")
            args.append(after)
        if query.names:
            sql.append(f"AND name {IN_LIST}")
            args.append(json_list(query.names))
        if query.name_prefix:
            sql.append("AND name >= ?")
            args.append(query.name_prefix)
            end = prefix_end(query.name_prefix)
            if end is not None:
                sql.append("AND name < ?")
                args.append(end)
        if query.alarm_types:
            sql.append(f"AND alarm_type {IN_LIST}")
            args.append(json_list(query.alarm_types))
        if query.state_value is not None:
            sql.append("AND state_value = ?")
            args.append(query.state_value)
        if query.action_prefix:
            sql.append("AND EXISTS (" + " UNION ALL ".join(
                f"SELECT 1 FROM json_each(definition, '$.{field}') "
                "WHERE substr(value, 1, ?) = ?" for field in _ACTION_FIELDS) + ")")
            for _ in _ACTION_FIELDS:
                args.extend((len(query.action_prefix), query.action_prefix))
        sql.append("ORDER BY name LIMIT ?")
        args.append(limit + 1)
        rows = self._read(" ".join(sql), args)
        page = Page(items=[self._stored(row).alarm for row in rows[:limit]])
        if len(rows) > limit:
            page.next_token = pagination.page_token(self._secret, project_id, query_digest,
                                                    page.items[-1].name)
        return page

    def for_metric(self, project_id: str, key: MetricKey) -> list[Alarm]:
        rows = self._read(
            f"SELECT {STORED} FROM alarms WHERE project_id = ? AND namespace = ? "
            "AND metric_name = ? AND dimensions = ? ORDER BY name",
            (project_id, key.namespace, key.name, encode_dimensions(key)),
        )
        return [self._stored(row).alarm for row in rows]

    def delete(self, project_id: str, names: Sequence[str],
               describe_delete: Callable[[Alarm], HistoryItem]) -> list[str]:
        """Delete the named alarms, their tags and children rows; the history stays (and
        gets ``describe_delete``'s item per deleted alarm).  Returns the names that
        existed, in the order asked, once each."""
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return []
        with self._transaction() as conn:
            rows = conn.execute(
                f"SELECT id, {STORED} FROM alarms WHERE project_id = ? AND name {IN_LIST}",
                (project_id, json_list(wanted)),
            ).fetchall()
            found: dict[str, tuple[int, Alarm]] = {}
            for row in rows:
                alarm = self._stored(row[1:]).alarm
                found[alarm.name] = (row[0], alarm)
            deleted = [name for name in wanted if name in found]
            items = [describe_delete(found[name][1]) for name in deleted]
            ids = [(found[name][0],) for name in deleted]
            conn.executemany("DELETE FROM alarm_tags WHERE alarm_id = ?", ids)
            conn.executemany("DELETE FROM alarm_children WHERE alarm_id = ?", ids)
            conn.executemany("DELETE FROM alarms WHERE id = ?", ids)
            conn.executemany(INSERT_HISTORY, [history_row(project_id, i) for i in items])
        return deleted

    # --- states ---------------------------------------------------------------------------

    def set_state(
        self,
        project_id: str,
        name: str,
        expected_version: int,
        state: AlarmState,
        history: Sequence[HistoryItem],
        actions_repeated_at: datetime | None = None,
        actions: QueuedActions | None = None,
    ) -> StoredAlarm:
        """Compare-and-set: store ``state`` if the alarm is still at ``expected_version``,
        with ``history`` and the queued ``actions`` in the same transaction.

        The stored transition time changes only when the state value does (then it is
        ``state.transitioned_at``); ``actions_repeated_at`` replaces the stored one (None
        resets it).  The version grows by one.
        """
        with self._transaction() as conn:
            row = conn.execute(SET_STATE, {
                "value": state.value, "reason": state.reason,
                "reason_data": state.reason_data, "updated": to_millis(state.updated_at),
                "transitioned": to_millis(state.transitioned_at),
                "repeated": (None if actions_repeated_at is None
                             else to_millis(actions_repeated_at)),
                "project": project_id, "name": name, "version": expected_version,
            }).fetchone()
            if row is None:
                raise StaleAlarm(f"alarm {name!r} is no longer at version {expected_version}")
            conn.executemany(INSERT_HISTORY, [history_row(project_id, i) for i in history])
            conn.executemany(QUEUE_ACTION, queue_rows(project_id, actions))
        return self._stored(row)

    def set_actions_enabled(self, project_id: str, names: Sequence[str], enabled: bool,
                            describe_change: DescribeChange) -> None:
        """Enable/DisableAlarmActions.  Alarms already so are left alone (no new version,
        no history); the configuration update time is kept, as AWS does."""
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return
        with self._transaction() as conn:
            rows = conn.execute(
                f"SELECT id, {STORED} FROM alarms WHERE project_id = ? AND name {IN_LIST}",
                (project_id, json_list(wanted)),
            ).fetchall()
            for row in rows:
                old = self._stored(row[1:]).alarm
                if old.actions_enabled == enabled:
                    continue
                new = replace(old, actions_enabled=enabled)
                item = describe_change(old, new)
                conn.execute(
                    "UPDATE alarms SET definition = ?, version = version + 1 WHERE id = ?",
                    (definition_to_json(new), row[0]))
                conn.execute(INSERT_HISTORY, history_row(project_id, item))

    def note_actions_repeated(self, project_id: str, name: str, expected_version: int,
                              at: datetime, actions: QueuedActions | None = None) -> None:
        """Record when Auto Scaling actions last ran again and queue them, if the alarm is
        still at ``expected_version`` (``StaleAlarm`` otherwise).

        The version does NOT grow: the repeat time is bookkeeping of the engine, not a
        change of the alarm, so an evaluation in flight on this version stays valid.
        """
        with self._transaction() as conn:
            updated = conn.execute(
                "UPDATE alarms SET actions_repeated_ms = ? "
                "WHERE project_id = ? AND name = ? AND version = ?",
                (to_millis(at), project_id, name, expected_version),
            ).rowcount
            if updated != 1:
                raise StaleAlarm(f"alarm {name!r} is no longer at version {expected_version}")
            conn.executemany(QUEUE_ACTION, queue_rows(project_id, actions))

    def make_due(self, project_id: str, names: Sequence[str], now: datetime) -> None:
        """Make these alarms due at ``now`` (an evaluation already due earlier stays)."""
        if not names:
            return
        with self._transaction() as conn:
            conn.execute(
                "UPDATE alarms SET next_evaluation_ms = min(next_evaluation_ms, ?) "
                f"WHERE project_id = ? AND name {IN_LIST}",
                (to_millis(now), project_id, json_list(names)))

    def claim_due(self, now: datetime, limit: int) -> list[StoredAlarm]:
        """Claim up to ``limit`` alarms (of every project, the longest due first) whose
        next evaluation is at or before ``now``: in the same statement each one's next
        evaluation moves to the next multiple of its interval after ``now``.  The list is
        ordered by project and name."""
        if limit < 1:
            return []
        with self._transaction() as conn:
            rows = conn.execute(CLAIM, {"now": to_millis(now), "limit": limit}).fetchall()
        claimed = [self._stored(row) for row in rows]
        claimed.sort(key=lambda s: (s.project_id, s.alarm.name))
        return claimed

    def children_states(self, project_id: str, names: Sequence[str]) -> dict[str, str]:
        if not names:
            return {}
        rows = self._read(
            f"SELECT name, state_value FROM alarms WHERE project_id = ? AND name {IN_LIST}",
            (project_id, json_list(names)),
        )
        return dict(rows)

    def callback_token(self, project_id: str, name: str) -> str | None:
        return None  # the engine runs every action in-process

    def parents_of(self, project_id: str, name: str) -> list[str]:
        rows = self._read(
            "SELECT a.name FROM alarm_children AS c JOIN alarms AS a ON a.id = c.alarm_id "
            "WHERE c.project_id = ? AND c.child_name = ? ORDER BY a.name",
            (project_id, name),
        )
        return [parent for (parent,) in rows]

    # --- actions --------------------------------------------------------------------------

    def claim_actions(self, now: datetime, limit: int, lease_seconds: float) -> list[
            PendingAction]:
        """Lease up to ``limit`` free actions (never claimed, or whose lease ended by
        ``now``), oldest queued first, to this caller until ``now + lease_seconds``."""
        if limit < 1:
            return []
        now_ms = to_millis(now)
        until_ms = now_ms + max(1, round(lease_seconds * 1000))
        with self._transaction() as conn:
            rows = conn.execute(CLAIM_ACTIONS,
                                {"now": now_ms, "until": until_ms, "limit": limit}).fetchall()
        rows.sort(key=lambda row: row[0])
        return [
            PendingAction(id=action_id, project_id=project_id, alarm_name=name,
                          alarm_type=alarm_type, action=action, state_value=value,
                          state_updated_at=from_millis(updated_ms), message=message,
                          attempts=attempts)
            for (action_id, project_id, name, alarm_type, action, value, updated_ms, message,
                 attempts) in rows
        ]

    def finish_action(self, action_id: int, history: HistoryItem, project_id: str) -> None:
        """Remove the action and record ``history``, in one transaction.  An action that is
        gone already (another engine finished it after this one's lease ended) records
        nothing: each queued action gets one Action item."""
        with self._transaction() as conn:
            removed = conn.execute("DELETE FROM alarm_action_queue WHERE id = ?",
                                   (action_id,)).rowcount
            if removed:
                conn.execute(INSERT_HISTORY, history_row(project_id, history))

    # --- history --------------------------------------------------------------------------

    def add_history(self, project_id: str, items: Sequence[HistoryItem]) -> None:
        if not items:
            return
        with self._transaction() as conn:
            conn.executemany(INSERT_HISTORY, [history_row(project_id, i) for i in items])

    def history(
        self,
        project_id: str,
        query: HistoryFilter,
        limit: int,
        next_token: str | None = None,
    ) -> Page:
        """Items matching ``query``, newest or oldest first (ties in the order they were
        added); ``query.start`` and ``query.end`` are both inclusive."""
        _check_limit(limit)
        start_ms = None if query.start is None else to_millis(query.start)
        end_ms = None if query.end is None else to_millis(query.end)
        query_digest = pagination.digest(
            "history", query.alarm_name, sorted(set(query.alarm_types)), query.item_type,
            start_ms, end_ms, query.newest_first)
        sql = ["SELECT id, alarm_name, alarm_type, ts_ms, item_type, summary, data",
               "FROM alarm_history WHERE project_id = ?"]
        args: list[Any] = [project_id]
        if query.alarm_name is not None:
            sql.append("AND alarm_name = ?")
            args.append(query.alarm_name)
        if query.alarm_types:
            sql.append(f"AND alarm_type {IN_LIST}")
            args.append(json_list(query.alarm_types))
        if query.item_type is not None:
            sql.append("AND item_type = ?")
            args.append(query.item_type)
        if start_ms is not None:
            sql.append("AND ts_ms >= ?")
            args.append(start_ms)
        if end_ms is not None:
            sql.append("AND ts_ms <= ?")
            args.append(end_ms)
        if next_token:
            after = token_position(self._secret, next_token, project_id, query_digest)
            if not (isinstance(after, list) and len(after) == 2 and all(map(_is_int, after))):
                raise InvalidNextToken("malformed token")
            ts_ms, item_id = after
            if query.newest_first:
                sql.append("AND ts_ms <= ? AND (ts_ms < ? OR id < ?)")
            else:
                sql.append("AND ts_ms >= ? AND (ts_ms > ? OR id > ?)")
            args.extend((ts_ms, ts_ms, item_id))
        order = "DESC" if query.newest_first else "ASC"
        sql.append(f"ORDER BY ts_ms {order}, id {order} LIMIT ?")
        args.append(limit + 1)
        rows = self._read(" ".join(sql), args)
        page = Page(items=[
            HistoryItem(alarm_name=name, alarm_type=alarm_type, timestamp=from_millis(ts),
                        item_type=item_type, summary=summary, data=data)
            for _, name, alarm_type, ts, item_type, summary, data in rows[:limit]
        ])
        if len(rows) > limit:
            last = rows[limit - 1]
            page.next_token = pagination.page_token(self._secret, project_id, query_digest,
                                                    [last[3], last[0]])
        return page

    def purge_history(self, older_than: datetime) -> int:
        """Delete the items stamped before ``older_than`` (in batches of a few thousand, one
        transaction each); returns how many went."""
        cutoff, total = to_millis(older_than), 0
        while True:
            with self._transaction() as conn:
                deleted = conn.execute(
                    "DELETE FROM alarm_history WHERE id IN (SELECT id FROM alarm_history "
                    "WHERE ts_ms < ? LIMIT ?)", (cutoff, _PURGE_BATCH),
                ).rowcount
            total += deleted
            if deleted < _PURGE_BATCH:
                return total

    # --- tags -----------------------------------------------------------------------------

    def tags(self, project_id: str, name: str) -> list[Tag] | None:
        """The alarm's tags ordered by key, or None when there is no such alarm."""
        rows = self._read(
            "SELECT t.key, t.value FROM alarms AS a "
            "LEFT JOIN alarm_tags AS t ON t.alarm_id = a.id "
            "WHERE a.project_id = ? AND a.name = ? ORDER BY t.key",
            (project_id, name),
        )
        if not rows:
            return None
        return [(key, value) for key, value in rows if key is not None]

    def named_by_tags(self, project_id: str, tags: Sequence[Tag]) -> list[str]:
        """Names of the project's alarms that carry every one of ``tags``, ordered."""
        wanted = dict(tags)
        if not wanted:
            raise ValueError("named_by_tags needs at least one tag")
        joins = " ".join(
            f"JOIN alarm_tags AS t{i} ON t{i}.alarm_id = a.id AND t{i}.key = ? "
            f"AND t{i}.value = ?" for i in range(len(wanted)))
        args = [part for pair in wanted.items() for part in pair]
        rows = self._read(f"SELECT a.name FROM alarms AS a {joins} "
                          "WHERE a.project_id = ? ORDER BY a.name", (*args, project_id))
        return [name for (name,) in rows]

    def tag(self, project_id: str, name: str, tags: Sequence[Tag]) -> bool:
        with self._transaction() as conn:
            found = conn.execute("SELECT id FROM alarms WHERE project_id = ? AND name = ?",
                                 (project_id, name)).fetchone()
            if found is None:
                return False
            conn.executemany(UPSERT_TAG, [(found[0], key, value) for key, value in tags])
        return True

    def untag(self, project_id: str, name: str, keys: Sequence[str]) -> bool:
        """Remove the tags of these keys (absent keys are ignored); False when there is no
        such alarm."""
        with self._transaction() as conn:
            found = conn.execute("SELECT id FROM alarms WHERE project_id = ? AND name = ?",
                                 (project_id, name)).fetchone()
            if found is None:
                return False
            conn.executemany("DELETE FROM alarm_tags WHERE alarm_id = ? AND key = ?",
                             [(found[0], key) for key in keys])
        return True

    # --- tokens ---------------------------------------------------------------------------
