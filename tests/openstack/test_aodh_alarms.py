"""CloudWatch alarms in OpenStack mode: Aodh alarms of the plugin's types, end to end.

The gateway runs in OpenStack mode on the test bed, whose Aodh has the plugin installed
(``tools/testbed/up.sh``) and evaluates every second with two evaluators.  Data goes in
through PutMetricData only, timestamped in the last minutes (so that it lies in the
evaluation range at once); the tests then wait for Aodh's evaluators, seconds, not
minutes.  States, reasons, reason data, history and the webhook POSTs are read back
through the gateway's API and a real HTTP receiver; ``aodhclient`` shows what Aodh holds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.functional.alarm_support import WebhookReceiver, delete_all_alarms
from tests.functional.clients import boto3_client
from tests.functional.conftest import openstack_config, tenant_credentials
from tests.functional.server import Credentials, GatewayProcess, serving
from tests.testbed import require_testbed

pytestmark = pytest.mark.functional
WAIT = 30.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def testbed() -> dict[str, Any]:
    return require_testbed()


@pytest.fixture(scope="module")
def gateway(testbed, tmp_path_factory) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp("aodh-gateway")
    with serving(root, openstack_config(root / "gw.conf", testbed)) as process:
        yield process


@pytest.fixture(scope="module")
def creds(testbed) -> Credentials:
    return tenant_credentials(testbed, 0)


@pytest.fixture(scope="module")
def cw(gateway, creds):
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    yield client
    delete_all_alarms(client)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.3)


def minutes_ago(n: int) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=n)


def state_of(cw, name: str) -> dict[str, Any]:
    alarms = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm",
                                                               "CompositeAlarm"])
    found = alarms["MetricAlarms"] + alarms["CompositeAlarms"]
    assert len(found) == 1, alarms
    return found[0]


def wait_state(cw, name: str, value: str, timeout: float = WAIT) -> dict[str, Any]:
    return wait_for(f"{name} in {value}", lambda: (
        alarm if (alarm := state_of(cw, name))["StateValue"] == value else None), timeout)


def history(cw, name: str, item_type: str | None = None) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"AlarmName": name}
    if item_type:
        args["HistoryItemType"] = item_type
    return cw.describe_alarm_history(**args)["AlarmHistoryItems"]


def test_m_of_n_alarm_fires_its_webhook(cw, receiver):
    namespace, name = unique("Test/Aodh"), unique("m-of-n")
    cw.put_metric_alarm(
        AlarmName=name, Namespace=namespace, MetricName="Load", Statistic="Average",
        Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="missing",
        AlarmActions=[receiver.url("/alarm")], OKActions=[receiver.url("/ok")],
        AlarmDescription="two of three")
    created = state_of(cw, name)
    assert created["StateValue"] == "INSUFFICIENT_DATA"
    assert created["AlarmActions"] == [receiver.url("/alarm")]
    assert created["AlarmDescription"] == "two of three"

    # Average = sum / count exactly: 5 and 25 in one minute average 15 (> 10).  All in one
    # request: Gnocchi's sum and count of a minute are not read as one snapshot while
    # metricd processes a second request's measures (docs/compatibility.md), and the
    # evaluators (every second) could see the first two minutes alone, 1 of 2 breaching:
    # OK, then ALARM (as once in CI), not the transition this test is about.
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Load", "Value": value, "Timestamp": minutes_ago(ago)}
        for ago, value in ((3, 20.0), (2, 1.0), (1, 5.0), (1, 25.0))])
    alarm = wait_state(cw, name, "ALARM")
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert "(minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition)" in \
        alarm["StateReason"]
    data = json.loads(alarm["StateReasonData"])
    assert data["statistic"] == "Average" and data["threshold"] == 10.0
    assert sorted(data["recentDatapoints"]) == [1.0, 15.0, 20.0]

    posted = wait_for("the webhook POST", lambda: receiver.to("/alarm"))
    message = posted[0]
    assert message["AlarmName"] == name
    assert message["NewStateValue"] == "ALARM"
    assert message["OldStateValue"] == "INSUFFICIENT_DATA"
    assert receiver.to("/ok") == []

    items = wait_for("the Action item", lambda: (
        found if len(found := history(cw, name)) >= 3 else None))
    kinds = [item["HistoryItemType"] for item in items]
    assert kinds.count("ConfigurationUpdate") == 1
    assert kinds.count("StateUpdate") == 1
    assert kinds.count("Action") == 1
    state_update = next(i for i in items if i["HistoryItemType"] == "StateUpdate")
    assert state_update["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    action = next(i for i in items if i["HistoryItemType"] == "Action")
    assert "Successfully executed action" in action["HistorySummary"]


def test_treat_missing_data_breaching_without_any_data(cw):
    name = unique("breaching")
    cw.put_metric_alarm(
        AlarmName=name, Namespace=unique("Test/Aodh"), MetricName="Load",
        Statistic="Maximum", Period=60, EvaluationPeriods=2, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching")
    alarm = wait_state(cw, name, "ALARM")
    assert alarm["StateReason"] == ("Threshold Crossed: no datapoints were received for 2 "
                                    "periods and 2 missing datapoints were treated as "
                                    "[Breaching].")


def test_metric_math_alarm(cw):
    """An alarm on 100 * errors / requests, evaluated by the plugin from Gnocchi's sums
    with the gateway's metric math: breaching in the last two minutes, then not."""
    namespace, name = unique("Test/Aodh"), unique("error-rate")

    def metric(query_id: str, metric_name: str) -> dict[str, Any]:
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric_name}, "Period": 60,
            "Stat": "Sum"}}

    cw.put_metric_alarm(
        AlarmName=name, EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="missing",
        Metrics=[metric("errors", "Errors"), metric("requests", "Requests"),
                 {"Id": "rate", "Expression": "100 * errors / requests"}])

    def send(ago: int, errors: float, requests: float) -> None:
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Errors", "Value": errors, "Timestamp": minutes_ago(ago)},
            {"MetricName": "Requests", "Value": requests, "Timestamp": minutes_ago(ago)}])

    send(3, 1.0, 100.0)
    send(2, 12.0, 150.0)
    send(1, 9.0, 100.0)
    alarm = wait_state(cw, name, "ALARM")
    data = json.loads(alarm["StateReasonData"])
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [9.0, 8.0]
    assert "statistic" not in data
    assert state_of(cw, name)["Metrics"][2]["Expression"] == "100 * errors / requests"

    send(1, 0.0, 1000.0)  # the last minute now holds 9 errors in 1100 requests
    send(0, 0.0, 100.0)
    wait_state(cw, name, "OK", timeout=90.0)


def test_extended_statistic_alarms_read_the_gateways_values(cw):
    """Gnocchi keeps no values: the plugin reads them from the gateway (its samples route,
    with the alarm's token), for a percentile alarm and for a trimmed mean in metric
    math."""
    namespace = unique("Test/Aodh")
    p90, tm = unique("p90"), unique("tm-math")
    cw.put_metric_alarm(
        AlarmName=p90, Namespace=namespace, MetricName="Latency", ExtendedStatistic="p90",
        Period=60, EvaluationPeriods=2, Threshold=50.0,
        ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_alarm(
        AlarmName=tm, EvaluationPeriods=2, Threshold=100.0,
        ComparisonOperator="GreaterThanThreshold", Metrics=[
            {"Id": "m", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": "Latency"},
                "Period": 60, "Stat": "TM(10%:90%)"}},
            {"Id": "e", "Expression": "m * 2"}])
    values = [float(v) for v in range(1, 101)]
    for ago in (1, 2):
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Latency", "Timestamp": minutes_ago(ago), "Values": values}])
    alarm = wait_state(cw, p90, "ALARM")
    data = json.loads(alarm["StateReasonData"])
    assert data["extendedStatistic"] == "p90"
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [90.0, 90.0]
    # TM(10%:90%) of 1..100 keeps 11..90: mean 50.5, doubled 101.
    alarm = wait_state(cw, tm, "ALARM")
    assert [p["value"] for p in json.loads(alarm["StateReasonData"])[
        "evaluatedDatapoints"]] == [101.0, 101.0]


def test_disabled_actions_do_not_run_and_webhooks_are_retried(cw, receiver):
    quiet, retried = unique("quiet"), unique("retried")
    receiver.fail["/retried"] = 2  # 503 twice, then 200
    for name, enabled in ((quiet, False), (retried, True)):
        cw.put_metric_alarm(
            AlarmName=name, Namespace=unique("Test/Aodh"), MetricName="Load",
            Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching",
            ActionsEnabled=enabled, AlarmActions=[receiver.url(f"/{name.split('-')[0]}")])
    wait_state(cw, quiet, "ALARM")
    wait_state(cw, retried, "ALARM")
    wait_for("the retried POST", lambda: receiver.to("/retried"))
    assert receiver.attempts["/retried"] == 3
    (action,) = wait_for("the Action item", lambda: history(cw, retried, "Action"))
    assert "Successfully executed action" in action["HistorySummary"]
    assert history(cw, quiet, "Action") == [] and receiver.to("/quiet") == []


def test_update_keeps_state_and_records_configuration_changes(cw):
    name, namespace = unique("update"), unique("Test/Aodh")
    args = dict(AlarmName=name, Namespace=namespace, MetricName="Load", Statistic="Maximum",
                Period=60, EvaluationPeriods=1, Threshold=1.0,
                ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching")
    cw.put_metric_alarm(**args)
    wait_state(cw, name, "ALARM")
    cw.put_metric_alarm(**{**args, "AlarmDescription": "changed"})
    alarm = state_of(cw, name)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["AlarmDescription"] == "changed"
    updates = history(cw, name, "ConfigurationUpdate")
    assert [json.loads(u["HistoryData"])["type"] for u in updates] == ["Update", "Create"]


def test_set_alarm_state_runs_actions_and_evaluation_follows(cw, receiver):
    name = unique("set-state")
    cw.put_metric_alarm(
        AlarmName=name, Namespace=unique("Test/Aodh"), MetricName="Load",
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
        AlarmActions=[receiver.url("/manual")])
    wait_state(cw, name, "OK")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing",
                       StateReasonData='{"why": "test"}')
    posted = wait_for("the webhook POST", lambda: receiver.to("/manual"))
    assert posted[0]["NewStateReason"] == "testing"
    # The next evaluation takes the alarm back, as on AWS.
    alarm = wait_state(cw, name, "OK")
    assert alarm["StateReason"].startswith("Threshold Crossed")
    summaries = [i["HistorySummary"] for i in history(cw, name, "StateUpdate")]
    assert "Alarm updated from OK to ALARM" in summaries
    # Without StateReasonData, and to the state the alarm is in: no action runs.
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="again")
    alarm = state_of(cw, name)
    assert (alarm["StateReason"], "StateReasonData" in alarm) == ("again", False)
    assert len(receiver.to("/manual")) == 1


def test_tags_listing_and_delete_keep_history(cw, creds):
    prefix = unique("list")
    arns = []
    for i in range(5):
        cw.put_metric_alarm(
            AlarmName=f"{prefix}-{i}", Namespace="Test/Aodh", MetricName="Load",
            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "n", "Value": str(i)}])
        arns.append(state_of(cw, f"{prefix}-{i}")["AlarmArn"])
    page = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2)
    names = [a["AlarmName"] for a in page["MetricAlarms"]]
    while "NextToken" in page:
        page = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2,
                                  NextToken=page["NextToken"])
        names += [a["AlarmName"] for a in page["MetricAlarms"]]
    assert names == [f"{prefix}-{i}" for i in range(5)]
    with pytest.raises(ClientError) as caught:
        cw.describe_alarms(AlarmNamePrefix="other", NextToken=page.get("NextToken") or "x.y")
    assert caught.value.response["Error"]["Code"] == "InvalidNextToken"

    cw.tag_resource(ResourceARN=arns[0], Tags=[{"Key": "team", "Value": "a"}])
    cw.untag_resource(ResourceARN=arns[0], TagKeys=["n"])
    assert cw.list_tags_for_resource(ResourceARN=arns[0])["Tags"] == [
        {"Key": "team", "Value": "a"}]

    cw.delete_alarms(AlarmNames=[f"{prefix}-0", f"{prefix}-1"])
    left = cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
    assert [a["AlarmName"] for a in left] == [f"{prefix}-{i}" for i in range(2, 5)]
    kept = history(cw, f"{prefix}-0", "ConfigurationUpdate")
    assert [json.loads(i["HistoryData"])["type"] for i in kept] == ["Delete", "Create"]


def test_composite_alarm_follows_its_children(cw):
    high, low, parent = unique("child-a"), unique("child-b"), unique("parent")
    for name, missing in ((high, "breaching"), (low, "notBreaching")):
        cw.put_metric_alarm(
            AlarmName=name, Namespace=unique("Test/Aodh"), MetricName="Load",
            Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData=missing)
    cw.put_composite_alarm(AlarmName=parent,
                           AlarmRule=f'ALARM("{high}") AND NOT ALARM("{low}")')
    alarm = wait_state(cw, parent, "ALARM")
    assert high in alarm["StateReason"]
    described = cw.describe_alarms(ChildrenOfAlarmName=parent)
    assert sorted(a["AlarmName"] for a in described["MetricAlarms"]) == sorted([high, low])


def test_real_clients_see_the_alarm(cw, gateway, creds):
    """boto3's and the AWS CLI's alarm_exists waiters, boto2's describe_alarms."""
    from tests.functional.boto2_clients import cloudwatch as boto2_cloudwatch
    from tests.functional.clients import aws_cli

    name = unique("clients")
    cw.put_metric_alarm(
        AlarmName=name, Namespace="Test/Aodh", MetricName="Load", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=4.0,
        ComparisonOperator="GreaterThanThreshold")
    cw.get_waiter("alarm_exists").wait(AlarmNames=[name],
                                       WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    cli = aws_cli(gateway.endpoint, creds, "cloudwatch", "wait", "alarm-exists",
                  "--alarm-names", name)
    assert cli.returncode == 0, cli.stderr
    (found,) = boto2_cloudwatch(gateway.endpoint, creds).describe_alarms(alarm_names=[name])
    assert found.name == name and found.comparison == ">" and float(found.threshold) == 4.0


def test_aodh_shows_the_alarms_and_confines_them(cw, gateway, testbed):
    from aodhclient import client as aodh_client
    from keystoneauth1 import loading, session

    name = unique("visible")
    cw.put_metric_alarm(
        AlarmName=name, Namespace="Test/Aodh", MetricName="Load", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold")
    tenant = testbed["tenants"][0]
    auth = loading.get_plugin_loader("password").load_from_options(
        auth_url=testbed["auth_url"], username=tenant["user"],
        password=tenant["password"], project_id=tenant["project_id"],
        user_domain_name="Default")
    aodh = aodh_client.Client("2", session=session.Session(auth=auth),
                              region_name=testbed.get("region"))
    listed = {a["name"]: a for a in aodh.alarm.list()}
    assert listed[name]["type"] == "cloudwatch"
    assert listed[name]["project_id"] == tenant["project_id"]

    other = boto3_client("cloudwatch", gateway.endpoint, tenant_credentials(testbed, 1))
    assert other.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    other.put_metric_alarm(  # the same name in another project is another alarm
        AlarmName=name, Namespace="Test/Aodh", MetricName="Load", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=2.0,
        ComparisonOperator="GreaterThanThreshold")
    assert state_of(cw, name)["Threshold"] == 1.0
    assert state_of(other, name)["Threshold"] == 2.0


def _evaluated_by(testbed: dict[str, Any], ids: set[str]) -> dict[str, set[str]]:
    """Which evaluator logged the transition of each of the Aodh alarm ``ids``."""
    found: dict[str, set[str]] = {}
    for evaluator in testbed["aodh_evaluators"]:
        with open(testbed["logs"][evaluator], encoding="utf-8", errors="replace") as log:
            text = log.read()
        found[evaluator] = {alarm_id for alarm_id in ids
                            if f"alarm {alarm_id} transitioning" in text}
    return found


def _breaching_alarms(cw, project_id: str, prefix: str, count: int) -> set[str]:
    """Make ``count`` alarms that go to ALARM at their first evaluation; their Aodh ids."""
    from cfn_gateway.backends.openstack.aodh_mapping import alarm_id

    for i in range(count):
        cw.put_metric_alarm(
            AlarmName=f"{prefix}-{i}", Namespace="Test/Aodh", MetricName="Load",
            Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching")
    wait_for("every alarm in ALARM", lambda: len(cw.describe_alarms(
        AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]) == count)
    return {alarm_id(project_id, f"{prefix}-{i}") for i in range(count)}


def test_two_evaluators_share_the_alarms_and_take_over(cw, creds, testbed):
    """Aodh's coordination splits the alarms between the two evaluators; when one stops,
    the other evaluates all of them."""
    from tests.testbed import ROOT

    assert len(testbed["aodh_evaluators"]) == 2
    first, second = testbed["aodh_evaluators"]
    shared = _breaching_alarms(cw, creds.project, unique("shared"), 20)
    split = _evaluated_by(testbed, shared)
    assert split[first] and split[second], split
    assert split[first] | split[second] == shared

    service = str(ROOT / "tools" / "testbed" / "service.sh")
    subprocess.run([service, "stop", second], check=True, capture_output=True, timeout=120)
    try:
        alone = _breaching_alarms(cw, creds.project, unique("alone"), 8)
        assert _evaluated_by(testbed, alone) == {first: alone, second: set()}
    finally:
        subprocess.run([service, "start", second], check=True, capture_output=True,
                       timeout=180)


def test_actions_suppressed_by_is_reported(cw):
    maintenance, composite = unique("maintenance"), unique("suppressed")
    cw.put_metric_alarm(
        AlarmName=maintenance, Namespace=unique("Test/Aodh"), MetricName="Load",
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore")
    cw.put_composite_alarm(AlarmName=composite, AlarmRule=f"ALARM({maintenance})",
                           ActionsSuppressor=maintenance, ActionsSuppressorWaitPeriod=120,
                           ActionsSuppressorExtensionPeriod=60)
    assert "ActionsSuppressedBy" not in state_of(cw, composite)
    cw.set_alarm_state(AlarmName=maintenance, StateValue="ALARM", StateReason="window")
    assert state_of(cw, composite)["ActionsSuppressedBy"] == "Alarm"
    cw.set_alarm_state(AlarmName=maintenance, StateValue="OK", StateReason="done")
    found = state_of(cw, composite)
    assert (found["ActionsSuppressedBy"], found["ActionsSuppressedReason"]) == (
        "ExtensionPeriod", "Actions suppressed by ExtensionPeriod")


POLICY_ARN = ("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:"
              "c5b3bd23-7a4c-4d8a-9a6c-9b5a0ca7d1a5:autoScalingGroupName/web:policyName/out")


def policy_alarm(cw, prefix: str, **settings: Any) -> str:
    """A new alarm (named from ``prefix``) on an unused metric whose action in ALARM is
    the Auto Scaling policy ``POLICY_ARN``; its name."""
    name = unique(prefix)
    cw.put_metric_alarm(
        AlarmName=name, Namespace=unique("Test/Aodh"), MetricName="Load",
        Statistic="Maximum", EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold", AlarmActions=[POLICY_ARN], **settings)
    return name


def test_auto_scaling_actions_come_back_to_the_gateway(cw, gateway, creds):
    """aodh-notifier hands an Auto Scaling policy action back to the gateway that wrote the
    alarm, which runs the policy (here one that does not exist: the gateway's answer is the
    failure recorded in the alarm's history)."""
    import requests

    name = policy_alarm(cw, "scale-out", Period=10, TreatMissingData="breaching")
    wait_state(cw, name, "ALARM")
    action = wait_for("the Action item", lambda: history(cw, name, "Action"))[-1]
    assert "Failed to execute action" in action["HistorySummary"]
    assert f"No scaling policy {POLICY_ARN} exists." in action["HistoryData"]
    # They run again every period the alarm stays in ALARM (Period 10 here).
    repeated = wait_for("a repetition", lambda: (
        items if len(items := history(cw, name, "Action")) >= 2 else None), timeout=40)
    assert all("Failed to execute action" in i["HistorySummary"] for i in repeated)
    assert len(history(cw, name, "StateUpdate")) == 1
    url = f"{gateway.endpoint}/cfn-gateway/alarm-actions/v1"
    assert "/cfn-gateway/alarm-actions/v1" in gateway.log_text()

    call = {"project_id": creds.project, "alarm_name": name, "action": POLICY_ARN,
            "state_value": "ALARM", "message": "{}", "token": "forged"}
    assert requests.post(url, json=call, timeout=10).status_code == 403
    assert requests.post(url, json={**call, "alarm_name": unique("none")},
                         timeout=10).status_code == 404
    assert requests.post(url, data=b"not json", timeout=10).status_code == 400
    assert requests.get(url, timeout=10).status_code == 405


def test_an_alarm_state_that_lasted_an_instant_still_runs_its_policy(cw):
    """A transition runs its actions however briefly the state lasted (AWS does): here
    SetAlarmState ALARM and, at once, OK; the notifier calls the gateway after both, and
    the gateway runs the policy of the ALARM the alarm has just left (one that does not
    exist: its answer is what the history records)."""
    name = policy_alarm(cw, "instant", Period=60, TreatMissingData="ignore")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test",
                       StateReasonData='{"recentDatapoints":[5.0]}')
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
    (action,) = wait_for("the Action item", lambda: history(cw, name, "Action"))
    assert f"No scaling policy {POLICY_ARN} exists." in action["HistoryData"]


@contextlib.contextmanager
def stale_evaluation(testbed: dict[str, Any], project_id: str,
                     name: str) -> Iterator[Callable[[], dict[str, Any]]]:
    """An evaluator's read of alarm ``name`` now; calling what this yields makes the
    evaluator write a change to ALARM from that copy, and answers what storage then holds
    (``stale_evaluation.py``, in the test bed's venv)."""
    from tests.testbed import ROOT, testbed_dir

    python = testbed_dir() / "venv" / "bin" / "python"
    script = Path(__file__).with_name("stale_evaluation.py")
    conf = testbed_dir() / "etc" / "aodh" / "aodh.conf"
    with subprocess.Popen([str(python), str(script), str(conf), project_id, name],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}) as process:
        assert process.stdout is not None and process.stdin is not None
        try:
            assert process.stdout.readline().strip() == "read"

            def write() -> dict[str, Any]:
                out, _ = process.communicate("go\n", timeout=60)
                assert process.returncode == 0, out
                return json.loads(out.splitlines()[-1])

            yield write
        finally:
            if process.poll() is None:
                process.kill()


def test_an_evaluation_never_undoes_a_change_made_while_it_ran(cw, creds, testbed):
    """An evaluator reads an alarm, evaluates it, writes its new state: an update or a
    deletion through the gateway in between stays as made (the evaluator's write is
    dropped), where a whole-alarm write brought a deleted alarm back."""
    def make(name: str, threshold: float) -> None:
        cw.put_metric_alarm(
            AlarmName=name, Namespace="Test/Aodh", MetricName="Quiet", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold")

    deleted = unique("stale-deleted")
    make(deleted, 1.0)
    with stale_evaluation(testbed, creds.project, deleted) as write:
        cw.delete_alarms(AlarmNames=[deleted])
        stored = write()
    assert stored == {"state": "insufficient data", "enabled": False, "tombstone": True}
    assert cw.describe_alarms(AlarmNames=[deleted])["MetricAlarms"] == []

    updated = unique("stale-updated")
    make(updated, 1.0)
    with stale_evaluation(testbed, creds.project, updated) as write:
        make(updated, 5.0)
        stored = write()
    assert stored == {"state": "insufficient data", "enabled": True, "tombstone": False}
    alarm = state_of(cw, updated)
    assert (alarm["Threshold"], alarm["StateValue"]) == (5.0, "INSUFFICIENT_DATA")

    # Without a change in between, the evaluator's write is stored and recorded (the test
    # bed's evaluators move the alarm back at their next evaluation: it has no data).
    kept = unique("stale-kept")
    make(kept, 1.0)
    with stale_evaluation(testbed, creds.project, kept) as write:
        stored = write()
    assert stored == {"state": "alarm", "enabled": True, "tombstone": False}
    assert any("a stale evaluation" in item["HistoryData"]
               for item in history(cw, kept, "StateUpdate"))
