"""An evaluator's write of an alarm's state, dropped when the alarm changed meanwhile.

An evaluator reads an alarm, evaluates it (Gnocchi reads: tens to hundreds of
milliseconds) and writes the alarm back whole, as Aodh's storage does.  A write of the
gateway's that came in between (an update, a SetAlarmState, a deletion's tombstone) went
through Aodh's API, which sets the alarm's ``timestamp``; the evaluator's whole-row write
would undo it: a target-tracking alarm that DeletePolicy had just deleted came back so.
So the write is conditional on the ``timestamp`` the evaluator read (Aodh's
``conditional_update``: one UPDATE, atomic in the database) and sets only what an
evaluation changes.  When the ``timestamp`` has moved, nothing is written or notified,
and the next evaluation starts from the alarm as it now is.  Evaluators leave the
``timestamp`` as it is, so their own writes never block each other.
"""

from __future__ import annotations

from typing import Any

from aodh.storage.sqlalchemy import models

#: What an evaluator changes: the state and the rule (where the plugin keeps AWS's state
#: reason data, history item and action bookkeeping).
STATE_FIELDS = ("state", "state_reason", "state_timestamp", "rule")


def store_if_unchanged(storage: Any, alarm: Any) -> bool:
    """Store the state of ``alarm`` (an Aodh storage model read from ``storage``) when the
    stored alarm still has the ``timestamp`` it was read with; whether it was stored."""
    return storage.conditional_update(
        models.Alarm, {field: getattr(alarm, field) for field in STATE_FIELDS},
        {"alarm_id": alarm.alarm_id, "timestamp": alarm.timestamp})
