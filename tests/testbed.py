"""Where the OpenStack test bed (tools/testbed/up.sh) left its facts, for tests.

``TESTBED_DIR`` (default ``<repo>/.testbed``) holds ``testbed.json``.  Without it the
OpenStack-mode tests are skipped with a visible reason, unless ``CFN_REQUIRE_TESTBED=1``
(CI sets it), which turns a missing test bed into a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def testbed_dir() -> Path:
    return Path(os.environ.get("TESTBED_DIR", ROOT / ".testbed"))


def load_testbed() -> dict[str, Any] | None:
    path = testbed_dir() / "testbed.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def require_testbed() -> dict[str, Any]:
    """The test bed's facts, or a visible skip (a failure when CI requires it)."""
    testbed = load_testbed()
    if testbed is not None:
        return testbed
    reason = (f"OpenStack test bed not running ({testbed_dir()}/testbed.json missing): "
              "start it with tools/testbed/up.sh")
    if os.environ.get("CFN_REQUIRE_TESTBED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@contextlib.contextmanager
def service_user_conf(testbed: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """CONF set for the gateway's service user of the test bed (its sessions made anew),
    and put back afterwards."""
    from keystoneauth1 import loading as ks_loading

    from cfn_gateway.common import openstack_session
    from cfn_gateway.config import CONF, SERVICE_CREDENTIALS

    user = testbed["gateway"]
    CONF.register_opts(ks_loading.get_auth_plugin_conf_options("password"),
                       group=SERVICE_CREDENTIALS)
    overrides = {
        "auth_type": "password", "auth_url": testbed["auth_url"],
        "username": user["username"], "password": user["password"],
        "project_name": user["project_name"],
        "user_domain_name": user.get("user_domain_name", "Default"),
        "project_domain_name": user.get("project_domain_name", "Default"),
    }
    for name, value in overrides.items():
        CONF.set_override(name, value, SERVICE_CREDENTIALS)
    CONF.set_override("region_name", testbed.get("region"), "openstack")
    openstack_session.service_session.cache_clear()
    openstack_session._project_sessions.clear()
    try:
        yield testbed
    finally:
        for name in overrides:
            CONF.clear_override(name, SERVICE_CREDENTIALS)
        CONF.clear_override("region_name", "openstack")
        openstack_session.service_session.cache_clear()
        openstack_session._project_sessions.clear()
