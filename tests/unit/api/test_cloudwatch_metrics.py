"""PutMetricData / ListMetrics / GetMetricStatistics handlers over a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import metrics as api
from cfn_gateway.api.registry import lookup

ALL = ["SampleCount", "Sum", "Average", "Minimum", "Maximum"]
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
T0 = NOW - timedelta(minutes=10)
HOST = [{"Name": "InstanceId", "Value": "i-0001"}]
HOST_DISK = [{"Name": "Disk", "Value": "vda"}, {"Name": "InstanceId", "Value": "i-0001"}]


def put(call, *data, namespace="Test/ns", **params):
    return call(api.put_metric_data, Namespace=namespace, MetricData=list(data), **params)


def stats(call, name="CPU", dims=HOST, start=T0, minutes=2, period=60, statistics=ALL,
          namespace="Test/ns", **params):
    return call(api.get_metric_statistics, Namespace=namespace, MetricName=name,
                Dimensions=dims, StartTime=start, EndTime=start + timedelta(minutes=minutes),
                Period=period, Statistics=statistics, **params)


def point(name="CPU", value=1.0, at=T0, dims=HOST, **extra):
    return {"MetricName": name, "Dimensions": dims, "Value": value, "Timestamp": at, **extra}


def listed(call, **params):
    return [(m["MetricName"], {d["Name"]: d["Value"] for d in m["Dimensions"]})
            for m in call(api.list_metrics, **params)["Metrics"]]


def test_handlers_are_registered():
    assert lookup("cloudwatch", "PutMetricData") is api.put_metric_data
    assert lookup("cloudwatch", "ListMetrics") is api.list_metrics
    assert lookup("cloudwatch", "GetMetricStatistics") is api.get_metric_statistics


def test_put_list_statistics_round_trip(call):
    for offset, value in ((0, 1.0), (20, 2.0), (40, 6.0)):
        assert put(call, point(value=value, at=T0 + timedelta(seconds=offset),
                               Unit="Percent")) is None
    put(call, point(value=10.0, at=T0 + timedelta(minutes=1), Unit="Percent"))
    put(call, point(value=99.0, dims=list(reversed(HOST_DISK)), Unit="Percent"))

    assert sorted(listed(call, Namespace="Test/ns"), key=lambda m: len(m[1])) == [
        ("CPU", {"InstanceId": "i-0001"}), ("CPU", {"InstanceId": "i-0001", "Disk": "vda"})]

    out = stats(call)
    assert out["Label"] == "CPU"
    assert out["Datapoints"] == [
        {"Timestamp": T0, "Unit": "Percent", "SampleCount": 3.0, "Sum": 9.0, "Average": 3.0,
         "Minimum": 1.0, "Maximum": 6.0},
        {"Timestamp": T0 + timedelta(minutes=1), "Unit": "Percent", "SampleCount": 1.0,
         "Sum": 10.0, "Average": 10.0, "Minimum": 10.0, "Maximum": 10.0},
    ]
    assert all(p["Timestamp"].tzinfo is not None for p in out["Datapoints"])
    wide = stats(call, dims=HOST_DISK, period=120, statistics=["Sum"])["Datapoints"]
    assert wide == [{"Timestamp": T0, "Unit": "Percent", "Sum": 99.0}]
    assert stats(call, dims=[])["Datapoints"] == []


def test_values_and_counts(call):
    # As recorded from AWS: Values [1, 10], Counts [2, 4] -> SampleCount 6, Sum 42, Max 10,
    # and only the requested statistics in the datapoint.
    put(call, {"MetricName": "m", "Timestamp": T0, "Values": [1.0, 10.0], "Counts": [2, 4],
               "Unit": "Count"})
    out = stats(call, name="m", dims=[], statistics=["SampleCount", "Sum", "Maximum"])
    assert out == {"Label": "m", "Datapoints": [
        {"Timestamp": T0, "Unit": "Count", "SampleCount": 6.0, "Sum": 42.0, "Maximum": 10.0}]}


def test_values_default_to_one_count_each(call):
    put(call, {"MetricName": "m", "Timestamp": T0, "Values": [1.0, 2.0, 3.0]})
    (p,) = stats(call, name="m", dims=[])["Datapoints"]
    assert (p["SampleCount"], p["Sum"], p["Average"]) == (3.0, 6.0, 2.0)


def test_statistic_values(call):
    put(call, {"MetricName": "m", "Timestamp": T0,
               "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}},
        point(name="m", dims=[], value=25.0))
    (p,) = stats(call, name="m", dims=[])["Datapoints"]
    assert p == {"Timestamp": T0, "Unit": "None", "SampleCount": 11.0, "Sum": 80.0,
                 "Average": 80.0 / 11, "Minimum": 1.0, "Maximum": 25.0}


def test_values_with_statistic_values_are_accepted_as_aws_does(call):
    put(call, {"MetricName": "m", "Timestamp": T0, "Values": [1.0, 10.0],
               "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}})
    (p,) = stats(call, name="m", dims=[], statistics=["SampleCount"])["Datapoints"]
    assert p["SampleCount"] == 2.0


def test_mixed_units_give_one_datapoint_per_unit(call):
    # As recorded from AWS: without Unit, one datapoint per unit, each with its unit.
    put(call, point(value=1.0, Unit="Seconds"), point(value=5.0, Unit="Count"),
        point(value=10.0))
    out = stats(call, statistics=["Average"])["Datapoints"]
    assert sorted((p["Unit"], p["Average"]) for p in out) == [
        ("Count", 5.0), ("None", 10.0), ("Seconds", 1.0)]
    assert stats(call, statistics=["Average"], Unit="Count")["Datapoints"] == [
        {"Timestamp": T0, "Unit": "Count", "Average": 5.0}]
    assert stats(call, statistics=["Sum"], Unit="None")["Datapoints"] == [
        {"Timestamp": T0, "Unit": "None", "Sum": 10.0}]
    assert stats(call, statistics=["Sum"], Unit="Bytes")["Datapoints"] == []


def test_default_timestamp_is_now(call, monkeypatch):
    monkeypatch.setattr(api, "utcnow", lambda: T0 + timedelta(seconds=42.5))
    put(call, {"MetricName": "m", "Value": 1.0})
    monkeypatch.undo()
    assert [p["Timestamp"] for p in stats(call, name="m", dims=[])["Datapoints"]] == [T0]


def test_start_time_is_rounded_down_to_the_minute(call):
    put(call, point(value=4.0, at=T0 + timedelta(seconds=5)))
    out = stats(call, start=T0 + timedelta(seconds=34), statistics=["Sum"])["Datapoints"]
    assert out == [{"Timestamp": T0, "Unit": "None", "Sum": 4.0}]


def test_high_resolution_data(call):
    t = NOW - timedelta(minutes=5)
    put(call, point(value=1.0, at=t + timedelta(seconds=3), StorageResolution=1),
        point(value=2.0, at=t + timedelta(seconds=14.5), StorageResolution=1),
        point(value=7.0, at=t + timedelta(seconds=15)))  # standard: stored at the minute
    out = stats(call, start=t, minutes=1, period=10, statistics=["Sum"])["Datapoints"]
    assert [(p["Timestamp"] - t, p["Sum"]) for p in out] == [
        (timedelta(0), 8.0), (timedelta(seconds=10), 2.0)]


def test_short_periods_find_nothing_for_old_start_times(call):
    start = NOW - timedelta(hours=4)
    put(call, point(at=start + timedelta(seconds=30), StorageResolution=1))
    assert stats(call, start=start, period=10)["Datapoints"] == []
    assert len(stats(call, start=start, period=60)["Datapoints"]) == 1


def test_projects_do_not_see_each_other(call):
    put(call, point(name="Secret", dims=[], Unit="Count"))
    assert listed(call, Namespace="Test/ns") == [("Secret", {})]
    assert listed(call, project="project-b", Namespace="Test/ns") == []
    assert stats(call, project="project-b", name="Secret", dims=[])["Datapoints"] == []
    assert len(stats(call, name="Secret", dims=[])["Datapoints"]) == 1


def test_entity_metric_data_is_stored(call):
    call(api.put_metric_data, Namespace="Test/ns", EntityMetricData=[
        {"Entity": {"KeyAttributes": {"Type": "Service", "Name": "x"}},
         "MetricData": [point(name="FromEntity", dims=[])]}])
    assert listed(call) == [("FromEntity", {})]


# --- ListMetrics -----------------------------------------------------------------------

def test_list_filters(call):
    put(call, point(name="CPUUtilization", dims=[]),
        point(name="MemoryUtilization", dims=[{"Name": "InstanceId", "Value": "one"}]),
        point(name="DiskReadOps", dims=[{"Name": "InstanceId", "Value": "two"}]),
        {"MetricName": "DiskWriteOps", "Dimensions": [{"Name": "InstanceId", "Value": "two"}],
         "StatisticValues": {"Maximum": 1.0, "Minimum": 1.0, "SampleCount": 1.0, "Sum": 1.0}})
    assert len(listed(call, Namespace="Test/ns")) == 4
    assert listed(call, Namespace="Test/ns", MetricName="CPUUtilization") == [
        ("CPUUtilization", {})]
    assert len(listed(call, Namespace="Test/ns", Dimensions=[{"Name": "InstanceId"}])) == 3
    assert sorted(n for n, _ in listed(call, Dimensions=[
        {"Name": "InstanceId", "Value": "two"}])) == ["DiskReadOps", "DiskWriteOps"]
    assert listed(call, Namespace="Other") == []


def test_list_output_shape(call):
    put(call, point())
    assert call(api.list_metrics) == {"Metrics": [
        {"Namespace": "Test/ns", "MetricName": "CPU", "Dimensions": HOST}]}


def test_list_pagination(call):
    put(call, *[point(name=f"m{i}", dims=[]) for i in range(501)])
    first = call(api.list_metrics, Namespace="Test/ns")
    assert len(first["Metrics"]) == 500
    second = call(api.list_metrics, Namespace="Test/ns", NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 1 and "NextToken" not in second
    names = {m["MetricName"] for m in first["Metrics"] + second["Metrics"]}
    assert names == {f"m{i}" for i in range(501)}
    with pytest.raises(errors.InvalidParameterValue):
        call(api.list_metrics, Namespace="Test/ns", NextToken=first["NextToken"] + "x")
    with pytest.raises(errors.InvalidParameterValue):
        call(api.list_metrics, project="project-b", Namespace="Test/ns",
             NextToken=first["NextToken"])


def test_recently_active(call, monkeypatch):
    monkeypatch.setattr(api, "utcnow", lambda: NOW - timedelta(hours=4))
    put(call, point(name="Quiet", at=NOW - timedelta(hours=4)))
    monkeypatch.undo()
    put(call, point(name="Busy"))
    assert sorted(n for n, _ in listed(call)) == ["Busy", "Quiet"]
    assert [n for n, _ in listed(call, RecentlyActive="PT3H")] == ["Busy"]


def test_metrics_silent_for_two_weeks_are_not_listed(call, monkeypatch):
    monkeypatch.setattr(api, "utcnow", lambda: NOW - timedelta(days=15))
    put(call, point(name="Gone", at=NOW - timedelta(days=15)))
    monkeypatch.undo()
    assert listed(call) == []
