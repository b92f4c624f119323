"""Storage backends behind the API handlers.

``Backends`` bundles one driver per resource kind.  Interfaces live beside this module
(``metrics.py``, ``alarms.py`` and, later, groups); drivers live in ``sqlite/`` (the embedded
default) and ``openstack/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cfn_gateway.backends.alarms import AlarmStore
from cfn_gateway.backends.metrics import MetricStore


@dataclass
class Backends:
    metrics: MetricStore
    #: None where alarms are not available yet (OpenStack mode until the Aodh driver).
    alarms: AlarmStore | None = None


def open_backends() -> Backends:
    """The backends the configuration selects (``mode``)."""
    from cfn_gateway.config import CONF, data_path

    if CONF.mode == "openstack":
        from cfn_gateway.backends.openstack.gnocchi_metrics import GnocchiMetricStore

        return Backends(metrics=GnocchiMetricStore())
    from cfn_gateway.backends.sqlite.alarms import SQLiteAlarmStore
    from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore

    store_file = data_path("store.sqlite3")
    return Backends(metrics=SQLiteMetricStore(store_file), alarms=SQLiteAlarmStore(store_file))
