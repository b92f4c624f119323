"""Delivering queued group notifications to their topics (http(s) URLs).

The scaling step queues the notifications its ended activities call for in the same
write as the activities (``GroupStore.save``), so none is lost when a process stops.
``NotificationSender.run`` claims queued ones for a lease (as the alarm engine claims
actions: engines never deliver one twice while it is in flight, and a crashed engine's
are delivered by another once the lease ends) and POSTs each through the
``WebhookSender`` (retries with back-off); a delivered one goes, one that failed every
try goes too, logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from cfn_gateway.backends.groups import GroupStore, QueuedNotification
from cfn_gateway.engine.webhooks import DeliveryResult, WebhookSender

LOG = logging.getLogger(__name__)
CLAIM_BATCH = 200


class NotificationSender:
    def __init__(self, groups: GroupStore, webhooks: WebhookSender,
                 clock: Callable[[], datetime], lease_seconds: float) -> None:
        self.groups = groups
        self.webhooks = webhooks
        self.clock = clock
        self.lease_seconds = lease_seconds

    def run(self, now: datetime) -> int:
        """Hand every queued notification not in flight to the sender; returns how many."""
        sent = 0
        while True:
            claimed = self.groups.claim_notifications(now, CLAIM_BATCH, self.lease_seconds)
            for queued in claimed:
                accepted = self.webhooks.send(
                    queued.topic, queued.message.encode("utf-8"),
                    lambda result, queued=queued: self._delivered(queued, result))
                if not accepted:
                    LOG.warning("webhook queue full; notification %d of group %r waits for "
                                "its lease to end", queued.id, queued.group_name)
            sent += len(claimed)
            if len(claimed) < CLAIM_BATCH:
                return sent

    def _delivered(self, queued: QueuedNotification, result: DeliveryResult) -> None:
        if not result.ok:
            LOG.warning("notification of group %r to %s not delivered: %s",
                        queued.group_name, queued.topic, result.detail)
        try:
            self.groups.finish_notification(queued.id)
        except Exception:
            LOG.exception("dropping delivered notification %d failed", queued.id)
