"""signed_request_from: what it extracts, and how it refuses malformed signatures."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth

from cfn_gateway import errors
from cfn_gateway.auth import messages
from cfn_gateway.auth.signed_request import CredentialScope, signed_request_from

from .samples import FORM, URL, sigv2_get, sigv4_get, sigv4_post, with_headers, with_query
from .wire import REGION, botocore_credentials, botocore_signed, rewire


def parse(request, now=None):
    return signed_request_from(request, now or datetime.now(UTC), 900)


def test_sigv4_header_fields(cred):
    request = sigv4_post(cred)
    signed = parse(request)
    assert signed.version == "4" and not signed.presigned
    assert signed.access_key == cred.access_key
    assert signed.algorithm == "AWS4-HMAC-SHA256"
    assert signed.method == "POST" and signed.path == "/v1/" and signed.host == "127.0.0.1:8080"
    assert signed.params == ()  # the form body is covered by the body hash
    assert signed.body_sha256 == hashlib.sha256(request.body).hexdigest()
    assert signed.signed_headers == ("content-type", "host", "x-amz-date")
    assert signed.scope == CredentialScope(signed.amz_date[:8], REGION, "monitoring",
                                           "aws4_request")
    assert str(signed.scope).endswith("/us-east-1/monitoring/aws4_request")
    assert signed.timestamp == datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=UTC)
    assert re.fullmatch(r"[0-9a-f]{64}", signed.signature)
    assert all(name == name.lower() for name in signed.headers)


def test_sigv4_get_params_are_the_query_string(cred):
    signed = parse(sigv4_get(cred))
    assert signed.params_dict == FORM
    assert signed.scope is not None and (signed.scope.region, signed.scope.service) == ("0", "127")


def test_presigned_fields(cred):
    signer = SigV4QueryAuth(botocore_credentials(cred.access_key, cred.secret_key),
                            "monitoring", REGION, expires=120)
    signed = parse(botocore_signed(signer, "GET", URL, params=dict(FORM)))
    assert signed.presigned and signed.version == "4"
    names = [name for name, _ in signed.params]
    assert "X-Amz-Signature" not in names and "X-Amz-Credential" in names
    assert signed.expires is not None and signed.timestamp is not None
    assert (signed.expires - signed.timestamp).total_seconds() == 120


def test_sigv2_fields(cred):
    signed = parse(sigv2_get(cred))
    assert signed.version == "2" and signed.algorithm == "HmacSHA256"
    assert signed.access_key == cred.access_key
    assert "Signature" not in signed.params_dict
    assert signed.params_dict["SignatureVersion"] == "2"
    assert signed.scope is None and signed.timestamp is not None


# --- the Authorization header ----------------------------------------------------------------


def _replace_auth(request, pattern, replacement):
    authorization = re.sub(pattern, replacement, request.headers["authorization"])
    return with_headers(request, authorization=authorization)


@pytest.mark.parametrize(
    ("part", "text"),
    [
        ("Credential", messages.AUTH_HEADER_REQUIRES_CREDENTIAL),
        ("Signature", messages.AUTH_HEADER_REQUIRES_SIGNATURE),
        ("SignedHeaders", messages.AUTH_HEADER_REQUIRES_SIGNED_HEADERS),
    ],
)
def test_header_missing_part(cred, part, text):
    request = sigv4_post(cred)
    algorithm, _, rest = request.headers["authorization"].partition(" ")
    kept = [p.strip() for p in rest.split(",") if not p.strip().startswith(f"{part}=")]
    request = with_headers(request, authorization=f"{algorithm} {', '.join(kept)}")
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(request)
    assert caught.value.message == f"{text} Authorization=AWS4-HMAC-SHA256"
    empty = _replace_auth(sigv4_post(cred), rf"{part}=[^,]*", f"{part}=")
    with pytest.raises(errors.IncompleteSignature):
        parse(empty)


def test_header_missing_date(cred):
    request = with_headers(sigv4_post(cred), x_amz_date=None)
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(request)
    assert caught.value.message == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


def test_header_missing_everything(cred):
    request = with_headers(sigv4_post(cred), x_amz_date=None, authorization="AWS4-HMAC-SHA256")
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(request)
    assert caught.value.message == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


@pytest.mark.parametrize(
    ("authorization", "text"),
    [
        ("AWS AKIAEXAMPLE:c2lnbmF0dXJl", "Unsupported AWS 'algorithm': 'AWS'."),
        ("AWS4-HMAC-SHA512 Credential=a/b/c/d/e",
         "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'."),
        ("Bearer abc", "Unsupported AWS 'algorithm': 'Bearer'."),
    ],
)
def test_header_unsupported_algorithm(cred, authorization, text):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(with_headers(sigv4_post(cred), authorization=authorization))
    assert caught.value.message == text


def test_header_part_without_equals(cred):
    request = _replace_auth(sigv4_post(cred), r"SignedHeaders=", "SignedHeaders ")
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(request)
    assert "not a valid key=value pair (missing equal-sign) in Authorization header" in (
        caught.value.message)


def test_header_boto2_comma_only_separators(cred):
    # boto 2 joins the parts with "," and botocore with ", ": both parse.
    assert ", " not in sigv4_get(cred).headers["authorization"]
    assert ", " in sigv4_post(cred).headers["authorization"]
    assert parse(sigv4_get(cred)).signed_headers == ("host", "x-amz-date")


@pytest.mark.parametrize("credential", ["AK/20240101/r/s", "AK/20240101/r/s/aws4_request/x", "AK",
                                        "/20240101/r/s/aws4_request"])
def test_credential_not_five_parts(cred, credential):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(_replace_auth(sigv4_post(cred), r"Credential=[^,]*", f"Credential={credential}"))
    assert caught.value.message == messages.credential_parts(credential)


def test_credential_bad_terminator(cred):
    request = _replace_auth(sigv4_post(cred), r"aws4_request", "aws5_request")
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        parse(request)
    assert caught.value.message == (
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."
    )


def test_credential_scope_date_mismatch(cred):
    request = sigv4_post(cred)
    amz_date = request.headers["x-amz-date"]
    request = _replace_auth(request, r"/\d{8}/", "/20000101/")
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        parse(request)
    assert caught.value.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        f"HTTP: '20000101' != '{amz_date[:8]}', from '{amz_date}'."
    )


def test_host_must_be_signed(cred):
    request = _replace_auth(sigv4_post(cred), r"SignedHeaders=[^,]*", "SignedHeaders=x-amz-date")
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        parse(request)
    assert caught.value.message == messages.HOST_MUST_BE_SIGNED


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00Z", "20240101T000000", "garbage", "1"])
def test_malformed_x_amz_date(cred, value):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(with_headers(sigv4_post(cred), x_amz_date=value))
    assert caught.value.message == (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def test_malformed_date_header(cred):
    creds = botocore_credentials(cred.access_key, cred.secret_key)
    request = botocore_signed(SigV4Auth(creds, "monitoring", REGION), "POST", URL,
                              data=dict(FORM), headers={"Date": "x"})
    with pytest.raises(errors.IncompleteSignature, match=r"^Date must be in ISO-8601"):
        parse(with_headers(request, date="not a date"))


def test_authorization_and_presigned_query_together(cred):
    request = with_query(sigv4_post(cred), **{"X-Amz-Algorithm": "AWS4-HMAC-SHA256"})
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        parse(request)
    assert caught.value.message == messages.ONLY_ONE_AUTH_MECHANISM


# --- the presigned query string -----------------------------------------------------------------


def _presigned(cred):
    signer = SigV4QueryAuth(botocore_credentials(cred.access_key, cred.secret_key),
                            "monitoring", REGION)
    return botocore_signed(signer, "GET", URL, params=dict(FORM))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("X-Amz-Credential", messages.QUERY_REQUIRES_CREDENTIAL),
        ("X-Amz-Signature", messages.QUERY_REQUIRES_SIGNATURE),
        ("X-Amz-SignedHeaders", messages.QUERY_REQUIRES_SIGNED_HEADERS),
        ("X-Amz-Date", messages.QUERY_REQUIRES_DATE),
    ],
)
def test_presigned_missing_part(cred, name, text):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(with_query(_presigned(cred), **{name: None}))
    assert caught.value.message == f"{text} Re-examine the query-string parameters."


def test_presigned_other_algorithm(cred):
    request = with_query(_presigned(cred), **{"X-Amz-Algorithm": "AWS4-ECDSA-P256-SHA256"})
    with pytest.raises(errors.MissingAuthenticationToken):
        parse(request)


def test_presigned_malformed_date(cred):
    with pytest.raises(errors.IncompleteSignature, match=r"^Date must be in ISO-8601"):
        parse(with_query(_presigned(cred), **{"X-Amz-Date": "yesterday"}))


def test_presigned_without_expires_uses_skew(cred):
    request = with_query(_presigned(cred), **{"X-Amz-Expires": None})
    signed = parse(request)
    assert signed.expires is None
    with pytest.raises(errors.RequestExpired):
        parse(request, datetime.now(UTC).replace(year=datetime.now(UTC).year + 1))


# --- SigV2 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["AWSAccessKeyId", "Signature", "SignatureMethod",
                                  "SignatureVersion"])
def test_sigv2_missing_parameter(cred, name):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(with_query(sigv2_get(cred), **{name: None}))
    assert caught.value.message == f"The request must contain the parameter {name}."


def test_sigv2_missing_timestamp(cred):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(with_query(sigv2_get(cred), Timestamp=None))
    assert caught.value.message == messages.V2_TIMESTAMP_OR_EXPIRES


def test_sigv2_timestamp_and_expires(cred):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(with_query(sigv2_get(cred), Expires="2099-01-01T00:00:00Z"))
    assert caught.value.message == messages.V2_TIMESTAMP_AND_EXPIRES


@pytest.mark.parametrize(
    ("name", "value"),
    [("SignatureVersion", "1"), ("SignatureMethod", "HmacMD5"), ("Timestamp", "yesterday"),
     ("Timestamp", "")],
)
def test_sigv2_bad_values(cred, name, value):
    with pytest.raises(errors.IncompleteSignature) as caught:
        parse(with_query(sigv2_get(cred), **{name: value}))
    if value:
        assert caught.value.message.startswith(f"Value ({value}) for parameter {name} is invalid.")


def test_sigv2_timestamp_formats(cred):
    request = sigv2_get(cred)
    for stamp in ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123Z", "2024-01-01T01:00:00+01:00",
                  "2024-01-01T00:00:00"]:
        signed = parse(with_query(request, Timestamp=stamp),
                       datetime(2024, 1, 1, 0, 5, tzinfo=UTC))
        assert signed.timestamp is not None
        assert signed.timestamp.replace(microsecond=0) == datetime(2024, 1, 1, tzinfo=UTC)


def test_naive_now_is_taken_as_utc(cred):
    request = sigv4_post(cred)
    assert parse(request, datetime.now(UTC).replace(tzinfo=None)).version == "4"


def test_form_body_signature_params_sigv2_post(cred):
    from .wire import boto2_signed, boto2_v2_handler

    handler = boto2_v2_handler("127.0.0.1", cred.access_key, cred.secret_key)
    request = boto2_signed(handler, "POST", "127.0.0.1", 8003, "/v1/", FORM)
    assert not request.query_string and b"Signature=" in request.body
    assert parse(request).version == "2"
    stripped = rewire(request, body=re.sub(rb"&Signature=[^&]*", b"", request.body))
    with pytest.raises(errors.IncompleteSignature):
        parse(stripped)
