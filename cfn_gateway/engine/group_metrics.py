"""Publishing the group metrics of groups with metrics collection enabled, once a minute.

Each minute, every group with enabled metrics gets one data point per metric
(``domain.group_metrics``) in its own project's metrics, through the configured metric
store (SQLite, or Gnocchi in OpenStack mode): exactly what GetMetricStatistics and alarms
read.  Engines claim a group's minute by a compare-and-set on the group
(``metrics_published_at``), so that however many run, each minute is published once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from cfn_gateway.backends.groups import GroupGone
from cfn_gateway.backends.metrics import MetricStore
from cfn_gateway.domain import group_metrics
from cfn_gateway.domain.groups import Group
from cfn_gateway.domain.periods import floor_to
from cfn_gateway.engine.scaling import GroupScaler

LOG = logging.getLogger(__name__)


class GroupMetricsPublisher:
    def __init__(self, scaler: GroupScaler, metrics: MetricStore,
                 clock: Callable[[], datetime]) -> None:
        self.scaler = scaler
        self.groups = scaler.groups
        self.metrics = metrics
        self.clock = clock
        self._last_minute: datetime | None = None

    def run(self, now: datetime) -> int:
        """Publish the minute of ``now`` once (later calls in that minute do nothing);
        returns how many groups were published."""
        minute = floor_to(now, 60)
        if self._last_minute == minute:
            return 0
        self._last_minute = minute
        published = 0
        for project_id, name in self.scaler.every_group():
            try:
                published += self._publish(project_id, name, minute, now)
            except Exception:  # one group's trouble must not stop the others
                LOG.exception("publishing the metrics of group %r (project %s) failed",
                              name, project_id)
        return published

    def _publish(self, project_id: str, name: str, minute: datetime, now: datetime) -> int:
        def claim(group: Group) -> Group | None:
            if not group.enabled_metrics or (group.metrics_published_at is not None
                                             and group.metrics_published_at >= minute):
                return None
            return replace(group, metrics_published_at=minute)

        try:
            old, new = self.scaler.revise(project_id, name, claim)
        except GroupGone:
            return 0
        if old is new:
            return 0
        data = group_metrics.data(new, self.groups.instances(project_id, name), minute)
        self.metrics.put(project_id, data, now)
        return 1
