"""The ``cloudwatch`` evaluator: AWS's metric-alarm rules inside aodh-evaluator.

Aodh hands each evaluator node its share of the alarms every ``evaluation_interval``;
for each, ``evaluate`` reads the evaluation range from Gnocchi (the metric's own data and
what cfn-push-stats ``--watch`` sent; for an extended statistic, the values the gateway
keeps: ``gateway_samples``), decides with ``domain.alarm_evaluation`` (M of N,
TreatMissingData, AWS's reasons) and, on a change, stores the new state with its
StateReasonData and AWS history item and notifies, which runs the alarm's AWS actions in
aodh-notifier; a change is dropped when the alarm changed while it was evaluated
(``state_writes``).  Gnocchi is read with Aodh's service credentials; only resources that
the alarm's own project made are read.
"""

from __future__ import annotations

import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from aodh import evaluator, keystone_client

from cfn_gateway.aodh_plugin import history, options, state_writes
from cfn_gateway.aodh_plugin.gateway_samples import GatewaySamples, SamplesUnavailable
from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.backends.openstack import gnocchi_statistics
from cfn_gateway.backends.openstack.gnocchi_api import GnocchiAPI
from cfn_gateway.backends.openstack.gnocchi_listing import MetricLister
from cfn_gateway.domain import alarm_history, alarm_inputs
from cfn_gateway.domain.alarms import Alarm, AlarmState
from cfn_gateway.domain.periods import from_millis, to_millis
from cfn_gateway.engine.actions import repeats

LOG = logging.getLogger(__name__)

class ChangeRecorder(evaluator.Evaluator):
    """An evaluator base whose state changes carry AWS's state, reason data and history,
    and are dropped when the alarm changed while it was evaluated (``state_writes``)."""

    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        self.options = options.register(conf)

    def change_state(self, aodh_alarm: Any, alarm: Alarm, new: AlarmState,
                     rule_updates: dict[str, Any] | None = None) -> None:
        """Store ``new`` (a different state value), record it and notify, as Aodh's
        evaluators do (``Evaluator._refresh``), unless the alarm changed meanwhile."""
        rule = dict(aodh_alarm.rule or {})
        rule.pop("history_item", None)
        if new.reason_data is not None:
            rule["state_reason_data"] = new.reason_data
        else:
            rule.pop("state_reason_data", None)
        rule["previous_state"] = alarm.state.value
        rule["actions_repeated_at"] = str(to_millis(new.updated_at))
        for key, value in (rule_updates or {}).items():
            if value is None:
                rule.pop(key, None)
            else:
                rule[key] = value
        previous = aodh_alarm.state
        aodh_alarm.rule = rule
        aodh_alarm.state = mapping.TO_AODH_STATE[new.value]
        aodh_alarm.state_reason = new.reason
        aodh_alarm.state_timestamp = mapping.naive_utc(new.updated_at)
        if not self._store(aodh_alarm):
            return
        LOG.info("alarm %s transitioning to %s because %s", aodh_alarm.alarm_id,
                 aodh_alarm.state, new.reason)
        if self.conf.record_history:
            history.record(self._storage_conn, aodh_alarm,
                           alarm_history.state_change(alarm, alarm.state, new))
        self.notifier.notify(aodh_alarm, previous, new.reason, _reason_data(new.reason_data))

    def _store(self, aodh_alarm: Any) -> bool:
        if state_writes.store_if_unchanged(self._storage_conn, aodh_alarm):
            return True
        LOG.info("alarm %s was changed or deleted while it was evaluated; its next "
                 "evaluation starts from the change", aodh_alarm.alarm_id)
        return False


class MetricAlarmEvaluator(ChangeRecorder):
    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        self._pool = ThreadPoolExecutor(self.options.parallel_requests)
        self._api = GnocchiAPI(keystone_client.get_session(conf), {
            "service_type": "metric",
            "interface": conf.service_credentials.interface,
            "region_name": conf.service_credentials.region_name,
        }, self.options.request_timeout)
        # Pages beyond the first are never asked for, so its tokens need no shared secret.
        self._lister = MetricLister(lambda: secrets.token_bytes(32))

    def evaluate(self, aodh_alarm: Any) -> None:
        now = datetime.now(UTC)
        alarm = mapping.alarm_from_aodh(aodh_alarm.as_dict())
        project_id = aodh_alarm.project_id

        def aggregate(key, start, end, period, unit):
            return gnocchi_statistics.aggregate(
                self._api, lambda fn, items: list(self._pool.map(fn, items)), project_id,
                key, start, end, period, unit, now)

        def watched(query, since):
            return self._lister.list_metrics(self._api, project_id, query, since, None,
                                             alarm_inputs.WATCH_MAX_METRICS).metrics

        samples = GatewaySamples(aodh_alarm.rule or {}, project_id, alarm.name,
                                 self.options.request_timeout)
        try:
            outcome = alarm_inputs.evaluate_alarm(alarm, now, aggregate, watched, samples)
        except SamplesUnavailable as exc:
            LOG.warning("alarm %s of project %s not evaluated: %s", alarm.name, project_id,
                        exc)
            return
        if outcome is None:
            return
        if outcome.state is None or outcome.state == alarm.state.value:
            self._repeat_actions(aodh_alarm, alarm, now)
            return
        new = AlarmState(value=outcome.state, reason=outcome.reason, updated_at=now,
                         transitioned_at=now, reason_data=outcome.reason_data,
                         previous_value=alarm.state.value)
        self.change_state(aodh_alarm, alarm, new)

    def _repeat_actions(self, aodh_alarm: Any, alarm: Alarm, now: datetime) -> None:
        """Auto Scaling actions run again every period the alarm stays in their state (as
        the standalone engine does): the notifier, told of a change to the same state,
        runs only those."""
        rule = alarm.metric_rule
        if rule is None or not alarm.actions_enabled or not any(
                repeats(action) for action in alarm.actions_for(alarm.state.value)):
            return
        stored = dict(aodh_alarm.rule or {})
        last = stored.get("actions_repeated_at")
        last_at = from_millis(int(last)) if last else alarm.state.transitioned_at
        if (now - last_at).total_seconds() < rule.period:
            return
        stored["actions_repeated_at"] = str(to_millis(now))
        aodh_alarm.rule = stored
        if not self._store(aodh_alarm):
            return
        self.notifier.notify(aodh_alarm, aodh_alarm.state, alarm.state.reason,
                             _reason_data(alarm.state.reason_data))


def _reason_data(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
