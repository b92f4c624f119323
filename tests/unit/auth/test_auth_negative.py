"""Requests that must be refused, each with AWS's error code, status and message."""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV2Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest as BotocoreRequest

from cfn_gateway import errors
from cfn_gateway.auth import messages
from cfn_gateway.context import JSON

from .samples import (
    FORM,
    FORM_TYPE,
    URL,
    presigned,
    sigv2_get,
    sigv4_get,
    sigv4_post,
    with_headers,
    with_query,
)
from .wire import (
    REGION,
    boto2_signed,
    boto2_v2_handler,
    botocore_credentials,
    botocore_signed,
    from_prepared,
    rewire,
    to_aws_request,
)


def test_error_statuses_are_awss():
    assert errors.MissingAuthenticationToken.status == 403
    assert errors.IncompleteSignature.status == 400
    assert errors.InvalidClientTokenId.status == 403
    assert errors.SignatureDoesNotMatch.status == 403
    assert errors.RequestExpired.status == 400


# --- no signature, unknown key, wrong secret --------------------------------------------------


def test_no_signature_at_all(verify, cred):
    request = rewire(sigv4_post(cred), headers={"host": "127.0.0.1:8080", **FORM_TYPE})
    with pytest.raises(errors.MissingAuthenticationToken) as caught:
        verify(request)
    assert caught.value.message == "Request is missing Authentication Token"


def test_unknown_access_key(verify, store, cred):
    request = sigv4_post(cred)
    store.delete(cred.access_key)
    with pytest.raises(errors.InvalidClientTokenId) as caught:
        verify(request)
    assert caught.value.message == "The security token included in the request is invalid."


def test_unknown_access_key_sigv2(verify, store, cred):
    request = sigv2_get(cred)
    store.delete(cred.access_key)
    with pytest.raises(errors.InvalidClientTokenId):
        verify(request)


def test_wrong_secret_sigv4_explains_like_aws(verify, cred):
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        verify(sigv4_post(cred, secret="not-the-secret"))
    message = caught.value.message
    assert message.startswith(messages.SIGNATURE_DOES_NOT_MATCH)
    assert "The Canonical String for this request should have been\n'POST\n/v1/\n\n" in message
    assert "host:127.0.0.1:8080\n" in message
    assert re.search(r"The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n"
                     r"\d{8}/us-east-1/monitoring/aws4_request\n[0-9a-f]{64}'", message)


def test_wrong_secret_sigv2(verify, cred):
    handler = boto2_v2_handler("127.0.0.1", cred.access_key, "wrong")
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        verify(boto2_signed(handler, "POST", "127.0.0.1", 8003, "/v1/", FORM))
    assert caught.value.message == messages.SIGNATURE_DOES_NOT_MATCH


def test_wrong_secret_presigned(verify, cred):
    signer = SigV4QueryAuth(botocore_credentials(cred.access_key, "wrong"), "monitoring", REGION)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(botocore_signed(signer, "GET", URL, params=dict(FORM)))


# --- tampering ---------------------------------------------------------------------------


def test_tampered_form_body(verify, cred):
    request = sigv4_post(cred)
    body = request.body.replace(b"Value=1", b"Value=9")
    assert body != request.body
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(rewire(request, body=body))


def test_tampered_query_parameter(verify, cred):
    request = sigv4_get(cred)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(request, Namespace="other"))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(request, Extra="1"))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(request, Namespace=None))


def test_tampered_signed_header(verify, cred):
    request = sigv4_post(cred)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_headers(request, content_type="application/json"))
    later = _request_time(request) + timedelta(seconds=1)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_headers(request, x_amz_date=later.strftime("%Y%m%dT%H%M%SZ")))


def test_unsigned_header_may_change(verify, cred):
    request = sigv4_post(cred)
    assert verify(with_headers(request, user_agent="someone else")).project_id == "project-a"


@pytest.mark.parametrize("host", ["127.0.0.1:8081", "127.0.0.2:8080", "127.0.0.1"])
def test_tampered_host(verify, cred, host):
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_headers(sigv4_post(cred), host=host))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_headers(sigv2_get(cred), host=host.replace("127.0.0.1", "10.0.0.1")))


def test_tampered_path_and_method(verify, cred):
    request = sigv4_post(cred)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(rewire(request, target="/v2/"))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(rewire(sigv2_get(cred), method="POST"))


def test_tampered_sigv2_parameter(verify, cred):
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(sigv2_get(cred), Namespace="other"))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(sigv2_get(cred), Signature="bm90IGEgc2lnbmF0dXJl"))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(sigv2_get(cred), Signature="%%% not base64 %%%"))


def test_tampered_presigned(verify, cred):
    request = presigned(cred)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(request, Namespace="other"))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_query(request, **{"X-Amz-Expires": "600"}))


def test_non_ascii_signature_is_a_mismatch(verify, cred):
    request = sigv4_post(cred)
    authorization = re.sub(r"Signature=\w+", "Signature=ünïcode", request.headers["authorization"])
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(with_headers(request, authorization=authorization))


def test_gzip_body_hashed_as_received(verify, cred):
    body = gzip.compress(b"Action=ListMetrics&Version=2010-08-01")
    request = sigv4_post(cred, data=body, headers={"Content-Encoding": "gzip"})
    assert verify(request).project_id == "project-a"
    # Claiming the hash of the decompressed payload is refused.
    claimed = hashlib.sha256(request.payload).hexdigest()
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        verify(sigv4_post(cred, data=body, headers={"Content-Encoding": "gzip",
                                                     "X-Amz-Content-SHA256": claimed}))
    assert caught.value.message == messages.CONTENT_SHA256_MISMATCH


@pytest.mark.parametrize("claimed", ["UNSIGNED-PAYLOAD", "0" * 64])
def test_x_amz_content_sha256_must_match_body(verify, cred, claimed):
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(sigv4_post(cred, headers={"X-Amz-Content-SHA256": claimed}))


# --- time -----------------------------------------------------------------------------------


def _request_time(request) -> datetime:
    return datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def test_expired_timestamp(verify, cred):
    request = sigv4_post(cred)
    signed_at = _request_time(request)
    assert verify(request, signed_at + timedelta(seconds=900)).project_id == "project-a"
    now = signed_at + timedelta(seconds=901)
    with pytest.raises(errors.RequestExpired) as caught:
        verify(request, now)
    stamp = "%Y%m%dT%H%M%SZ"
    assert caught.value.message == (
        f"Signature expired: {signed_at.strftime(stamp)} is now earlier than "
        f"{(now - timedelta(seconds=900)).strftime(stamp)} ({now.strftime(stamp)} - 15 min.)"
    )


def test_future_timestamp(verify, cred):
    request = sigv4_get(cred)
    signed_at = _request_time(request)
    assert verify(request, signed_at - timedelta(seconds=900)).project_id == "project-a"
    now = signed_at - timedelta(seconds=901)
    with pytest.raises(errors.RequestExpired) as caught:
        verify(request, now)
    stamp = "%Y%m%dT%H%M%SZ"
    assert caught.value.message == (
        f"Signature not yet current: {signed_at.strftime(stamp)} is still later than "
        f"{(now + timedelta(seconds=900)).strftime(stamp)} ({now.strftime(stamp)} + 15 min.)"
    )


def test_expired_and_future_sigv2_timestamp(verify, cred):
    request = sigv2_get(cred)
    with pytest.raises(errors.RequestExpired, match=r"^Signature expired: "):
        verify(request, datetime.now(UTC) + timedelta(minutes=16))
    with pytest.raises(errors.RequestExpired, match=r"^Signature not yet current: "):
        verify(request, datetime.now(UTC) - timedelta(minutes=16))


def sigv2_with_expires(cred, expires: str):
    """A SigV2 request carrying Expires instead of Timestamp, signed by botocore."""
    signer = SigV2Auth(botocore_credentials(cred.access_key, cred.secret_key))
    params = {**FORM, "AWSAccessKeyId": cred.access_key, "SignatureVersion": "2",
              "SignatureMethod": "HmacSHA256", "Expires": expires}
    request = BotocoreRequest(method="GET", url=URL, params=params)
    _, params["Signature"] = signer.calc_signature(request, params)
    return from_prepared(BotocoreRequest(method="GET", url=URL, params=params).prepare())


def test_sigv2_expires(verify, cred):
    future = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert verify(sigv2_with_expires(cred, future)).project_id == "project-a"
    past = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(errors.RequestExpired) as caught:
        verify(sigv2_with_expires(cred, past))
    assert caught.value.message == f"Request has expired. Expires date is {past}."


def test_expired_presigned(verify, cred):
    request = presigned(cred, expires=60)
    signed_at = datetime.strptime(
        dict(p.split("=", 1) for p in request.query_string.split("&"))["X-Amz-Date"],
        "%Y%m%dT%H%M%SZ",
    ).replace(tzinfo=UTC)
    assert verify(request, signed_at + timedelta(seconds=60)).project_id == "project-a"
    with pytest.raises(errors.RequestExpired) as caught:
        verify(request, signed_at + timedelta(seconds=61))
    assert caught.value.message == "Request has expired"
    with pytest.raises(errors.RequestExpired, match=r"^Signature not yet current"):
        verify(request, signed_at - timedelta(seconds=901))


def test_expired_presigned_post(verify, cred):
    with pytest.raises(errors.RequestExpired):
        verify(presigned(cred, expires=1, method="POST"), datetime.now(UTC) + timedelta(seconds=5))


@pytest.mark.parametrize(
    ("expires", "message"),
    [("abc", messages.EXPIRES_NOT_A_NUMBER), ("-1", messages.EXPIRES_NOT_POSITIVE),
     ("604801", messages.EXPIRES_TOO_LONG)],
)
def test_presigned_bad_expires(verify, cred, expires, message):
    with pytest.raises(errors.IncompleteSignature) as caught:
        verify(with_query(presigned(cred), **{"X-Amz-Expires": expires}))
    assert caught.value.message == message


# --- what selects the operation must be signed -----------------------------------------------


def as_json_request(request, target="GraniteServiceVersion20100801.DeleteAlarms"):
    """``request`` re-routed as a JSON request by an added X-Amz-Target header."""
    headers = {**request.headers, "x-amz-target": target}
    query = f"?{request.query_string}" if request.query_string else ""
    return to_aws_request(request.method, request.path + query, headers, request.body, JSON)


def test_presigned_cannot_be_turned_into_a_json_call(verify, cred):
    request = as_json_request(presigned(cred))
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        verify(request)
    assert caught.value.message == (
        "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.")


def test_unsigned_x_amz_target_is_refused(verify, cred):
    body = b'{"AlarmNames": ["a"]}'
    request = sigv4_post(cred, data=body, headers={"Content-Type": "application/x-amz-json-1.0"})
    with pytest.raises(errors.SignatureDoesNotMatch, match="x-amz-target"):
        verify(as_json_request(request))


def test_sigv2_only_for_query_requests(verify, cred):
    with pytest.raises(errors.IncompleteSignature) as caught:
        verify(as_json_request(sigv2_get(cred)))
    assert caught.value.message == messages.V2_QUERY_ONLY
