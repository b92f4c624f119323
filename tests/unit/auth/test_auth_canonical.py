"""Our canonical forms equal the clients' own, on generated input (hypothesis)."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import boto.auth
from botocore.auth import SigV2Auth, SigV4Auth
from botocore.awsrequest import AWSRequest as BotocoreRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfn_gateway.auth import sigv2, sigv4

from .wire import boto2_provider, botocore_credentials

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FF)
    | st.sampled_from("~ +%/&=.-_*!'()"),
    max_size=12,
)
NAMES = st.text(alphabet="abcXYZ019.-_~ %", min_size=1, max_size=8)
SEGMENT = st.sampled_from(["", ".", "..", "a", "b c", "~x", "%41", "v1", "é", ":", "x.y"])
PATHS = st.lists(SEGMENT, max_size=6).map(lambda segments: "/" + "/".join(segments))

BOTOCORE_V4 = SigV4Auth(botocore_credentials("AK", "SK"), "monitoring", "us-east-1")
BOTO2_V4 = boto.auth.HmacAuthV4Handler("localhost", None, boto2_provider("AK", "SK"))
BOTO2_V2 = boto.auth.QuerySignatureV2AuthHandler("localhost", None, boto2_provider("AK", "SK"))
QUICK = settings(max_examples=150, deadline=None)


@QUICK
@given(st.lists(st.tuples(NAMES, TEXT), max_size=6))
def test_sigv4_query_string_is_botocores(pairs):
    assert sigv4.canonical_query_string(tuple(pairs)) == (
        BOTOCORE_V4._canonical_query_string_params(pairs)
    )


@QUICK
@given(st.dictionaries(st.text(alphabet="abcXYZ019.-_", min_size=1, max_size=8), TEXT,
                       max_size=6))
def test_sigv4_query_string_is_boto2s(params):
    request = SimpleNamespace(method="GET", params=params)
    assert sigv4.canonical_query_string(tuple(params.items())) == (
        BOTO2_V4.canonical_query_string(request)
    )


@QUICK
@given(PATHS)
def test_sigv4_path_is_botocores(path):
    assert sigv4.canonical_uri(path) == BOTOCORE_V4._normalize_url_path(path)


@QUICK
@given(PATHS)
def test_boto2_path_is_boto2s(path):
    assert sigv4.boto2_canonical_uri(path) == (
        BOTO2_V4.canonical_uri(SimpleNamespace(auth_path=path))
    )


@QUICK
@given(st.dictionaries(NAMES, TEXT, max_size=6), PATHS, st.sampled_from(["GET", "POST"]))
def test_sigv2_string_and_signature_are_botocores(params, path, method):
    url = f"http://gw.example.com:8003{path}"
    request = BotocoreRequest(method=method, url=url)
    query, signature = SigV2Auth(botocore_credentials("AK", "SK")).calc_signature(request, params)
    assert sigv2.canonical_query_string(tuple(params.items())) == query
    sts = f"{method}\ngw.example.com:8003\n{path}\n{query}"
    assert base64.b64encode(sigv2.signature("SK", "HmacSHA256", sts)).decode() == signature


@QUICK
@given(st.dictionaries(NAMES, TEXT, max_size=6), PATHS)
def test_sigv2_string_and_signature_are_boto2s(params, path):
    params = {**params, "SignatureMethod": "HmacSHA256"}
    query, signature = BOTO2_V2._calc_signature(dict(params), "GET", path, "GW.example.com")
    assert sigv2.canonical_query_string(tuple(params.items())) == query
    sts = f"GET\ngw.example.com\n{path}\n{query}"
    assert base64.b64encode(sigv2.signature("SK", "HmacSHA256", sts)) == signature


def _vanilla_query():
    from datetime import UTC, datetime

    from cfn_gateway.auth.signed_request import CredentialScope, SignedRequest

    return SignedRequest(
        version="4",
        access_key="AKIDEXAMPLE",
        signature="",
        algorithm="AWS4-HMAC-SHA256",
        method="GET",
        host="example.amazonaws.com",
        path="/",
        params=(),
        headers={"host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"},
        signed_headers=("host", "x-amz-date"),
        body_sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        scope=CredentialScope("20150830", "us-east-1", "service", "aws4_request"),
        timestamp=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
        amz_date="20150830T123600Z",
    )


VANILLA_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
VANILLA_SIGNATURE = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"


def test_known_answer_aws_get_vanilla_query():
    """AWS's SigV4 test suite case get-vanilla-query (published signature)."""
    (signature,) = sigv4.signatures(_vanilla_query(), VANILLA_SECRET)
    assert signature == VANILLA_SIGNATURE


def test_signing_keys_kept_per_secret_and_scope(monkeypatch):
    """A kept signing key serves only its own secret and scope, also once the cache was
    emptied for being full."""
    import dataclasses

    from cfn_gateway.auth.signed_request import CredentialScope

    monkeypatch.setattr(sigv4, "_SIGNING_KEYS", {})
    monkeypatch.setattr(sigv4, "MAX_SIGNING_KEYS", 2)
    signed = _vanilla_query()
    for _ in range(2):
        assert list(sigv4.signatures(signed, VANILLA_SECRET)) == [VANILLA_SIGNATURE]
        assert list(sigv4.signatures(signed, VANILLA_SECRET + "x")) != [VANILLA_SIGNATURE]
        other_day = dataclasses.replace(
            signed, scope=CredentialScope("20150831", "us-east-1", "service", "aws4_request"))
        assert list(sigv4.signatures(other_day, VANILLA_SECRET)) != [VANILLA_SIGNATURE]
    assert len(sigv4._SIGNING_KEYS) <= 2


def test_signatures_keep_the_gil(monkeypatch):
    """No ``hmac.digest`` (which lets go of the GIL) in deriving a key or signing: the
    same known answer from ``hmac.new``, and the one-shot function never called."""
    import hmac

    scope = ("20150830", "us-east-1", "service", "aws4_request")
    expected_key = ("AWS4" + VANILLA_SECRET).encode()
    for part in scope:
        expected_key = hmac.digest(expected_key, part.encode(), "sha256")

    def one_shot(*args, **kwargs):
        raise AssertionError("hmac.digest lets go of the GIL")

    monkeypatch.setattr(sigv4, "_SIGNING_KEYS", {})
    monkeypatch.setattr(hmac, "digest", one_shot)
    assert list(sigv4.signatures(_vanilla_query(), VANILLA_SECRET)) == [VANILLA_SIGNATURE]
    assert sigv4.derive_signing_key(VANILLA_SECRET, *scope) == expected_key
