"""The body of Keystone's ``POST /v3/ec2tokens`` for a ``SignedRequest``, and the requests
Keystone's checker cannot judge as the gateway does.

Keystone (``keystone/api/ec2tokens.py``, ``api/_shared/EC2_S3_Resource.py``, keystone 30)
hands the ``credentials`` object to python-keystoneclient's ``Ec2Signer``, which recomputes
the signature from these fields only:

- ``params.SignatureVersion`` picks the algorithm ("2": SigV2; absent, with an
  ``Authorization: AWS4-HMAC-SHA256 ...`` header or an ``X-Amz-Algorithm`` parameter:
  SigV4; "0" / "1": the legacy versions, which the gateway never lets it see).
- SigV2: ``verb``, ``host``, ``path`` verbatim and ``params`` (a JSON object: every
  parameter but ``Signature``), always with HMAC-SHA256.  When the signature does not match
  and ``host`` has a port, Keystone tries once more with the host name alone.
- SigV4: ``verb``; ``path`` verbatim (no normalisation, no encoding: we send the canonical
  URI); the canonical query string from ``params`` unless the verb is POST, where it is
  taken as empty; the canonical headers from ``headers`` (names matched lower-cased, values
  only stripped: we send them canonicalised) in the order of ``SignedHeaders``, which it
  reads from the ``Authorization`` header or the ``X-Amz-SignedHeaders`` parameter (we send
  a rebuilt, normalised ``Authorization`` header); ``body_hash`` as the payload hash; the
  date of the string to sign from ``headers["X-Amz-Date"]`` or ``params["X-Amz-Date"]``
  (exactly these spellings; a lower-case ``authorization`` key makes the signer fail with
  HTTP 500).  A request dated by its ``Date`` header gets an ``X-Amz-Date`` of the same
  instant: it is not a signed header there, only the date of the string to sign.
- After the signature, Keystone rejects a timestamp (``params.Timestamp``, else
  ``headers.X-Amz-Date``, else ``params.X-Amz-Date``) older than its ``[credential]
  auth_ttl`` (15 minutes by default) with the same 401 as a wrong signature.

``keystone_gap`` names the requests for which what Keystone would compute differs from what
the gateway's own verifier (``sigv4`` / ``sigv2``) accepts; everything else goes to Keystone
in a shape that makes ``Ec2Signer`` compute exactly the gateway's canonical request (the unit
tests check this against keystoneclient's signer for botocore and boto 2 requests).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from cfn_gateway.auth import sigv4
from cfn_gateway.auth.signed_request import SIGV4_ALGORITHM, SignedRequest

# Keystone's checker strips the port of a signed host header for these user agents.
OLD_BOTO_USER_AGENT = re.compile(r"Boto/2\.[0-9]\.[0-2]")
# What may stand in the rebuilt Authorization header without being misread by Keystone's
# substring parsing ("Credential=" ... up to the next comma).
SAFE_TOKEN = re.compile(r"[A-Za-z0-9._~-]+")
# How close to Keystone's auth_ttl a timestamp may be before Keystone's answer could be
# "expired" where the gateway's own window still says valid (clocks differ a little).
TTL_MARGIN = timedelta(seconds=60)

# Reasons Keystone cannot verify a request (gateway wording; shown to clients only when the
# deployment has no other way to verify it).
GAP_SIGV2_SHA1 = "Signature Version 2 with HmacSHA1 (Keystone computes HmacSHA256 only)"
GAP_SIGV2_HOST_CASE = "a Signature Version 2 request whose Host header is not lower-case"
GAP_POST_QUERY = "a POST request signed with Signature Version 4 that has a query string"
GAP_REPEATED_PARAM = "a query string that repeats a parameter name"
GAP_PARAM_ORDER = "query parameter names that sort differently once percent-encoded"
GAP_LEGACY_PARAM = "a Signature Version 4 query string with a SignatureVersion or Timestamp"
GAP_SIGNED_HEADERS = "X-Amz-SignedHeaders not sorted, lower-case and ';'-separated"
GAP_CLIENT_VARIANT = "a path or header value that boto 2 and botocore canonicalise differently"
GAP_OLD_BOTO = "a signed User-Agent of boto < 2.9.3"
GAP_SIGNED_AUTHORIZATION = "a request that signs its own Authorization header"
GAP_UNSAFE_SCOPE = "a credential scope with characters outside A-Z a-z 0-9 . _ ~ -"
GAP_AUTH_TTL = "a timestamp near or past Keystone's validity window ([credential] auth_ttl)"


def _has_repeats(params: tuple[tuple[str, str], ...]) -> bool:
    return len({name for name, _ in params}) != len(params)


def _sigv4_gap(signed: SignedRequest) -> str | None:
    if signed.method == "POST" and signed.params:
        return GAP_POST_QUERY
    if _has_repeats(signed.params):
        return GAP_REPEATED_PARAM
    names = [name for name, _ in signed.params]
    if sorted(names) != sorted(names, key=sigv4.uri_encode):
        return GAP_PARAM_ORDER
    if any(name in ("SignatureVersion", "Timestamp") for name in names):
        return GAP_LEGACY_PARAM
    if signed.presigned:
        if signed.params_dict.get("X-Amz-SignedHeaders") != ";".join(signed.signed_headers):
            return GAP_SIGNED_HEADERS
    else:
        assert signed.scope is not None
        scope = (signed.access_key, *str(signed.scope).split("/"))
        if not all(SAFE_TOKEN.fullmatch(part) for part in scope):
            return GAP_UNSAFE_SCOPE
    if "authorization" in signed.signed_headers:
        return GAP_SIGNED_AUTHORIZATION
    if len(sigv4.canonical_requests(signed)) > 1:
        return GAP_CLIENT_VARIANT
    if "user-agent" in signed.signed_headers and OLD_BOTO_USER_AGENT.match(
        signed.headers.get("user-agent", "").strip()
    ):
        return GAP_OLD_BOTO
    return None


def keystone_gap(signed: SignedRequest, now: datetime, auth_ttl: timedelta) -> str | None:
    """Why Keystone's ec2tokens cannot verify ``signed`` as the gateway would, or None.

    ``auth_ttl`` is Keystone's ``[credential] auth_ttl``: a request whose timestamp is
    within ``TTL_MARGIN`` of it (or past it) is judged by the gateway's own window instead.
    """
    if signed.version == "2":
        if signed.algorithm != "HmacSHA256":
            return GAP_SIGV2_SHA1
        if signed.host != signed.host.lower():
            return GAP_SIGV2_HOST_CASE
    else:
        reason = _sigv4_gap(signed)
        if reason:
            return reason
    if signed.timestamp is not None and now - signed.timestamp > auth_ttl - TTL_MARGIN:
        return GAP_AUTH_TTL
    return None


def _authorization(signed: SignedRequest) -> str:
    return (
        f"{SIGV4_ALGORITHM} Credential={signed.access_key}/{signed.scope}, "
        f"SignedHeaders={';'.join(signed.signed_headers)}, Signature={_signature(signed)}"
    )


def _signature(signed: SignedRequest) -> str:
    if signed.version == "4":
        return signed.signature.strip().lower()
    return signed.signature.strip().replace(" ", "+")  # a '+' unencoded in a query string


def _sigv4_headers(signed: SignedRequest) -> dict[str, str]:
    # Signed headers under their lower-case names, values as the canonical request has them.
    # A presigned request keeps even a signed x-amz-date header lower-case: Keystone would
    # take "X-Amz-Date" for the signing date instead of the X-Amz-Date parameter.
    headers = {
        name: " ".join(signed.headers[name].split())
        for name in signed.signed_headers
        if name in signed.headers
    }
    if not signed.presigned:
        headers.pop("x-amz-date", None)
        headers["X-Amz-Date"] = signed.amz_date
        headers["Authorization"] = _authorization(signed)
    return headers


def ec2tokens_body(signed: SignedRequest) -> dict[str, Any]:
    """The JSON body of ``POST /v3/ec2tokens`` for a request ``keystone_gap`` accepts."""
    if signed.version == "4":
        path, headers = sigv4.canonical_uri(signed.path), _sigv4_headers(signed)
    else:
        path, headers = signed.path or "/", {}
    return {
        "credentials": {
            "access": signed.access_key,
            "signature": _signature(signed),
            "host": signed.host,
            "verb": signed.method,
            "path": path,
            "params": dict(signed.params),
            "headers": headers,
            "body_hash": signed.body_sha256,
        }
    }
