"""Storage backends behind the API handlers.

``Backends`` bundles one driver per resource kind.  Interfaces live beside this module
(``metrics.py``, ``alarms.py``, ``dashboards.py``, ``launch_configurations.py``,
``groups.py``, ``instances.py``); drivers live in ``sqlite/`` (the embedded default) and
``openstack/``.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from cfn_gateway.backends.alarms import AlarmStore
from cfn_gateway.backends.dashboards import DashboardStore
from cfn_gateway.backends.groups import GroupStore
from cfn_gateway.backends.instances import InstanceDriver
from cfn_gateway.backends.launch_configurations import LaunchConfigurationStore
from cfn_gateway.backends.metrics import MetricStore

if TYPE_CHECKING:
    from cfn_gateway.backends.sqlite.metric_values import SQLiteMetricValues


@dataclass
class Backends:
    metrics: MetricStore
    alarms: AlarmStore
    launch_configurations: LaunchConfigurationStore
    groups: GroupStore
    instances: InstanceDriver
    dashboards: DashboardStore

    def close(self) -> None:
        """Close the stores that hold connections (the metric store folds what it staged)."""
        for store in (self.metrics, self.alarms, self.launch_configurations, self.groups,
                      self.instances, self.dashboards):
            close = getattr(store, "close", None)
            if close is not None:
                close()


#: Every ``OpenedOnFirstUse`` of this process, for ``fold_all_staged`` when it stops.
_OPENERS: weakref.WeakSet[OpenedOnFirstUse] = weakref.WeakSet()


class OpenedOnFirstUse:
    """The configured backends, opened when first asked for: after the server forked its
    workers, so that no connection crosses a fork."""

    def __init__(self) -> None:
        self._backends: Backends | None = None
        self._lock = threading.Lock()
        _OPENERS.add(self)

    def get(self) -> Backends:
        if self._backends is None:
            with self._lock:
                if self._backends is None:
                    self._backends = open_backends()
        return self._backends

    def close(self) -> None:
        """Close what was opened (the stores that hold connections)."""
        with self._lock:
            opened, self._backends = self._backends, None
        if opened is not None:
            opened.close()

    def fold_staged(self) -> None:
        """Fold what the metric store, if opened, has staged (its connection stays open)."""
        with self._lock:
            opened = self._backends
        fold = getattr(opened.metrics, "fold_staged", None) if opened is not None else None
        if fold is not None:
            fold()


def fold_all_staged() -> None:
    """Fold what the metric stores of this process staged (a worker that stops: requests
    still running on its threads keep their connections)."""
    for opener in list(_OPENERS):
        opener.fold_staged()


def open_backends() -> Backends:
    """The backends the configuration selects (``mode``)."""
    from cfn_gateway.backends.sqlite.dashboards import SQLiteDashboardStore
    from cfn_gateway.backends.sqlite.groups import SQLiteGroupStore
    from cfn_gateway.backends.sqlite.launch_configurations import (
        SQLiteLaunchConfigurationStore,
    )
    from cfn_gateway.config import CONF, alarm_action_url, data_path

    store_file = data_path("store.sqlite3")
    # Both modes: OpenStack has no place for launch configurations, for which
    # instances, zones and activities a group has, or for dashboards.
    launch_configurations = SQLiteLaunchConfigurationStore(store_file)
    groups = SQLiteGroupStore(store_file)
    dashboards = SQLiteDashboardStore(store_file)

    if CONF.mode == "openstack":
        from cfn_gateway.backends.openstack.aodh_alarms import AodhAlarmStore
        from cfn_gateway.backends.openstack.gnocchi_listing import token_secret
        from cfn_gateway.backends.openstack.gnocchi_metrics import GnocchiMetricStore
        from cfn_gateway.common import openstack_session as sessions

        secret = functools.cache(lambda: token_secret(
            CONF.gnocchi.list_token_secret, sessions.service_session, "DescribeAlarms"))
        alarms = AodhAlarmStore(
            sessions.project_session, sessions.endpoint_filter("alarming"), secret,
            timedelta(days=CONF.alarms.history_retention_days), alarm_action_url(),
            CONF.gnocchi.request_timeout)
        return Backends(metrics=GnocchiMetricStore(values=metric_values()), alarms=alarms,
                        launch_configurations=launch_configurations, groups=groups,
                        instances=heat_instances(), dashboards=dashboards)
    from cfn_gateway.backends.sqlite.alarms import SQLiteAlarmStore
    from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
    from cfn_gateway.backends.sqlite.nocloud_instances import SQLiteNoCloudInstances
    from cfn_gateway.common.clock import utcnow

    return Backends(metrics=SQLiteMetricStore(store_file, CONF.metric_store_cache_mb),
                    alarms=SQLiteAlarmStore(store_file),
                    launch_configurations=launch_configurations, groups=groups,
                    instances=SQLiteNoCloudInstances(
                        store_file, utcnow, CONF.autoscaling.nocloud_boot_seconds),
                    dashboards=dashboards)


def metric_values() -> SQLiteMetricValues | None:
    """OpenStack mode's store of the values percentiles need (Gnocchi keeps none), if
    ``[gnocchi] keep_values``: a file of its own, so that its writes, one per
    PutMetricData, never wait for the write lock of ``store.sqlite3`` (or hold it)."""
    from cfn_gateway.backends.sqlite.metric_values import SQLiteMetricValues
    from cfn_gateway.config import CONF, data_path

    if not CONF.gnocchi.keep_values:
        return None
    return SQLiteMetricValues(data_path("metric_values.sqlite3"),
                              timedelta(days=CONF.gnocchi.values_retention_days),
                              CONF.metric_store_cache_mb)


def heat_instances() -> InstanceDriver:
    """OpenStack mode's instance driver: one Heat stack per group."""
    from cfn_gateway.backends.openstack.heat_instances import HeatInstances

    return HeatInstances()
