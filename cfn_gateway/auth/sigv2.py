"""Signature Version 2 (Query APIs): string to sign and HMAC-SHA256 / HMAC-SHA1 signature.

String to sign: ``METHOD\\nhost\\npath\\nQUERY`` where QUERY is every parameter but
``Signature``, sorted by name, names and values percent-encoded leaving only
``A-Za-z0-9-_.~`` bare.  The host is the Host header as sent: botocore signs the URL's
``host[:port]``, which is what its Host header carries; boto 2 signs the host name without
the port, which it leaves out of its Host header too, but lower-cased, so a Host header in
mixed case is also tried lower-cased.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cfn_gateway.auth.signed_request import SignedRequest
from cfn_gateway.auth.sigv4 import uri_encode

DIGESTS = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}


def canonical_query_string(pairs: tuple[tuple[str, str], ...]) -> str:
    ordered = sorted(pairs, key=lambda pair: pair[0].encode("utf-8"))
    return "&".join(f"{uri_encode(name)}={uri_encode(value)}" for name, value in ordered)


def strings_to_sign(signed: SignedRequest) -> list[str]:
    query = canonical_query_string(signed.params)
    path = signed.path or "/"
    hosts = dict.fromkeys((signed.host, signed.host.lower()))
    return [f"{signed.method}\n{host}\n{path}\n{query}" for host in hosts]


def signature(secret_key: str, algorithm: str, string_to_sign: str) -> bytes:
    """The raw digest (clients send it base64-encoded)."""
    return hmac.new(
        secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), DIGESTS[algorithm]
    ).digest()


def _decoded(provided: str) -> bytes:
    # A '+' sent unencoded in a query string arrives as a space.
    try:
        return base64.b64decode(provided.strip().replace(" ", "+"), validate=True)
    except (binascii.Error, ValueError):
        return b""


def matches(signed: SignedRequest, secret_key: str) -> bool:
    """Whether ``signed.signature`` is right for ``secret_key`` (constant-time compares)."""
    provided = _decoded(signed.signature)
    found = False
    for sts in strings_to_sign(signed):
        found |= hmac.compare_digest(signature(secret_key, signed.algorithm, sts), provided)
    return found
