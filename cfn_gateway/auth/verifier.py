"""Verifiers: who signed a ``SignedRequest``, if the signature is right.

``Verifier`` is the interface the ec2auth filter uses.  ``LocalVerifier`` checks the HMAC
against the local credential store, reading each key once per ``ttl`` (a query of the store
costs a worker 50-80 us of CPU while its committer thread writes); a ``KeystoneVerifier``
(Keystone's ``/v3/ec2tokens``) implements the same interface.  Both raise
``InvalidClientTokenId`` for an unknown access key and ``SignatureDoesNotMatch`` for a wrong
signature.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from cfn_gateway import errors
from cfn_gateway.auth import messages, sigv2, sigv4
from cfn_gateway.auth.credential_store import Credential, CredentialStore
from cfn_gateway.auth.signed_request import SignedRequest
from cfn_gateway.common.expiring_cache import ExpiringCache
from cfn_gateway.context import Identity

CACHED_CREDENTIALS = 4096


class Verifier(Protocol):
    def verify(self, signed: SignedRequest) -> Identity:
        """The caller's identity, or an ``AWSError`` when the signature is not theirs."""
        ...


def signature_matches(signed: SignedRequest, secret_key: str) -> bool:
    """Whether the request was signed with ``secret_key``."""
    if signed.version == "4":
        return sigv4.matches(signed, secret_key)
    return sigv2.matches(signed, secret_key)


def mismatch_error(signed: SignedRequest) -> errors.SignatureDoesNotMatch:
    """SignatureDoesNotMatch; for SigV4 with what we computed, as AWS answers."""
    if signed.version == "4":
        return errors.SignatureDoesNotMatch(messages.canonical_details(*sigv4.explain(signed)))
    return errors.SignatureDoesNotMatch(messages.SIGNATURE_DOES_NOT_MATCH)


class LocalVerifier:
    """Checks signatures against the secrets of the local credential store.

    A key found in the store is remembered for ``ttl`` seconds (0: never), so a deleted
    key keeps working in each worker for up to that long, as a deleted IAM access key does
    while the change propagates.  An unknown key is read again every time: a key just
    created works at once."""

    def __init__(self, store: CredentialStore, ttl: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl = ttl
        # A key's credential with the (immutable) identity it signs for, made once.
        self._known: ExpiringCache[tuple[Credential, Identity]] = ExpiringCache(
            CACHED_CREDENTIALS, clock)

    def credential(self, access_key: str) -> Credential | None:
        known = self._credential_and_identity(access_key)
        return None if known is None else known[0]

    def _credential_and_identity(self, access_key: str) -> tuple[Credential, Identity] | None:
        known = self._known.get(access_key)
        if known is None:
            credential = self.store.get(access_key)
            if credential is None:
                return None
            known = (credential, Identity(project_id=credential.project,
                                          access_key=credential.access_key))
            self._known.put(access_key, known, self.ttl)
        return known

    def verify(self, signed: SignedRequest) -> Identity:
        known = self._credential_and_identity(signed.access_key)
        if known is None:
            raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
        credential, identity = known
        if not signature_matches(signed, credential.secret_key):
            raise mismatch_error(signed)
        return identity
