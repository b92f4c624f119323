"""The ec2auth filter with Keystone tokens: an unsigned request with X-Auth-Token is
authenticated by its token in OpenStack mode only; any part of a signature sends a request
down the signature path, its token ignored."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from keystoneauth1 import loading as ks_loading

from cfn_gateway import errors
from cfn_gateway.auth import filter as ec2auth
from cfn_gateway.auth.keystone_tokens import KeystoneTokens, keystone_tokens
from cfn_gateway.auth.verifier import LocalVerifier
from cfn_gateway.common import openstack_session
from cfn_gateway.config import CONF, KEYSTONE_EC2, KEYSTONE_TOKEN, SERVICE_CREDENTIALS
from cfn_gateway.context import (
    BY_KEYSTONE_TOKEN,
    BY_SIGNATURE,
    ENV_AWS_REQUEST,
    ENV_IDENTITY,
    JSON,
    Identity,
)

from .fake_keystone import PASSWORD, SERVICE_PROJECT_ID, USER, FakeKeystone
from .samples import FORM, FORM_TYPE, sigv4_post
from .test_auth_filter import App, start_response
from .test_keystone_tokens import VALIDATE, make_tokens
from .wire import rewire, to_aws_request

SC = SERVICE_CREDENTIALS


@pytest.fixture
def fake():
    fake = FakeKeystone().start()
    yield fake
    fake.stop()


@pytest.fixture
def token(fake):
    return fake.add_user_token(user_id="user-b", project_id="project-b")


def unsigned(token: str | None = None, target: str = "/", **form: str):
    headers = {**FORM_TYPE, "Host": "127.0.0.1:8080"}
    if token is not None:
        headers["X-Auth-Token"] = token
    return to_aws_request("POST", target, headers, urlencode({**FORM, **form}).encode())


def authenticate(wrapped, request) -> Identity:
    app = App()
    wrapped.app = app
    wrapped({ENV_AWS_REQUEST: request}, start_response)
    return app.environ[ENV_IDENTITY]


@pytest.fixture
def openstack(store, fake):
    """An ec2auth filter as OpenStack mode has it: signatures from the local store (a stand-in
    for Keystone's ec2tokens, tested elsewhere), tokens from the fake Keystone."""
    tokens = make_tokens(fake)
    return ec2auth.EC2Auth(App(), lambda: LocalVerifier(store), tokens_factory=lambda: tokens)


def test_an_unsigned_request_with_a_token_is_the_tokens_caller(openstack, token):
    identity = authenticate(openstack, unsigned(token))
    assert identity == Identity(project_id="project-b", user_id="user-b", roles=("member",),
                                authenticated_by=BY_KEYSTONE_TOKEN, project_name="project-b",
                                project_domain_id="default", project_domain_name="Default")


def test_a_json_request_with_a_token(openstack, token):
    request = to_aws_request(
        "POST", "/", {"Content-Type": "application/x-amz-json-1.0", "X-Auth-Token": token,
                      "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"},
        b"{}", protocol=JSON)
    assert authenticate(openstack, request).project_id == "project-b"


def test_an_invalid_token_is_raised_for_faultwrap(openstack):
    with pytest.raises(errors.InvalidClientTokenId):
        authenticate(openstack, unsigned("gAAAAABnot-a-token"))


def test_a_signed_request_is_its_signers_and_ignores_the_token(openstack, cred, token, fake):
    request = sigv4_post(cred, headers={"X-Auth-Token": token})
    identity = authenticate(openstack, request)
    assert identity == Identity(project_id="project-a", access_key=cred.access_key)
    assert identity.authenticated_by == BY_SIGNATURE
    assert fake.calls[VALIDATE] == 0


def test_a_bad_signature_is_not_rescued_by_a_valid_token(openstack, cred, token, fake):
    request = rewire(sigv4_post(cred, headers={"X-Auth-Token": token}),
                     body=b"Action=DeleteAlarms&Version=2010-08-01")
    with pytest.raises(errors.SignatureDoesNotMatch):
        authenticate(openstack, request)
    assert fake.calls[VALIDATE] == 0


@pytest.mark.parametrize("signature_part", [
    {"headers": {"Authorization": ""}},
    {"headers": {"Authorization": "Bearer x"}},
    {"form": {"AWSAccessKeyId": "AKIA"}},
    {"form": {"Signature": "c2ln"}},
    {"form": {"SignatureVersion": "2"}},
    {"query": "X-Amz-Credential=AKIA%2F20240101%2Fus-east-1%2Fmonitoring%2Faws4_request"},
    {"query": "X-Amz-Signature=abc"},
    {"query": "X-Amz-Algorithm=AWS4-HMAC-SHA256"},
    {"query": "AWSAccessKeyId=AKIA"},
])
def test_any_part_of_a_signature_takes_the_signature_path(openstack, token, fake,
                                                          signature_part):
    request = unsigned(token, target="/?" + signature_part.get("query", ""),
                       **signature_part.get("form", {}))
    if "headers" in signature_part:
        request = rewire(request, headers={**request.headers, **signature_part["headers"]})
    with pytest.raises((errors.MissingAuthenticationToken, errors.IncompleteSignature,
                        errors.SignatureDoesNotMatch)):
        authenticate(openstack, request)
    assert fake.calls[VALIDATE] == 0


def test_an_unsigned_request_without_a_token_is_missing_authentication(openstack, fake):
    for request in (unsigned(), unsigned("  ")):
        with pytest.raises(errors.MissingAuthenticationToken):
            authenticate(openstack, request)
    assert fake.calls[VALIDATE] == 0


def test_standalone_mode_ignores_the_token(store, token, fake):
    assert CONF.mode == "standalone"
    wrapped = ec2auth.EC2Auth(App(), lambda: LocalVerifier(store))
    assert not wrapped.accepts_tokens
    with pytest.raises(errors.MissingAuthenticationToken):
        authenticate(wrapped, unsigned(token))
    assert fake.calls[VALIDATE] == 0


@pytest.fixture
def configure(fake):
    CONF.register_opts(ks_loading.get_auth_plugin_conf_options("password"), group=SC)
    done = []

    def configure(**options):
        for key, value in options.items():
            group, _, name = key.rpartition("__")
            CONF.set_override(name, value, group or None)
            done.append((name, group or None))

    openstack_session.service_session.cache_clear()
    configure(mode="openstack", **{
        f"{SC}__auth_type": "password", f"{SC}__auth_url": fake.url + "/v3",
        f"{SC}__username": USER, f"{SC}__password": PASSWORD,
        f"{SC}__user_domain_id": "default", f"{SC}__project_id": SERVICE_PROJECT_ID,
    })
    yield configure
    for name, group in done:
        CONF.clear_override(name, group)
    openstack_session.service_session.cache_clear()


def test_openstack_mode_accepts_tokens_unless_disabled(configure):
    assert ec2auth.tokens_factory_for("openstack") is keystone_tokens
    assert ec2auth.tokens_factory_for("standalone") is None
    assert ec2auth.EC2Auth(App()).accepts_tokens
    configure(**{f"{KEYSTONE_TOKEN}__enabled": False})
    assert ec2auth.tokens_factory_for("openstack") is None
    assert not ec2auth.EC2Auth(App()).accepts_tokens


def test_built_from_the_configuration_with_the_service_session(fake, configure, token):
    configure(**{f"{KEYSTONE_TOKEN}__cache_ttl": 42, f"{KEYSTONE_TOKEN}__cache_size": 7,
                 f"{KEYSTONE_EC2}__timeout": 1.5})
    tokens = keystone_tokens()
    assert isinstance(tokens, KeystoneTokens)
    assert (tokens.ttl, tokens.valid.size) == (42, 7)
    assert tokens.api.session is openstack_session.service_session()
    assert tokens.api.timeout == 1.5
    wrapped = ec2auth.EC2Auth(App(), lambda: pytest.fail("no verifier needed"))
    assert authenticate(wrapped, unsigned(token)).project_id == "project-b"  # catalog endpoint
    assert fake.calls[VALIDATE] == 1
