"""Fixtures: one real gateway process per test session, credentials made by its CLI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.functional.server import Credentials, GatewayProcess, free_port


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp("gateway")
    process = GatewayProcess(data_dir=root / "data", port=free_port(), log_path=root / "log")
    process.start()
    try:
        yield process
    finally:
        process.stop()
    log = process.log_text()
    # Whatever the tests sent, the gateway never failed inside: no 500, no traceback.
    assert "Traceback" not in log, log[-4000:]
    assert "status=500" not in log, log[-4000:]


@pytest.fixture(scope="session")
def creds(gateway: GatewayProcess) -> Credentials:
    return gateway.create_credentials("project-a")


@pytest.fixture(scope="session")
def other_creds(gateway: GatewayProcess) -> Credentials:
    return gateway.create_credentials("project-b")


@pytest.fixture
def namespace() -> str:
    """A namespace no other test writes to."""
    return f"Test/{uuid.uuid4().hex[:12]}"
