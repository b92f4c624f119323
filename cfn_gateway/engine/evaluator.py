"""Alarm evaluation: claim the due alarms, evaluate each, store and queue what changed.

One pass (``AlarmEvaluator.run``) claims every alarm whose next evaluation is due (the store
hands each to one engine only and moves it to the next tick: every 60 s, or every 10 s for
periods under a minute), evaluates it at ``now``, and on a state change stores the new state,
its StateUpdate history item and the actions to run, in one transaction
(``AlarmStore.set_state``).  A state that stays the same is not written: AWS keeps the
reason and timestamps of the last change.  Auto Scaling actions repeat once per period while
the alarm stays in the state that ran them, as AWS documents.

Metric alarms read their evaluation range from the metric store and decide with
``domain.alarm_evaluation``; composite alarms read their children's states and decide with
``domain.composite_rules``.  A metric alarm also reads the data its metric received with
the dimension ``AlarmName=<alarm name>`` (Heat's cfn-push-stats ``--watch``; see
``alarm_inputs.watch_filter``).  After any
change, the composite alarms that name the changed
alarm are evaluated in the same pass, so a composite follows its children at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cfn_gateway.backends.alarms import AlarmStore, QueuedActions, StaleAlarm, StoredAlarm
from cfn_gateway.backends.metrics import AggregateRequest, MetricStore
from cfn_gateway.domain import alarm_history, alarm_inputs, composite_rules
from cfn_gateway.domain import alarms as al
from cfn_gateway.domain.alarm_notifications import state_change_message
from cfn_gateway.domain.alarms import Alarm, AlarmState
from cfn_gateway.domain.metrics import MetricFilter, MetricKey
from cfn_gateway.engine.actions import repeats

LOG = logging.getLogger(__name__)
CLAIM_BATCH = 500
#: Composite alarms re-evaluated after a change, per pass (guards against long chains).
MAX_CASCADE = 1000


class AlarmEvaluator:
    def __init__(self, alarms: AlarmStore, metrics: MetricStore, region: str,
                 batch: int = CLAIM_BATCH) -> None:
        self.alarms = alarms
        self.metrics = metrics
        self.region = region
        self.batch = batch

    def run(self, now: datetime) -> int:
        """Evaluate every due alarm; returns how many were evaluated."""
        evaluated = 0
        while True:
            claimed = self.alarms.claim_due(now, self.batch)
            for stored in claimed:
                self._evaluate_logged(stored, now)
            evaluated += len(claimed)
            if len(claimed) < self.batch:
                return evaluated

    def _evaluate_logged(self, stored: StoredAlarm, now: datetime) -> None:
        try:
            self.evaluate(stored, now)
        except Exception:  # one broken alarm must not stop the others
            LOG.exception("evaluating alarm %r of project %s failed", stored.alarm.name,
                          stored.project_id)

    def evaluate(self, stored: StoredAlarm, now: datetime) -> None:
        changed = self._evaluate_one(stored, now)
        cascade = 0
        pending = [stored.alarm.name] if changed else []
        while pending and cascade < MAX_CASCADE:
            name = pending.pop(0)
            for parent in self.alarms.parents_of(stored.project_id, name):
                cascade += 1
                parent_stored = self.alarms.get(stored.project_id, parent)
                if parent_stored is not None and self._evaluate_one(parent_stored, now):
                    pending.append(parent)

    # --- one alarm ------------------------------------------------------------------------

    def _evaluate_one(self, stored: StoredAlarm, now: datetime) -> bool:
        """Evaluate and store; True when the state value changed."""
        alarm = stored.alarm
        if alarm.composite_rule is not None:
            new_value, reason, reason_data = self._composite(stored)
        else:
            outcome = self._metric(stored, now)
            if outcome is None:
                return False
            new_value, reason, reason_data = outcome
        old = alarm.state
        if new_value is None or new_value == old.value:
            self._repeat_actions(stored, now)
            return False
        new = AlarmState(value=new_value, reason=reason, updated_at=now, transitioned_at=now,
                         reason_data=reason_data, previous_value=old.value)
        try:
            self.alarms.set_state(
                stored.project_id, alarm.name, stored.version, new,
                [alarm_history.state_change(alarm, old, new)],
                actions_repeated_at=now,
                actions=self._queued(stored, old, new, alarm.actions_for(new_value)),
            )
        except StaleAlarm:
            # Changed meanwhile (PutMetricAlarm, SetAlarmState, another engine): the next
            # pass evaluates the new version.
            return False
        return True

    def _metric(self, stored: StoredAlarm, now: datetime) -> tuple[
            str | None, str, str] | None:
        outcome = alarm_inputs.evaluate_alarm(
            stored.alarm, now,
            lambda key, start, end, period, unit: self.metrics.aggregate(
                stored.project_id, key, start, end, period, unit),
            lambda query, since: self._watched(stored.project_id, query, since),
            lambda key, start, end, period, unit: self.metrics.samples(
                stored.project_id, [AggregateRequest(key, start, end, period, unit)])[0])
        if outcome is None:
            return None
        return outcome.state, outcome.reason, outcome.reason_data

    def _watched(self, project_id: str, query: MetricFilter,
                 since: datetime) -> list[MetricKey]:
        keys: list[MetricKey] = []
        token = None
        while len(keys) < alarm_inputs.WATCH_MAX_METRICS:
            page = self.metrics.list_metrics(project_id, query, since, token)
            keys += page.metrics
            token = page.next_token
            if token is None:
                break
        return keys[:alarm_inputs.WATCH_MAX_METRICS]

    def _composite(self, stored: StoredAlarm) -> tuple[str, str, str]:
        rule = stored.alarm.composite_rule
        assert rule is not None
        parsed = composite_rules.parse(rule.expression)
        children = self.alarms.get_many(stored.project_id, list(parsed.children))
        values = {name: s.alarm.state.value for name, s in children.items()}
        new_value = al.ALARM if composite_rules.evaluate(parsed, values) else al.OK
        states = {name: composite_rules.ChildState(s.alarm.state.value,
                                                   s.alarm.state.transitioned_at)
                  for name, s in children.items()}
        reason, reason_data = composite_rules.reason(
            parsed, states, lambda name: _arn_like(stored.alarm, name), new_value)
        return new_value, reason, reason_data

    # --- actions --------------------------------------------------------------------------

    def _queued(self, stored: StoredAlarm, old: AlarmState, new: AlarmState,
                actions: tuple[str, ...]) -> QueuedActions | None:
        alarm = stored.alarm
        if not alarm.actions_enabled or not actions or self._suppressed(stored, new):
            return None
        return QueuedActions(
            alarm_name=alarm.name, alarm_type=alarm.alarm_type, actions=actions,
            state_value=new.value, state_updated_at=new.updated_at,
            message=state_change_message(alarm, old, new, self.region, stored.project_id))

    def _suppressed(self, stored: StoredAlarm, new: AlarmState) -> bool:
        rule = stored.alarm.composite_rule
        if rule is None or rule.actions_suppressor is None:
            return False
        suppressor = self.alarms.get(stored.project_id, rule.actions_suppressor)
        if suppressor is None:
            return False
        by, _ = composite_rules.suppression_by(suppressor.alarm.state, rule, new,
                                               new.updated_at)
        return by is not None

    def _repeat_actions(self, stored: StoredAlarm, now: datetime) -> None:
        """Auto Scaling actions run again every period the alarm stays in their state."""
        alarm = stored.alarm
        rule = alarm.metric_rule
        if rule is None or not alarm.actions_enabled:
            return
        repeating = tuple(a for a in alarm.actions_for(alarm.state.value) if repeats(a))
        if not repeating:
            return
        last = stored.actions_repeated_at or alarm.state.transitioned_at
        if (now - last).total_seconds() < rule.period:
            return
        queued = QueuedActions(
            alarm_name=alarm.name, alarm_type=alarm.alarm_type, actions=repeating,
            state_value=alarm.state.value, state_updated_at=alarm.state.updated_at,
            message=state_change_message(alarm, alarm.state, alarm.state, self.region,
                                         stored.project_id))
        try:
            self.alarms.note_actions_repeated(stored.project_id, alarm.name, stored.version,
                                              now, queued)
        except StaleAlarm:
            return

def _arn_like(alarm: Alarm, name: str) -> str:
    """The ARN of another alarm of the same project and region as ``alarm``."""
    prefix = alarm.arn[: len(alarm.arn) - len(alarm.name)]
    return prefix + name

