"""A fake gateway on 127.0.0.1 answering scripted AWS Query documents, as a fixture."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.unit.heat_plugin.fake_gateway import FakeGateway


@pytest.fixture
def fake_gateway() -> Iterator[FakeGateway]:
    server = FakeGateway()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
