"""keystoneauth1 sessions of the gateway's own service user.

``service_session()`` is scoped as ``[service_credentials]`` says (the service project):
it calls Keystone's ``/v3/ec2tokens`` and credentials API.  ``project_session(project_id)``
is the same user scoped to a tenant project: backend calls on behalf of a caller are made
with it, so OpenStack itself confines them to the caller's project.  The service user
needs the ``member`` role on each tenant project for that (see README, OpenStack mode).

Sessions are made once per process and reused (keystoneauth1 renews tokens); the number
of project sessions kept is bounded.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session

from cfn_gateway.config import CONF, SERVICE_CREDENTIALS

MAX_PROJECT_SESSIONS = 1024

_lock = threading.Lock()
_project_sessions: OrderedDict[str, ks_session.Session] = OrderedDict()


@functools.cache
def service_session() -> ks_session.Session:
    auth = ks_loading.load_auth_from_conf_options(CONF, SERVICE_CREDENTIALS)
    return ks_loading.load_session_from_conf_options(CONF, SERVICE_CREDENTIALS, auth=auth)


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
    return ks_loading.load_session_from_conf_options(CONF, SERVICE_CREDENTIALS, auth=auth)


def endpoint_filter(service_type: str) -> dict[str, str | None]:
    """keystoneauth1 ``endpoint_filter`` for an OpenStack service of the catalog."""
    return {
        "service_type": service_type,
        "interface": CONF.openstack.interface,
        "region_name": CONF.openstack.region_name,
    }
