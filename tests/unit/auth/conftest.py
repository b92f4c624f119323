"""Fixtures: a credential store in a temporary SQLite file and a verifier over it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cfn_gateway.auth.credential_store import Credential, CredentialStore
from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.auth.verifier import LocalVerifier
from cfn_gateway.context import AWSRequest, Identity

MAX_SKEW = 900


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    store = CredentialStore(str(tmp_path / "credentials.sqlite3"))
    yield store
    store.close()


@pytest.fixture
def cred(store: CredentialStore) -> Credential:
    return store.create("project-a")


@pytest.fixture
def verify(store: CredentialStore):
    """Parse and verify a request as the ec2auth filter does, at ``now`` (default: now)."""
    verifier = LocalVerifier(store)

    def verify(request: AWSRequest, now: datetime | None = None) -> Identity:
        signed = signed_request_from(request, now or datetime.now(UTC), MAX_SKEW)
        return verifier.verify(signed)

    return verify
