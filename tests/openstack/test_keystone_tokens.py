"""Keystone-token callers end to end: a gateway in OpenStack mode on the test bed, called by
unsigned boto3 clients that carry a tenant user's real Keystone token in X-Auth-Token (as
Heat resource plugins will call it), over JSON and over Query, CloudWatch and Auto Scaling.

The token's project is the caller's: what a tenant writes with its token, its EC2-signed
client reads back, and the other tenant's token does not see.  Garbage, unscoped and
system-scoped tokens are refused by the real Keystone's answers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.functional.clients import REGION, boto3_client
from tests.functional.conftest import openstack_config, tenant_credentials
from tests.functional.server import GatewayProcess, serving
from tests.protocol_models import write_protocol_model
from tests.testbed import require_testbed

pytestmark = pytest.mark.functional
UNSIGNED = Config(signature_version=botocore.UNSIGNED,
                  retries={"max_attempts": 1, "mode": "standard"})
INVALID = "The security token included in the request is invalid."


@pytest.fixture(scope="module")
def testbed() -> dict[str, Any]:
    return require_testbed()


@pytest.fixture(scope="module")
def gateway(testbed, tmp_path_factory) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp("token-gateway")
    with serving(root, openstack_config(root / "gw.conf", testbed)) as process:
        yield process


def keystone_token(testbed: dict[str, Any], tenant: int, scope: str = "project") -> str:
    """A real token of the test bed tenant's user (keystoneauth1 v3.Password); ``scope``
    ``system`` is the gateway's service user's (a system reader on the test bed), the only
    user of the test bed with a role beyond projects."""
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    user = testbed["tenants"][tenant]
    username = user["user"]
    scoping: dict[str, Any] = {"project_id": user["project_id"]}
    if scope == "unscoped":
        scoping = {"unscoped": True}
    elif scope == "system":
        user, username, scoping = testbed["gateway"], testbed["gateway"]["username"], {
            "system_scope": "all"}
    auth = v3.Password(auth_url=testbed["auth_url"], username=username,
                       password=user["password"], user_domain_name="Default", **scoping)
    return ks_session.Session(auth=auth).get_token()


@pytest.fixture(scope="module")
def token_a(testbed) -> str:
    return keystone_token(testbed, 0)


@pytest.fixture(scope="module")
def token_b(testbed) -> str:
    return keystone_token(testbed, 1)


def with_token(client: Any, token: str, event: str = "before-sign") -> Any:
    """``client`` sending ``X-Auth-Token: token`` on every request."""
    def add_token(request: Any, **kwargs: Any) -> None:
        request.headers["X-Auth-Token"] = token

    client.meta.events.register(event, add_token)
    return client


def token_client(service: str, endpoint: str, token: str, data_path: Path | None = None):
    """An unsigned boto3 client carrying ``token`` (``data_path``: its models first)."""
    session = botocore.session.Session()
    if data_path is not None:
        session.get_component("data_loader").search_paths.insert(0, str(data_path))
    client = boto3.Session(botocore_session=session).client(
        service, endpoint_url=endpoint, region_name=REGION, config=UNSIGNED)
    return with_token(client, token)


def unique(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


def eventually(probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def metric_names(client: Any, namespace: str) -> list[str]:
    return sorted(m["MetricName"] for m in client.list_metrics(Namespace=namespace)["Metrics"])


def put_and_read(client: Any, namespace: str) -> None:
    """PutMetricData, then ListMetrics and GetMetricStatistics see the datum."""
    now = datetime.now(UTC).replace(microsecond=0)
    client.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Load", "Value": 42.0, "Unit": "Count", "Timestamp": now}])
    assert eventually(lambda: metric_names(client, namespace)) == ["Load"]

    def statistics() -> list[dict[str, Any]]:
        return client.get_metric_statistics(
            Namespace=namespace, MetricName="Load", StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=1), Period=60, Statistics=["Sum", "SampleCount"],
        )["Datapoints"]

    points = eventually(statistics)
    assert [(p["Sum"], p["SampleCount"], p["Unit"]) for p in points] == [(42.0, 1.0, "Count")]


def refusal(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


# --- CloudWatch --------------------------------------------------------------------------


def test_json_put_and_read_with_a_token_in_the_tokens_project(gateway, testbed, token_a,
                                                              token_b):
    namespace = unique("Token/json")
    put_and_read(token_client("cloudwatch", gateway.endpoint, token_a), namespace)
    signed_a = boto3_client("cloudwatch", gateway.endpoint, tenant_credentials(testbed, 0))
    assert metric_names(signed_a, namespace) == ["Load"]  # the token's project is tenant A's
    other = token_client("cloudwatch", gateway.endpoint, token_b)
    assert metric_names(other, namespace) == []  # tenant B's token sees none of it


def test_query_put_and_read_with_a_token(gateway, testbed, token_a, token_b, tmp_path):
    models = write_protocol_model(tmp_path, "query")
    namespace = unique("Token/query")
    client = token_client("cloudwatch", gateway.endpoint, token_a, models)
    assert client.meta.service_model.protocol == "query"
    put_and_read(client, namespace)
    assert metric_names(token_client("cloudwatch", gateway.endpoint, token_b, models),
                        namespace) == []


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_a_garbage_token_is_invalid_client_token_id(gateway, protocol, tmp_path):
    models = None if protocol == "json" else write_protocol_model(tmp_path, protocol)
    client = token_client("cloudwatch", gateway.endpoint, "gAAAAABgarbage-" + "x" * 180,
                          models)
    error = refusal(lambda: client.list_metrics())
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Code"] == "InvalidClientTokenId"
    assert error.response["Error"]["Message"] == INVALID


@pytest.mark.parametrize("scope", ["unscoped", "system"])
def test_a_token_not_scoped_to_a_project_is_refused(gateway, testbed, scope):
    token = keystone_token(testbed, 0, scope)
    error = refusal(lambda: token_client("cloudwatch", gateway.endpoint, token).list_metrics())
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Code"] == "InvalidClientTokenId"
    assert "project-scoped" in error.response["Error"]["Message"]


def test_without_token_or_signature_authentication_is_missing(gateway):
    client = boto3.client("cloudwatch", endpoint_url=gateway.endpoint, region_name=REGION,
                          config=UNSIGNED)
    error = refusal(lambda: client.list_metrics())
    assert error.response["Error"]["Code"] == "MissingAuthenticationToken"


def test_a_signed_request_ignores_its_token(gateway, testbed, token_b):
    namespace = unique("Token/signed")
    signed_a = boto3_client("cloudwatch", gateway.endpoint, tenant_credentials(testbed, 0))
    with_token(signed_a, token_b, event="before-send")  # added after signing
    signed_a.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M",
                                                               "Value": 1.0}])
    assert eventually(lambda: metric_names(signed_a, namespace)) == ["M"]
    assert metric_names(token_client("cloudwatch", gateway.endpoint, token_b),
                        namespace) == []  # written as tenant A, the signer, not B
    with_token(signed_a, "gAAAAABgarbage", event="before-send")
    assert metric_names(signed_a, namespace) == ["M"]  # a bad token does not matter either


# --- Auto Scaling --------------------------------------------------------------------------


def test_auto_scaling_with_a_token(gateway, testbed, token_a, token_b):
    client = token_client("autoscaling", gateway.endpoint, token_a)
    assert isinstance(client.describe_auto_scaling_groups()["AutoScalingGroups"], list)
    name = unique("token-lc").replace("/", "-")
    client.create_launch_configuration(LaunchConfigurationName=name, ImageId="cirros",
                                       InstanceType="m1.tiny")
    try:
        def names(c: Any) -> list[str]:
            return [lc["LaunchConfigurationName"] for lc in c.describe_launch_configurations(
                LaunchConfigurationNames=[name])["LaunchConfigurations"]]

        assert names(client) == [name]
        assert names(boto3_client("autoscaling", gateway.endpoint,
                                  tenant_credentials(testbed, 0))) == [name]
        assert names(token_client("autoscaling", gateway.endpoint, token_b)) == []
    finally:
        client.delete_launch_configuration(LaunchConfigurationName=name)
    error = refusal(lambda: token_client("autoscaling", gateway.endpoint, "garbage")
                    .describe_auto_scaling_groups())
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Code"] == "InvalidClientTokenId"


def test_tokens_never_reach_the_gateways_log(gateway, token_a):
    garbage = "gAAAAABnever-logged-" + uuid.uuid4().hex
    token_client("cloudwatch", gateway.endpoint, token_a).list_metrics(Namespace="Token/log")
    refusal(lambda: token_client("cloudwatch", gateway.endpoint, garbage).list_metrics())
    log = gateway.log_text()
    assert "status=403" in log  # the refusal was logged ...
    assert token_a not in log and garbage not in log  # ... without the token
