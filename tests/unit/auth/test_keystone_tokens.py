"""KeystoneTokens against a fake Keystone on 127.0.0.1: callers' tokens validated with
``GET /v3/auth/tokens``, Keystone's answers mapped to AWS errors, and the cache (hits,
lifetime bounded by the token's expiry, short refusals, bounded size, one validation per
token at a time)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cfn_gateway import errors
from cfn_gateway.auth import keystone_tokens, messages
from cfn_gateway.auth.keystone_api import KeystoneAPI
from cfn_gateway.auth.keystone_tokens import KeystoneTokens, token_digest
from cfn_gateway.context import BY_KEYSTONE_TOKEN, Identity

from .fake_keystone import FakeKeystone
from .test_keystone_verifier import Clock, service_session

VALIDATE = "GET /v3/auth/tokens"
IDENTITY_A = Identity(project_id="project-a", user_id="user-a", roles=("member", "reader"),
                      authenticated_by=BY_KEYSTONE_TOKEN, project_name="project-a",
                      project_domain_id="default", project_domain_name="Default")


class WallClock:
    """UTC now, plus whatever the test moved it by."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def fake():
    fake = FakeKeystone().start()
    yield fake
    fake.stop()


def make_tokens(fake, url=None, ttl=300.0, size=16, clock=None, wall=None, timeout=2.0):
    api = KeystoneAPI(service_session(fake, timeout=timeout), timeout=timeout,
                      endpoint=(url or fake.url) + "/v3")
    return KeystoneTokens(api, ttl=ttl, size=size, clock=clock or Clock(),
                          wall_clock=wall or WallClock())


def closed_port_url() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


def refused(tokens, token, error=errors.InvalidClientTokenId):
    with pytest.raises(error) as caught:
        tokens.identity(token)
    return caught.value


# --- Keystone's answers --------------------------------------------------------------------


def test_a_project_scoped_token_gives_its_project_user_and_roles(fake):
    token = fake.add_user_token(roles=("reader", "member"))
    identity = make_tokens(fake).identity(token)
    assert identity == IDENTITY_A
    assert identity.access_key == ""
    assert fake.validation_queries == [{"nocatalog": [""]}]  # no catalog asked for


def test_an_unknown_token_is_invalid_client_token_id(fake):
    error = refused(make_tokens(fake), "gAAAAABnot-a-token")
    assert error.status == 403 and error.code == "InvalidClientTokenId"
    assert error.message == "The security token included in the request is invalid."
    assert fake.calls[VALIDATE] == 1


@pytest.mark.parametrize("status", [400, 401, 404])
def test_keystone_refusals_are_invalid_client_token_id(fake, status):
    token = fake.add_user_token()
    fake.user_token_status[token] = status
    assert refused(make_tokens(fake), token).message == messages.INVALID_CLIENT_TOKEN_ID


@pytest.mark.parametrize("scope", ["unscoped", "domain", "system"])
def test_a_token_not_scoped_to_a_project_is_refused(fake, scope):
    token = fake.add_user_token(scope=scope)
    error = refused(make_tokens(fake), token)
    assert error.status == 403 and error.code == "InvalidClientTokenId"
    assert "project-scoped" in error.message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_keystone_failing_is_service_unavailable(fake, status, caplog):
    token = fake.add_user_token()
    fake.user_token_status[token] = status
    error = refused(make_tokens(fake), token, errors.ServiceUnavailable)
    assert error.status == 503 and error.code == "ServiceUnavailable"
    assert f"HTTP {status}" in caplog.text


def test_keystone_unreachable_is_service_unavailable(fake):
    refused(make_tokens(fake, url=closed_port_url()), "some-token", errors.ServiceUnavailable)


def test_service_user_not_allowed_to_validate_is_service_unavailable(fake, caplog):
    token = fake.add_user_token()
    fake.token_validators.clear()
    refused(make_tokens(fake), token, errors.ServiceUnavailable)
    assert "refused the gateway's service user" in caplog.text


def test_a_malformed_answer_is_internal_failure(fake):
    token = fake.add_user_token()
    del fake.user_tokens[token]["token"]["user"]
    refused(make_tokens(fake), token, errors.InternalFailure)


@pytest.mark.parametrize("token", ["", "   ", "x" * (keystone_tokens.MAX_TOKEN_LENGTH + 1),
                                   "tok\x00en", "tök"])
def test_impossible_tokens_are_refused_without_asking_keystone(fake, token):
    refused(make_tokens(fake), token)
    assert fake.calls[VALIDATE] == 0


def test_the_service_token_is_renewed_on_a_401_at_most_once_per_interval(fake):
    token = fake.add_user_token()
    tokens = make_tokens(fake)
    assert tokens.identity(token).project_id == "project-a"
    fake.revoke_tokens()  # the service token: Keystone answers 401 to it
    other = fake.add_user_token(project_id="project-b")
    assert tokens.identity(other).project_id == "project-b"
    assert fake.calls["POST /v3/auth/tokens"] == 2  # first token, one renewal
    assert fake.calls[VALIDATE] == 3


def test_the_token_is_never_logged(fake, caplog):
    caplog.set_level(logging.DEBUG)
    good, scoped, bad = (fake.add_user_token(), fake.add_user_token(scope="domain"),
                         "gAAAAABbad-token-value")
    tokens = make_tokens(fake)
    tokens.identity(good)
    refused(tokens, scoped)
    refused(tokens, bad)
    fake.user_token_status[good] = 503
    refused(make_tokens(fake), good, errors.ServiceUnavailable)
    assert caplog.text  # something was logged ...
    for token in (good, scoped, bad):
        assert token not in caplog.text  # ... but never a token
    assert f"sha256:{token_digest(bad)[:12]}" in caplog.text


# --- the cache ------------------------------------------------------------------------------


def test_a_cached_token_is_not_validated_again(fake):
    token = fake.add_user_token()
    tokens = make_tokens(fake)
    assert tokens.identity(token) == tokens.identity(f" {token} ")
    assert fake.calls[VALIDATE] == 1


def test_a_cached_token_is_validated_again_after_the_ttl(fake):
    clock = Clock()
    token = fake.add_user_token()
    tokens = make_tokens(fake, ttl=300.0, clock=clock)
    tokens.identity(token)
    clock.now += 299.0
    tokens.identity(token)
    assert fake.calls[VALIDATE] == 1
    clock.now += 1.0
    tokens.identity(token)
    assert fake.calls[VALIDATE] == 2


def test_a_revoked_token_is_refused_once_its_cache_entry_ends(fake):
    clock = Clock()
    token = fake.add_user_token()
    tokens = make_tokens(fake, ttl=60.0, clock=clock)
    tokens.identity(token)
    del fake.user_tokens[token]  # revoked: Keystone answers 404 from now on
    tokens.identity(token)  # within the TTL: still the cached validation
    clock.now += 60.0
    refused(tokens, token)


def test_an_expired_token_is_refused_even_when_cached(fake):
    wall = WallClock()
    token = fake.add_user_token(expires_in=timedelta(seconds=30))
    tokens = make_tokens(fake, wall=wall)
    tokens.identity(token)
    wall.offset = timedelta(seconds=31)  # past expires_at; the cache entry's clock is not
    refused(tokens, token)
    assert fake.calls[VALIDATE] == 1


def test_the_cache_keeps_a_token_no_longer_than_its_expiry(fake):
    clock = Clock()
    token = fake.add_user_token(expires_in=timedelta(seconds=30))
    tokens = make_tokens(fake, ttl=300.0, clock=clock)
    tokens.identity(token)
    clock.now += 31.0
    tokens.identity(token)  # Keystone's clock says still valid: asked again, not the cache
    assert fake.calls[VALIDATE] == 2


def test_a_token_keystone_says_has_expired_is_refused(fake):
    wall = WallClock()
    wall.offset = timedelta(hours=2)  # the gateway's clock ahead of Keystone's
    token = fake.add_user_token()
    refused(make_tokens(fake, wall=wall), token)


def test_refusals_are_kept_a_few_seconds_only(fake):
    assert keystone_tokens.NEGATIVE_TTL <= 5.0
    clock = Clock()
    tokens = make_tokens(fake, clock=clock)
    for _ in range(3):
        refused(tokens, "gAAAAABunknown")
    assert fake.calls[VALIDATE] == 1
    clock.now += keystone_tokens.NEGATIVE_TTL
    refused(tokens, "gAAAAABunknown")
    assert fake.calls[VALIDATE] == 2


def test_keystone_failures_are_retried_after_a_second(fake):
    clock = Clock()
    token = fake.add_user_token()
    fake.user_token_status[token] = 503
    tokens = make_tokens(fake, clock=clock)
    refused(tokens, token, errors.ServiceUnavailable)
    del fake.user_token_status[token]
    refused(tokens, token, errors.ServiceUnavailable)  # within UNAVAILABLE_TTL
    clock.now += keystone_tokens.UNAVAILABLE_TTL
    assert tokens.identity(token).project_id == "project-a"
    assert fake.calls[VALIDATE] == 2


def test_the_cache_is_bounded_oldest_out_first(fake):
    clock = Clock()
    first, second, third = (fake.add_user_token(project_id=f"p{i}") for i in range(3))
    tokens = make_tokens(fake, size=2, clock=clock)
    for token in (first, second, third):
        tokens.identity(token)
    assert len(tokens.valid) == 2
    tokens.identity(third)
    tokens.identity(second)
    assert fake.calls[VALIDATE] == 3
    tokens.identity(first)  # dropped: asked again
    assert fake.calls[VALIDATE] == 4


def test_bad_tokens_do_not_push_good_ones_out(fake):
    token = fake.add_user_token()
    tokens = make_tokens(fake, size=2)
    tokens.identity(token)
    for number in range(5):
        refused(tokens, f"gAAAAABbad{number}")
    tokens.identity(token)
    assert fake.calls[VALIDATE] == 6


def test_concurrent_callers_with_one_token_make_one_validation(fake):
    token = fake.add_user_token()
    tokens = make_tokens(fake)
    fake.delay = 0.3
    results: list[Identity] = []
    barrier = threading.Barrier(8)

    def call():
        barrier.wait()
        results.append(tokens.identity(token))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [identity.project_id for identity in results] == ["project-a"] * 8
    assert fake.calls[VALIDATE] == 1
