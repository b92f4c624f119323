"""Start-up checks of ``cfn-gateway serve``: does the configured mode have what it needs?

A gateway that starts without what its mode needs would answer every request with a 500;
``serve`` runs these checks first and exits with a message saying what to install or fix.

- standalone: the data folder can be created and written.
- openstack: the ``openstack`` extra's client packages are installed; ``[service_credentials]``
  names a usable keystoneauth1 plugin; Keystone answers and accepts those credentials; the
  catalog has the services the gateway calls (Gnocchi's ``metric``, Aodh's ``alarming``).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile

from cfn_gateway.common.private_files import private_folder
from cfn_gateway.config import CONF, SERVICE_CREDENTIALS

#: Modules of the ``openstack`` extra (setup.py), with the distribution that provides each.
OPENSTACK_PACKAGES = {
    "keystoneclient": "python-keystoneclient",
    "gnocchiclient": "gnocchiclient",
    "aodhclient": "aodhclient",
    "heatclient": "python-heatclient",
}
#: Catalog service types the gateway calls in OpenStack mode.
OPENSTACK_SERVICE_TYPES = {"metric": "Gnocchi", "alarming": "Aodh"}
INSTALL_HINT = "pip install 'cfn-gateway[openstack]'"


class StartupError(Exception):
    """What keeps the gateway from serving, worded for the operator."""


def check() -> None:
    """Raise ``StartupError`` when the configured mode cannot serve."""
    check_data_dir()
    if CONF.mode == "openstack":
        check_openstack_packages()
        check_keystone()


def check_data_dir() -> None:
    folder = os.path.abspath(CONF.data_dir)
    try:
        private_folder(folder)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise StartupError(
            f"the data folder {folder} cannot be created or written ({exc.strerror}); "
            "give another one with --data-dir or data_dir in the config file") from None


def missing_openstack_packages() -> list[str]:
    return [dist for module, dist in OPENSTACK_PACKAGES.items()
            if importlib.util.find_spec(module) is None]


def check_openstack_packages() -> None:
    missing = missing_openstack_packages()
    if missing:
        raise StartupError(
            f"mode = openstack needs the openstack extra, and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {INSTALL_HINT}")


def check_keystone() -> None:
    """A token for the service user, and the catalog entries the gateway needs."""
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import loading as ks_loading

    from cfn_gateway.common.openstack_session import endpoint_filter

    group = getattr(CONF, SERVICE_CREDENTIALS)
    try:
        auth = ks_loading.load_auth_from_conf_options(CONF, SERVICE_CREDENTIALS)
    except ks_exc.ClientException as exc:
        raise StartupError(f"[{SERVICE_CREDENTIALS}] is incomplete: {exc}") from None
    if auth is None:
        raise StartupError(
            f"[{SERVICE_CREDENTIALS}] names no auth_type: mode = openstack needs the "
            "gateway's service user (auth_type = password, auth_url, username, password, "
            "project_name, ...; see etc/cfn-gateway.conf.sample)")
    session = ks_loading.load_session_from_conf_options(
        CONF, SERVICE_CREDENTIALS, auth=auth)
    if session.timeout is None:  # never wait forever for a Keystone that does not answer
        session.timeout = CONF.keystone_ec2.timeout
    where = getattr(group, "auth_url", None) or "the configured auth_url"
    try:
        session.get_token()
        for service_type, name in OPENSTACK_SERVICE_TYPES.items():
            if not session.get_endpoint(**endpoint_filter(service_type)):
                raise StartupError(
                    f"Keystone's catalog has no {service_type} endpoint ({name}) for "
                    f"interface {CONF.openstack.interface!r} and region "
                    f"{CONF.openstack.region_name!r}")
    except ks_exc.EndpointNotFound as exc:
        raise StartupError(f"Keystone's catalog lacks an endpoint the gateway needs: {exc}"
                           ) from None
    except ks_exc.Unauthorized:
        raise StartupError(
            f"Keystone at {where} refused the service credentials of "
            f"[{SERVICE_CREDENTIALS}] (user {getattr(group, 'username', None)!r}): check "
            "the user name, password, domain and project") from None
    except (ks_exc.ConnectionError, ks_exc.DiscoveryFailure) as exc:
        raise StartupError(f"Keystone at {where} cannot be reached: {exc}") from None
    except ks_exc.ClientException as exc:
        raise StartupError(f"Keystone at {where} failed the service user's log-in: {exc}"
                           ) from None
