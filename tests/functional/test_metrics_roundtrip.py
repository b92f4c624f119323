"""PutMetricData / ListMetrics / GetMetricStatistics through every real client flavour."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.functional.clients import boto3_client
from tests.functional.metric_clients import FLAVOURS, metric_client

pytestmark = pytest.mark.functional


def minute_ago(minutes: int) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_put_list_statistics(flavour, gateway, creds, namespace, tmp_path):
    client = metric_client(flavour, gateway.endpoint, creds, tmp_path)
    t0 = minute_ago(10)
    host = {"InstanceId": "i-0001"}
    host_and_disk = {"InstanceId": "i-0001", "Disk": "vda"}
    for offset, value in ((0, 1.0), (20, 2.0), (40, 6.0)):
        client.put(namespace, "CPUUtilization", host, value,
                   t0 + dt.timedelta(seconds=offset), "Percent")
    client.put(namespace, "CPUUtilization", host, 10.0, t0 + dt.timedelta(minutes=1), "Percent")
    client.put(namespace, "CPUUtilization", host_and_disk, 99.0, t0, "Percent")

    listed = client.list(namespace)
    assert sorted(listed, key=lambda m: len(m[1])) == [
        ("CPUUtilization", host), ("CPUUtilization", host_and_disk)]

    points = client.stats(namespace, "CPUUtilization", host, t0, t0 + dt.timedelta(minutes=2),
                          60)
    points.sort(key=lambda p: p.timestamp)
    assert [p.timestamp for p in points] == [t0, t0 + dt.timedelta(minutes=1)]
    assert points[0].stats == {"SampleCount": 3.0, "Sum": 9.0, "Average": 3.0,
                               "Minimum": 1.0, "Maximum": 6.0}
    assert points[1].stats == {"SampleCount": 1.0, "Sum": 10.0, "Average": 10.0,
                               "Minimum": 10.0, "Maximum": 10.0}
    assert {p.unit for p in points} == {"Percent"}

    # The exact dimension set is the metric: {InstanceId, Disk} is a different one.
    wide = client.stats(namespace, "CPUUtilization", host_and_disk, t0,
                        t0 + dt.timedelta(minutes=2), 120)
    assert [(p.timestamp, p.stats["Sum"]) for p in wide] == [(t0, 99.0)]


@pytest.mark.parametrize("flavour", ["boto3-json", "boto2-sigv4"])
def test_projects_do_not_see_each_other(flavour, gateway, creds, other_creds, namespace,
                                        tmp_path):
    mine = metric_client(flavour, gateway.endpoint, creds, tmp_path)
    theirs = metric_client(flavour, gateway.endpoint, other_creds, tmp_path)
    t0 = minute_ago(5)
    mine.put(namespace, "Secret", {}, 1.0, t0, "Count")
    assert mine.list(namespace) == [("Secret", {})]
    assert theirs.list(namespace) == []
    assert theirs.stats(namespace, "Secret", {}, t0, t0 + dt.timedelta(minutes=1), 60) == []


def test_linked_accounts_are_answered(gateway, creds, namespace):
    """Cross-account observability: no account is linked here, so every metric is the
    caller's own."""
    from tests.functional.clients import boto3_client

    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    t0 = minute_ago(3)
    for name in ("A", "B"):
        client.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": name, "Value": 1.0, "Timestamp": t0}])
    listed = client.list_metrics(Namespace=namespace, IncludeLinkedAccounts=True)
    assert sorted(m["MetricName"] for m in listed["Metrics"]) == ["A", "B"]
    assert listed["OwningAccounts"] == [creds.project, creds.project]
    assert "OwningAccounts" not in client.list_metrics(Namespace=namespace)
    assert client.list_metrics(Namespace=namespace, MetricName="A",
                               OwningAccount=creds.project,
                               IncludeLinkedAccounts=True)["OwningAccounts"] == [creds.project]
    other = client.list_metrics(Namespace=namespace, OwningAccount="999999999999",
                                IncludeLinkedAccounts=True)
    assert (other["Metrics"], other.get("OwningAccounts")) == ([], [])


def test_concurrent_puts_all_count(gateway, creds, namespace):
    """24 clients put at once (in OpenStack mode their Gnocchi writes share calls,
    ``gnocchi_batches``): every datum counts, once, in its metric and minute."""
    clients = [boto3_client("cloudwatch", gateway.endpoint, creds) for _ in range(24)]
    t0 = minute_ago(3)

    def put(n: int) -> None:
        for i in range(4):
            clients[n].put_metric_data(Namespace=namespace, MetricData=[{
                "MetricName": f"Load{n % 3}", "Value": float(n * 4 + i),
                "Timestamp": t0 + dt.timedelta(seconds=n), "Unit": "Count"}])

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(put, range(len(clients))))

    for metric in range(3):
        expected = [float(n * 4 + i) for n in range(metric, 24, 3) for i in range(4)]
        points = clients[0].get_metric_statistics(
            Namespace=namespace, MetricName=f"Load{metric}", StartTime=t0,
            EndTime=t0 + dt.timedelta(minutes=1), Period=60,
            Statistics=["SampleCount", "Sum", "Minimum", "Maximum"])["Datapoints"]
        assert [(p["SampleCount"], p["Sum"], p["Minimum"], p["Maximum"]) for p in points] == [
            (32.0, sum(expected), min(expected), max(expected))]
