"""Fixtures: a real gateway process per backend, and its callers' credentials.

Every functional test runs twice: against the standalone gateway (SQLite, credentials made
by its own CLI) and against the gateway in OpenStack mode on the test bed (Keystone EC2
credentials, Gnocchi).  A test that cannot pass on one backend yet says so with
``pytest.mark.xfail(reason=...)`` under that backend, never a silent skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.clients import boto3_client
from tests.functional.server import Credentials, GatewayProcess, serving
from tests.testbed import require_testbed

BACKENDS = ["standalone", "openstack"]


def openstack_config(path: Path, testbed: dict) -> Path:
    """A gateway config file for OpenStack mode on the test bed."""
    user = testbed["gateway"]
    path.write_text(
        "[DEFAULT]\nmode = openstack\n\n"
        f"[openstack]\nregion_name = {testbed.get('region', 'RegionOne')}\n"
        "interface = public\n\n"
        "[service_credentials]\nauth_type = password\n"
        f"auth_url = {testbed['auth_url']}\n"
        f"username = {user['username']}\npassword = {user['password']}\n"
        f"project_name = {user['project_name']}\n"
        f"user_domain_name = {user.get('user_domain_name', 'Default')}\n"
        f"project_domain_name = {user.get('project_domain_name', 'Default')}\n"
    )
    return path


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def gateway(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp(f"gateway-{backend}")
    config = None
    if backend == "openstack":
        config = openstack_config(root / "cfn-gateway.conf", require_testbed())
    with serving(root, config) as process:
        yield process


#: The first of the two test bed tenants the functional tests use: tools/run-tests runs them
#: beside tests/openstack, which uses tenants 0 and 1, and gives them 2 and 3.
TENANTS_FROM = int(os.environ.get("CFN_TEST_TENANTS_FROM", "0"))


def tenant_credentials(testbed: dict, index: int) -> Credentials:
    tenant = testbed["tenants"][index]
    return Credentials(tenant["ec2_access"], tenant["ec2_secret"], tenant["project_id"])


@pytest.fixture(scope="session")
def creds(backend: str, gateway: GatewayProcess) -> Credentials:
    if backend == "openstack":
        return tenant_credentials(require_testbed(), TENANTS_FROM)
    return gateway.create_credentials("project-a")


@pytest.fixture(scope="session")
def other_creds(backend: str, gateway: GatewayProcess) -> Credentials:
    if backend == "openstack":
        return tenant_credentials(require_testbed(), TENANTS_FROM + 1)
    return gateway.create_credentials("project-b")


@pytest.fixture
def namespace() -> str:
    """A namespace no other test writes to."""
    return f"Test/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def autoscaling(gateway: GatewayProcess, creds: Credentials):
    """A boto3 Auto Scaling client of the first tenant."""
    return boto3_client("autoscaling", gateway.endpoint, creds)

