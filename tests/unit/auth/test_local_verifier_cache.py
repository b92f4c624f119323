"""LocalVerifier remembers keys it found for its ttl, and only those."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from cfn_gateway import errors
from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.auth.verifier import LocalVerifier
from cfn_gateway.context import Identity

from .conftest import MAX_SKEW
from .samples import sigv4_post


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verify_with(verifier: LocalVerifier, cred):
    return verifier.verify(signed_request_from(sigv4_post(cred), datetime.now(UTC), MAX_SKEW))


def test_a_deleted_key_works_until_its_ttl_ends(store, cred):
    clock = Clock()
    verifier = LocalVerifier(store, ttl=5.0, clock=clock)
    assert verify_with(verifier, cred).project_id == "project-a"
    store.delete(cred.access_key)
    clock.now += 4.9
    assert verify_with(verifier, cred).project_id == "project-a"
    clock.now += 0.2
    with pytest.raises(errors.InvalidClientTokenId):
        verify_with(verifier, cred)


def test_without_a_ttl_every_request_reads_the_store(store, cred):
    verifier = LocalVerifier(store)
    verify_with(verifier, cred)
    store.delete(cred.access_key)
    with pytest.raises(errors.InvalidClientTokenId):
        verify_with(verifier, cred)


def test_an_unknown_key_is_not_remembered(store, cred):
    clock = Clock()
    verifier = LocalVerifier(store, ttl=60.0, clock=clock)
    assert verifier.credential("AKIANOTYETCREATED000") is None
    created = store.create("project-b")
    assert verify_with(verifier, created).project_id == "project-b"


def test_a_remembered_key_still_needs_the_right_signature(store, cred):
    verifier = LocalVerifier(store, ttl=60.0, clock=Clock())
    verify_with(verifier, cred)
    request = sigv4_post(cred, secret="x" * 40)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verifier.verify(signed_request_from(request, datetime.now(UTC), MAX_SKEW))


class ChangingStore:
    """A store whose one key belongs to whatever project (or secret) it holds now."""

    def __init__(self, credential) -> None:
        self.credential = credential
        self.reads = 0

    def get(self, access_key: str):
        self.reads += 1
        return self.credential if access_key == self.credential.access_key else None


def test_the_identity_is_the_keys_own_and_made_once_per_remembered_key(store, cred):
    other = store.create("project-b")
    verifier = LocalVerifier(store, ttl=60.0, clock=Clock())
    first = verify_with(verifier, cred)
    assert first == Identity(project_id="project-a", access_key=cred.access_key)
    assert verify_with(verifier, cred) is first  # remembered with its key
    assert verify_with(verifier, other) == Identity(project_id="project-b",
                                                    access_key=other.access_key)
    assert verify_with(verifier, cred) is first


def test_a_changed_credential_gives_its_new_identity_once_forgotten(cred):
    store = ChangingStore(cred)
    clock = Clock()
    verifier = LocalVerifier(store, ttl=5.0, clock=clock)
    assert verify_with(verifier, cred).project_id == "project-a"
    store.credential = dataclasses.replace(cred, project="project-moved")
    clock.now += 5.0
    assert verify_with(verifier, cred).project_id == "project-moved"
    assert store.reads == 2


def test_without_a_ttl_a_changed_credential_counts_at_once(cred):
    store = ChangingStore(cred)
    verifier = LocalVerifier(store)
    assert verify_with(verifier, cred).project_id == "project-a"
    store.credential = dataclasses.replace(cred, project="project-moved")
    assert verify_with(verifier, cred).project_id == "project-moved"
    store.credential = dataclasses.replace(cred, secret_key="y" * 40)  # rotated secret
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify_with(verifier, cred)
