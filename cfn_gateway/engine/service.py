"""The engine process: alarm evaluation on the tick, queued actions and group steps as they
come.

``Engine.run_forever`` evaluates due alarms at every 10-second boundary (alarms themselves
say whether they are due: every minute, or every 10 s for periods under a minute); about
once a second it runs queued actions and due scheduled actions (``engine.schedules``),
steps unsettled Auto Scaling groups (``engine.scaling``) and, once a minute, publishes
group metrics (``engine.group_metrics``) and delivers group notifications
(``engine.notifications``); once an hour it drops alarm history older than
the retention (two weeks) and ended scaling activities that started more than six weeks
ago, as AWS does, and the metric values that the metric store keeps for a limited time
(OpenStack mode's values for percentiles: ``MetricStore.expire_values``); until stopped.
``Engine.run_once`` does one pass at a given moment and waits for its webhook deliveries
to end: what ``cfn-gateway engine --once --now T`` does, so that a test (or an operator)
can drive evaluation at chosen times.  Any number of
engines may share one store: claims keep them from doing the same work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cfn_gateway.backends.alarms import AlarmStore
from cfn_gateway.backends.metrics import MetricStore
from cfn_gateway.domain.periods import floor_to
from cfn_gateway.engine.actions import ActionRunner, ScalingPolicies, scaling_policies
from cfn_gateway.engine.evaluator import AlarmEvaluator
from cfn_gateway.engine.group_metrics import GroupMetricsPublisher
from cfn_gateway.engine.notifications import NotificationSender
from cfn_gateway.engine.scaling import GroupScaler
from cfn_gateway.engine.schedules import ScheduleRunner
from cfn_gateway.engine.webhooks import RetryPolicy, WebhookSender

LOG = logging.getLogger(__name__)
TICK_SECONDS = 10
ACTION_POLL_SECONDS = 1.0
PURGE_INTERVAL = timedelta(hours=1)
#: How long scaling activities are kept (AWS: six weeks).
ACTIVITY_RETENTION = timedelta(weeks=6)


@dataclass(frozen=True)
class EngineSettings:
    region: str
    webhook_policy: RetryPolicy
    history_retention: timedelta = timedelta(days=14)

    @property
    def action_lease_seconds(self) -> float:
        """Long enough for every try of a webhook and its back-off, with a margin."""
        policy = self.webhook_policy
        delays = sum(policy.delay(i) for i in range(1, policy.attempts))
        return policy.attempts * policy.timeout + delays + 30.0


class Engine:
    """``alarms`` None: the engine of OpenStack mode, where Aodh evaluates alarms and the
    engine only carries groups on (``scaler``, publishing their metrics to ``metrics``)."""

    def __init__(self, alarms: AlarmStore | None, metrics: MetricStore | None,
                 settings: EngineSettings, clock: Callable[[], datetime],
                 policies: ScalingPolicies | None = None,
                 scaler: GroupScaler | None = None) -> None:
        self.clock = clock
        self.alarms = alarms
        self.metrics = metrics
        self.scaler = scaler
        self.webhooks = WebhookSender(settings.webhook_policy)
        self.schedules = None if scaler is None else ScheduleRunner(scaler, clock)
        self.group_metrics = None if scaler is None or metrics is None else \
            GroupMetricsPublisher(scaler, metrics, clock)
        self.notifications = None if scaler is None else NotificationSender(
            scaler.groups, self.webhooks, clock, settings.action_lease_seconds)
        self.history_retention = settings.history_retention
        self.evaluator = self.actions = None
        if alarms is not None and metrics is not None:
            self.evaluator = AlarmEvaluator(alarms, metrics, settings.region)
            self.actions = ActionRunner(alarms, self.webhooks,
                                        policies or scaling_policies(), clock,
                                        settings.action_lease_seconds)
        self._stop = threading.Event()

    def run_once(self, now: datetime, drain_timeout: float = 60.0) -> tuple[int, int]:
        """One evaluation pass, one action pass and one scaling pass at ``now``; returns
        (alarms evaluated, actions dispatched) once every webhook delivery has ended (or
        timed out)."""
        self.webhooks.start()
        evaluated = dispatched = 0
        try:
            if self.evaluator is not None and self.actions is not None:
                evaluated = self.evaluator.run(now)
                dispatched = self.actions.run(now)
            for step in self._scaling_steps():
                step(now)
        finally:
            self.webhooks.stop(drain_timeout)
        return evaluated, dispatched

    def run_forever(self) -> None:
        self.webhooks.start()
        next_tick = next_purge = self.clock()
        try:
            while not self._stop.is_set():
                now = self.clock()
                if self.evaluator is not None and now >= next_tick:
                    self._guarded(self.evaluator.run, now)
                    next_tick = floor_to(now, TICK_SECONDS) + timedelta(seconds=TICK_SECONDS)
                if now >= next_purge:
                    self._guarded(self.purge_history, now)
                    next_purge = now + PURGE_INTERVAL
                if self.actions is not None:
                    self._guarded(self.actions.run, now)
                for step in self._scaling_steps():
                    self._guarded(step, now)
                self._stop.wait(ACTION_POLL_SECONDS)
        finally:
            self.webhooks.stop()

    def _scaling_steps(self) -> list[Callable[[datetime], int]]:
        """Scheduled actions, group steps, group metrics, group notifications (what
        exists)."""
        return [part.run for part in (self.schedules, self.scaler, self.group_metrics,
                                      self.notifications) if part is not None]

    def purge_history(self, now: datetime) -> int:
        """Drop alarm history items older than the retention (AWS keeps two weeks), ended
        scaling activities older than ``ACTIVITY_RETENTION`` and the metric values past
        the metric store's own retention; returns how many."""
        purged = 0
        if self.alarms is not None:
            purged += self.alarms.purge_history(now - self.history_retention)
        if self.scaler is not None:
            purged += self.scaler.groups.purge_activities(now - ACTIVITY_RETENTION)
        if self.metrics is not None:
            purged += self.metrics.expire_values(now)
        return purged

    def stop(self) -> None:
        self._stop.set()

    @staticmethod
    def _guarded(step: Callable[[datetime], int], now: datetime) -> None:
        try:
            step(now)
        except Exception:  # the store may be busy or full; the next pass tries again
            LOG.exception("alarm engine pass failed")
