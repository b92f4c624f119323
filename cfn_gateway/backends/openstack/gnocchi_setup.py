"""Idempotent creation of the Gnocchi schema the metric driver needs (``gnocchi_schema``).

Who may create it (Gnocchi 4.7 policy defaults): ``create archive policy`` and ``create
resource type`` are ``role:admin or role:service``.  The gateway's service user holds the
``service`` role on its service project, so the driver creates everything itself on first
use with that session (``[gnocchi] auto_setup``, the default).  Where operators keep that
role from the gateway, an admin runs the same code once::

    python -m cfn_gateway.backends.openstack.gnocchi_setup --config-file admin.conf

(a gateway configuration whose ``[service_credentials]`` are an admin's), or calls
``ensure_schema(session)`` with an admin's keystoneauth1 session.  With ``auto_setup =
false`` the driver only checks that the schema exists (reading it needs no role).

Existing policies are never changed: one that differs from the definition (for example a
back window too short to keep late data) is reported in the log.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from gnocchiclient import exceptions as g_exc
from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.backends.openstack.gnocchi_api import GnocchiAPI

LOG = logging.getLogger(__name__)

RESOURCE_TYPE_WAIT = 120.0  # seconds another process may spend creating the type


class SchemaMissing(errors.ServiceUnavailable):
    """Gnocchi lacks the driver's archive policies or resource type."""


def _seconds(value: Any) -> float:
    """Seconds of a number or of Gnocchi's rendering of a timedelta ("15 days, 3:00:00")."""
    if isinstance(value, int | float):
        return float(value)
    text, days = str(value), 0
    if "day" in text:
        count, _, text = text.partition(" day")
        days, text = int(count), text.partition(", ")[2] or "0:00:00"
    hours, minutes, seconds = text.split(":")
    return days * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _same_policy(found: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def grid(policy: dict[str, Any]) -> list[tuple[float, float]]:
        return sorted((_seconds(d["granularity"]), _seconds(d["timespan"]))
                      for d in policy["definition"])

    return (found.get("back_window", 0) >= wanted["back_window"]
            and set(found.get("aggregation_methods", ())) >= set(wanted["aggregation_methods"])
            and grid(found) == grid(wanted))


def _ensure_policy(api: GnocchiAPI, wanted: dict[str, Any], create: bool) -> None:
    path = f"v1/archive_policy/{wanted['name']}"
    try:
        found = api.call("GET", path, handled=(g_exc.NotFound,))
    except g_exc.NotFound:
        if not create:
            raise SchemaMissing(f"archive policy {wanted['name']} is missing") from None
        try:
            api.call("POST", "v1/archive_policy", json=wanted, handled=(g_exc.Conflict,))
            LOG.info("created Gnocchi archive policy %s", wanted["name"])
        except g_exc.Conflict:
            pass  # another gateway process made it meanwhile
        return
    if not _same_policy(found, wanted):
        LOG.error("Gnocchi archive policy %s differs from the gateway's definition %s; "
                  "data may be dropped or kept differently than CloudWatch does",
                  wanted["name"], wanted)


def _type_state(api: GnocchiAPI) -> dict[str, Any] | None:
    try:
        return api.call("GET", f"v1/resource_type/{schema.RESOURCE_TYPE}",
                        handled=(g_exc.NotFound,))
    except g_exc.NotFound:
        return None


def _ensure_resource_type(api: GnocchiAPI, create: bool) -> None:
    wanted = schema.resource_type()
    found = _type_state(api)
    if found is None:
        if not create:
            raise SchemaMissing(f"resource type {schema.RESOURCE_TYPE} is missing")
        try:
            found = api.call("POST", "v1/resource_type", json=wanted,
                             handled=(g_exc.Conflict,))
            LOG.info("created Gnocchi resource type %s", schema.RESOURCE_TYPE)
        except g_exc.Conflict:
            found = _type_state(api)
    deadline = time.monotonic() + RESOURCE_TYPE_WAIT
    while found is not None and found.get("state") == "creating":
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        found = _type_state(api)
    if found is None or found.get("state") != "active":
        raise SchemaMissing(f"resource type {schema.RESOURCE_TYPE} is not usable: {found}")
    missing = set(wanted["attributes"]) - set(found.get("attributes", {}))
    if missing:
        raise SchemaMissing(f"resource type {schema.RESOURCE_TYPE} lacks {sorted(missing)}")


def ensure_schema(session: ks_session.Session, endpoint_filter: dict[str, Any] | None = None,
                  create: bool = True, timeout: float | None = None) -> None:
    """Make (or, with ``create=False``, check) every policy and the resource type."""
    api = GnocchiAPI(session, endpoint_filter or {"service_type": "metric"}, timeout)
    for policy in schema.archive_policies():
        _ensure_policy(api, policy, create)
    _ensure_resource_type(api, create)


def main(argv: list[str] | None = None) -> int:
    """Create the schema with ``[service_credentials]`` of the given configuration."""
    from cfn_gateway.common.openstack_session import endpoint_filter, service_session
    from cfn_gateway.config import CONF

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    CONF(sys.argv[1:] if argv is None else argv, project="cfn-gateway")
    ensure_schema(service_session(), endpoint_filter("metric"))
    print(f"Gnocchi schema ready: {len(schema.archive_policies())} archive policies, "
          f"resource type {schema.RESOURCE_TYPE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
