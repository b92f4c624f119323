"""Storage backends behind the API handlers.

``Backends`` bundles one driver per resource kind.  Interfaces live beside this module
(``metrics.py`` and, later, alarms and groups); drivers live in ``sqlite/`` (the embedded
default) and ``openstack/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cfn_gateway.backends.metrics import MetricStore


@dataclass
class Backends:
    metrics: MetricStore


def open_standalone(data_dir: str) -> Backends:
    """The embedded SQLite backends, files under ``data_dir``."""
    import os

    from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore

    return Backends(metrics=SQLiteMetricStore(os.path.join(data_dir, "store.sqlite3")))
