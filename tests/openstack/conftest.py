"""Fixtures of the tests of the gateway's Heat resource plugin: the gateway on the port
heat-engine's plugin calls (``[cfn_gateway] url`` on the test bed), a tenant's heatclient,
the stacks of a test, deleted at its end, and the heartbeat alarms one module leaves to a
later one (``stopped_heartbeats``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from heatclient import client as heat_client
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.alarm_support import delete_all_alarms
from tests.functional.clients import boto3_client
from tests.functional.conftest import openstack_config, tenant_credentials
from tests.functional.server import GatewayProcess, serving
from tests.openstack.heat_stacks import Stacks
from tests.testbed import require_testbed


@pytest.fixture(scope="module")
def heat_testbed() -> dict[str, Any]:
    """The test bed, with heat-engine's gateway plugin and Heat's CloudFormation API."""
    testbed = require_testbed()
    if "heat_plugin_gateway_port" not in testbed or "heat_cfn" not in testbed["endpoints"]:
        pytest.fail("the test bed predates the Heat plugin: run tools/testbed/up.sh")
    return testbed


@pytest.fixture(scope="module")
def plugin_gateway(heat_testbed, tmp_path_factory) -> Iterator[GatewayProcess]:
    """An OpenStack-mode gateway where heat-engine's plugin calls it, which knows Heat's
    stack user domain (by name) as a deployment beside Heat does."""
    root = tmp_path_factory.mktemp("heat-plugin-gateway")
    config = openstack_config(root / "gw.conf", heat_testbed)
    domain = heat_testbed.get("stack_user_domain", {}).get("name")
    if domain:
        with config.open("a") as out:
            out.write(f"\n[heat]\nstack_user_domain = {domain}\n")
    with serving(root, config,
                 port=heat_testbed["heat_plugin_gateway_port"]) as process:
        yield process


@dataclass(frozen=True)
class StoppedHeartbeats:
    """A heartbeat alarm whose stack one test made and whose heartbeats it stopped at
    ``stopped_at`` (epoch seconds), for a later module to see the alarm fire: waiting for
    it there costs nothing, the tests in between run meanwhile."""

    alarm: str
    stack_id: str
    stopped_at: float


@pytest.fixture(scope="session")
def stopped_heartbeats() -> Iterator[list[StoppedHeartbeats]]:
    handed_over: list[StoppedHeartbeats] = []
    yield handed_over
    if handed_over:  # the later module did not run (a selection): delete the stacks here
        stacks = Stacks(tenant_heat(require_testbed()))
        for left in handed_over:
            stacks.delete(left.stack_id)


@pytest.fixture(scope="module")
def plugin_cw(plugin_gateway, heat_testbed, stopped_heartbeats):
    """The tenant's CloudWatch client (its EC2 keys) of the plugin's gateway."""
    client = boto3_client("cloudwatch", plugin_gateway.endpoint,
                          tenant_credentials(heat_testbed, 0))
    yield client
    delete_all_alarms(client, keep={left.alarm for left in stopped_heartbeats})


def tenant_heat(testbed: dict[str, Any]):
    """Tenant 0's heatclient."""
    tenant = testbed["tenants"][0]
    auth = v3.Password(auth_url=testbed["auth_url"], username=tenant["user"],
                       password=tenant["password"], user_domain_name="Default",
                       project_id=tenant["project_id"])
    return heat_client.Client("1", session=ks_session.Session(auth=auth))


@pytest.fixture(scope="module")
def heat(heat_testbed, plugin_gateway):
    """The tenant's heatclient (stacks are made once the plugin's gateway answers)."""
    return tenant_heat(heat_testbed)


@pytest.fixture
def stacks(heat) -> Iterator[Stacks]:
    made = Stacks(heat)
    yield made
    for stack_id in list(made.made):
        made.delete(stack_id)
