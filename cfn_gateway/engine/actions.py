"""Alarm actions: run the queued ones and record each outcome as an Action history item.

The store queues actions with the state change that causes them; ``ActionRunner.run``
claims them for a lease (so engines never run one twice while it is in flight, and a
crashed engine's actions are run again by another once the lease ends) and dispatches:
- ``http://`` / ``https://`` URLs: POST of the notification JSON through the
  ``WebhookSender`` (retries with back-off in the background; a slow receiver holds
  nothing else up); the outcome is recorded when the delivery ends.
- Auto Scaling policy ARNs: through ``ScalingPolicies`` (the Auto Scaling engine); until it
  exists every such action fails visibly with a clear error in the alarm's history.
- Any other ARN (SNS topics, EC2 actions, ...): recorded as failed, since this cloud has no
  such service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from cfn_gateway.backends.alarms import AlarmStore, PendingAction
from cfn_gateway.domain import alarm_history
from cfn_gateway.engine.webhooks import DeliveryResult, WebhookSender

LOG = logging.getLogger(__name__)
CLAIM_BATCH = 200


class ActionFailed(Exception):
    """An action could not be run; the message goes into the Action history item."""


class ScalingPolicies(Protocol):
    def execute_from_alarm(self, project_id: str, policy_arn: str, alarm_name: str,
                           state_value: str, message: str) -> None:
        """Run a scaling policy for an alarm; raise ``ActionFailed`` when it cannot."""
        ...


class NoScalingPolicies:
    """An engine without Auto Scaling (unit tests, the Aodh notifier, which hands policy
    ARNs back to the gateway): no policy ARN names a policy it can run."""

    def execute_from_alarm(self, project_id: str, policy_arn: str, alarm_name: str,
                           state_value: str, message: str) -> None:
        raise ActionFailed(
            f"No scaling policy {policy_arn} exists: this engine runs no Auto Scaling "
            "policies.")


AUTOSCALING_ARN_PREFIX = "arn:aws:autoscaling:"


def repeats(action: str) -> bool:
    """Whether an action runs again every period while the alarm stays in its state."""
    return action.startswith(AUTOSCALING_ARN_PREFIX)


def scaling_policies() -> ScalingPolicies:
    """The gateway's scaling policies (the Auto Scaling engine, when it exists)."""
    return NoScalingPolicies()


def is_webhook(action: str) -> bool:
    return action.startswith(("http://", "https://"))


def run_other_action(action: str, policies: ScalingPolicies, project_id: str,
                     alarm_name: str, state_value: str, message: str) -> str | None:
    """Run an action that is not a webhook; returns the error to record, or None."""
    try:
        if action.startswith(AUTOSCALING_ARN_PREFIX):
            policies.execute_from_alarm(project_id, action, alarm_name, state_value, message)
        else:
            service = action.split(":")[2] if action.count(":") >= 2 else action
            raise ActionFailed(f"Actions of service {service} are not available in this cloud.")
    except ActionFailed as failure:
        return str(failure)
    except Exception as exc:  # a bug in one action must not stop the others
        LOG.exception("alarm action %s of %r failed", action, alarm_name)
        return f"Internal error: {type(exc).__name__}"
    return None


class ActionRunner:
    def __init__(self, alarms: AlarmStore, webhooks: WebhookSender,
                 policies: ScalingPolicies, clock: Callable[[], datetime],
                 lease_seconds: float) -> None:
        self.alarms = alarms
        self.webhooks = webhooks
        self.policies = policies
        self.clock = clock
        self.lease_seconds = lease_seconds

    def run(self, now: datetime) -> int:
        """Dispatch every queued action not already in flight; returns how many."""
        dispatched = 0
        while True:
            claimed = self.alarms.claim_actions(now, CLAIM_BATCH, self.lease_seconds)
            for pending in claimed:
                self._dispatch(pending)
            dispatched += len(claimed)
            if len(claimed) < CLAIM_BATCH:
                return dispatched

    def _dispatch(self, pending: PendingAction) -> None:
        action = pending.action
        if is_webhook(action):
            accepted = self.webhooks.send(
                action, pending.message.encode("utf-8"),
                lambda result: self._delivered(pending, result))
            if not accepted:
                LOG.warning("webhook queue full; action %s of alarm %r waits for its lease "
                            "to end", action, pending.alarm_name)
            return
        error = run_other_action(action, self.policies, pending.project_id,
                                 pending.alarm_name, pending.state_value, pending.message)
        self._finish(pending, error)

    def _delivered(self, pending: PendingAction, result: DeliveryResult) -> None:
        self._finish(pending, None if result.ok else result.detail)

    def _finish(self, pending: PendingAction, error: str | None) -> None:
        item = alarm_history.action_result(
            pending.alarm_name, pending.alarm_type, pending.action, pending.state_updated_at,
            self.clock(), error)
        try:
            self.alarms.finish_action(pending.id, item, pending.project_id)
        except Exception:
            LOG.exception("recording the outcome of action %s of %r failed", pending.action,
                          pending.alarm_name)
