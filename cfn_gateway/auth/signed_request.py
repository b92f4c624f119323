"""One signed request, whatever way it was signed: SigV4 header, SigV4 query string, SigV2.

``signed_request_from`` reads an ``AWSRequest`` and returns a ``SignedRequest`` that holds
everything a verifier needs (the local HMAC check or Keystone's ``/v3/ec2tokens``), after the
checks that need no secret: every part present and well-formed, the timestamp within the
allowed skew, the credential scope's terminator and date, ``x-amz-content-sha256``, and
that what picks the operation is signed (``X-Amz-Target`` of a JSON request; SigV2, which
signs parameters only, is for Query requests only).

The scope's region and service are kept as the client sent them and never judged: boto 2
derives them from the host name (``127.0.0.1`` gives region ``0`` and service ``127``,
``localhost`` gives ``localhost`` twice), and the signature is checked against that scope.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from cfn_gateway import errors
from cfn_gateway.auth import messages
from cfn_gateway.context import JSON, QUERY, AWSRequest

SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
SIGV4_TERMINATOR = "aws4_request"
SIGV2_METHODS = ("HmacSHA256", "HmacSHA1")
MAX_PRESIGNED_EXPIRES = 604800  # seven days, as AWS
AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
V2_MARKERS = ("Signature", "AWSAccessKeyId", "SignatureVersion")
#: Query-string or form parameters that belong to an AWS signature (SigV4 presigned, SigV2).
SIGNATURE_PARAMS = frozenset(("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                              "X-Amz-SignedHeaders", *V2_MARKERS))


@dataclass(frozen=True)
class CredentialScope:
    """``DATE/REGION/SERVICE/TERMINATOR`` exactly as the client sent it."""

    date: str
    region: str
    service: str
    terminator: str

    def __str__(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


@dataclass(frozen=True)
class SignedRequest:
    """A request's signature and every request part the signature covers."""

    version: str  # "4" | "2"
    access_key: str
    signature: str  # hex (SigV4) or base64 (SigV2), as sent
    algorithm: str  # "AWS4-HMAC-SHA256" | SigV2's SignatureMethod "HmacSHA256" | "HmacSHA1"
    method: str
    host: str  # the Host header as sent (with the port when the client sent one)
    path: str  # raw, not unquoted
    # SigV4: the query string's pairs (presigned: less X-Amz-Signature); a form body is
    # covered by body_sha256.  SigV2: every query/form parameter less Signature.
    params: tuple[tuple[str, str], ...]
    headers: Mapping[str, str] = field(hash=False)  # lower-case names
    signed_headers: tuple[str, ...] = ()  # SigV4, sorted lower-case names
    body_sha256: str = ""  # hex digest of the body exactly as received
    scope: CredentialScope | None = None  # SigV4
    timestamp: datetime | None = None  # X-Amz-Date, Date or SigV2 Timestamp (UTC)
    amz_date: str = ""  # SigV4: the timestamp as the string to sign holds it
    expires: datetime | None = None  # presigned X-Amz-Date + X-Amz-Expires, SigV2 Expires
    presigned: bool = False  # SigV4 in the query string

    @property
    def params_dict(self) -> dict[str, str]:
        """The parameters as a dict (the last of repeated names wins)."""
        return dict(self.params)


def carries_signature(request: AWSRequest) -> bool:
    """Whether ``request`` carries any part of an AWS signature: an Authorization header
    (even an empty or malformed one) or a signature parameter in its query string or form.

    Such a request is judged by its signature alone (``signed_request_from``); only one
    without any may authenticate otherwise (a Keystone token in OpenStack mode).
    """
    if "authorization" in request.headers:
        return True
    query = (request.query_pairs if request.query_pairs is not None
             else parse_qsl(request.query_string, keep_blank_values=True))
    return (any(name in SIGNATURE_PARAMS for name, _ in query)
            or not SIGNATURE_PARAMS.isdisjoint(request.params))


def signed_request_from(request: AWSRequest, now: datetime, max_skew: int) -> SignedRequest:
    """Parse and pre-check the signature of ``request`` at time ``now`` (UTC).

    Raises MissingAuthenticationToken (no signature), IncompleteSignature (a part missing
    or malformed), RequestExpired (timestamp off by more than ``max_skew`` seconds, presigned
    URL or SigV2 ``Expires`` past) and SignatureDoesNotMatch for a wrong scope terminator or
    date, an unsigned Host or X-Amz-Target, or an ``x-amz-content-sha256`` not the body's.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    authorization = request.headers.get("authorization", "").strip()
    query = (request.query_pairs if request.query_pairs is not None
             else parse_qsl(request.query_string, keep_blank_values=True))
    presigned = any(name == "X-Amz-Algorithm" for name, _ in query)
    if authorization:
        if presigned:
            raise errors.SignatureDoesNotMatch(messages.ONLY_ONE_AUTH_MECHANISM)
        return _from_authorization(request, authorization, query, now, max_skew)
    if presigned:
        return _from_presigned_query(request, query, now, max_skew)
    if any(name in request.params for name in V2_MARKERS):
        return _from_sigv2(request, now, max_skew)
    raise errors.MissingAuthenticationToken(messages.MISSING_AUTHENTICATION_TOKEN)


# --- SigV4 ------------------------------------------------------------------------------


def _from_authorization(
    request: AWSRequest,
    authorization: str,
    query: list[tuple[str, str]],
    now: datetime,
    max_skew: int,
) -> SignedRequest:
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != SIGV4_ALGORITHM:
        raise errors.IncompleteSignature(messages.unsupported_algorithm(algorithm))
    fields: dict[str, str] = {}
    for raw_part in rest.split(","):
        part = raw_part.strip()
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals:
            raise errors.IncompleteSignature(messages.not_key_value(part, authorization))
        fields[name.strip()] = value.strip()

    date_text = request.headers.get("x-amz-date") or request.headers.get("date") or ""
    if not (fields.get("Credential") and fields.get("Signature")
            and fields.get("SignedHeaders") and date_text.strip()):
        missing = [
            text
            for present, text in (
                (fields.get("Credential"), messages.AUTH_HEADER_REQUIRES_CREDENTIAL),
                (fields.get("Signature"), messages.AUTH_HEADER_REQUIRES_SIGNATURE),
                (fields.get("SignedHeaders"), messages.AUTH_HEADER_REQUIRES_SIGNED_HEADERS),
                (date_text.strip(), messages.AUTH_HEADER_REQUIRES_DATE),
            )
            if not present
        ]
        raise errors.IncompleteSignature(" ".join(missing) + f" Authorization={algorithm}")

    if request.headers.get("x-amz-date"):
        timestamp, amz_date = _parse_amz_date(date_text.strip())
    else:
        timestamp, amz_date = _parse_http_date(date_text.strip())
    _check_skew(timestamp, now, max_skew)
    access_key, scope = _parse_credential(fields["Credential"], amz_date)
    signed_headers = _parse_signed_headers(fields["SignedHeaders"], request)
    body_sha256 = _body_sha256(request)
    return _sigv4_request(
        request,
        access_key=access_key,
        signature=fields["Signature"],
        params=tuple(query),
        signed_headers=signed_headers,
        body_sha256=body_sha256,
        scope=scope,
        timestamp=timestamp,
        amz_date=amz_date,
    )


def _sigv4_request(request: AWSRequest, **signature_parts: Any) -> SignedRequest:
    """A SigV4 ``SignedRequest``: the request's own parts plus what its signature says."""
    return SignedRequest(
        version="4",
        algorithm=SIGV4_ALGORITHM,
        method=request.method.upper(),
        host=request.host,
        path=request.path,
        headers=dict(request.headers),
        **signature_parts,
    )


def _from_presigned_query(
    request: AWSRequest, query: list[tuple[str, str]], now: datetime, max_skew: int
) -> SignedRequest:
    first: dict[str, str] = {}
    for name, value in query:
        first.setdefault(name, value)
    if first["X-Amz-Algorithm"] != SIGV4_ALGORITHM:
        raise errors.MissingAuthenticationToken(messages.MISSING_AUTHENTICATION_TOKEN)
    missing = [
        text
        for name, text in (
            ("X-Amz-Credential", messages.QUERY_REQUIRES_CREDENTIAL),
            ("X-Amz-Signature", messages.QUERY_REQUIRES_SIGNATURE),
            ("X-Amz-SignedHeaders", messages.QUERY_REQUIRES_SIGNED_HEADERS),
            ("X-Amz-Date", messages.QUERY_REQUIRES_DATE),
        )
        if not first.get(name)
    ]
    if missing:
        raise errors.IncompleteSignature(" ".join([*missing, messages.REEXAMINE_QUERY]))

    timestamp, amz_date = _parse_amz_date(first["X-Amz-Date"])
    expires_text = first.get("X-Amz-Expires")
    if expires_text is None:  # no lifetime of its own: the usual skew both ways
        _check_skew(timestamp, now, max_skew)
        expires = None
    else:
        expires = timestamp + timedelta(seconds=_parse_expires(expires_text))
        latest = now + timedelta(seconds=max_skew)
        if timestamp > latest:
            raise errors.RequestExpired(
                messages.signature_not_yet_current(timestamp, now, latest, max_skew)
            )
        if now > expires:
            raise errors.RequestExpired(messages.PRESIGNED_EXPIRED)
    access_key, scope = _parse_credential(first["X-Amz-Credential"], amz_date)
    signed_headers = _parse_signed_headers(first["X-Amz-SignedHeaders"], request)
    return _sigv4_request(
        request,
        access_key=access_key,
        signature=first["X-Amz-Signature"],
        params=tuple((n, v) for n, v in query if n != "X-Amz-Signature"),
        signed_headers=signed_headers,
        body_sha256=_body_sha256(request),
        scope=scope,
        timestamp=timestamp,
        amz_date=amz_date,
        expires=expires,
        presigned=True,
    )


@lru_cache(maxsize=64)  # a second's requests share one
def _parse_amz_date(text: str) -> tuple[datetime, str]:
    if not AMZ_DATE.fullmatch(text):
        raise errors.IncompleteSignature(messages.bad_date(text))
    try:  # YYYYMMDDTHHMMSSZ (AMZ_DATE): built directly, strptime costs tens of us
        timestamp = datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]),
                             int(text[9:11]), int(text[11:13]), int(text[13:15]), tzinfo=UTC)
    except ValueError as exc:
        raise errors.IncompleteSignature(messages.bad_date(text)) from exc
    return timestamp, text


def _parse_http_date(text: str) -> tuple[datetime, str]:
    try:
        timestamp = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError) as exc:
        raise errors.IncompleteSignature(messages.bad_date(text)) from exc
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    timestamp = timestamp.astimezone(UTC)
    return timestamp, timestamp.strftime(messages.ISO8601_BASIC)


def _parse_expires(text: str) -> int:
    if not re.fullmatch(r"-?\d+", text.strip()):
        raise errors.IncompleteSignature(messages.EXPIRES_NOT_A_NUMBER)
    seconds = int(text)
    if seconds < 0:
        raise errors.IncompleteSignature(messages.EXPIRES_NOT_POSITIVE)
    if seconds > MAX_PRESIGNED_EXPIRES:
        raise errors.IncompleteSignature(messages.EXPIRES_TOO_LONG)
    return seconds


def _parse_credential(credential: str, amz_date: str) -> tuple[str, CredentialScope]:
    access_key, scope = _split_credential(credential)
    problems = []
    if scope.terminator != SIGV4_TERMINATOR:
        problems.append(messages.bad_terminator(scope.terminator))
    if scope.date != amz_date[:8]:
        problems.append(messages.scope_date_mismatch(scope.date, amz_date))
    if problems:
        raise errors.SignatureDoesNotMatch(" ".join(problems))
    return access_key, scope


@lru_cache(maxsize=256)  # a key signs many requests a day with one scope
def _split_credential(credential: str) -> tuple[str, CredentialScope]:
    parts = credential.split("/")
    if len(parts) != 5 or not parts[0]:
        raise errors.IncompleteSignature(messages.credential_parts(credential))
    access_key, date, region, service, terminator = parts
    return access_key, CredentialScope(date, region, service, terminator)


def _parse_signed_headers(text: str, request: AWSRequest) -> tuple[str, ...]:
    names = _signed_header_names(text)
    if "host" not in names:
        raise errors.SignatureDoesNotMatch(messages.HOST_MUST_BE_SIGNED)
    # X-Amz-Target names a JSON request's operation: unsigned, it could be swapped for
    # another operation taking the same (signed) body.
    if request.protocol == JSON and "x-amz-target" not in names:
        raise errors.SignatureDoesNotMatch(messages.must_be_signed("x-amz-target"))
    return tuple(names)


@lru_cache(maxsize=256)  # what a client signs is much the same from request to request
def _signed_header_names(text: str) -> tuple[str, ...]:
    return tuple(sorted({name.strip().lower() for name in text.split(";") if name.strip()}))


def _body_sha256(request: AWSRequest) -> str:
    """The hash of the body as received; a sent ``x-amz-content-sha256`` must agree."""
    digest = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is not None and claimed.strip().lower() != digest:
        raise errors.SignatureDoesNotMatch(messages.CONTENT_SHA256_MISMATCH)
    return digest


# --- SigV2 ------------------------------------------------------------------------------


def _from_sigv2(request: AWSRequest, now: datetime, max_skew: int) -> SignedRequest:
    # SigV2 covers method, host, path and parameters only: in a JSON or CBOR request the
    # operation (X-Amz-Target) and its input (the body) would go unsigned.
    if request.protocol != QUERY:
        raise errors.IncompleteSignature(messages.V2_QUERY_ONLY)
    params = request.params
    missing = [
        messages.v2_missing_parameter(name)
        for name in ("AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion")
        if not params.get(name)
    ]
    if missing:
        raise errors.IncompleteSignature(" ".join(missing))
    if params["SignatureVersion"] != "2":
        raise errors.IncompleteSignature(
            messages.v2_invalid_value(
                "SignatureVersion", params["SignatureVersion"], "Valid value is 2."
            )
        )
    method = params["SignatureMethod"]
    if method not in SIGV2_METHODS:
        raise errors.IncompleteSignature(
            messages.v2_invalid_value(
                "SignatureMethod", method, "Valid values are HmacSHA256 and HmacSHA1."
            )
        )

    timestamp_text, expires_text = params.get("Timestamp"), params.get("Expires")
    if timestamp_text and expires_text:
        raise errors.IncompleteSignature(messages.V2_TIMESTAMP_AND_EXPIRES)
    timestamp = expires = None
    if timestamp_text:
        timestamp = _parse_iso8601("Timestamp", timestamp_text)
        _check_skew(timestamp, now, max_skew)
    elif expires_text:
        expires = _parse_iso8601("Expires", expires_text)
        if now > expires:
            raise errors.RequestExpired(messages.v2_expired(expires_text))
    else:
        raise errors.IncompleteSignature(messages.V2_TIMESTAMP_OR_EXPIRES)

    return SignedRequest(
        version="2",
        access_key=params["AWSAccessKeyId"],
        signature=params["Signature"],
        algorithm=method,
        method=request.method.upper(),
        host=request.host,
        path=request.path,
        params=tuple((n, v) for n, v in params.items() if n != "Signature"),
        headers=dict(request.headers),
        body_sha256=hashlib.sha256(request.body).hexdigest(),
        timestamp=timestamp,
        expires=expires,
    )


def _parse_iso8601(name: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise errors.IncompleteSignature(
            messages.v2_invalid_value(name, text, "Must be in ISO8601 format.")
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- both -------------------------------------------------------------------------------


def _check_skew(timestamp: datetime, now: datetime, max_skew: int) -> None:
    skew = timedelta(seconds=max_skew)
    earliest, latest = now - skew, now + skew
    if timestamp < earliest:
        raise errors.RequestExpired(
            messages.signature_expired(timestamp, now, earliest, max_skew)
        )
    if timestamp > latest:
        raise errors.RequestExpired(
            messages.signature_not_yet_current(timestamp, now, latest, max_skew)
        )
