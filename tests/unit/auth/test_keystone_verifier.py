"""KeystoneVerifier against a fake Keystone on 127.0.0.1: answers mapped to AWS errors,
timeouts, recovery, the service token's renewal, and the local check with cached secrets."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from cfn_gateway import errors
from cfn_gateway.auth import ec2tokens, keystone_api
from cfn_gateway.auth.keystone import KeystoneVerifier
from cfn_gateway.auth.keystone_api import KeystoneAPI
from cfn_gateway.auth.keystone_secrets import KeystoneSecrets
from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.context import Identity

from .conftest import MAX_SKEW
from .fake_keystone import PASSWORD, SERVICE_PROJECT_ID, USER, FakeKeystone
from .samples import presigned, sigv2_get, sigv4_get, sigv4_post
from .wire import boto2_signed, boto2_v2_handler

A = SimpleNamespace(access_key="AKIAFAKEKEYSTONEA001", secret_key="secret-a/+x")
B = SimpleNamespace(access_key="AKIAFAKEKEYSTONEB002", secret_key="secret-b")
IDENTITY_A = Identity(project_id="project-a", access_key=A.access_key, user_id="user-a",
                      roles=("member", "reader"), project_name="project-a",
                      project_domain_id="default", project_domain_name="Default")


class Clock:
    """A monotonic clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake():
    fake = FakeKeystone().start()
    fake.add_credential(A.access_key, A.secret_key, roles=("reader", "member"))
    yield fake
    fake.stop()


def service_session(fake: FakeKeystone, system: bool = False, timeout: float = 2.0):
    scope = {"system_scope": "all"} if system else {"project_id": SERVICE_PROJECT_ID}
    auth = v3.Password(auth_url=fake.url + "/v3", username=USER, password=PASSWORD,
                       user_domain_id="default", **scope)
    return ks_session.Session(auth=auth, timeout=timeout)


def make_verifier(fake, local_check="gaps", timeout=2.0, clock=None, ttl=60.0, size=16,
                  endpoint=True, now=None):
    def api(system):
        return KeystoneAPI(service_session(fake, system, timeout), timeout=timeout,
                           endpoint=fake.url + "/v3" if endpoint else None,
                           interface="public")
    secrets = None
    if local_check != "never":
        secrets = KeystoneSecrets(api(True), ttl=ttl, size=size, clock=clock or Clock())
    return KeystoneVerifier(api(False), secrets, local_check=local_check,
                            clock=now or (lambda: datetime.now(UTC)))


def parsed(request, now=None):
    return signed_request_from(request, now or datetime.now(UTC), MAX_SKEW)


def sha1(cred):
    handler = boto2_v2_handler("127.0.0.1", cred.access_key, cred.secret_key, sha1=True)
    return boto2_signed(handler, "GET", "127.0.0.1", 8003, "/v1/",
                        {"Action": "ListMetrics", "Version": "2010-08-01"})


# --- /v3/ec2tokens ------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [sigv4_post, sigv4_get, sigv2_get, presigned])
def test_valid_requests_give_keystones_identity(fake, sample):
    verifier = make_verifier(fake, local_check="never")
    assert verifier.verify(parsed(sample(A))) == IDENTITY_A
    assert fake.calls["POST /v3/ec2tokens"] == 1
    assert not any(call.startswith("GET /v3/credentials") for call in fake.calls)


def test_catalog_endpoint_is_found_without_override(fake):
    verifier = make_verifier(fake, local_check="never", endpoint=False)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A


def test_unknown_access_key_is_invalid_client_token_id(fake):
    with pytest.raises(errors.InvalidClientTokenId):
        make_verifier(fake, "never").verify(parsed(sigv4_post(B)))


def test_wrong_secret_is_signature_does_not_match_with_canonical_request(fake):
    wrong = SimpleNamespace(access_key=A.access_key, secret_key="not-the-secret")
    with pytest.raises(errors.SignatureDoesNotMatch) as caught:
        make_verifier(fake, "never").verify(parsed(sigv4_post(wrong)))
    assert "The Canonical String for this request should have been" in caught.value.message


def test_expired_for_keystone_is_request_expired(fake):
    request = sigv4_post(A)
    later = datetime.now(UTC) + timedelta(minutes=16)
    fake.now = lambda: later
    signed = parsed(request)
    verifier = make_verifier(fake, "never", now=lambda: later)
    with pytest.raises(errors.RequestExpired):
        verifier.verify(signed)


def test_disabled_user_is_refused(fake):
    fake.users["user-a"]["enabled"] = False
    with pytest.raises(errors.SignatureDoesNotMatch):  # Keystone's 401 says no more
        make_verifier(fake, "never").verify(parsed(sigv4_post(A)))


@pytest.mark.parametrize("status", [500, 502, 503, 403])
def test_keystone_failures_are_service_unavailable(fake, status, caplog):
    fake.fail["/v3/ec2tokens"] = status
    with pytest.raises(errors.ServiceUnavailable) as caught:
        make_verifier(fake, "never").verify(parsed(sigv4_post(A)))
    assert caught.value.status == 503
    assert f"HTTP {status}" in caplog.text


def test_keystone_400_is_internal_failure(fake):
    fake.fail["/v3/ec2tokens"] = 400
    with pytest.raises(errors.InternalFailure):
        make_verifier(fake, "never").verify(parsed(sigv4_post(A)))


def test_service_user_refused_is_service_unavailable(fake):
    fake.fail["/v3/auth/tokens"] = 401
    with pytest.raises(errors.ServiceUnavailable):
        make_verifier(fake, "never").verify(parsed(sigv4_post(A)))


def test_timeout_is_service_unavailable_quickly(fake):
    fake.delay = 2.0
    verifier = make_verifier(fake, "never", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(errors.ServiceUnavailable):
        verifier.verify(parsed(sigv4_post(A)))
    assert time.monotonic() - started < 1.5


def test_keystone_down_then_back(fake):
    port = fake.port
    fake.stop()
    verifier = make_verifier(fake, "never")
    for _ in range(2):
        with pytest.raises(errors.ServiceUnavailable):
            verifier.verify(parsed(sigv4_post(A)))
    fake.start(port)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    fake.stop()
    with pytest.raises(errors.ServiceUnavailable):
        verifier.verify(parsed(sigv4_post(A)))
    fake.start(port)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A


def test_revoked_service_token_is_renewed(fake):
    verifier = make_verifier(fake, "never")
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    fake.revoke_tokens()
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert fake.calls["POST /v3/auth/tokens"] == 2


def test_bad_signatures_renew_the_service_token_at_most_once_per_interval(fake, monkeypatch):
    clock = Clock()
    verifier = make_verifier(fake, "never")
    monkeypatch.setattr(verifier.api, "_clock", clock)
    wrong = SimpleNamespace(access_key=A.access_key, secret_key="wrong")
    for _ in range(5):
        with pytest.raises(errors.SignatureDoesNotMatch):
            verifier.verify(parsed(sigv4_post(wrong)))
    assert fake.calls["POST /v3/auth/tokens"] == 2  # first token, one renewal
    assert fake.calls["POST /v3/ec2tokens"] == 6
    clock.now += keystone_api.REAUTH_INTERVAL
    with pytest.raises(errors.SignatureDoesNotMatch):
        verifier.verify(parsed(sigv4_post(wrong)))
    assert fake.calls["POST /v3/auth/tokens"] == 3


@pytest.mark.parametrize("sample", [sha1, lambda c: presigned(c, method="POST")])
def test_gaps_are_refused_when_never_checked_locally(fake, sample):
    with pytest.raises(errors.IncompleteSignature) as caught:
        make_verifier(fake, "never").verify(parsed(sample(A)))
    assert "Keystone" in caught.value.message
    assert fake.calls["POST /v3/ec2tokens"] == 0


# --- the local check --------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [sha1, lambda c: presigned(c, method="POST")])
def test_gaps_are_checked_with_the_secret(fake, sample):
    verifier = make_verifier(fake, "gaps")
    assert verifier.verify(parsed(sample(A))) == IDENTITY_A
    assert fake.calls["POST /v3/ec2tokens"] == 0
    assert fake.calls["GET /v3/credentials/<id>"] == 1
    assert fake.calls["POST /v3/auth/tokens"] == 1  # the system-scoped reader only


def test_gaps_mode_sends_other_requests_to_ec2tokens(fake):
    verifier = make_verifier(fake, "gaps")
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert fake.calls["POST /v3/ec2tokens"] == 1
    assert fake.calls["GET /v3/credentials/<id>"] == 0


def test_always_checks_locally_and_caches(fake):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock, ttl=60)
    for sample in (sigv4_post, sigv4_get, sigv2_get, presigned, sha1):
        assert verifier.verify(parsed(sample(A))) == IDENTITY_A
    assert fake.calls["POST /v3/ec2tokens"] == 0
    assert fake.calls["GET /v3/credentials/<id>"] == 1
    clock.now += 60
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert fake.calls["GET /v3/credentials/<id>"] == 2


def test_local_unknown_key(fake):
    with pytest.raises(errors.InvalidClientTokenId):
        make_verifier(fake, "always").verify(parsed(sigv4_post(B)))


def test_local_wrong_secret_refetches_once_then_not_within_a_second(fake):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    wrong = SimpleNamespace(access_key=A.access_key, secret_key="wrong")
    clock.now += 5
    with pytest.raises(errors.SignatureDoesNotMatch):
        verifier.verify(parsed(sigv4_post(wrong)))
    assert fake.calls["GET /v3/credentials/<id>"] == 2
    for _ in range(3):
        with pytest.raises(errors.SignatureDoesNotMatch):
            verifier.verify(parsed(sigv4_post(wrong)))
    assert fake.calls["GET /v3/credentials/<id>"] == 2


def test_local_rotated_secret_is_picked_up(fake):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    fake.credentials[A.access_key].secret = "rotated"
    clock.now += 2
    rotated = SimpleNamespace(access_key=A.access_key, secret_key="rotated")
    assert verifier.verify(parsed(sigv4_post(rotated))) == IDENTITY_A
    with pytest.raises(errors.SignatureDoesNotMatch):
        verifier.verify(parsed(sigv4_post(A)))  # the old secret no more


def test_local_deleted_credential_is_seen_after_the_ttl(fake):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock, ttl=30)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    del fake.credentials[A.access_key]
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A  # cached
    clock.now += 30
    with pytest.raises(errors.InvalidClientTokenId):
        verifier.verify(parsed(sigv4_post(A)))


@pytest.mark.parametrize(
    "change",
    [lambda f: f.users["user-a"].update(enabled=False),
     lambda f: f.projects["project-a"].update(enabled=False),
     lambda f: f.domains["default"].update(enabled=False),
     lambda f: f.roles.update({("user-a", "project-a"): []}),
     lambda f: f.users.pop("user-a")],
    ids=["user-disabled", "project-disabled", "domain-disabled", "no-role", "user-gone"],
)
def test_local_refuses_what_keystone_would_refuse(fake, change):
    change(fake)
    verifier = make_verifier(fake, "always")
    with pytest.raises(errors.InvalidClientTokenId):
        verifier.verify(parsed(sigv4_post(A)))
    wrong = SimpleNamespace(access_key=A.access_key, secret_key="wrong")
    with pytest.raises(errors.SignatureDoesNotMatch):  # the signature is judged first
        verifier.verify(parsed(sigv4_post(wrong)))


def test_a_refusal_is_believed_when_a_second_read_says_it_too(fake, caplog):
    fake.empty_role_lists = 1  # one wrong answer, as Keystone gave under load
    verifier = make_verifier(fake, "always")
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert fake.calls["GET /v3/role_assignments"] == 2
    assert "its second did not" in caplog.text

    fake.roles[("user-a", "project-a")] = []
    fake.calls.clear()
    verifier = make_verifier(fake, "always")
    with pytest.raises(errors.InvalidClientTokenId):
        verifier.verify(parsed(sigv4_post(A)))
    assert fake.calls["GET /v3/role_assignments"] == 2
    with pytest.raises(errors.InvalidClientTokenId):  # the refusal is kept for the ttl
        verifier.verify(parsed(sigv4_post(A)))
    assert fake.calls["GET /v3/role_assignments"] == 2


def test_delegated_credential_goes_to_ec2tokens_or_is_refused_for_a_gap(fake):
    fake.credentials[A.access_key].extra["app_cred_id"] = "ac-1"
    verifier = make_verifier(fake, "always")
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert fake.calls["POST /v3/ec2tokens"] == 1
    with pytest.raises(errors.IncompleteSignature) as caught:
        verifier.verify(parsed(sha1(A)))
    assert "trust, application credential" in caught.value.message


def test_cache_is_bounded(fake):
    verifier = make_verifier(fake, "always", size=2)
    creds = [SimpleNamespace(access_key=f"AKIAFAKEKEYSTONEC{i:03d}", secret_key=f"s{i}")
             for i in range(4)]
    for cred in creds:
        fake.add_credential(cred.access_key, cred.secret_key)
        verifier.verify(parsed(sigv4_post(cred)))
    assert verifier.secrets is not None and len(verifier.secrets.cache) == 2
    verifier.verify(parsed(sigv4_post(creds[0])))  # evicted: read again
    assert fake.calls["GET /v3/credentials/<id>"] == 5


def test_credentials_api_refused_is_service_unavailable(fake, caplog):
    fake.system_readers.clear()
    with pytest.raises(errors.ServiceUnavailable):
        make_verifier(fake, "always").verify(parsed(sigv4_post(A)))
    assert "roles in the README" in caplog.text


def test_local_near_keystone_ttl_uses_the_gateways_window(fake):
    request = sigv4_post(A)
    later = datetime.now(UTC) + timedelta(minutes=14, seconds=30)
    signed = parsed(request, later)
    assert ec2tokens.keystone_gap(signed, later, timedelta(minutes=15)) == ec2tokens.GAP_AUTH_TTL
    fake.now = lambda: later + timedelta(minutes=1)  # Keystone would say expired
    verifier = make_verifier(fake, "gaps", now=lambda: later)
    assert verifier.verify(signed) == IDENTITY_A
    assert fake.calls["POST /v3/ec2tokens"] == 0


def test_local_keystone_down_with_a_cached_secret_still_verifies(fake):
    verifier = make_verifier(fake, "always")
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    fake.stop()
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    with pytest.raises(errors.ServiceUnavailable):
        verifier.verify(parsed(sigv4_post(B)))


def test_local_check_needs_secrets():
    with pytest.raises(ValueError):
        KeystoneVerifier(object(), None, local_check="gaps")  # type: ignore[arg-type]


def test_a_cache_miss_reads_the_domain_once_per_ttl(fake):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock, ttl=60)
    fake.add_credential(B.access_key, B.secret_key, user_id="user-b", project_id="project-b")
    for cred in (A, B):
        assert verifier.verify(parsed(sigv4_post(cred))).access_key == cred.access_key
    assert fake.calls["GET /v3/credentials/<id>"] == 2
    assert fake.calls["GET /v3/users/user-a"] == fake.calls["GET /v3/users/user-b"] == 1
    assert fake.calls["GET /v3/domains/default"] == 1
    clock.now += 60
    fake.domains["default"]["enabled"] = False
    with pytest.raises(errors.InvalidClientTokenId):
        verifier.verify(parsed(sigv4_post(A)))


def test_a_reset_connection_is_tried_once_more_a_timeout_is_not(fake, monkeypatch):
    verifier = make_verifier(fake, "never")
    verifier.verify(parsed(sigv4_post(A)))  # the service token is in hand
    api = verifier.api
    real = api._send  # one exchange with Keystone, whichever transport carries it
    failures = {"left": 1, "calls": 0}

    def flaky(*args, **kwargs):
        failures["calls"] += 1
        if failures["left"]:
            failures["left"] -= 1
            raise failures["error"]
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "_send", flaky)
    failures["error"] = ks_exceptions.ConnectFailure("Connection reset by peer")
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert failures["calls"] == 2
    failures.update(left=1, calls=0, error=ks_exceptions.ConnectTimeout("timed out"))
    with pytest.raises(errors.ServiceUnavailable):
        verifier.verify(parsed(sigv4_post(A)))
    assert failures["calls"] == 1


@pytest.mark.parametrize("keepalive", [True, False], ids=["keep-alive", "keystoneauth1"])
def test_either_transport_carries_the_calls(fake, monkeypatch, keepalive):
    """Keystone's plain-http URL goes over the keep-alive connections, with the session's
    token (keystoneauth1's own request is then not made); a URL that transport cannot serve
    (https, a proxy) goes through keystoneauth1, with the same answers."""
    if not keepalive:
        monkeypatch.setattr(keystone_api.keepalive, "transport_for",
                            lambda session, endpoint_filter, timeout, fallback: fallback())
    fake.add_credential(B.access_key, B.secret_key, user_id="user-b", project_id="project-b")
    verifier = make_verifier(fake, "always")
    sessions = [verifier.api.session, verifier.secrets.api.session]
    requests = []
    for session in sessions:
        real = session.request

        def counted(*args, real=real, **kwargs):
            requests.append(kwargs.get("url"))
            return real(*args, **kwargs)

        monkeypatch.setattr(session, "request", counted)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert verifier.verify(parsed(sigv2_get(B))).project_id == "project-b"
    reads = [url for url in requests if url and "/credentials/" in url]
    if keepalive:
        assert reads == []  # (keystoneauth1 may still fetch the service tokens)
    else:
        assert len(reads) == 2


def _slow_reads(monkeypatch, secrets, seconds):
    """Counts the secrets' Keystone reads and makes each take ``seconds``."""
    import threading

    reads, real, lock = [], secrets._fetch, threading.Lock()

    def slow(access_key):
        with lock:
            reads.append(access_key)
        time.sleep(seconds)
        return real(access_key)

    monkeypatch.setattr(secrets, "_fetch", slow)
    return reads


def _at_once(count, call):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(count) as pool:
        return [f.result() for f in [pool.submit(call) for _ in range(count)]]


def test_concurrent_misses_of_one_key_make_one_read(fake, monkeypatch):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock, ttl=60)
    reads = _slow_reads(monkeypatch, verifier.secrets, 0.3)
    answers = _at_once(8, lambda: verifier.verify(parsed(sigv4_post(A))))
    assert answers == [IDENTITY_A] * 8
    assert reads == [A.access_key]
    clock.now += 60  # expired: again one read for all
    assert _at_once(8, lambda: verifier.verify(parsed(sigv4_post(A)))) == [IDENTITY_A] * 8
    assert reads == [A.access_key] * 2
    assert not verifier.secrets._reads._locks  # no lock kept once nobody waits


def test_an_entry_near_its_end_is_read_early_by_one_caller(fake, monkeypatch):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock, ttl=60)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    reads = _slow_reads(monkeypatch, verifier.secrets, 0.5)
    clock.now += 55  # in the last tenth
    started = time.monotonic()
    answers = _at_once(8, lambda: (verifier.verify(parsed(sigv4_post(A))), time.monotonic()))
    assert [identity for identity, _ in answers] == [IDENTITY_A] * 8
    assert reads == [A.access_key]
    waited = sorted(done - started for _, done in answers)
    assert waited[-2] < 0.4  # only the reader waited for Keystone
    clock.now += 10  # 65 s after the first read, 10 s after the early one: still cached
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    assert reads == [A.access_key]


def test_an_early_read_without_keystone_keeps_the_entry_until_it_expires(fake):
    clock = Clock()
    verifier = make_verifier(fake, "always", clock=clock, ttl=60)
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    fake.stop()
    clock.now += 57
    assert verifier.verify(parsed(sigv4_post(A))) == IDENTITY_A
    clock.now += 3
    with pytest.raises(errors.ServiceUnavailable):
        verifier.verify(parsed(sigv4_post(A)))
