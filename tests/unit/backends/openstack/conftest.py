"""The fake Gnocchi server the Gnocchi driver tests talk to, as a fixture."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.unit.backends.openstack.test_gnocchi_api import FakeGnocchi


@pytest.fixture
def gnocchi() -> Iterator[FakeGnocchi]:
    server = FakeGnocchi()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
