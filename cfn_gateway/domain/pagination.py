"""Opaque, tamper-evident pagination tokens.

A token is ``base64url(json(payload)) "." base64url(hmac_sha256(secret, body)[:16])``.  The
payload says where the next page starts and what it was issued for (project, query); a
token whose signature does not verify, or that was issued for another project or query, is
refused, so a client can neither forge a position nor replay a token elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

_SIGNATURE_BYTES = 16
_MAX_TOKEN_LENGTH = 2048


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest[:_SIGNATURE_BYTES])


def digest(*parts: Any) -> str:
    """A short, stable fingerprint of a query, to bind a token to it."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]


def encode(secret: bytes, payload: dict[str, Any]) -> str:
    body = _b64encode(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return f"{body}.{_sign(secret, body)}"


def page_token(secret: bytes, project_id: str, query_digest: str, after: Any) -> str:
    """A token for the page after ``after`` of a project's query (``digest`` of it)."""
    return encode(secret, {"p": project_id, "q": query_digest, "a": after})


def position(secret: bytes, token: str, project_id: str, query_digest: str) -> Any:
    """The ``after`` of a ``page_token``; ``ValueError`` for a token this secret did not
    sign, or signed for another project or query."""
    payload = decode(secret, token)
    if payload.get("p") != project_id or payload.get("q") != query_digest:
        raise ValueError("token issued for another query")
    return payload.get("a")


def decode(secret: bytes, token: str) -> dict[str, Any]:
    """The payload of a token this secret signed; ``ValueError`` for anything else."""
    if not token or len(token) > _MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise ValueError("malformed token")
    body, signature = token.split(".")
    try:
        body.encode("ascii")
        signature.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError("malformed token") from exc
    if not hmac.compare_digest(_sign(secret, body), signature):
        raise ValueError("bad token signature")
    try:
        payload = json.loads(_b64decode(body))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("malformed token") from exc
    if not isinstance(payload, dict):
        raise ValueError("malformed token")
    return payload
