"""``cloudwatch://`` actions: the AWS actions of a state change, run by aodh-notifier.

Aodh's evaluator (or the API, for SetAlarmState) sends a state change to the notifier,
which calls ``ActionNotifier.notify`` for the alarm's ``cloudwatch://actions`` action.  It
reads the alarm's AWS definition from Aodh's storage and runs the AWS actions of the new
state as the standalone engine does: webhooks are POSTed with AWS's notification JSON by
a ``WebhookSender`` (retries with back-off, a slow receiver holds no other up), Auto
Scaling policy ARNs are handed back to the gateway that wrote the alarm (its
``action_url``, with the alarm's token: ``api/alarm_actions.py``), which runs the policy,
and other ARNs are recorded as failed.  Each outcome becomes an Action item of the alarm's
history.  A composite alarm whose change a suppressor held back runs nothing.

Aodh delivers a change once: a notifier that stops while a webhook is still being retried
loses that delivery (the standalone engine keeps its actions in a queue with leases).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from aodh import notifier, storage

from cfn_gateway.aodh_plugin import history, options
from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.domain import alarm_history
from cfn_gateway.domain.alarm_notifications import state_change_message
from cfn_gateway.domain.alarms import AlarmState
from cfn_gateway.engine.actions import (
    AUTOSCALING_ARN_PREFIX,
    NoScalingPolicies,
    is_webhook,
    repeats,
    run_other_action,
)
from cfn_gateway.engine.webhooks import RetryPolicy, WebhookSender

LOG = logging.getLogger(__name__)


class ActionNotifier(notifier.AlarmNotifier):
    def __init__(self, conf: Any) -> None:
        super().__init__(conf)
        self.options = options.register(conf)
        self._lock = threading.Lock()
        self._storage: Any = None
        self._sender: WebhookSender | None = None
        self.policies = NoScalingPolicies()

    def _storage_conn(self) -> Any:
        with self._lock:
            if self._storage is None:
                self._storage = storage.get_connection_from_config(self.conf)
            return self._storage

    def _webhooks(self) -> WebhookSender:
        with self._lock:
            if self._sender is None:
                sender = WebhookSender(RetryPolicy(
                    attempts=self.options.webhook_attempts,
                    first_delay=self.options.webhook_first_retry_delay,
                    timeout=self.options.webhook_timeout))
                sender.start()
                self._sender = sender
            return self._sender

    def notify(self, action: Any, alarm_id: str, alarm_name: str, severity: str,
               previous: str, current: str, reason: str, reason_data: Any) -> None:
        conn = self._storage_conn()
        found = list(conn.get_alarms(alarm_id=alarm_id))
        if not found or found[0].type not in mapping.TYPES:
            LOG.warning("alarm %s is gone or not a CloudWatch alarm; no action run", alarm_id)
            return
        aodh_alarm = found[0]
        alarm = mapping.alarm_from_aodh(aodh_alarm.as_dict())
        new_value = mapping.FROM_AODH_STATE.get(current)
        old_value = mapping.FROM_AODH_STATE.get(previous)
        if new_value is None or old_value is None or alarm.actions_suppressed_by:
            return
        actions = alarm.actions_for(new_value) if alarm.actions_enabled else ()
        if previous == current:  # the evaluator repeats Auto Scaling actions each period
            actions = tuple(action for action in actions if repeats(action))
        if not actions:
            return
        if alarm.state.value == new_value:
            new = alarm.state
        else:  # an evaluator moved the alarm on meanwhile: the change as Aodh sent it
            now = datetime.now(UTC)
            new = AlarmState(new_value, reason, now, now,
                             reason_data=json.dumps(reason_data, separators=(",", ":"))
                             if reason_data else None)
        old = AlarmState(old_value, "", new.updated_at, new.updated_at)
        message = state_change_message(alarm, old, new, self.options.region,
                                       aodh_alarm.project_id)

        def finish(action_text: str, error: str | None) -> None:
            item = alarm_history.action_result(alarm.name, alarm.alarm_type, action_text,
                                               new.updated_at, datetime.now(UTC), error)
            try:
                history.record(conn, aodh_alarm, item)
            except Exception:
                LOG.exception("recording the outcome of action %s of %r failed",
                              action_text, alarm.name)

        for target in actions:
            if is_webhook(target):
                accepted = self._webhooks().send(
                    target, message.encode("utf-8"),
                    lambda result, target=target: finish(
                        target, None if result.ok else result.detail))
                if not accepted:
                    finish(target, "The notifier's webhook queue is full.")
            elif target.startswith(AUTOSCALING_ARN_PREFIX):
                finish(target, self._hand_back(aodh_alarm, alarm.name, target, new_value,
                                               message))
            else:
                finish(target, run_other_action(target, self.policies,
                                                aodh_alarm.project_id, alarm.name,
                                                new_value, message))

    def _hand_back(self, aodh_alarm: Any, name: str, action: str, state_value: str,
                   message: str) -> str | None:
        """POST an Auto Scaling action to the gateway; the error to record, or None."""
        rule = aodh_alarm.rule or {}
        url, token = rule.get("action_url"), rule.get("action_token")
        if not url or not token:
            return "The alarm has no gateway to run Auto Scaling actions (rewrite it)."
        body = json.dumps({"project_id": aodh_alarm.project_id, "alarm_name": name,
                           "action": action, "state_value": state_value,
                           "message": message, "token": token}).encode("utf-8")
        problem = ""
        for attempt in range(self.options.webhook_attempts):
            if attempt:
                time.sleep(min(self.options.webhook_first_retry_delay * 2 ** (attempt - 1),
                               30.0))
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=self.options.webhook_timeout):
                    return None
            except urllib.error.HTTPError as refused:
                problem = _gateway_error(refused)
                if refused.code < 500:
                    return problem
            except OSError as exc:
                problem = f"The gateway could not be reached: {exc}"
        return problem


def _gateway_error(refused: urllib.error.HTTPError) -> str:
    """The gateway's ``{"error": ...}`` text, or the HTTP status."""
    try:
        error = json.loads(refused.read(64 * 1024)).get("error")
    except (ValueError, AttributeError, OSError):
        error = None
    if isinstance(error, str) and error:
        return error
    return f"The gateway answered HTTP {refused.code}."
