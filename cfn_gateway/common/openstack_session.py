"""keystoneauth1 sessions of the gateway's own service user.

``service_session()`` is scoped as ``[service_credentials]`` says (the service project):
it calls Keystone's ``/v3/ec2tokens`` and credentials API.  ``project_session(project_id)``
is the same user scoped to a tenant project: backend calls on behalf of a caller are made
with it, so OpenStack itself confines them to the caller's project.  The service user
needs the ``member`` role on each tenant project for that (see README, OpenStack mode).

Sessions are made once per process and reused (keystoneauth1 renews tokens); the number
of project sessions kept is bounded.

Two per-request costs of keystoneauth1 and requests are paid once instead (measured with
bench/openstack_rate.py: together ~0.55 ms of CPU of the ~3.5 ms a one-datum PutMetricData
costs the gateway in OpenStack mode): requests' scan of the environment for proxies and CA
bundles (``EnvironmentOnceSession``), and keystoneauth1's service catalog lookup, which
deep-copies the catalog on every call (``with_catalog_endpoint``).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import requests
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session

from cfn_gateway.config import CONF, SERVICE_CREDENTIALS

MAX_PROJECT_SESSIONS = 1024
_MAX_MEMO = 256

_lock = threading.Lock()
_project_sessions: OrderedDict[str, ks_session.Session] = OrderedDict()


class EnvironmentOnceSession(requests.Session):
    """A ``requests.Session`` that reads the environment's proxy and CA bundle settings once
    per (URL scheme and host, arguments), not on every request.

    requests scans every environment variable twice per request for proxies
    (``merge_environment_settings``), ~0.3 ms of CPU each time; a server's environment does
    not change while it runs.  Requests that pass proxies of their own are not memoised.
    """

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        if proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        try:
            split = urlsplit(url)
            key = (split.scheme, split.netloc, self.trust_env, stream, verify, cert,
                   tuple(sorted(self.proxies.items())), self.stream, self.verify, self.cert)
            hash(key)
        except (TypeError, ValueError):  # something unhashable: no memo
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        memo: dict[Any, dict[str, Any]] = self.__dict__.setdefault("_cfngw_environment", {})
        settings = memo.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, stream, verify, cert)
            if len(memo) >= _MAX_MEMO:
                memo.clear()
            memo[key] = settings
        return {**settings, "proxies": dict(settings["proxies"])}


def environment_once(session: ks_session.Session) -> ks_session.Session:
    """``session`` with its requests session (as keystoneauth1 built it: TLS options,
    TCP keep-alive adapters) turned into an ``EnvironmentOnceSession``."""
    if type(session.session) is requests.Session:
        session.session.__class__ = EnvironmentOnceSession
    return session


# (service type, interface, region) -> (the token's AccessInfo, its catalog URL), per session
_catalog: weakref.WeakKeyDictionary[ks_session.Session, dict[tuple[Any, ...], tuple[Any, str]]]
_catalog = weakref.WeakKeyDictionary()


def with_catalog_endpoint(session: ks_session.Session,
                          endpoint_filter: dict[str, Any]) -> dict[str, Any]:
    """``endpoint_filter`` plus ``endpoint_override``: the URL keystoneauth1 would find in
    the catalog of ``session``'s current token, looked up once per token.

    keystoneauth1 looks the endpoint up in the catalog on every request, deep-copying the
    catalog each time (~0.3 ms of CPU).  The URL is the same as long as the token is (a new
    token, after expiry or invalidation, is looked up anew).  Unchanged when the filter
    already has an ``endpoint_override``, when ``session`` has no token plugin, or when the
    catalog has no such endpoint (keystoneauth1 then reports it on the request itself).
    """
    auth = session.auth
    if endpoint_filter.get("endpoint_override") or auth is None:
        return endpoint_filter
    key = tuple(sorted((k, v) for k, v in endpoint_filter.items() if v is not None))
    with _lock:
        known = _catalog.get(session, {}).get(key)
    access = getattr(auth, "auth_ref", None)
    if known is not None and access is not None and known[0] is access:
        url = known[1]
    else:
        url = session.get_endpoint(**endpoint_filter)  # authenticates if need be
        access = getattr(auth, "auth_ref", None)
        if not url or access is None:
            return endpoint_filter
        with _lock:
            _catalog.setdefault(session, {})[key] = (access, url)
    # keystoneauth1 %-formats an endpoint_override (%(project_id)s ...): keep it literal
    return {**endpoint_filter, "endpoint_override": url.replace("%", "%%")}


@functools.cache
def service_session() -> ks_session.Session:
    auth = ks_loading.load_auth_from_conf_options(CONF, SERVICE_CREDENTIALS)
    return environment_once(
        ks_loading.load_session_from_conf_options(CONF, SERVICE_CREDENTIALS, auth=auth))


def project_session(project_id: str) -> ks_session.Session:
    """The service user's session scoped to ``project_id``."""
    with _lock:
        session = _project_sessions.get(project_id)
        if session is not None:
            _project_sessions.move_to_end(project_id)
            return session
    session = _new_project_session(project_id)
    with _lock:
        _project_sessions[project_id] = session
        while len(_project_sessions) > MAX_PROJECT_SESSIONS:
            _project_sessions.popitem(last=False)
    return session


def _new_project_session(project_id: str) -> ks_session.Session:
    service_session()  # registers the password plugin's options in the group
    group = getattr(CONF, SERVICE_CREDENTIALS)
    loader = ks_loading.get_plugin_loader("password")
    auth = loader.load_from_options(
        auth_url=group.auth_url,
        username=group.username,
        password=group.password,
        user_domain_name=group.user_domain_name,
        user_domain_id=group.user_domain_id,
        project_id=project_id,
    )
    return environment_once(
        ks_loading.load_session_from_conf_options(CONF, SERVICE_CREDENTIALS, auth=auth))


def endpoint_filter(service_type: str) -> dict[str, str | None]:
    """keystoneauth1 ``endpoint_filter`` for an OpenStack service of the catalog."""
    return {
        "service_type": service_type,
        "interface": CONF.openstack.interface,
        "region_name": CONF.openstack.region_name,
    }
