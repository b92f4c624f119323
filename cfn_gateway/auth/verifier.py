"""Verifiers: who signed a ``SignedRequest``, if the signature is right.

``Verifier`` is the interface the ec2auth filter uses.  ``LocalVerifier`` checks the HMAC
against the local credential store; a ``KeystoneVerifier`` (Keystone's ``/v3/ec2tokens``)
implements the same interface.  Both raise ``InvalidClientTokenId`` for an unknown access key
and ``SignatureDoesNotMatch`` for a wrong signature.
"""

from __future__ import annotations

from typing import Protocol

from cfn_gateway import errors
from cfn_gateway.auth import messages, sigv2, sigv4
from cfn_gateway.auth.credential_store import CredentialStore
from cfn_gateway.auth.signed_request import SignedRequest
from cfn_gateway.context import Identity


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
    """Checks signatures against the secrets of the local credential store."""

    def __init__(self, store: CredentialStore) -> None:
        self.store = store

    def verify(self, signed: SignedRequest) -> Identity:
        credential = self.store.get(signed.access_key)
        if credential is None:
            raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
        if not signature_matches(signed, credential.secret_key):
            raise mismatch_error(signed)
        return Identity(project_id=credential.project, access_key=credential.access_key)
