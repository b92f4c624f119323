"""The fake Gnocchi server the Gnocchi driver tests talk to, as a fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http_servers import running
from tests.unit.backends.openstack.test_gnocchi_api import FakeGnocchi


@pytest.fixture
def gnocchi() -> Iterator[FakeGnocchi]:
    with running(FakeGnocchi()) as server:
        yield server
