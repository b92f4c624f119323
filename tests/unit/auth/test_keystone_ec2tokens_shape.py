"""What the gateway sends to /v3/ec2tokens makes Keystone's signer agree with real clients.

Requests are signed by botocore and boto 2.49, parsed as the ec2auth filter parses them, and
turned into the ec2tokens body; python-keystoneclient's ``Ec2Signer`` (the code Keystone 30
runs for ``POST /v3/ec2tokens``) then recomputes the signature from that body with the
secret, retrying without the port as Keystone's controller does.  Where ``keystone_gap``
says Keystone cannot judge a request, the signer is shown to disagree indeed.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import SigV2Auth, SigV4Auth, SigV4QueryAuth
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keystoneclient.contrib.ec2.utils import Ec2Signer

from cfn_gateway.auth import ec2tokens, sigv4
from cfn_gateway.auth.signed_request import SignedRequest, signed_request_from
from cfn_gateway.auth.verifier import signature_matches
from cfn_gateway.context import AUTOSCALING, AWSRequest
from tests.protocol_models import write_protocol_model

from .conftest import MAX_SKEW
from .samples import (
    FORM,
    FORM_TYPE,
    PUSH_STATS,
    presigned,
    sigv2_get,
    sigv4_get,
    sigv4_post,
)
from .wire import (
    REGION,
    boto2_signed,
    boto2_v2_handler,
    boto2_v4_handler,
    botocore_client_request,
    botocore_credentials,
    botocore_signed,
    rewire,
    to_aws_request,
)

CRED = SimpleNamespace(access_key="AKIAKEYSTONETEST0001", secret_key="s3cr3t/+Key=xyz")
AUTH_TTL = timedelta(minutes=15)


def keystone_accepts(body: dict, secret: str) -> bool:
    """What keystone 30's EC2TokensResource._check_signature decides for ``body``."""
    credentials = copy.deepcopy(body["credentials"])
    if Ec2Signer(secret).generate(copy.deepcopy(credentials)) == credentials["signature"]:
        return True
    if ":" in credentials["host"]:
        credentials["host"] = urlsplit("//" + credentials["host"]).hostname
        return Ec2Signer(secret).generate(credentials) == credentials["signature"]
    return False


def parsed(request, now=None) -> SignedRequest:
    return signed_request_from(request, now or datetime.now(UTC), MAX_SKEW)


def assert_keystone_agrees(request, secret=CRED.secret_key):
    signed = parsed(request)
    assert signature_matches(signed, secret)  # the gateway's own verdict
    assert ec2tokens.keystone_gap(signed, datetime.now(UTC), AUTH_TTL) is None
    assert keystone_accepts(ec2tokens.ec2tokens_body(signed), secret)
    return signed


def v4(service="monitoring", region=REGION, cred=CRED):
    return SigV4Auth(botocore_credentials(cred.access_key, cred.secret_key), service, region)


# --- Keystone can verify these, and agrees ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/", "http://127.0.0.1:8003/v1/", "http://localhost/",
     "http://monitoring.example.com:80/v1", "https://gw.example.com/some/prefix/",
     "http://127.0.0.1:8080/a%20b/~x/"],
)
def test_botocore_sigv4_post_form(url):
    request = botocore_signed(v4(), "POST", url, data=dict(PUSH_STATS), headers=FORM_TYPE)
    signed = assert_keystone_agrees(request)
    body = ec2tokens.ec2tokens_body(signed)["credentials"]
    assert body["params"] == {}  # a form POST: the parameters are in the body
    assert body["body_hash"] == hashlib.sha256(request.body).hexdigest()
    assert set(body["headers"]) >= {"Authorization", "X-Amz-Date", "host"}


def test_botocore_sigv4_get_with_query():
    request = botocore_signed(v4(), "GET", "http://127.0.0.1:8080/v1/", params=dict(PUSH_STATS))
    signed = assert_keystone_agrees(request)
    assert ec2tokens.ec2tokens_body(signed)["credentials"]["params"] == PUSH_STATS


@pytest.mark.parametrize(
    ("host", "port"),
    [("127.0.0.1", 8003), ("10.0.0.5", 80), ("localhost", 8080),
     ("monitoring.example.com", 80), ("monitoring.RegionOne.example.com", 8003)],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_boto2_sigv4(host, port, method):
    handler = boto2_v4_handler(host, CRED.access_key, CRED.secret_key)
    assert_keystone_agrees(boto2_signed(handler, method, host, port, "/v1/", PUSH_STATS))


def test_boto2_sigv4_autoscaling_get():
    handler = boto2_v4_handler("127.0.0.1", CRED.access_key, CRED.secret_key)
    params = {"Action": "DescribeAutoScalingGroups", "Version": "2011-01-01",
              "AutoScalingGroupNames.member.1": "g 1"}
    request = boto2_signed(handler, "GET", "127.0.0.1", 8003, "/", params)
    request.service = AUTOSCALING
    assert_keystone_agrees(request)


@pytest.mark.parametrize(
    ("protocol", "config"),
    [("query", {}), ("json", {}), ("smithy-rpc-v2-cbor", {}),
     ("json", {"request_compression": None})],
)
def test_botocore_client_protocols(tmp_path, protocol, config):
    config = {k: v for k, v in config.items() if v is not None}
    model = None if protocol == "json" else write_protocol_model(tmp_path, protocol)
    request = botocore_client_request(
        "http://127.0.0.1:8080", CRED.access_key, CRED.secret_key, "put_metric_data",
        {"Namespace": "ns", "MetricData": [{"MetricName": "m", "Value": 1.0}]},
        model_path=model, **config,
    )
    assert_keystone_agrees(request)


def test_botocore_gzip_body_hash_is_of_the_compressed_body(tmp_path):
    request = botocore_client_request(
        "http://127.0.0.1:8080", CRED.access_key, CRED.secret_key, "put_metric_data",
        {"Namespace": "ns", "MetricData": [{"MetricName": f"m{i}", "Value": 1.0}
                                           for i in range(200)]},
        request_min_compression_size_bytes=128,
    )
    assert request.headers.get("content-encoding") == "gzip"
    signed = assert_keystone_agrees(request)
    assert signed.body_sha256 == hashlib.sha256(request.body).hexdigest()


def test_presigned_get_drops_x_amz_signature():
    signed = assert_keystone_agrees(presigned(CRED, expires=300))
    body = ec2tokens.ec2tokens_body(signed)["credentials"]
    assert "X-Amz-Signature" not in body["params"]
    assert body["params"]["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert "Authorization" not in body["headers"] and "X-Amz-Date" not in body["headers"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sigv2_sha256(method):
    handler = boto2_v2_handler("127.0.0.1", CRED.access_key, CRED.secret_key)
    request = boto2_signed(handler, method, "127.0.0.1", 8003, "/v1/", PUSH_STATS)
    signed = assert_keystone_agrees(request)
    body = ec2tokens.ec2tokens_body(signed)["credentials"]
    assert body["headers"] == {} and "Signature" not in body["params"]
    assert body["params"]["SignatureVersion"] == "2"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://localhost:8003/v1/"])
def test_botocore_sigv2(url):
    signer = SigV2Auth(botocore_credentials(CRED.access_key, CRED.secret_key))
    request = botocore_signed(signer, "POST", url, data=dict(PUSH_STATS))
    assert_keystone_agrees(request)


def test_samples_of_the_local_suite():
    for request in (sigv4_post(CRED), sigv4_get(CRED), sigv2_get(CRED), presigned(CRED)):
        assert_keystone_agrees(request)


def test_header_values_are_sent_canonical():
    # botocore collapses inner whitespace; Keystone only strips: we send it collapsed.
    request = botocore_signed(v4(), "POST", "http://127.0.0.1:8080/", data=dict(FORM),
                              headers={**FORM_TYPE, "X-Amz-Meta-Note": "  a   b  c "})
    signed = assert_keystone_agrees(request)
    assert "x-amz-meta-note" in signed.signed_headers
    assert ec2tokens.ec2tokens_body(signed)["credentials"]["headers"]["x-amz-meta-note"] == "a b c"


def test_signature_is_sent_normalised():
    request = sigv4_post(CRED)
    head, _, signature = request.headers["authorization"].rpartition("Signature=")
    request = rewire(request, headers={**request.headers,
                                       "authorization": f"{head}Signature={signature.upper()}"})
    assert_keystone_agrees(request)


def test_unsorted_signed_headers_in_authorization_are_normalised():
    request = sigv4_post(CRED)
    auth = request.headers["authorization"]
    head, _, rest = auth.partition("SignedHeaders=")
    names, _, tail = rest.partition(",")
    shuffled = ";".join(reversed(names.split(";")))
    request = rewire(request, headers={**request.headers,
                                       "authorization": f"{head}SignedHeaders={shuffled},{tail}"})
    assert_keystone_agrees(request)


# --- gaps: Keystone's signer would not agree, so they are flagged ---------------------------


def assert_gap(request, reason, secret=CRED.secret_key, now=None):
    signed = parsed(request, now)
    assert signature_matches(signed, secret)
    assert ec2tokens.keystone_gap(signed, now or datetime.now(UTC), AUTH_TTL) == reason
    return signed


def keystone_disagrees(signed, secret=CRED.secret_key) -> bool:
    try:
        return not keystone_accepts(ec2tokens.ec2tokens_body(signed), secret)
    except Exception:  # Ec2Signer raises (Keystone answers HTTP 500)
        return True


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_gap_sigv2_sha1(method):
    handler = boto2_v2_handler("127.0.0.1", CRED.access_key, CRED.secret_key, sha1=True)
    request = boto2_signed(handler, method, "127.0.0.1", 8003, "/v1/", PUSH_STATS)
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_SIGV2_SHA1))


def test_gap_presigned_post():
    request = presigned(CRED, method="POST")
    assert request.method == "POST" and request.query_string
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_POST_QUERY))


def test_gap_sigv4_post_with_query_string():
    request = botocore_signed(v4(), "POST", "http://127.0.0.1:8080/?Action=ListMetrics"
                              "&Version=2010-08-01", data=b"")
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_POST_QUERY))


def test_gap_repeated_parameter():
    request = botocore_signed(v4(), "GET", "http://127.0.0.1:8080/?Action=ListMetrics"
                              "&Version=2010-08-01&x=1&x=2")
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_REPEATED_PARAM))


def test_gap_parameter_order_after_encoding():
    request = botocore_signed(v4(), "GET", "http://127.0.0.1:8080/",
                              params={"Action": "ListMetrics", "Version": "2010-08-01",
                                      "z": "1", "é": "2"})
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_PARAM_ORDER))


def test_gap_boto2_path_variant():
    handler = boto2_v4_handler("127.0.0.1", CRED.access_key, CRED.secret_key)
    request = boto2_signed(handler, "GET", "127.0.0.1", 8003, "//v1/", PUSH_STATS)
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_CLIENT_VARIANT))


def test_gap_boto2_quoted_header_value():
    handler = boto2_v4_handler("127.0.0.1", CRED.access_key, CRED.secret_key)
    request = boto2_signed(handler, "GET", "127.0.0.1", 8003, "/", PUSH_STATS,
                           headers={"X-Amz-Meta": 'a  "b   c"'})
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_CLIENT_VARIANT))


def test_gap_sigv2_mixed_case_host():
    handler = boto2_v2_handler("Monitoring.Example.com", CRED.access_key, CRED.secret_key)
    request = boto2_signed(handler, "GET", "Monitoring.Example.com", 80, "/", PUSH_STATS)
    request = rewire(request, headers={**request.headers, "host": "Monitoring.Example.com"})
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_SIGV2_HOST_CASE))


def test_gap_presigned_unsorted_signed_headers():
    signer = SigV4QueryAuth(botocore_credentials(CRED.access_key, CRED.secret_key),
                            "monitoring", REGION, expires=60)
    request = botocore_signed(signer, "GET", "http://127.0.0.1:8080/", params=dict(FORM),
                              headers={"X-Amz-Meta": "1"})
    signed = parsed(request)
    if signed.params_dict["X-Amz-SignedHeaders"] == ";".join(signed.signed_headers):
        raw = request.query_string.replace("host%3Bx-amz-meta", "x-amz-meta%3Bhost")
        request = rewire(request, target=f"{request.path}?{raw}")
    signed = parsed(request)
    assert ec2tokens.keystone_gap(signed, datetime.now(UTC), AUTH_TTL) == (
        ec2tokens.GAP_SIGNED_HEADERS)


def gateway_signed(headers: dict[str, str], names: str, body: bytes = b"") -> AWSRequest:
    """A SigV4 POST signed with the gateway's own code (for forms no supported client makes)."""
    date = headers.get("X-Amz-Date", "")[:8] or datetime.now(UTC).strftime("%Y%m%d")
    scope = f"{date}/{REGION}/monitoring/aws4_request"
    headers = {"Host": "127.0.0.1:8080", **FORM_TYPE, **headers,
               "Authorization": f"AWS4-HMAC-SHA256 Credential={CRED.access_key}/{scope}, "
               f"SignedHeaders={names}, Signature=0"}
    body = body or "&".join(f"{quote(k)}={quote(v)}" for k, v in FORM.items()).encode()
    signature = next(sigv4.signatures(parsed(to_aws_request("POST", "/", headers, body)),
                                      CRED.secret_key))
    headers["Authorization"] = headers["Authorization"].replace("Signature=0",
                                                                f"Signature={signature}")
    return to_aws_request("POST", "/", headers, body)


def test_sigv4_dated_by_the_date_header():
    # No X-Amz-Date: the string to sign carries the Date header's instant in ISO 8601 basic
    # form; Keystone gets it as X-Amz-Date (not a signed header there).
    now = datetime.now(UTC).replace(microsecond=0)
    request = gateway_signed({"Date": now.strftime("%a, %d %b %Y %H:%M:%S GMT")},
                             "content-type;date;host")
    signed = assert_keystone_agrees(request)
    assert ec2tokens.ec2tokens_body(signed)["credentials"]["headers"]["X-Amz-Date"] == (
        f"{now:%Y%m%dT%H%M%SZ}")


def test_gap_old_boto_user_agent_signed():
    request = gateway_signed({"X-Amz-Date": f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}",
                              "User-Agent": "Boto/2.5.1 Python/2.7"},
                             "content-type;host;user-agent;x-amz-date")
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_OLD_BOTO))
    ok = gateway_signed({"X-Amz-Date": f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}",
                         "User-Agent": "Boto/2.49.0 Python/3.11"},
                        "content-type;host;user-agent;x-amz-date")
    assert_keystone_agrees(ok)


def test_gap_legacy_parameter_in_sigv4_query():
    request = botocore_signed(v4(), "GET", "http://127.0.0.1:8080/",
                              params={**FORM, "SignatureVersion": "1"})
    assert keystone_disagrees(assert_gap(request, ec2tokens.GAP_LEGACY_PARAM))


def test_gap_unsafe_scope_characters():
    request = botocore_signed(v4(region="eu west"), "POST", "http://127.0.0.1:8080/",
                              data=dict(FORM), headers=FORM_TYPE)
    assert_gap(request, ec2tokens.GAP_UNSAFE_SCOPE)


def test_gap_near_keystone_auth_ttl():
    request = sigv4_post(CRED)
    signed = parsed(request)
    assert signed.timestamp is not None
    later = signed.timestamp + AUTH_TTL - ec2tokens.TTL_MARGIN + timedelta(seconds=1)
    assert ec2tokens.keystone_gap(signed, later, AUTH_TTL) == ec2tokens.GAP_AUTH_TTL
    assert ec2tokens.keystone_gap(signed, later - timedelta(seconds=2), AUTH_TTL) is None


def test_gap_presigned_beyond_auth_ttl():
    request = presigned(CRED, expires=3600)
    now = datetime.now(UTC) + timedelta(minutes=30)  # still valid for the gateway
    signed = parsed(request, now)
    assert ec2tokens.keystone_gap(signed, now, AUTH_TTL) == ec2tokens.GAP_AUTH_TTL


def test_wrong_secret_is_refused_by_keystone_too():
    signed = parsed(sigv4_post(CRED))
    assert not keystone_accepts(ec2tokens.ec2tokens_body(signed), "other-secret")


def test_sigv2_keystone_also_accepts_the_portless_host():
    # A documented difference: Keystone retries without the port, the gateway does not.
    handler = boto2_v2_handler("127.0.0.1", CRED.access_key, CRED.secret_key)
    request = boto2_signed(handler, "GET", "127.0.0.1", 8003, "/v1/", PUSH_STATS)
    request = rewire(request, headers={**request.headers, "host": "127.0.0.1:8003"})
    signed = parsed(request)
    assert quote(signed.host) == "127.0.0.1%3A8003"
    assert not signature_matches(signed, CRED.secret_key)
    assert keystone_accepts(ec2tokens.ec2tokens_body(signed), CRED.secret_key)


# --- property: whatever Keystone is asked, it computes the gateway's canonical request ------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=8)
SEGMENTS = st.lists(st.text("abc-_.~ %é/", max_size=4), max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST"]),
       params=st.dictionaries(NAMES, TEXT, max_size=5),
       segments=SEGMENTS,
       note=st.text(" \tab\"", max_size=8))
def test_any_request_keystone_is_asked_about_it_agrees_on(method, params, segments, note):
    path = "/" + "/".join(quote(s, safe="/~") for s in segments)
    headers = {"X-Amz-Meta-Note": note} if note.strip() else {}
    url = f"http://127.0.0.1:8080{path}"
    if method == "GET":
        request = botocore_signed(v4(), "GET", url, params=params, headers=headers)
    else:
        request = botocore_signed(v4(), "POST", url, data=dict(params) or None,
                                  headers={**FORM_TYPE, **headers})
    try:
        signed = parsed(request)
    except Exception:  # e.g. a SignatureVersion parameter makes it look like SigV2
        return
    assert signature_matches(signed, CRED.secret_key)
    if ec2tokens.keystone_gap(signed, datetime.now(UTC), AUTH_TTL) is None:
        assert keystone_accepts(ec2tokens.ec2tokens_body(signed), CRED.secret_key)
