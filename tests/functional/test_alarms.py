"""CloudWatch alarms end to end: real clients, a real gateway, real engine passes.

Data goes in through PutMetricData only; the engine (``cfn-gateway engine --once --now``)
evaluates at chosen times; states, reasons, reason data, history and the webhook POSTs
are read back through the API and a real HTTP receiver.  Standalone mode: in OpenStack
mode alarms are the Aodh plugin's (tests/openstack/test_aodh_alarms.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.functional.alarm_support import (
    ENGINE_OFF_CONFIG,
    AlarmGateway,
    WebhookReceiver,
    base_time,
)
from tests.functional.boto2_clients import cloudwatch as boto2_cloudwatch
from tests.functional.clients import aws_cli, boto3_client
from tests.functional.server import Credentials, GatewayProcess, free_port
from tests.protocol_models import write_protocol_model

pytestmark = pytest.mark.functional
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def alarm_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlarmGateway]:
    root = tmp_path_factory.mktemp("alarm-gateway")
    config = root / "cfn-gateway.conf"
    config.write_text(ENGINE_OFF_CONFIG)
    process = GatewayProcess(data_dir=root / "data", port=free_port(), log_path=root / "log",
                             config_file=config)
    process.start()
    try:
        yield AlarmGateway(process, config)
    finally:
        process.stop()
    log = process.log_text()
    assert "Traceback" not in log, log[-4000:]
    assert "status=500" not in log, log[-4000:]


@pytest.fixture(scope="module")
def alarm_creds(alarm_gateway: AlarmGateway) -> Credentials:
    return alarm_gateway.process.create_credentials("alarm-project")


@pytest.fixture
def cw(alarm_gateway: AlarmGateway, alarm_creds: Credentials):
    return boto3_client("cloudwatch", alarm_gateway.endpoint, alarm_creds)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    try:
        yield server
    finally:
        server.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def put(cw, namespace: str, values: dict[dt.datetime, float], dims=None,
        name: str = "Load") -> None:
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Dimensions": dims or [{"Name": "Host", "Value": "a"}],
         "Timestamp": ts, "Value": value} for ts, value in values.items()])


def threshold_alarm(cw, name: str, namespace: str, **overrides) -> None:
    params = {
        "AlarmName": name, "Namespace": namespace, "MetricName": "Load",
        "Dimensions": [{"Name": "Host", "Value": "a"}], "Statistic": "Average",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 4.0,
        "ComparisonOperator": "GreaterThanThreshold",
    } | overrides
    cw.put_metric_alarm(**params)


def alarm(cw, name: str) -> dict:
    (found,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found


def history(cw, name: str, item_type: str | None = None, **extra) -> list[dict]:
    params = {"AlarmName": name} | ({"HistoryItemType": item_type} if item_type else {})
    return cw.describe_alarm_history(**params, **extra)["AlarmHistoryItems"]


# --- definitions --------------------------------------------------------------------------

def test_lifecycle_history_and_tags(cw, alarm_gateway, alarm_creds):
    namespace, name = unique("Test/Alarms"), unique("cpu-high")
    threshold_alarm(cw, name, namespace, Tags=[{"Key": "team", "Value": "ops"}],
                    AlarmDescription="too busy")
    created = alarm(cw, name)
    assert created["StateValue"] == "INSUFFICIENT_DATA"
    assert created["StateReason"] == "Unchecked: Initial alarm creation"
    assert created["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{alarm_creds.project}:alarm:{name}"
    assert created["TreatMissingData"] == "missing"
    assert created["DatapointsToAlarm"] == 1

    cw.get_waiter("alarm_exists").wait(AlarmNames=[name], WaiterConfig={"Delay": 1,
                                                                        "MaxAttempts": 3})
    cli = aws_cli(alarm_gateway.endpoint, alarm_creds, "cloudwatch", "wait", "alarm-exists",
                  "--alarm-names", name)
    assert cli.returncode == 0, cli.stderr

    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="by hand")
    threshold_alarm(cw, name, namespace, Threshold=9.0, Tags=[{"Key": "ignored", "Value": "x"}])
    updated = alarm(cw, name)
    assert updated["Threshold"] == 9.0
    assert updated["StateValue"] == "OK" and updated["StateReason"] == "by hand"
    assert updated["AlarmConfigurationUpdatedTimestamp"] >= created[
        "AlarmConfigurationUpdatedTimestamp"]

    arn = updated["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "ops"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "tier", "Value": "web"}])
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "tier", "Value": "web"}]

    # boto3's Metric.alarms asks for the metric without dimensions: exactly that metric.
    bare = unique("bare")
    threshold_alarm(cw, bare, namespace, Dimensions=[])
    metric = boto3_resource(alarm_gateway, alarm_creds).Metric(namespace, "Load")
    assert [a.name for a in metric.alarms.all()] == [bare]
    for_metric = cw.describe_alarms_for_metric(
        Namespace=namespace, MetricName="Load", Dimensions=[{"Name": "Host", "Value": "a"}])
    assert [a["AlarmName"] for a in for_metric["MetricAlarms"]] == [name]
    cw.delete_alarms(AlarmNames=[name, bare, unique("never-existed")])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    items = history(cw, name, "ConfigurationUpdate", ScanBy="TimestampAscending")
    assert [i["HistorySummary"] for i in items] == [
        f'Alarm "{name}" created', f'Alarm "{name}" updated', f'Alarm "{name}" deleted']
    update = json.loads(items[1]["HistoryData"])
    assert update["type"] == "Update"
    assert update["originalUpdatedFields"]["threshold"] == 4.0
    assert update["updatedAlarm"]["threshold"] == 9.0
    with pytest.raises(ClientError) as error:
        cw.list_tags_for_resource(ResourceARN=arn)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def boto3_resource(alarm_gateway, creds):
    import boto3

    return boto3.resource(
        "cloudwatch", endpoint_url=alarm_gateway.endpoint, region_name="us-east-1",
        aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key)


def test_describe_pages_prefix_and_state(cw):
    prefix = unique("page")
    namespace = unique("Test/Alarms")
    names = [f"{prefix}-{i:02d}" for i in range(7)]
    for name in names:
        threshold_alarm(cw, name, namespace)
    cw.set_alarm_state(AlarmName=names[3], StateValue="ALARM", StateReason="test")
    seen, token = [], None
    while True:
        page = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=3,
                                  **({"NextToken": token} if token else {}))
        assert len(page["MetricAlarms"]) <= 3
        seen += [a["AlarmName"] for a in page["MetricAlarms"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    in_alarm = cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]
    assert [a["AlarmName"] for a in in_alarm] == [names[3]]
    with pytest.raises(ClientError) as error:
        cw.describe_alarms(NextToken="forged.token")
    assert error.value.response["Error"]["Code"] == "InvalidNextToken"
    cw.delete_alarms(AlarmNames=names)


@pytest.mark.parametrize("protocol", ["json", "query", "smithy-rpc-v2-cbor"])
def test_every_protocol(protocol, alarm_gateway, alarm_creds, tmp_path):
    """Definitions, states, composites, history and errors in each wire protocol boto3
    can speak (botocore's model copies restricted to one protocol)."""
    models = None if protocol == "json" else write_protocol_model(tmp_path, protocol)
    cw = boto3_client("cloudwatch", alarm_gateway.endpoint, alarm_creds, models)
    namespace, name, composite = unique("Test/Alarms"), unique("proto"), unique("proto-c")
    threshold_alarm(cw, name, namespace, EvaluationPeriods=3, DatapointsToAlarm=2,
                    Unit="Percent", Tags=[{"Key": "k", "Value": "v"}],
                    AlarmActions=["https://example.invalid/hook"])
    cw.put_composite_alarm(AlarmName=composite, AlarmRule=f"ALARM({name}) OR FALSE",
                           ActionsEnabled=False)
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="proto",
                       StateReasonData='{"a": [1, 2]}')
    found = alarm(cw, name)
    assert (found["StateValue"], found["Unit"], found["DatapointsToAlarm"]) == (
        "ALARM", "Percent", 2)
    assert found["Dimensions"] == [{"Name": "Host", "Value": "a"}]
    assert found["AlarmActions"] == ["https://example.invalid/hook"]
    assert isinstance(found["StateUpdatedTimestamp"], dt.datetime)
    both = cw.describe_alarms(AlarmNamePrefix="proto", AlarmTypes=["MetricAlarm",
                                                                   "CompositeAlarm"])
    assert composite in [a["AlarmName"] for a in both["CompositeAlarms"]]
    (item,) = history(cw, name, "StateUpdate")
    assert json.loads(item["HistoryData"])["newState"]["stateReasonData"] == {"a": [1, 2]}
    assert cw.list_tags_for_resource(ResourceARN=found["AlarmArn"])["Tags"] == [
        {"Key": "k", "Value": "v"}]
    for_metric = cw.describe_alarms_for_metric(
        Namespace=namespace, MetricName="Load", Dimensions=[{"Name": "Host", "Value": "a"}],
        Statistic="Average", Period=60)
    assert [a["AlarmName"] for a in for_metric["MetricAlarms"]] == [name]
    with pytest.raises(ClientError) as error:
        cw.set_alarm_state(AlarmName=unique("none"), StateValue="OK", StateReason="x")
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"
    cw.delete_alarms(AlarmNames=[composite, name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


@pytest.mark.parametrize(("params", "code", "status"), [
    ({"Period": 45}, "ValidationError", 400),
    ({"EvaluationPeriods": 2, "DatapointsToAlarm": 3}, "ValidationError", 400),
    ({"EvaluationPeriods": 1441}, "ValidationError", 400),
    ({"TreatMissingData": "sometimes"}, "ValidationError", 400),
    ({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}, "NotImplemented", 501),
    ({"AlarmActions": ["not-an-arn"]}, "ValidationError", 400),
    ({"Statistic": None, "ExtendedStatistic": None}, "InvalidParameterCombination", 400),
    ({"Namespace": ":Bad"}, "ValidationError", 400),
])
def test_put_metric_alarm_refuses_bad_definitions(cw, params, code, status):
    name = unique("bad")
    base = {
        "AlarmName": name, "Namespace": "Test/Bad", "MetricName": "Load", "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    request = {k: v for k, v in (base | params).items() if v is not None}
    with pytest.raises(ClientError) as error:
        cw.put_metric_alarm(**request)
    assert error.value.response["Error"]["Code"] == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_set_alarm_state_errors(cw):
    with pytest.raises(ClientError) as error:
        cw.set_alarm_state(AlarmName=unique("missing"), StateValue="OK", StateReason="x")
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    name = unique("fmt")
    threshold_alarm(cw, name, unique("Test/Alarms"))
    with pytest.raises(ClientError) as error:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="x",
                           StateReasonData="{not json")
    assert error.value.response["Error"]["Code"] == "InvalidFormat"
    assert alarm(cw, name)["StateValue"] == "INSUFFICIENT_DATA"


def test_boto2_describe_alarms(alarm_gateway, alarm_creds, cw):
    name = unique("boto2")
    threshold_alarm(cw, name, unique("Test/Alarms"))
    connection = boto2_cloudwatch(alarm_gateway.endpoint, alarm_creds)
    (found,) = connection.describe_alarms(alarm_names=[name])
    assert found.name == name
    assert found.state_value == "INSUFFICIENT_DATA"
    assert found.comparison == ">" and float(found.threshold) == 4.0


# --- evaluation ---------------------------------------------------------------------------

def test_m_of_n_goes_to_alarm_then_ok(cw, alarm_gateway, receiver):
    namespace, name = unique("Test/Alarms"), unique("m-of-n")
    t0 = base_time()
    threshold_alarm(cw, name, namespace, EvaluationPeriods=3, DatapointsToAlarm=2,
                    AlarmActions=[receiver.url("/alarm")], OKActions=[receiver.url("/ok")])
    put(cw, namespace, {t0: 5.0, t0 + MINUTE: 1.0, t0 + 2 * MINUTE: 6.0})
    alarm_gateway.evaluate(t0 + 3 * MINUTE + dt.timedelta(seconds=5))
    state = alarm(cw, name)
    assert state["StateValue"] == "ALARM"
    stamp = t0.strftime("%d/%m/%y %H:%M:%S")
    assert state["StateReason"] == (
        "Threshold Crossed: 2 out of the last 3 datapoints "
        f"[6.0 ({(t0 + 2 * MINUTE).strftime('%d/%m/%y %H:%M:%S')}), 5.0 ({stamp})] were "
        "greater than the threshold (4.0) (minimum 2 datapoints for "
        "INSUFFICIENT_DATA -> ALARM transition).")
    data = json.loads(state["StateReasonData"])
    assert data["statistic"] == "Average" and data["period"] == 60
    assert data["threshold"] == 4.0
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [6.0, 1.0, 5.0]
    assert receiver.to("/alarm")[0]["NewStateValue"] == "ALARM"
    assert receiver.to("/alarm")[0]["OldStateValue"] == "INSUFFICIENT_DATA"
    assert receiver.to("/alarm")[0]["AlarmName"] == name

    # Same minute again: nothing changes, nothing is sent again.
    alarm_gateway.evaluate(t0 + 3 * MINUTE + dt.timedelta(seconds=5))
    assert len(receiver.to("/alarm")) == 1

    put(cw, namespace, {t0 + 3 * MINUTE: 1.0, t0 + 4 * MINUTE: 2.0})
    alarm_gateway.evaluate(t0 + 5 * MINUTE + dt.timedelta(seconds=1))
    assert alarm(cw, name)["StateValue"] == "OK"
    assert receiver.to("/ok")[0]["NewStateValue"] == "OK"
    updates = history(cw, name, "StateUpdate", ScanBy="TimestampAscending")
    assert [i["HistorySummary"] for i in updates] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK"]
    actions = history(cw, name, "Action")
    assert sorted(i["HistorySummary"] for i in actions) == sorted([
        f"Successfully executed action {receiver.url('/alarm')}",
        f"Successfully executed action {receiver.url('/ok')}"])


@pytest.mark.parametrize(("treat", "expected"), [
    ("missing", "INSUFFICIENT_DATA"),
    ("breaching", "ALARM"),
    ("notBreaching", "OK"),
    ("ignore", "OK"),  # keeps the state it had
])
def test_treat_missing_data_without_any_data(cw, alarm_gateway, treat, expected):
    namespace, name = unique("Test/Alarms"), unique(f"missing-{treat}")
    t0 = base_time()
    threshold_alarm(cw, name, namespace, EvaluationPeriods=3, TreatMissingData=treat)
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="start from OK")
    alarm_gateway.evaluate(t0 + 10 * MINUTE)
    state = alarm(cw, name)
    if treat == "missing":
        # From OK, no data for the whole range: INSUFFICIENT_DATA.
        assert state["StateValue"] == expected
        assert state["StateReason"] == "Insufficient Data: 3 datapoints were unknown."
    else:
        assert state["StateValue"] == expected
    if treat == "breaching":
        assert "treated as [Breaching]" in state["StateReason"]


def test_premature_alarm_rule(cw, alarm_gateway):
    """AWS's 3-of-3 example: ``- - X - -`` alarms even with missing data as missing;
    ``- - - - X`` does not yet."""
    namespace = unique("Test/Alarms")
    late, early = unique("premature-late"), unique("premature-early")
    t0 = base_time()
    threshold_alarm(cw, late, namespace, EvaluationPeriods=3,
                    Dimensions=[{"Name": "Host", "Value": "late"}])
    threshold_alarm(cw, early, namespace, EvaluationPeriods=3,
                    Dimensions=[{"Name": "Host", "Value": "early"}])
    put(cw, namespace, {t0 + 2 * MINUTE: 9.0}, dims=[{"Name": "Host", "Value": "late"}])
    put(cw, namespace, {t0 + 4 * MINUTE: 9.0}, dims=[{"Name": "Host", "Value": "early"}])
    alarm_gateway.evaluate(t0 + 5 * MINUTE)
    assert alarm(cw, late)["StateValue"] == "ALARM"
    assert alarm(cw, early)["StateValue"] == "INSUFFICIENT_DATA"


def test_webhook_is_retried_until_it_answers(cw, alarm_gateway, receiver):
    namespace, name = unique("Test/Alarms"), unique("retry")
    receiver.fail["/flaky"] = 2
    t0 = base_time()
    threshold_alarm(cw, name, namespace, AlarmActions=[receiver.url("/flaky")])
    put(cw, namespace, {t0: 10.0})
    alarm_gateway.evaluate(t0 + MINUTE)
    assert receiver.attempts["/flaky"] == 3
    assert len(receiver.to("/flaky")) == 1
    (item,) = history(cw, name, "Action")
    assert item["HistorySummary"] == f"Successfully executed action {receiver.url('/flaky')}"


def test_failing_webhook_is_recorded(cw, alarm_gateway, receiver):
    namespace, name = unique("Test/Alarms"), unique("down")
    receiver.fail["/down"] = 100
    t0 = base_time()
    threshold_alarm(cw, name, namespace, AlarmActions=[receiver.url("/down")])
    put(cw, namespace, {t0: 10.0})
    alarm_gateway.evaluate(t0 + MINUTE)
    assert receiver.attempts["/down"] == 4
    (item,) = history(cw, name, "Action")
    assert item["HistorySummary"].startswith(f"Failed to execute action {receiver.url('/down')}")
    assert json.loads(item["HistoryData"])["actionState"] == "Failed"


def test_disabled_actions_do_not_run(cw, alarm_gateway, receiver):
    namespace, name = unique("Test/Alarms"), unique("disabled")
    t0 = base_time()
    threshold_alarm(cw, name, namespace, AlarmActions=[receiver.url("/quiet")])
    cw.disable_alarm_actions(AlarmNames=[name])
    assert alarm(cw, name)["ActionsEnabled"] is False
    put(cw, namespace, {t0: 10.0})
    alarm_gateway.evaluate(t0 + MINUTE)
    assert alarm(cw, name)["StateValue"] == "ALARM"
    assert receiver.to("/quiet") == []
    assert history(cw, name, "Action") == []
    cw.enable_alarm_actions(AlarmNames=[name])
    assert alarm(cw, name)["ActionsEnabled"] is True


def test_set_alarm_state_runs_actions(cw, alarm_gateway, receiver):
    name = unique("manual")
    threshold_alarm(cw, name, unique("Test/Alarms"), AlarmActions=[receiver.url("/manual")])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing actions",
                       StateReasonData='{"why": "test"}')
    state = alarm(cw, name)
    assert state["StateReason"] == "testing actions"
    assert json.loads(state["StateReasonData"]) == {"why": "test"}
    alarm_gateway.evaluate(base_time(0))
    (message,) = receiver.to("/manual")
    assert message["NewStateReason"] == "testing actions"


def test_scaling_policy_action_fails_visibly_until_auto_scaling_exists(cw, alarm_gateway):
    namespace, name = unique("Test/Alarms"), unique("scale")
    policy = ("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:"
              "0d0e1a2b-0000-4000-8000-000000000000:autoScalingGroupName/web:"
              "policyName/scale-out")
    t0 = base_time()
    threshold_alarm(cw, name, namespace, AlarmActions=[policy])
    put(cw, namespace, {t0: 10.0})
    alarm_gateway.evaluate(t0 + MINUTE)
    (item,) = history(cw, name, "Action")
    assert item["HistorySummary"].startswith(f"Failed to execute action {policy}")
    # Auto Scaling actions repeat every period while the alarm stays in ALARM.
    put(cw, namespace, {t0 + MINUTE: 10.0})
    alarm_gateway.evaluate(t0 + 2 * MINUTE)
    assert len(history(cw, name, "Action")) == 2


def test_composite_alarm_follows_children(cw, alarm_gateway, receiver):
    namespace = unique("Test/Alarms")
    cpu, disk, both = unique("cpu"), unique("disk"), unique("both")
    t0 = base_time()
    threshold_alarm(cw, cpu, namespace, Dimensions=[{"Name": "Host", "Value": "cpu"}])
    threshold_alarm(cw, disk, namespace, Dimensions=[{"Name": "Host", "Value": "disk"}])
    cw.put_composite_alarm(AlarmName=both, AlarmRule=f'ALARM("{cpu}") AND ALARM({disk})',
                           AlarmActions=[receiver.url("/both")])
    assert cw.describe_alarms(AlarmNames=[both])["MetricAlarms"] == []
    (composite,) = cw.describe_alarms(AlarmNames=[both],
                                      AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert composite["StateValue"] == "INSUFFICIENT_DATA"
    children = cw.describe_alarms(ChildrenOfAlarmName=both)
    assert sorted(a["AlarmName"] for a in children["MetricAlarms"]) == sorted([cpu, disk])
    parents = cw.describe_alarms(ParentsOfAlarmName=cpu)
    assert [a["AlarmName"] for a in parents["CompositeAlarms"]] == [both]

    put(cw, namespace, {t0: 9.0}, dims=[{"Name": "Host", "Value": "cpu"}])
    put(cw, namespace, {t0: 9.0}, dims=[{"Name": "Host", "Value": "disk"}])
    alarm_gateway.evaluate(t0 + MINUTE)
    (composite,) = cw.describe_alarms(AlarmNames=[both],
                                      AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert composite["StateValue"] == "ALARM"
    assert cpu in composite["StateReason"] and disk in composite["StateReason"]
    assert receiver.to("/both")[0]["NewStateValue"] == "ALARM"

    with pytest.raises(ClientError) as error:
        cw.put_composite_alarm(AlarmName=unique("bad"), AlarmRule="ALARM(nope-not-there)")
    assert error.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as error:
        cw.put_composite_alarm(AlarmName=unique("bad"), AlarmRule=f"ALARM({cpu}) and TRUE")
    assert error.value.response["Error"]["Code"] == "ValidationError"


def test_alarm_name_dimension_feeds_the_alarm(cw, alarm_gateway):
    """Heat compatibility: cfn-push-stats --watch NAME adds the dimension AlarmName=NAME to
    its server's dimensions, and that data feeds the alarm NAME of cfn-push-stats'
    namespace (system/linux) and the same metric name, from every server; elsewhere the
    dimension is an ordinary one."""
    name, other = unique("MEMAlarmHigh"), unique("elsewhere")
    t0 = base_time()
    for alarm_name, namespace in ((name, "system/linux"), (other, unique("Test/Alarms"))):
        cw.put_metric_alarm(AlarmName=alarm_name, Namespace=namespace, MetricName="MemUtil",
                            Statistic="Average", Period=60, EvaluationPeriods=1,
                            Threshold=50.0, ComparisonOperator="GreaterThanThreshold")
        for server, value in (("i-1", 90.0), ("i-2", 30.0)):
            put(cw, namespace, {t0: value}, name="MemUtil", dims=[
                {"Name": "InstanceId", "Value": server},
                {"Name": "AlarmName", "Value": alarm_name}])
    alarm_gateway.evaluate(t0 + MINUTE)
    found = alarm(cw, name)
    assert found["StateValue"] == "ALARM"  # the servers' average: 60 > 50
    assert json.loads(found["StateReasonData"])["recentDatapoints"] == [60.0]
    assert alarm(cw, other)["StateValue"] == "INSUFFICIENT_DATA"


def math_alarm_queries(namespace: str, expression: str) -> list[dict]:
    def metric(query_id: str, name: str) -> dict:
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name}, "Period": 60,
            "Stat": "Sum"}}
    return [metric("errors", "Errors"), metric("requests", "Requests"),
            {"Id": "rate", "Expression": expression, "Label": "Error rate"}]


def test_metric_math_alarm(cw, alarm_gateway, receiver):
    """An alarm on 100 * errors / requests: each period's value is the expression's over
    the two metrics' sums; a period where it has no value (no requests: division by zero)
    is missing data."""
    namespace, name = unique("Test/Alarms"), unique("error-rate")
    t0 = base_time()
    queries = math_alarm_queries(namespace, "100 * errors / requests")
    cw.put_metric_alarm(AlarmName=name, Metrics=queries, EvaluationPeriods=2,
                        DatapointsToAlarm=2, Threshold=5.0,
                        ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="missing", AlarmActions=[receiver.url("/alarm")])
    described = alarm(cw, name)
    assert described["Metrics"][2] == {"Id": "rate", "Expression": "100 * errors / requests",
                                       "Label": "Error rate", "ReturnData": True}
    assert "MetricName" not in described and "Statistic" not in described

    def send(minute: dt.datetime, errors: float, requests: float) -> None:
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Errors", "Timestamp": minute, "Value": errors},
            {"MetricName": "Requests", "Timestamp": minute, "Value": requests / 2},
            {"MetricName": "Requests", "Timestamp": minute, "Value": requests / 2}])

    send(t0, 3.0, 200.0)    # 1.5 %
    send(t0 + MINUTE, 12.0, 150.0)   # 8 %
    send(t0 + 2 * MINUTE, 9.0, 100.0)   # 9 %
    alarm_gateway.evaluate(t0 + 3 * MINUTE + dt.timedelta(seconds=5))
    state = alarm(cw, name)
    assert state["StateValue"] == "ALARM", state["StateReason"]
    data = json.loads(state["StateReasonData"])
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [9.0, 8.0]
    assert sorted(data["recentDatapoints"]) == [1.5, 8.0, 9.0]
    assert "statistic" not in data and data["period"] == 60
    assert receiver.to("/alarm")[0]["NewStateValue"] == "ALARM"

    send(t0 + 3 * MINUTE, 1.0, 100.0)   # 1 %
    send(t0 + 4 * MINUTE, 0.0, 100.0)   # 0 %
    alarm_gateway.evaluate(t0 + 5 * MINUTE + dt.timedelta(seconds=5))
    assert alarm(cw, name)["StateValue"] == "OK"

    # Errors but no requests: the expression has no value there (a division by zero), so
    # those periods are missing data, not a breach: the alarm stays OK.
    send(t0 + 5 * MINUTE, 4.0, 0.0)
    send(t0 + 6 * MINUTE, 4.0, 0.0)
    alarm_gateway.evaluate(t0 + 7 * MINUTE + dt.timedelta(seconds=5))
    assert alarm(cw, name)["StateValue"] == "OK"
    assert [i["HistorySummary"] for i in history(cw, name, "StateUpdate")] == [
        "Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]


@pytest.mark.parametrize(("expression", "code", "status"), [
    ("100 * errors / ", "ValidationError", 400),
    ("errors + missing", "ValidationError", 400),
    ("METRICS()", "ValidationError", 400),   # an array, not one time series
    ("SUM(METRICS()) + ", "ValidationError", 400),
    ("SEARCH('{AWS/EC2} CPUUtilization', 'Average', 60)", "NotImplemented", 501),
    ("SELECT AVG(Load) FROM SCHEMA(\"Test/Alarms\")", "NotImplemented", 501),
])
def test_metric_math_alarm_refuses_bad_expressions(cw, expression, code, status):
    name = unique("bad-math")
    with pytest.raises(ClientError) as error:
        cw.put_metric_alarm(AlarmName=name, Metrics=math_alarm_queries("Test/Alarms",
                                                                       expression),
                            EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold")
    assert error.value.response["Error"]["Code"] == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


# --- serve's own engine and the other mode ------------------------------------------------

def test_serve_runs_an_engine(gateway, creds, backend):
    """A high-resolution alarm on the session gateway (its engine on, real time)."""
    if backend != "standalone":
        pytest.skip("OpenStack mode evaluates with Aodh (tests/openstack/test_aodh_alarms.py)")
    import time

    cw = boto3_client("cloudwatch", gateway.endpoint, creds)
    namespace, name = unique("Test/Alarms"), unique("live")
    cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName="Load",
                        Statistic="Maximum", Period=10, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Load", "Value": 5.0, "StorageResolution": 1}])
        found = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if found["StateValue"] == "ALARM":
            break
        time.sleep(1)
    assert found["StateValue"] == "ALARM", found


def test_actions_suppressed_by_is_reported(cw):
    """DescribeAlarms says why a composite's actions are held back, as of the call."""
    maintenance, composite = unique("maintenance"), unique("suppressed")
    threshold_alarm(cw, maintenance, unique("Test/Alarms"))
    cw.put_composite_alarm(AlarmName=composite, AlarmRule=f"ALARM({maintenance})",
                           ActionsSuppressor=maintenance, ActionsSuppressorWaitPeriod=120,
                           ActionsSuppressorExtensionPeriod=60)

    def described() -> dict:
        (found,) = cw.describe_alarms(AlarmNames=[composite],
                                      AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
        return found

    assert "ActionsSuppressedBy" not in described()
    cw.set_alarm_state(AlarmName=maintenance, StateValue="ALARM", StateReason="window")
    found = described()
    assert (found["ActionsSuppressedBy"], found["ActionsSuppressedReason"]) == (
        "Alarm", "Actions suppressed by Alarm")
    cw.set_alarm_state(AlarmName=maintenance, StateValue="OK", StateReason="done")
    assert described()["ActionsSuppressedBy"] == "ExtensionPeriod"


def test_percentile_alarm(cw, alarm_gateway):
    """An alarm on p90 ranks the period's values (1..100: p90 is 90), and a period holding
    only a statistic set (no values) is missing data."""
    namespace, name = unique("Test/Alarms"), unique("p90")
    t0 = base_time()
    cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName="Latency",
                        ExtendedStatistic="p90", Period=60, EvaluationPeriods=1,
                        Threshold=50.0, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="missing")
    found = alarm(cw, name)
    assert found["ExtendedStatistic"] == "p90" and "Statistic" not in found

    def values(minute: dt.datetime, numbers: list[float]) -> None:
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Latency", "Timestamp": minute, "Values": numbers}])

    values(t0, [float(v) for v in range(1, 101)])
    alarm_gateway.evaluate(t0 + MINUTE + dt.timedelta(seconds=5))
    state = alarm(cw, name)
    assert state["StateValue"] == "ALARM"
    assert [p["value"] for p in json.loads(state["StateReasonData"])[
        "evaluatedDatapoints"]] == [90.0]
    values(t0 + MINUTE, [float(v) for v in range(1, 41)] * 3)  # p90 is 36
    alarm_gateway.evaluate(t0 + 2 * MINUTE + dt.timedelta(seconds=5))
    assert alarm(cw, name)["StateValue"] == "OK"
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Timestamp": t0 + 2 * MINUTE, "StatisticValues": {
            "SampleCount": 2.0, "Sum": 300.0, "Minimum": 100.0, "Maximum": 200.0}}])
    alarm_gateway.evaluate(t0 + 3 * MINUTE + dt.timedelta(seconds=5))
    state = alarm(cw, name)  # read as values, 100 and 200 would have breached
    assert state["StateValue"] != "ALARM"
    assert all(p["value"] < 50.0 for p in json.loads(state["StateReasonData"]).get(
        "evaluatedDatapoints", []))
    # The other extended statistics are evaluated too (test_trimmed_mean_alarms).
    trimmed = unique("tm")
    cw.put_metric_alarm(AlarmName=trimmed, Namespace=namespace,
                        MetricName="Latency", ExtendedStatistic="tm90", Period=60,
                        EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold")
    assert alarm(cw, trimmed)["ExtendedStatistic"] == "tm90"


def test_trimmed_mean_alarms(cw, alarm_gateway):
    """Alarms on tm90 (ExtendedStatistic) and TM(10%:90%) (a Metrics query) trim each
    period's values (sent with Values/Counts): the outliers that would keep the Average
    above the threshold are dropped, so both go to ALARM and back to OK."""
    namespace, t0 = unique("Test/Alarms"), base_time()
    single, query = unique("tm90"), unique("tm-query")
    common = {"EvaluationPeriods": 1, "Threshold": 50.0,
              "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "missing"}
    cw.put_metric_alarm(AlarmName=single, Namespace=namespace, MetricName="Latency",
                        ExtendedStatistic="tm90", Period=60, **common)
    cw.put_metric_alarm(AlarmName=query, Metrics=[{"Id": "m1", "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": "Delay"}, "Period": 60,
        "Stat": "TM(10%:90%)"}, "ReturnData": True}], **common)
    assert alarm(cw, single)["ExtendedStatistic"] == "tm90"
    assert alarm(cw, query)["Metrics"][0]["MetricStat"]["Stat"] == "TM(10%:90%)"

    def send(minute: dt.datetime, typical: float) -> None:
        # tm90 of 9 x typical and one outlier is typical (the Average is far above it);
        # TM(10%:90%) of one low, 8 x typical and one outlier too.
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Latency", "Timestamp": minute, "Values": [typical, 1000.0],
             "Counts": [9.0, 1.0]},
            {"MetricName": "Delay", "Timestamp": minute, "Values": [0.0, typical, 1000.0],
             "Counts": [1.0, 8.0, 1.0]}])

    def evaluated(name: str) -> list[float]:
        return [p["value"] for p in json.loads(alarm(cw, name)["StateReasonData"])[
            "evaluatedDatapoints"]]

    send(t0, 60.0)
    alarm_gateway.evaluate(t0 + MINUTE + dt.timedelta(seconds=5))
    for name in (single, query):
        assert alarm(cw, name)["StateValue"] == "ALARM", name
        assert evaluated(name) == [60.0], name
    send(t0 + MINUTE, 10.0)
    alarm_gateway.evaluate(t0 + 2 * MINUTE + dt.timedelta(seconds=5))
    for name in (single, query):
        assert alarm(cw, name)["StateValue"] == "OK", name
        assert evaluated(name) == [10.0], name
    average = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency", StartTime=t0 + MINUTE,
        EndTime=t0 + 2 * MINUTE, Period=60, Statistics=["Average"])["Datapoints"]
    assert [p["Average"] for p in average] == [109.0]  # above the threshold, untrimmed


@pytest.mark.parametrize(("params", "code"), [
    ({"ExtendedStatistic": "TM(5%:95%)"}, "InvalidParameterValue"),  # alarms: 10 % to 90 %
    ({"ExtendedStatistic": "TM(10%:200)"}, "InvalidParameterValue"),
    ({"ExtendedStatistic": "tm(10%:90%)"}, "InvalidParameterValue"),
    ({"ExtendedStatistic": "tm90", "EvaluateLowSampleCountPercentile": "ignore"},
     "ValidationError"),
])
def test_extended_statistic_alarms_refused(cw, params, code):
    name = unique("bad-extended")
    with pytest.raises(ClientError) as error:
        cw.put_metric_alarm(AlarmName=name, Namespace="Test/Bad", MetricName="Load",
                            Period=60, EvaluationPeriods=1, Threshold=1.0,
                            ComparisonOperator="GreaterThanThreshold", **params)
    assert error.value.response["Error"]["Code"] == code
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
