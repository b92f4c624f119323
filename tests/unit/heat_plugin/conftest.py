"""A fake gateway on 127.0.0.1 answering scripted AWS Query documents, as a fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http_servers import running
from tests.unit.heat_plugin.fake_gateway import FakeGateway


@pytest.fixture
def fake_gateway() -> Iterator[FakeGateway]:
    with running(FakeGateway()) as server:
        yield server
