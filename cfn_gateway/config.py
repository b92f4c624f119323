"""Every option of the gateway, oslo.config style, with defaults that work out of the box.

``CONF`` is the process-wide option registry.  ``cfn-gateway serve`` fills it from the
command line and an optional config file before the paste pipeline is built; the filters
and the app read it when the pipeline is built.  ``etc/cfn-gateway.conf.sample`` is
generated from these definitions (``oslo-config-generator --namespace cfn_gateway``).
"""

from __future__ import annotations

import os

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

DEFAULT_DATA_DIR = "./cfn-gateway-data"

server_opts = [
    cfg.StrOpt("host", default="127.0.0.1", help="Address the gateway listens on."),
    cfg.PortOpt("port", default=8080, help="Port the gateway listens on (both services)."),
    cfg.IntOpt("workers", default=2, min=1, help="Worker processes of the WSGI server."),
    cfg.StrOpt(
        "data_dir",
        default=DEFAULT_DATA_DIR,
        help="Folder of the embedded SQLite stores (metrics, credentials) in standalone mode.",
    ),
    cfg.StrOpt(
        "api_paste_config",
        default="",
        help="The paste.deploy pipeline; empty means the api-paste.ini shipped with the "
        "gateway.",
    ),
    cfg.StrOpt(
        "mode",
        default="standalone",
        choices=["standalone", "openstack"],
        help="standalone: embedded SQLite store and local credentials; openstack: Keystone, "
        "Gnocchi, Aodh and Heat.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=1024 * 1024,
        min=1024,
        help="Largest request body accepted, in bytes, as sent (AWS accepts 1 MB for "
        "PutMetricData).",
    ),
    cfg.IntOpt(
        "max_decompressed_body_size",
        default=8 * 1024 * 1024,
        min=1024,
        help="Largest body accepted after gzip Content-Encoding is undone.",
    ),
    cfg.IntOpt(
        "signature_max_skew",
        default=900,
        min=1,
        help="Seconds a signed request's timestamp may differ from the gateway's clock.",
    ),
]

# OpenStack mode: the gateway's own service user (keystoneauth1 options: auth_type,
# auth_url, username, password, project_name, user_domain_name, project_domain_name, ...).
SERVICE_CREDENTIALS = "service_credentials"

openstack_opts = [
    cfg.StrOpt("region_name", help="Region of the OpenStack endpoints to use."),
    cfg.StrOpt(
        "interface",
        default="public",
        choices=["public", "internal", "admin"],
        help="Endpoint interface of the OpenStack services.",
    ),
]

CONF = cfg.CONF
CONF.register_opts(server_opts)
CONF.register_opts(openstack_opts, group="openstack")
ks_loading.register_session_conf_options(CONF, SERVICE_CREDENTIALS)
ks_loading.register_auth_conf_options(CONF, SERVICE_CREDENTIALS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """Entry point for oslo-config-generator."""
    service_credentials = (
        ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options("password")
    )
    return [(None, server_opts), ("openstack", openstack_opts),
            (SERVICE_CREDENTIALS, service_credentials)]


def data_path(name: str) -> str:
    """A file inside the configured data folder."""
    return os.path.join(os.path.abspath(CONF.data_dir), name)
