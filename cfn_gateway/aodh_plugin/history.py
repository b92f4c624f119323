"""Writing AWS history items into Aodh's alarm history (evaluator and notifier side)."""

from __future__ import annotations

from typing import Any

from oslo_utils import timeutils, uuidutils

from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.domain.alarms import HistoryItem

#: Aodh's history types are a closed list; state changes and action results both go in
#: as state transitions (the AWS item type is in the detail).
STATE_TRANSITION = "state transition"


def record(storage: Any, alarm: Any, item: HistoryItem) -> None:
    """Store ``item`` as a history entry of the Aodh ``alarm`` (a storage model)."""
    storage.record_alarm_change({
        "event_id": uuidutils.generate_uuid(),
        "alarm_id": alarm.alarm_id,
        "type": STATE_TRANSITION,
        "detail": mapping.history_detail(item, alarm.state),
        "user_id": None,
        "project_id": None,
        "on_behalf_of": alarm.project_id,
        "timestamp": timeutils.utcnow(),
        "severity": alarm.severity,
    })
