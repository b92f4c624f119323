"""The texts of the authentication errors, worded as AWS words them.

Where AWS's own wording is known it is used verbatim: AWS's SigV4 troubleshooting guide, the
error bodies AWS Query and JSON services return (quoted in SDK bug reports), and the
server-side SigV4 checker scratchstack-aws-signature, whose messages were taken from AWS's
responses.  The few texts marked "gateway wording" have no AWS original that we know of.
"""

from __future__ import annotations

from datetime import datetime

MISSING_AUTHENTICATION_TOKEN = "Request is missing Authentication Token"
INVALID_CLIENT_TOKEN_ID = "The security token included in the request is invalid."
PROJECT_SCOPED_TOKEN_REQUIRED = (  # gateway wording (a Keystone token in X-Auth-Token)
    "The security token included in the request is invalid: a project-scoped Keystone "
    "token is required."
)
SIGNATURE_DOES_NOT_MATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

# SigV4 Authorization header.
AUTH_HEADER_REQUIRES_CREDENTIAL = "Authorization header requires 'Credential' parameter."
AUTH_HEADER_REQUIRES_SIGNATURE = "Authorization header requires 'Signature' parameter."
AUTH_HEADER_REQUIRES_SIGNED_HEADERS = "Authorization header requires 'SignedHeaders' parameter."
AUTH_HEADER_REQUIRES_DATE = (
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
)
HOST_MUST_BE_SIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."


def must_be_signed(header: str) -> str:
    return f"'{header}' must be a 'SignedHeader' in the AWS Authorization."


ONLY_ONE_AUTH_MECHANISM = (  # S3's text for the same mistake
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
    "Authorization header should be specified"
)
CONTENT_SHA256_MISMATCH = (  # S3's text (XAmzContentSHA256Mismatch)
    "The provided 'x-amz-content-sha256' header does not match what was computed."
)

# SigV4 presigned query string.
QUERY_REQUIRES_CREDENTIAL = "AWS query-string parameters must include 'X-Amz-Credential'."
QUERY_REQUIRES_SIGNATURE = "AWS query-string parameters must include 'X-Amz-Signature'."
QUERY_REQUIRES_SIGNED_HEADERS = "AWS query-string parameters must include 'X-Amz-SignedHeaders'."
QUERY_REQUIRES_DATE = "AWS query-string parameters must include 'X-Amz-Date'."
REEXAMINE_QUERY = "Re-examine the query-string parameters."
EXPIRES_NOT_A_NUMBER = "X-Amz-Expires should be a number"  # S3's text
EXPIRES_TOO_LONG = (  # S3's text
    "X-Amz-Expires must be less than a week (in seconds) that is 604800"
)
EXPIRES_NOT_POSITIVE = "X-Amz-Expires must be non-negative"  # S3's text
PRESIGNED_EXPIRED = "Request has expired"  # S3's text

ISO8601_BASIC = "%Y%m%dT%H%M%SZ"


def unsupported_algorithm(algorithm: str) -> str:
    return f"Unsupported AWS 'algorithm': '{algorithm}'."


def not_key_value(part: str, header: str) -> str:
    return (
        f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: "
        f"'{header}'"
    )


def bad_date(value: str) -> str:
    return (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def credential_parts(credential: str) -> str:
    return (
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        f"keyid/date/region/service/term, got '{credential}'"
    )


def bad_terminator(terminator: str) -> str:
    return (
        "Credential should be scoped with a valid terminator: 'aws4_request', "
        f"not '{terminator}'."
    )


def scope_date_mismatch(scope_date: str, amz_date: str) -> str:
    return (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        f"HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
    )


def _skew_text(max_skew: int) -> str:
    return f"{max_skew // 60} min." if max_skew % 60 == 0 else f"{max_skew} sec."


def signature_expired(timestamp: datetime, now: datetime, earliest: datetime, max_skew: int) -> str:
    return (
        f"Signature expired: {timestamp.strftime(ISO8601_BASIC)} is now earlier than "
        f"{earliest.strftime(ISO8601_BASIC)} ({now.strftime(ISO8601_BASIC)} - "
        f"{_skew_text(max_skew)})"
    )


def signature_not_yet_current(
    timestamp: datetime, now: datetime, latest: datetime, max_skew: int
) -> str:
    return (
        f"Signature not yet current: {timestamp.strftime(ISO8601_BASIC)} is still later than "
        f"{latest.strftime(ISO8601_BASIC)} ({now.strftime(ISO8601_BASIC)} + "
        f"{_skew_text(max_skew)})"
    )


def canonical_details(canonical_request: str, string_to_sign: str) -> str:
    """What AWS appends to SignatureDoesNotMatch so that a client can find its mistake."""
    return (
        f"{SIGNATURE_DOES_NOT_MATCH}\n\n"
        f"The Canonical String for this request should have been\n'{canonical_request}'\n\n"
        f"The String-to-Sign should have been\n'{string_to_sign}'\n"
    )


# SigV2 (gateway wording in AWS's style: "The request must contain the parameter X").
def v2_missing_parameter(name: str) -> str:
    return f"The request must contain the parameter {name}."


V2_TIMESTAMP_OR_EXPIRES = "The request must contain either a Timestamp or an Expires parameter."
V2_TIMESTAMP_AND_EXPIRES = "Timestamp and Expires cannot both be specified."
V2_QUERY_ONLY = (
    "Signature Version 2 is accepted for Query API requests only; sign JSON and CBOR "
    "requests with Signature Version 4."
)


def v2_invalid_value(name: str, value: str, valid: str) -> str:
    return f"Value ({value}) for parameter {name} is invalid. {valid}"


def v2_expired(expires: str) -> str:
    return f"Request has expired. Expires date is {expires}."
