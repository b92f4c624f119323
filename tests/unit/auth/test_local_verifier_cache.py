"""LocalVerifier remembers keys it found for its ttl, and only those."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cfn_gateway import errors
from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.auth.verifier import LocalVerifier

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
