"""The AWS errors of PutMetricData and GetMetricStatistics, with AWS's wording."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import metrics as api

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(minutes=10)


def put(call, *data, namespace="Test/ns"):
    return call(api.put_metric_data, Namespace=namespace, MetricData=list(data))


def point(**extra):
    return {"MetricName": "m", "Value": 1.0, "Timestamp": T0} | extra


def refused(call, error, message, *data, namespace="Test/ns"):
    with pytest.raises(error) as caught:
        put(call, *data, namespace=namespace)
    assert type(caught.value) is error
    assert caught.value.message == message
    assert call(api.list_metrics)["Metrics"] == []  # all or nothing


def test_reserved_namespace(call):
    refused(call, errors.InvalidParameterValue,
            "The value AWS/ for parameter Namespace is invalid.", point(), namespace="AWS/EC2")


def test_value_and_values(call):
    refused(call, errors.InvalidParameterCombination,
            "The parameters MetricData.member.1.Value and MetricData.member.1.Values are "
            "mutually exclusive and you have specified both.",
            point(Values=[1.0, 10.0]))


def test_value_and_statistic_values(call):
    refused(call, errors.InvalidParameterCombination,
            "The parameters MetricData.member.2.Value and MetricData.member.2.StatisticValues "
            "are mutually exclusive and you have specified both.",
            point(), point(StatisticValues={"SampleCount": 1, "Sum": 1, "Minimum": 1,
                                            "Maximum": 1}))


@pytest.mark.parametrize("counts", [[2, 4, 5], [1]])
def test_values_and_counts_of_different_sizes(call, counts):
    item = point(Values=[1.0, 10.0], Counts=counts)
    del item["Value"]
    refused(call, errors.InvalidParameterValue,
            "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be "
            "of the same size.", item)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"),
     (1.2e108, "1.2e+108"), (-1e-200, "-1e-200")],
)
def test_values_out_of_range(call, value, shown):
    refused(call, errors.InvalidParameterValue,
            f"The value {shown} for parameter MetricData.member.1.Value is invalid.",
            point(Value=value))


def test_bad_member_of_values(call):
    item = point(Values=[1.0, math.nan])
    del item["Value"]
    refused(call, errors.InvalidParameterValue,
            "The value NaN for parameter MetricData.member.1.Values.member.2 is invalid.", item)


def test_edge_values_are_fine(call):
    put(call, point(Value=0.0), point(Value=1.174271e108), point(Value=-8.515920e-109))


def test_timestamps_out_of_the_window_each_reported(call):
    refused(call, errors.InvalidParameterValue,
            "The parameter MetricData.member.2.Timestamp must specify a time within the past "
            "two weeks.\nThe parameter MetricData.member.3.Timestamp must specify a time "
            "within the past two weeks.",
            point(), point(Timestamp=NOW - timedelta(days=15)),
            point(Timestamp=NOW + timedelta(hours=3)))


def test_storage_resolution(call):
    refused(call, errors.InvalidParameterValue,
            "The parameter MetricData.member.1.StorageResolution must be a value in the set "
            "[ 1, 60 ].", point(StorageResolution=300))


def test_too_many_members(call):
    refused(call, errors.InvalidParameterValue,
            "The collection MetricData must not have a size greater than 1000.",
            *[point()] * 1001)


def test_too_many_values(call):
    item = point(Values=[float(i) for i in range(151)])
    del item["Value"]
    refused(call, errors.InvalidParameterValue,
            "The collection MetricData.member.1.Values must not have a size greater than 150.",
            item)


def test_no_value_at_all(call):
    item = point()
    del item["Value"]
    refused(call, errors.MissingParameter,
            "At least one of the parameters MetricData.member.1.Value or "
            "MetricData.member.1.StatisticValues must be specified.", item)


def test_no_metric_data(call):
    with pytest.raises(errors.MissingParameter):
        call(api.put_metric_data, Namespace="Test/ns")


def test_dimensions(call):
    refused(call, errors.InvalidParameterValue,
            "No Metric may specify the same dimension twice.",
            point(Dimensions=[{"Name": "A", "Value": "1"}, {"Name": "A", "Value": "2"}]))
    refused(call, errors.InvalidParameterValue,
            "The value   for parameter MetricData.member.1.Dimensions.member.1.Value is "
            "invalid.", point(Dimensions=[{"Name": "A", "Value": " "}]))
    refused(call, errors.InvalidParameterValue,
            "The collection MetricData.member.1.Dimensions must not have a size greater than "
            "30.", point(Dimensions=[{"Name": f"d{i}", "Value": "v"} for i in range(31)]))


def test_incoherent_statistic_set(call):
    refused(call, errors.InvalidParameterValue,
            "The parameter MetricData.member.1.StatisticValues.Maximum must be greater than "
            "MetricData.member.1.StatisticValues.Minimum.",
            {"MetricName": "m", "StatisticValues": {
                "SampleCount": 2, "Sum": 3, "Minimum": 2, "Maximum": 1}})
    refused(call, errors.InvalidParameterValue,
            "The parameter MetricData.member.1.StatisticValues.SampleCount must be greater "
            "than 0.",
            {"MetricName": "m", "StatisticValues": {
                "SampleCount": 0, "Sum": 0, "Minimum": 0, "Maximum": 0}})


def test_one_bad_member_stores_nothing(call):
    good = [point(MetricName=f"ok{i}") for i in range(10)]
    refused(call, errors.InvalidParameterValue,
            "The value NaN for parameter MetricData.member.11.Value is invalid.",
            *good, point(Value=math.nan))


def test_entity_members_are_named_by_their_path(call):
    with pytest.raises(errors.InvalidParameterValue) as caught:
        call(api.put_metric_data, Namespace="Test/ns",
             EntityMetricData=[{"MetricData": [point(), point(Value=math.inf)]}])
    assert caught.value.message == (
        "The value Infinity for parameter EntityMetricData.member.1.MetricData.member.2.Value "
        "is invalid.")


# --- GetMetricStatistics ---------------------------------------------------------------

def get(call, start=T0, end=None, period=60, **params):
    params.setdefault("Statistics", ["Sum"])
    return call(api.get_metric_statistics, Namespace="Test/ns", MetricName="m",
                StartTime=start, EndTime=end or start + timedelta(minutes=5), Period=period,
                **params)


def test_statistics_or_extended_statistics_required(call):
    with pytest.raises(errors.InvalidParameterCombination) as caught:
        get(call, Statistics=[])
    assert caught.value.message == "Must specify either Statistics or ExtendedStatistics"


@pytest.mark.parametrize("period", [7, 45, 90, 61])
def test_bad_periods(call, period):
    with pytest.raises(errors.InvalidParameterValue) as caught:
        get(call, period=period)
    assert caught.value.message == "The parameter Period must be a multiple of 60."


@pytest.mark.parametrize("delta", [timedelta(0), -timedelta(minutes=1)])
def test_start_before_end(call, delta):
    with pytest.raises(errors.InvalidParameterValue) as caught:
        get(call, end=T0 + delta)
    assert caught.value.message == (
        "The parameter StartTime must be less than the parameter EndTime.")


def test_too_many_datapoints(call):
    # As recorded from AWS for StartTime=now, EndTime=now+1 day, Period=1.
    with pytest.raises(errors.InvalidParameterCombination) as caught:
        get(call, start=NOW, end=NOW + timedelta(days=1), period=1, Statistics=["SampleCount"])
    assert caught.value.message == (
        "You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may "
        "reduce the datapoints requested by increasing Period, or decreasing the time range.")
    assert get(call, start=NOW, end=NOW + timedelta(days=1), period=60)["Datapoints"] == []


def test_percentiles(call):
    with pytest.raises(errors.InvalidParameterValue) as caught:
        get(call, Statistics=None, ExtendedStatistics=["p99", "p101"])
    assert caught.value.message == (
        "The value p101 for parameter ExtendedStatistics.member.2 is invalid.")
    # 1..100 (100 three times) in the first minute; a statistic set in the second.
    put(call, point(Value=None, Values=[float(v) for v in range(1, 101)],
                    Counts=[1.0] * 99 + [3.0]),
        point(Timestamp=T0 + timedelta(minutes=1), Value=None, StatisticValues={
            "SampleCount": 2.0, "Sum": 3.0, "Minimum": 1.0, "Maximum": 2.0}))
    (first, second) = sorted(get(call, Statistics=["SampleCount"], ExtendedStatistics=[
        "p50", "p99.9", "p0"])["Datapoints"], key=lambda p: p["Timestamp"])
    assert first["ExtendedStatistics"] == {"p50": 51.0, "p99.9": 100.0, "p0": 1.0}
    assert first["SampleCount"] == 102.0
    assert "ExtendedStatistics" not in second  # a statistic set has no values
    only = get(call, Statistics=None, ExtendedStatistics=["p90"])["Datapoints"]
    assert [p["ExtendedStatistics"] for p in only] == [{"p90": 92.0}]


def test_duplicate_dimension_names_match_nothing(call):
    put(call, point(Dimensions=[{"Name": "A", "Value": "1"}]))
    dims = [{"Name": "A", "Value": "1"}, {"Name": "A", "Value": "1"}]
    assert get(call, Dimensions=dims)["Datapoints"] == []
    assert len(get(call, Dimensions=dims[:1])["Datapoints"]) == 1
