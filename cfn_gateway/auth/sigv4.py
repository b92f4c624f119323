"""Signature Version 4: canonical request, string to sign, signing key, signature.

The canonical request is built the way AWS specifies it and botocore computes it (dot
segments and repeated slashes removed from the path, which is then percent-encoded once
more; query pairs decoded, re-encoded with only ``A-Za-z0-9-_.~`` left bare and sorted;
header values trimmed with inner whitespace runs collapsed).  boto 2.49 differs in two
corners, so where a request falls into one of them its variant is tried too:

- the path is normalised with ``posixpath.normpath`` (``/a/../`` gives ``//``, a leading
  ``//`` stays);
- a header value holding a double quote keeps its inner whitespace, and the header lines are
  sorted as whole ``name:value`` strings.

The scope is the one the client sent (region and service included), never one we expect.

A signing key depends only on the secret and the scope (one date, region and service), so
it is derived once a day per credential and kept, as AWS's SDKs keep theirs.

Every HMAC is computed with ``hmac.new(...).digest()``, never ``hmac.digest()``: the
one-shot function lets go of the GIL around OpenSSL's HMAC whatever the message's size, so
on a worker whose committer thread is busy each signature check handed the GIL over and
waited to get it back (the object's ``update`` keeps it below 2 KiB, as ``hashlib`` does).
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import quote

from cfn_gateway.auth.signed_request import SIGV4_ALGORITHM, SignedRequest

UNRESERVED = "-_.~"
#: Signing keys by (secret, date, region, service, terminator); emptied when it holds
#: MAX_SIGNING_KEYS (dict operations are atomic under the GIL: threads may share it).
_SIGNING_KEYS: dict[tuple[str, str, str, str, str], bytes] = {}
MAX_SIGNING_KEYS = 4096


def uri_encode(text: str) -> str:
    """RFC 3986 percent-encoding of UTF-8, leaving only unreserved characters bare."""
    return quote(text, safe=UNRESERVED)


def canonical_query_string(pairs: tuple[tuple[str, str], ...]) -> str:
    encoded = sorted((uri_encode(name), uri_encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _remove_dot_segments(path: str) -> str:
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    result = "/" + "/".join(kept)
    if kept and path.endswith("/"):
        result += "/"
    return result


@lru_cache(maxsize=1024)
def canonical_uri(path: str) -> str:
    """AWS's and botocore's canonical path."""
    return quote(_remove_dot_segments(path or "/"), safe="/~")


@lru_cache(maxsize=1024)
def boto2_canonical_uri(path: str) -> str:
    """boto 2.49's canonical path."""
    path = path or "/"
    encoded = quote(posixpath.normpath(path), safe="/~")
    if len(path) > 1 and path.endswith("/"):
        encoded += "/"
    return encoded


def _header_lines(signed: SignedRequest, boto2: bool) -> list[str]:
    lines = []
    for name in signed.signed_headers:
        value = signed.headers.get(name)
        if value is None:
            continue
        # boto 2 leaves a value holding a double quote as it is, but for the ends.
        value = value.strip() if boto2 and '"' in value else " ".join(value.split())
        lines.append(f"{name}:{value}")
    return sorted(lines) if boto2 else lines


def canonical_request(signed: SignedRequest) -> str:
    """The canonical request as AWS and botocore build it."""
    return _canonical_request(signed, canonical_uri(signed.path),
                              "\n".join(_header_lines(signed, boto2=False)) + "\n")


def canonical_requests(signed: SignedRequest) -> list[str]:
    """The canonical request, then any differing variant a supported client may have signed."""
    uris = dict.fromkeys((canonical_uri(signed.path), boto2_canonical_uri(signed.path)))
    header_blocks = dict.fromkeys(
        "\n".join(_header_lines(signed, boto2)) + "\n" for boto2 in (False, True)
    )
    return [_canonical_request(signed, uri, headers) for uri in uris for headers in header_blocks]


def _canonical_request(signed: SignedRequest, uri: str, header_block: str) -> str:
    query = canonical_query_string(signed.params) if signed.params else ""
    return (f"{signed.method}\n{uri}\n{query}\n{header_block}\n"
            f"{';'.join(signed.signed_headers)}\n{signed.body_sha256}")


def string_to_sign(signed: SignedRequest, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{SIGV4_ALGORITHM}\n{signed.amz_date}\n{signed.scope}\n{digest}"


def signing_key(secret_key: str, signed: SignedRequest) -> bytes:
    scope = signed.scope
    assert scope is not None
    cache_key = (secret_key, scope.date, scope.region, scope.service, scope.terminator)
    key = _SIGNING_KEYS.get(cache_key)
    if key is None:
        key = derive_signing_key(secret_key, *cache_key[1:])
        if len(_SIGNING_KEYS) >= MAX_SIGNING_KEYS:
            _SIGNING_KEYS.clear()
        _SIGNING_KEYS[cache_key] = key
    return key


def derive_signing_key(secret_key: str, date: str, region: str, service: str,
                       terminator: str) -> bytes:
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (date, region, service, terminator):
        key = _hmac_sha256(key, part.encode("utf-8"))
    return key


def signatures(signed: SignedRequest, secret_key: str) -> Iterator[str]:
    """Hex signatures of every canonical request variant, the standard one first (the
    variants are built only when asked for)."""
    key = signing_key(secret_key, signed)
    yield _signature(key, signed, canonical_request(signed))
    for canonical in canonical_requests(signed)[1:]:
        yield _signature(key, signed, canonical)


def _signature(key: bytes, signed: SignedRequest, canonical: str) -> str:
    return _hmac_sha256(key, string_to_sign(signed, canonical).encode("utf-8")).hex()


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    """``hmac.digest(key, message, "sha256")`` without letting go of the GIL (above)."""
    return hmac.new(key, message, hashlib.sha256).digest()


def matches(signed: SignedRequest, secret_key: str) -> bool:
    """Whether ``signed.signature`` is right for ``secret_key`` (constant-time compares; a
    signature that matches the standard canonical request stops there, which tells its
    sender nothing it did not know)."""
    provided = signed.signature.strip().lower().encode("utf-8")
    return any(hmac.compare_digest(expected.encode("ascii"), provided)
               for expected in signatures(signed, secret_key))


def explain(signed: SignedRequest) -> tuple[str, str]:
    """The standard canonical request and string to sign, for SignatureDoesNotMatch."""
    canonical = canonical_request(signed)
    return canonical, string_to_sign(signed, canonical)
