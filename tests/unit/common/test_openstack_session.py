"""The once-per-process shortcuts of ``openstack_session``: environment and catalog."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import requests.sessions
from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session

from cfn_gateway.common import openstack_session as sessions

URL = "http://gnocchi.example:8041/v1/batch/resources/metrics/measures"


@pytest.fixture
def environment_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL requests looks proxies up in the environment for."""
    reads: list[str] = []
    original = requests.sessions.get_environ_proxies

    def counted(url: str, no_proxy: Any = None) -> dict[str, str]:
        reads.append(url)
        return original(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    return reads


def test_environment_read_once_per_host_with_the_same_answer(
    monkeypatch: pytest.MonkeyPatch, environment_reads: list[str]
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "keystone.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ca.pem")
    session = sessions.EnvironmentOnceSession()
    expected = requests.Session().merge_environment_settings(URL, {}, None, True, None)
    assert expected["proxies"]["http"] == "http://proxy.example:3128"
    assert expected["verify"] == "/etc/ca.pem"
    environment_reads.clear()
    for path in ("a", "b", "c"):
        assert session.merge_environment_settings(
            f"http://gnocchi.example:8041/{path}", {}, None, True, None) == expected
    assert len(environment_reads) == 1
    bypassed = session.merge_environment_settings(
        "http://keystone.example:5000/v3", {}, None, True, None)
    assert bypassed["proxies"] == {}  # NO_PROXY still applies, per host
    assert len(environment_reads) == 2
    # what a caller gets is its own: changing it does not change the memo
    session.merge_environment_settings(URL, {}, None, True, None)["proxies"].clear()
    assert session.merge_environment_settings(URL, {}, None, True, None) == expected


def test_other_arguments_are_memoised_apart_and_explicit_proxies_not_at_all(
    environment_reads: list[str]
) -> None:
    session = sessions.EnvironmentOnceSession()
    assert session.merge_environment_settings(URL, {}, None, False, None)["verify"] is False
    assert session.merge_environment_settings(URL, {}, None, "/ca.pem", None)["verify"] == (
        "/ca.pem")
    assert len(environment_reads) == 2
    own = {"http": "http://own.example:1"}
    for _ in range(2):
        assert session.merge_environment_settings(URL, own, None, True, None)["proxies"][
            "http"] == "http://own.example:1"
    assert len(environment_reads) == 4


def test_environment_once_keeps_what_keystoneauth_built() -> None:
    session = ks_session.Session()
    adapters = dict(session.session.adapters)
    assert sessions.environment_once(session) is session
    assert type(session.session) is sessions.EnvironmentOnceSession
    assert session.session.adapters == adapters
    assert isinstance(adapters["https://"], ks_session.TCPKeepAliveAdapter)


class CatalogAuth(plugin.BaseAuthPlugin):
    """A token plugin whose catalog lookups are counted; ``auth_ref`` is its token."""

    def __init__(self, url: str | None) -> None:
        super().__init__()
        self.url = url
        self.lookups: list[dict[str, Any]] = []
        self.auth_ref: object | None = object()

    def get_token(self, session: Any, **kwargs: Any) -> str:
        return "token"

    def get_endpoint(self, session: Any, **kwargs: Any) -> str | None:
        self.lookups.append(kwargs)
        return self.url


FILTER = {"service_type": "metric", "interface": "public", "region_name": None}


def test_catalog_endpoint_looked_up_once_per_token() -> None:
    auth = CatalogAuth("http://gnocchi.example:8041")
    session = ks_session.Session(auth=auth)
    for _ in range(3):
        assert sessions.with_catalog_endpoint(session, FILTER) == {
            **FILTER, "endpoint_override": "http://gnocchi.example:8041"}
    assert auth.lookups == [{"service_type": "metric", "interface": "public",
                             "region_name": None}]
    auth.auth_ref, auth.url = object(), "http://gnocchi2.example:8041"  # a new token
    assert sessions.with_catalog_endpoint(session, FILTER)["endpoint_override"] == (
        "http://gnocchi2.example:8041")
    assert len(auth.lookups) == 2
    other = {**FILTER, "interface": "internal"}
    sessions.with_catalog_endpoint(session, other)
    assert len(auth.lookups) == 3
    # another session (another project) has its own
    sessions.with_catalog_endpoint(ks_session.Session(auth=auth), FILTER)
    assert len(auth.lookups) == 4


def test_catalog_endpoint_left_to_keystoneauth_when_it_cannot_be_kept() -> None:
    override = {**FILTER, "endpoint_override": "http://here:1"}
    assert sessions.with_catalog_endpoint(ks_session.Session(), FILTER) == FILTER
    auth = CatalogAuth("http://x:1")
    assert sessions.with_catalog_endpoint(ks_session.Session(auth=auth), override) == override
    assert auth.lookups == []
    missing = CatalogAuth(None)
    assert sessions.with_catalog_endpoint(ks_session.Session(auth=missing), FILTER) == FILTER
    unauthenticated = CatalogAuth("http://x:1")
    unauthenticated.auth_ref = None
    assert sessions.with_catalog_endpoint(
        ks_session.Session(auth=unauthenticated), FILTER) == FILTER


def test_catalog_endpoint_with_a_percent_stays_literal() -> None:
    auth = CatalogAuth("http://gnocchi.example:8041/a%20b")
    session = ks_session.Session(auth=auth)
    override = sessions.with_catalog_endpoint(session, FILTER)["endpoint_override"]
    assert override % {} == "http://gnocchi.example:8041/a%20b"
