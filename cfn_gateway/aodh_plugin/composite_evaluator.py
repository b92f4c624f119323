"""The ``cloudwatch_composite`` evaluator: AWS composite alarms inside aodh-evaluator.

A composite alarm's rule names other CloudWatch alarms of its project; their states are
read from Aodh's storage (their ids follow from their names) and combined with
``domain.composite_rules``.  A composite follows a child's change at the next evaluation
cycle (AWS: at once; the standalone engine: in the same pass).  ActionsSuppressor is
applied: a suppressed change is stored with ``actions_suppressed`` in its rule, and the
notifier then runs no action.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cfn_gateway.aodh_plugin.metric_evaluator import ChangeRecorder
from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.domain import composite_rules
from cfn_gateway.domain.alarms import ALARM, OK, Alarm, AlarmState


class CompositeAlarmEvaluator(ChangeRecorder):
    def evaluate(self, aodh_alarm: Any) -> None:
        now = datetime.now(UTC)
        alarm = mapping.alarm_from_aodh(aodh_alarm.as_dict())
        rule = alarm.composite_rule
        assert rule is not None
        parsed = composite_rules.parse(rule.expression)
        children = {name: child for name in parsed.children
                    if (child := self._alarm(aodh_alarm.project_id, name)) is not None}
        values = {name: child.state.value for name, child in children.items()}
        new_value = ALARM if composite_rules.evaluate(parsed, values) else OK
        if new_value == alarm.state.value:
            return
        states = {name: composite_rules.ChildState(child.state.value,
                                                   child.state.transitioned_at)
                  for name, child in children.items()}
        reason, reason_data = composite_rules.reason(
            parsed, states, lambda name: alarm.arn[: len(alarm.arn) - len(alarm.name)] + name,
            new_value)
        new = AlarmState(value=new_value, reason=reason, updated_at=now, transitioned_at=now,
                         reason_data=reason_data, previous_value=alarm.state.value)
        suppressed = self._suppression(aodh_alarm.project_id, alarm, new)
        self.change_state(aodh_alarm, alarm, new, {"actions_suppressed": suppressed})

    def _alarm(self, project_id: str, name: str) -> Alarm | None:
        found = list(self._storage_conn.get_alarms(alarm_id=mapping.alarm_id(project_id, name)))
        if not found or found[0].project_id != project_id or found[0].type not in mapping.TYPES:
            return None
        return mapping.alarm_from_aodh(found[0].as_dict())

    def _suppression(self, project_id: str, alarm: Alarm, new: AlarmState) -> str | None:
        rule = alarm.composite_rule
        if rule is None or rule.actions_suppressor is None:
            return None
        suppressor = self._alarm(project_id, rule.actions_suppressor)
        if suppressor is None:
            return None
        by, why = composite_rules.suppression_by(suppressor.state, rule, new, new.updated_at)
        return None if by is None else json.dumps([by, why])
