"""The EC2 keys Heat hands to a stack's servers, at the gateway: real Heat, Keystone, Aodh.

A stack with an ``AWS::IAM::User`` and its ``AWS::IAM::AccessKey`` gets a user in Heat's
stack user domain whose EC2 credential is scoped to the stack's own project there
(``<owner project id>-<stack id>``).  The plugin's gateway knows that domain (``[heat]
stack_user_domain``, ``conftest.plugin_gateway``), so the key acts in the stack owner's
project: its PutMetricData lands there, an ``AlarmName`` that is the logical name of the
stack's alarm (what ``cfn-push-stats --watch {Ref: Alarm}`` sends on Heat 27) names the
gateway's alarm, which Aodh then evaluates with the gateway's rule type; every other action
is AccessDenied.  The last test runs the real cfn-push-stats with that key
(``tests/functional/test_cfn_push_stats.PushStats``: a private namespace, port 8003 relayed
to the gateway).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.functional.clients import boto3_client
from tests.functional.server import Credentials
from tests.functional.test_cfn_push_stats import PushStats
from tests.openstack.heat_stacks import Stacks, agent_sandbox, output, wait_for

pytestmark = pytest.mark.functional

NAMESPACE = "system/linux"
LOGICAL_NAME = "HeartbeatAlarm"
WAIT = 60.0

TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "ServerUser": {"Type": "AWS::IAM::User"},
        "ServerKeys": {"Type": "AWS::IAM::AccessKey",
                       "Properties": {"UserName": {"Ref": "ServerUser"}}},
        LOGICAL_NAME: {"Type": "OS::CfnGateway::Alarm", "Properties": {
            "AlarmDescription": "Heartbeats arrive",
            "MetricName": "Heartbeat", "Namespace": NAMESPACE, "Statistic": "SampleCount",
            "Period": "60", "EvaluationPeriods": "1", "Threshold": "1",
            "ComparisonOperator": "GreaterThanOrEqualToThreshold"}},
    },
    "Outputs": {
        "AccessKey": {"Value": {"Ref": "ServerKeys"}},
        "SecretKey": {"Value": {"Fn::GetAtt": ["ServerKeys", "SecretAccessKey"]}},
        "AlarmName": {"Value": {"Ref": LOGICAL_NAME}},
    },
}


@pytest.fixture(scope="module")
def stack(heat, heat_testbed) -> Iterator[Any]:
    """The stack (made once for the module), deleted at the end."""
    made = Stacks(heat)
    if "stack_user_domain" not in heat_testbed:
        pytest.fail("the test bed has no stack user domain: run tools/testbed/up.sh")
    try:
        yield made.create(TEMPLATE)
    finally:
        for stack_id in list(made.made):
            made.delete(stack_id)


@pytest.fixture(scope="module")
def stack_user(stack, heat_testbed) -> Credentials:
    return Credentials(output(stack, "AccessKey"), output(stack, "SecretKey"),
                       stack_user_project(heat_testbed, stack.id)["id"])


@pytest.fixture(scope="module")
def stack_user_cw(plugin_gateway, stack_user):
    return boto3_client("cloudwatch", plugin_gateway.endpoint, stack_user)


def admin_session(testbed: dict[str, Any]) -> ks_session.Session:
    admin = testbed["admin"]
    return ks_session.Session(auth=v3.Password(
        auth_url=testbed["auth_url"], username=admin["username"], password=admin["password"],
        user_domain_name="Default", project_name=admin["project_name"],
        project_domain_name="Default"))


def stack_user_project(testbed: dict[str, Any], stack_id: str) -> dict[str, Any]:
    """The stack's project in the stack user domain, as Heat named it."""
    owner = testbed["tenants"][0]["project_id"]
    name = f"{owner}-{stack_id}"[:64]
    found = admin_session(testbed).get(
        f"{testbed['auth_url']}/projects",
        params={"domain_id": testbed["stack_user_domain"]["id"], "name": name}).json()
    assert len(found["projects"]) == 1, found
    return found["projects"][0]


def gnocchi_metrics_of(testbed: dict[str, Any], project_id: str) -> list[dict[str, Any]]:
    """The gateway's Gnocchi resources of ``project_id`` (read as the cloud's admin)."""
    session = admin_session(testbed)
    response = session.post(
        f"{testbed['endpoints']['gnocchi']}/v1/search/resource/cfn_gateway_metric",
        json={"=": {"project_id": project_id}}, raise_exc=False)
    assert response.status_code == 200, response.text
    return response.json()


def previous_minute() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)


def watched(cw, instance_id: str) -> list[dict[str, Any]]:
    return cw.list_metrics(Namespace=NAMESPACE, Dimensions=[
        {"Name": "InstanceId", "Value": instance_id}])["Metrics"]


def test_the_stack_users_data_feeds_the_stacks_alarm_in_the_owners_project(
        stack, stack_user, stack_user_cw, plugin_cw, heat_testbed):
    alarm_name = output(stack, "AlarmName")
    assert alarm_name.startswith(f"{stack.stack_name}-{LOGICAL_NAME}-")
    project = stack_user_project(heat_testbed, stack.id)
    assert project["name"].startswith(heat_testbed["tenants"][0]["project_id"] + "-")
    instance_id = str(uuid.uuid4())

    stack_user_cw.put_metric_data(Namespace=NAMESPACE, MetricData=[{
        "MetricName": "Heartbeat", "Value": 1.0, "Unit": "Count",
        "Timestamp": previous_minute(),
        "Dimensions": [{"Name": "AlarmName", "Value": LOGICAL_NAME},
                       {"Name": "InstanceId", "Value": instance_id}]}])

    # In the owner's project, named by the alarm's physical name.
    (metric,) = watched(plugin_cw, instance_id)
    assert metric["MetricName"] == "Heartbeat"
    assert sorted((d["Name"], d["Value"]) for d in metric["Dimensions"]) == [
        ("AlarmName", alarm_name), ("InstanceId", instance_id)]
    # Nothing in the stack user's own project.
    assert gnocchi_metrics_of(heat_testbed, project["id"]) == []

    # Aodh evaluates the alarm with the gateway's rule type: the --watch route feeds it.
    def alarm_state() -> dict[str, Any] | None:
        (alarm,) = plugin_cw.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
        return alarm if alarm["StateValue"] == "ALARM" else None

    alarm = wait_for(f"{alarm_name} in ALARM", alarm_state, WAIT)
    assert "1 datapoint" in alarm["StateReason"], alarm["StateReason"]


def test_the_stack_user_may_only_put_metric_data(stack_user_cw, plugin_gateway, stack_user):
    for call in (lambda: stack_user_cw.describe_alarms(),
                 lambda: stack_user_cw.list_metrics(Namespace=NAMESPACE),
                 lambda: stack_user_cw.put_metric_alarm(
                     AlarmName="from-a-server", Namespace=NAMESPACE, MetricName="Heartbeat",
                     Statistic="SampleCount", Period=60, EvaluationPeriods=1, Threshold=1,
                     ComparisonOperator="GreaterThanThreshold")):
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response
        assert error["Error"]["Code"] == "AccessDenied", error
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "is not authorized to perform: cloudwatch:" in error["Error"]["Message"]
    autoscaling = boto3_client("autoscaling", plugin_gateway.endpoint, stack_user)
    with pytest.raises(ClientError) as caught:
        autoscaling.describe_auto_scaling_groups()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert "autoscaling:DescribeAutoScalingGroups" in caught.value.response["Error"]["Message"]


def test_an_alarm_name_that_is_no_logical_name_stays_as_sent(stack_user_cw, plugin_cw):
    instance_id = str(uuid.uuid4())
    stack_user_cw.put_metric_data(Namespace=NAMESPACE, MetricData=[{
        "MetricName": "Heartbeat", "Value": 1.0, "Unit": "Count",
        "Dimensions": [{"Name": "AlarmName", "Value": "NoSuchResource"},
                       {"Name": "InstanceId", "Value": instance_id}]}])
    (metric,) = watched(plugin_cw, instance_id)
    assert {d["Name"]: d["Value"] for d in metric["Dimensions"]}["AlarmName"] == (
        "NoSuchResource")


@pytest.fixture
def push_stats(plugin_gateway, stack_user) -> Iterator[PushStats]:
    with agent_sandbox(plugin_gateway, stack_user) as agent:
        yield agent


def test_cfn_push_stats_watch_with_the_logical_name(push_stats, plugin_cw, stack):
    """What a classic template's server runs: ``cfn-push-stats --watch {Ref: Alarm}
    --heartbeat`` with the stack's key, unmodified."""
    instance_id = str(uuid.uuid4())
    run = push_stats.run("--heartbeat", "--watch", LOGICAL_NAME, instance_id=instance_id)
    assert run.returncode == 0, run.explain()
    assert run.connections >= 1
    (metric,) = watched(plugin_cw, instance_id)
    dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
    assert metric["MetricName"] == "Heartbeat"
    assert dimensions["AlarmName"] == output(stack, "AlarmName")

