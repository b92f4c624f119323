"""The ec2auth paste filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway import errors
from cfn_gateway.auth import filter as ec2auth
from cfn_gateway.auth.credential_store import CREDENTIALS_FILE, CredentialStore
from cfn_gateway.auth.keystone import keystone_verifier
from cfn_gateway.auth.verifier import LocalVerifier
from cfn_gateway.config import CONF
from cfn_gateway.context import ENV_AWS_REQUEST, ENV_IDENTITY, Identity

from .samples import sigv4_post
from .wire import rewire


class App:
    def __init__(self):
        self.environ = None

    def __call__(self, environ, start_response):
        self.environ = environ
        start_response("200 OK", [])
        return [b"ok"]


def start_response(status, headers):
    pass


@pytest.fixture
def data_dir(tmp_path):
    CONF.set_override("data_dir", str(tmp_path))
    yield tmp_path
    CONF.clear_override("data_dir")


def test_filter_factory_builds_a_local_verifier_over_the_data_dir(data_dir):
    store = CredentialStore(str(data_dir / CREDENTIALS_FILE))
    cred = store.create("project-a")
    app = App()
    wrapped = ec2auth.filter_factory({})(app)
    environ = {ENV_AWS_REQUEST: sigv4_post(cred)}
    assert wrapped(environ, start_response) == [b"ok"]
    assert app.environ[ENV_IDENTITY] == Identity(project_id="project-a",
                                                 access_key=cred.access_key)
    assert isinstance(wrapped.verifier, LocalVerifier)


def test_passes_through_without_aws_request(data_dir):
    app = App()
    wrapped = ec2auth.filter_factory({})(app)
    environ = {"PATH_INFO": "/healthcheck"}
    assert wrapped(environ, start_response) == [b"ok"]
    assert ENV_IDENTITY not in app.environ
    assert wrapped._verifier is None  # not even built


def test_errors_are_raised_for_faultwrap(store, cred):
    app = App()
    wrapped = ec2auth.EC2Auth(app, lambda: LocalVerifier(store))
    request = rewire(sigv4_post(cred), body=b"Action=DeleteAlarms&Version=2010-08-01")
    with pytest.raises(errors.SignatureDoesNotMatch):
        wrapped({ENV_AWS_REQUEST: request}, start_response)
    assert app.environ is None
    store.delete(cred.access_key)
    with pytest.raises(errors.InvalidClientTokenId):
        wrapped({ENV_AWS_REQUEST: sigv4_post(cred)}, start_response)


def test_clock_and_configured_skew(store, cred):
    CONF.set_override("signature_max_skew", 60)
    try:
        wrapped = ec2auth.EC2Auth(App(), lambda: LocalVerifier(store),
                                  clock=lambda: datetime.now(UTC) + timedelta(seconds=90))
    finally:
        CONF.clear_override("signature_max_skew")
    with pytest.raises(errors.RequestExpired, match=r"- 1 min\.\)$"):
        wrapped({ENV_AWS_REQUEST: sigv4_post(cred)}, start_response)


def test_verifier_built_once(store, cred):
    built = []

    def factory():
        built.append(1)
        return LocalVerifier(store)

    app = App()
    wrapped = ec2auth.EC2Auth(app, factory)
    for _ in range(3):
        wrapped({ENV_AWS_REQUEST: sigv4_post(cred)}, start_response)
    assert built == [1]


def test_verifier_chosen_by_mode():
    assert ec2auth.verifier_factory_for("standalone") is ec2auth.local_verifier
    assert ec2auth.verifier_factory_for("openstack") is keystone_verifier


def test_filter_factory_remembers_keys_for_the_configured_ttl(data_dir):
    CONF.set_override("credential_cache_ttl", 30.0)
    try:
        wrapped = ec2auth.filter_factory({})(App())
        assert wrapped.verifier.ttl == 30.0
    finally:
        CONF.clear_override("credential_cache_ttl")
