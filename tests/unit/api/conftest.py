"""Handler-level fixtures: a RequestContext over real SQLite stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cfn_gateway.backends import Backends
from cfn_gateway.backends.instances import NoCloudInstances
from cfn_gateway.backends.sqlite.alarms import SQLiteAlarmStore
from cfn_gateway.backends.sqlite.dashboards import SQLiteDashboardStore
from cfn_gateway.backends.sqlite.groups import SQLiteGroupStore
from cfn_gateway.backends.sqlite.launch_configurations import SQLiteLaunchConfigurationStore
from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore
from cfn_gateway.context import CLOUDWATCH, Identity, RequestContext


@pytest.fixture
def store(tmp_path) -> Iterator[SQLiteMetricStore]:
    opened = SQLiteMetricStore(str(tmp_path / "store.sqlite3"))
    yield opened
    opened.close()


@pytest.fixture
def alarm_store(tmp_path) -> Iterator[SQLiteAlarmStore]:
    opened = SQLiteAlarmStore(str(tmp_path / "store.sqlite3"))
    yield opened
    opened.close()


@pytest.fixture
def launch_configuration_store(tmp_path) -> Iterator[SQLiteLaunchConfigurationStore]:
    opened = SQLiteLaunchConfigurationStore(str(tmp_path / "store.sqlite3"))
    yield opened
    opened.close()


@pytest.fixture
def group_store(tmp_path) -> Iterator[SQLiteGroupStore]:
    opened = SQLiteGroupStore(str(tmp_path / "store.sqlite3"))
    yield opened
    opened.close()


@pytest.fixture
def dashboard_store(tmp_path) -> Iterator[SQLiteDashboardStore]:
    opened = SQLiteDashboardStore(str(tmp_path / "store.sqlite3"))
    yield opened
    opened.close()


@pytest.fixture
def context(store, alarm_store, launch_configuration_store, group_store,
            dashboard_store) -> Callable[..., RequestContext]:
    def make(operation: str = "", project: str = "project-a") -> RequestContext:
        return RequestContext(
            request_id="req-1",
            identity=Identity(project_id=project, access_key=f"AK-{project}"),
            service=CLOUDWATCH,
            operation=operation,
            backends=Backends(metrics=store, alarms=alarm_store,
                              launch_configurations=launch_configuration_store,
                              groups=group_store,
                              instances=NoCloudInstances(lambda: datetime.now(UTC)),
                              dashboards=dashboard_store),
        )

    return make


@pytest.fixture
def call(context) -> Callable[..., Any]:
    """call(handler, project=..., **params) -> the handler's result."""

    def invoke(handler, project: str = "project-a", **params: Any) -> Any:
        return handler(context(handler.__name__, project), params)

    return invoke
