"""The SQL of the embedded alarm store: its tables, its statements, how values are bound.

Tables:
- ``alarms``: one row per (project, alarm name).  ``definition`` is the alarm's definition
  without its state (``domain.alarm_codec``); the state lives in the ``state_*`` columns
  (times in ms), so a state change never rewrites the definition and an update of the
  definition never touches the state.  ``state_previous_value`` is the value the alarm
  left at its last transition (the store adds the column to files made before it
  existed).  ``version`` grows on every change of either (not on a claim, ``make_due`` or
  ``note_actions_repeated``) and is what ``set_state`` compares and sets.
  ``namespace``, ``metric_name`` and ``dimensions`` (the canonical JSON pairs the metric
  store uses) copy a single-metric alarm's metric for ``for_metric``; they are NULL for
  metric-math and composite alarms.  ``next_evaluation_ms`` / ``evaluation_interval_s``
  (60, or 10 for periods under a minute) drive ``claim_due`` through their own index; a
  new or updated alarm gets ``next_evaluation_ms`` 0, due at the next pass of any engine
  whatever its clock says.
- ``alarm_tags``: (alarm id, key) -> value.
- ``alarm_children``: the alarm names a composite alarm's rule refers to, with the project,
  indexed by (project, child name) for ``parents_of``.
- ``alarm_history``: the DescribeAlarmHistory items by project, kept by alarm *name* (not
  id) so that they outlive the alarm; indexed by (project, time) and (project, name, time).
- ``alarm_action_queue``: actions waiting to run, one row per action, FIFO by id; an
  engine claims one for a lease (``lease_until_ms``; 0 when never claimed) and deletes it
  when it has run.  Rows are queued with the state change that causes them (same
  transaction) and do not go with a deleted alarm: the change happened.
- ``alarm_store_meta``: the secret that signs DescribeAlarms / DescribeAlarmHistory tokens
  (shared by processes; not the metric store's secret, so tokens never cross over).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cfn_gateway.backends.alarms import QueuedActions
from cfn_gateway.domain.alarms import Alarm, HistoryItem
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.periods import to_millis

SCHEMA = """
CREATE TABLE IF NOT EXISTS alarm_store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    alarm_type TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    state_value TEXT NOT NULL,
    state_reason TEXT NOT NULL,
    state_reason_data TEXT,
    state_updated_ms INTEGER NOT NULL,
    state_transitioned_ms INTEGER NOT NULL,
    state_previous_value TEXT,
    configuration_updated_ms INTEGER NOT NULL,
    namespace TEXT,
    metric_name TEXT,
    dimensions TEXT,
    next_evaluation_ms INTEGER NOT NULL,
    evaluation_interval_s INTEGER NOT NULL,
    actions_repeated_ms INTEGER,
    UNIQUE (project_id, name)
);
CREATE INDEX IF NOT EXISTS alarms_due ON alarms (next_evaluation_ms);
CREATE INDEX IF NOT EXISTS alarms_by_metric
    ON alarms (project_id, namespace, metric_name, dimensions);
CREATE TABLE IF NOT EXISTS alarm_tags (
    alarm_id INTEGER NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (alarm_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarm_children (
    alarm_id INTEGER NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    child_name TEXT NOT NULL,
    project_id TEXT NOT NULL,
    PRIMARY KEY (alarm_id, child_name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alarm_children_by_child ON alarm_children (project_id, child_name);
CREATE TABLE IF NOT EXISTS alarm_history (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    alarm_name TEXT NOT NULL,
    alarm_type TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    item_type TEXT NOT NULL,
    summary TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_by_time ON alarm_history (project_id, ts_ms);
CREATE INDEX IF NOT EXISTS alarm_history_by_alarm
    ON alarm_history (project_id, alarm_name, ts_ms);
CREATE INDEX IF NOT EXISTS alarm_history_by_age ON alarm_history (ts_ms);
CREATE TABLE IF NOT EXISTS alarm_action_queue (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    alarm_name TEXT NOT NULL,
    alarm_type TEXT NOT NULL,
    action TEXT NOT NULL,
    state_value TEXT NOT NULL,
    state_updated_ms INTEGER NOT NULL,
    message TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alarm_action_queue_by_lease
    ON alarm_action_queue (lease_until_ms);
"""

#: The columns ``_stored`` builds a StoredAlarm from.
STORED = (
    "project_id, version, definition, state_value, state_reason, state_reason_data, "
    "state_updated_ms, state_transitioned_ms, state_previous_value, actions_repeated_ms"
)

INSERT_ALARM = """
INSERT INTO alarms (
    project_id, name, alarm_type, version, definition,
    state_value, state_reason, state_reason_data, state_updated_ms, state_transitioned_ms,
    state_previous_value, configuration_updated_ms, namespace, metric_name, dimensions,
    next_evaluation_ms, evaluation_interval_s, actions_repeated_ms
) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
RETURNING id
"""

# An updated alarm is due at once (its definition changed); the state is not touched.
# Its version grows, so an evaluation of the old definition in flight is refused.
UPDATE_DEFINITION = """
UPDATE alarms SET
    alarm_type = ?, definition = ?, configuration_updated_ms = ?,
    namespace = ?, metric_name = ?, dimensions = ?,
    evaluation_interval_s = ?, next_evaluation_ms = ?,
    version = version + 1
WHERE id = ?
"""

# Every SET expression sees the row as it was, so the CASE compares with the old state.
SET_STATE = f"""
UPDATE alarms SET
    state_transitioned_ms = CASE WHEN state_value = :value THEN state_transitioned_ms
                                 ELSE :transitioned END,
    state_previous_value = CASE WHEN state_value = :value THEN state_previous_value
                                ELSE state_value END,
    state_value = :value, state_reason = :reason, state_reason_data = :reason_data,
    state_updated_ms = :updated, actions_repeated_ms = :repeated, version = version + 1
WHERE project_id = :project AND name = :name AND version = :version
RETURNING {STORED}
"""

# One statement picks the oldest due alarms and moves each to its next tick: inside the
# write transaction no other claimer can see them due any more.
CLAIM = f"""
UPDATE alarms
SET next_evaluation_ms = (:now / (evaluation_interval_s * 1000) + 1)
                         * (evaluation_interval_s * 1000)
WHERE id IN (SELECT id FROM alarms WHERE next_evaluation_ms <= :now
             ORDER BY next_evaluation_ms, id LIMIT :limit)
RETURNING {STORED}
"""

INSERT_HISTORY = """
INSERT INTO alarm_history (project_id, alarm_name, alarm_type, ts_ms, item_type, summary, data)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

QUEUE_ACTION = """
INSERT INTO alarm_action_queue
    (project_id, alarm_name, alarm_type, action, state_value, state_updated_ms, message)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

# Free (never claimed, or lease over) actions, oldest queued first, leased in one statement.
CLAIM_ACTIONS = """
UPDATE alarm_action_queue SET lease_until_ms = :until, attempts = attempts + 1
WHERE id IN (SELECT id FROM alarm_action_queue WHERE lease_until_ms <= :now
             ORDER BY id LIMIT :limit)
RETURNING id, project_id, alarm_name, alarm_type, action, state_value, state_updated_ms,
          message, attempts
"""

UPSERT_TAG = """
INSERT INTO alarm_tags (alarm_id, key, value) VALUES (?, ?, ?)
ON CONFLICT (alarm_id, key) DO UPDATE SET value = excluded.value
"""

#: Matches a column against a JSON array of strings bound as one parameter.
IN_LIST = "IN (SELECT value FROM json_each(?))"


def json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def encode_dimensions(key: MetricKey) -> str:
    """The dimension set as the metric store keys it: sorted [name, value] pairs."""
    return json.dumps([list(d) for d in sorted(key.dimensions)], ensure_ascii=False,
                      separators=(",", ":"))


def metric_columns(alarm: Alarm) -> tuple[str | None, str | None, str | None]:
    rule = alarm.metric_rule
    if alarm.composite_rule is not None or rule is None or rule.metric is None:
        return None, None, None
    key = rule.metric.key
    return key.namespace, key.name, encode_dimensions(key)


def prefix_end(prefix: str) -> str | None:
    """The least string above every string starting with ``prefix`` (None: no bound).

    SQLite compares TEXT bytewise; UTF-8 keeps code point order, so this is the prefix
    with its last character incremented (skipping the surrogates, which UTF-8 cannot hold).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code == 0xD800:
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def history_row(project_id: str, item: HistoryItem) -> tuple[Any, ...]:
    return (project_id, item.alarm_name, item.alarm_type, to_millis(item.timestamp),
            item.item_type, item.summary, item.data)


def queue_rows(project_id: str, queued: QueuedActions | None) -> list[tuple[Any, ...]]:
    if queued is None:
        return []
    updated_ms = to_millis(queued.state_updated_at)
    return [(project_id, queued.alarm_name, queued.alarm_type, action, queued.state_value,
             updated_ms, queued.message) for action in queued.actions]
