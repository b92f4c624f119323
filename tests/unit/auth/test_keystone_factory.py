"""The KeystoneVerifier built from the configuration, and chosen by the ec2auth filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from keystoneauth1 import loading as ks_loading

from cfn_gateway.auth import filter as ec2auth
from cfn_gateway.auth.keystone import KeystoneVerifier, keystone_verifier
from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.config import CONF, KEYSTONE_EC2, SERVICE_CREDENTIALS

from .fake_keystone import PASSWORD, SERVICE_PROJECT_ID, USER, FakeKeystone
from .samples import sigv4_post
from .test_keystone_verifier import IDENTITY_A, A, sha1

SC = SERVICE_CREDENTIALS


@pytest.fixture
def fake():
    fake = FakeKeystone().start()
    fake.add_credential(A.access_key, A.secret_key, roles=("member", "reader"))
    yield fake
    fake.stop()


@pytest.fixture
def configure(fake):
    CONF.register_opts(ks_loading.get_auth_plugin_conf_options("password"), group=SC)
    done = []

    def configure(**options):
        for key, value in options.items():
            group, _, name = key.rpartition("__")
            CONF.set_override(name, value, group or None)
            done.append((name, group or None))

    configure(mode="openstack", **{
        f"{SC}__auth_type": "password", f"{SC}__auth_url": fake.url + "/v3",
        f"{SC}__username": USER, f"{SC}__password": PASSWORD,
        f"{SC}__user_domain_id": "default", f"{SC}__project_id": SERVICE_PROJECT_ID,
        f"{KEYSTONE_EC2}__timeout": 1.5,
    })
    yield configure
    for name, group in done:
        CONF.clear_override(name, group)


def verify(verifier, request):
    return verifier.verify(signed_request_from(request, datetime.now(UTC), 900))


def test_openstack_mode_selects_the_keystone_verifier():
    assert ec2auth.verifier_factory_for("openstack") is keystone_verifier


def test_built_from_the_configuration(fake, configure):
    verifier = keystone_verifier()
    assert isinstance(verifier, KeystoneVerifier)
    assert verifier.local_check == "gaps" and verifier.auth_ttl == timedelta(minutes=15)
    assert verifier.api.session.timeout == 1.5
    assert verify(verifier, sigv4_post(A)) == IDENTITY_A  # ec2tokens, catalog endpoint
    assert verify(verifier, sha1(A)) == IDENTITY_A  # system-scoped credentials read
    assert fake.calls["POST /v3/ec2tokens"] == 1
    assert fake.calls["GET /v3/credentials/<id>"] == 1
    assert sorted(scope["system"] for scope in fake.tokens.values()) == [False, True]


def test_options_reach_the_verifier(fake, configure):
    configure(**{f"{KEYSTONE_EC2}__local_check": "always",
                 f"{KEYSTONE_EC2}__secret_cache_ttl": 7,
                 f"{KEYSTONE_EC2}__secret_cache_size": 3,
                 f"{KEYSTONE_EC2}__keystone_auth_ttl": 30,
                 f"{KEYSTONE_EC2}__endpoint_override": fake.url + "/v3/"})
    verifier = keystone_verifier()
    assert verifier.secrets is not None
    assert (verifier.secrets.cache.ttl, verifier.secrets.cache.size) == (7, 3)
    assert verifier.auth_ttl == timedelta(minutes=30)
    assert verifier.api.endpoint == fake.url + "/v3"
    assert verify(verifier, sigv4_post(A)) == IDENTITY_A
    assert fake.calls["POST /v3/ec2tokens"] == 0


def test_never_reads_no_credentials(fake, configure):
    configure(**{f"{KEYSTONE_EC2}__local_check": "never"})
    verifier = keystone_verifier()
    assert verifier.secrets is None
    assert verify(verifier, sigv4_post(A)) == IDENTITY_A


def test_project_scope_reads_with_the_service_session(fake, configure):
    configure(**{f"{KEYSTONE_EC2}__credentials_scope": "project"})
    verifier = keystone_verifier()
    assert verifier.secrets is not None and verifier.secrets.api is verifier.api


def test_system_scope_is_refused_for_application_credentials(fake, configure):
    configure(**{f"{SC}__auth_type": "v3applicationcredential"})
    with pytest.raises(ValueError, match="system-scoped"):
        keystone_verifier()


def test_filter_retries_a_factory_that_failed(fake, configure):
    calls = SimpleNamespace(n=0)

    def factory():
        calls.n += 1
        if calls.n == 1:
            raise RuntimeError("Keystone options missing")
        return keystone_verifier()

    auth = ec2auth.EC2Auth(lambda environ, start_response: [b""], verifier_factory=factory)
    with pytest.raises(RuntimeError):
        auth.verifier  # noqa: B018
    assert isinstance(auth.verifier, KeystoneVerifier)
