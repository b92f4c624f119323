"""OS::CfnGateway::Alarm properties -> PutMetricAlarm parameters (no Heat needed)."""

from __future__ import annotations

import pytest

from cfn_gateway.heat_plugin import alarm_params as ap
from cfn_gateway.heat_plugin import client

# MEMAlarmHigh of the classic multi-AZ sample, as the template writes it (CFN strings).
MEM_ALARM_HIGH = {
    "AlarmDescription": "Scale-up if MEM > 50% for 1 minute",
    "MetricName": "MemoryUtilization", "Namespace": "system/linux",
    "Statistic": "Average", "Period": "60", "EvaluationPeriods": "1", "Threshold": "50",
    "AlarmActions": ["ignored: resolved separately"],
    "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web-WebServerGroup-x"}],
    "ComparisonOperator": "GreaterThanThreshold",
}


def test_classic_template_alarm():
    params = ap.put_metric_alarm_params(
        MEM_ALARM_HIGH, "web-MEMAlarmHigh-abc",
        actions={"AlarmActions": ["http://127.0.0.1:8000/v1/signal/arn..."]},
        tags={"heat-stack-id": "s-1", "heat-logical-id": "MEMAlarmHigh"})
    assert params == {
        "AlarmName": "web-MEMAlarmHigh-abc",
        "AlarmDescription": "Scale-up if MEM > 50% for 1 minute",
        "MetricName": "MemoryUtilization", "Namespace": "system/linux",
        "Statistic": "Average",
        "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web-WebServerGroup-x"}],
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 50.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": ["http://127.0.0.1:8000/v1/signal/arn..."],
        "Tags": [{"Key": "heat-stack-id", "Value": "s-1"},
                 {"Key": "heat-logical-id", "Value": "MEMAlarmHigh"}],
    }
    # and botocore serialises it (types fit the model)
    op = client.service_model("cloudwatch").operation_model("PutMetricAlarm")
    from botocore.validate import ParamValidator
    assert not ParamValidator().validate(params, op.input_shape).has_errors()


def test_heat_typed_values_pass_unchanged():
    props = dict(MEM_ALARM_HIGH, Period=60, EvaluationPeriods=1, Threshold=50,
                 DatapointsToAlarm=1, ActionsEnabled=False)
    params = ap.put_metric_alarm_params(props, "n")
    assert (params["Period"], params["EvaluationPeriods"], params["Threshold"]) == (60, 1, 50.0)
    assert params["DatapointsToAlarm"] == 1 and params["ActionsEnabled"] is False


@pytest.mark.parametrize("value, expected", [
    ("true", True), ("False", False), (True, True), (False, False)])
def test_actions_enabled_strings(value, expected):
    props = dict(MEM_ALARM_HIGH, ActionsEnabled=value)
    assert ap.put_metric_alarm_params(props, "n")["ActionsEnabled"] is expected


def test_optional_members_left_out():
    props = {"MetricName": "Heartbeat", "Namespace": "system/linux", "Statistic": "SampleCount",
             "Period": "60", "EvaluationPeriods": "1", "Threshold": "1",
             "ComparisonOperator": "LessThanThreshold", "AlarmDescription": None,
             "Dimensions": [], "OKActions": None, "Unit": None, "Units": None,
             "TreatMissingData": None}
    params = ap.put_metric_alarm_params(props, "hb")
    assert set(params) == {"AlarmName", "MetricName", "Namespace", "Statistic", "Period",
                           "EvaluationPeriods", "Threshold", "ComparisonOperator",
                           "TreatMissingData"}  # Heat's rule for a count of nothing


@pytest.mark.parametrize("statistic, operator, threshold, expected", [
    # HA templates: no heartbeat in a period is a count of 0 < 1, the alarm fires
    ("SampleCount", "LessThanThreshold", "1", "breaching"),
    ("SampleCount", "GreaterThanThreshold", "2", "notBreaching"),  # ServiceFailure > 2
    ("Sum", "LessThanOrEqualToThreshold", "0", "breaching"),
    ("Sum", "GreaterThanOrEqualToThreshold", "0", "breaching"),
    ("Sum", "GreaterThanOrEqualToThreshold", "0.5", "notBreaching"),
    ("Sum", "LessThanThreshold", "-1", "notBreaching"),
    ("Average", "LessThanThreshold", "1", None),  # no value of nothing: AWS's default
    ("Maximum", "GreaterThanThreshold", "-5", None),
])
def test_missing_data_as_heat_treated_it(statistic, operator, threshold, expected):
    props = {"MetricName": "Heartbeat", "Namespace": "system/linux", "Statistic": statistic,
             "Period": "60", "EvaluationPeriods": "1", "Threshold": threshold,
             "ComparisonOperator": operator}
    assert ap.put_metric_alarm_params(props, "hb").get("TreatMissingData") == expected
    explicit = dict(props, TreatMissingData="ignore")  # the template's choice wins
    assert ap.put_metric_alarm_params(explicit, "hb")["TreatMissingData"] == "ignore"


def test_units_alias_and_unit():
    assert ap.put_metric_alarm_params(dict(MEM_ALARM_HIGH, Units="Percent"), "n")["Unit"] \
        == "Percent"
    assert ap.put_metric_alarm_params(dict(MEM_ALARM_HIGH, Unit="Percent"), "n")["Unit"] \
        == "Percent"
    both = dict(MEM_ALARM_HIGH, Unit="Percent", Units="Percent")
    assert ap.put_metric_alarm_params(both, "n")["Unit"] == "Percent"
    with pytest.raises(ap.PropertyError, match="Unit \\(Percent\\) and Units \\(Count\\)"):
        ap.put_metric_alarm_params(dict(MEM_ALARM_HIGH, Unit="Percent", Units="Count"), "n")


def test_statistic_rules():
    extended = dict(MEM_ALARM_HIGH, Statistic=None, ExtendedStatistic="p90")
    params = ap.put_metric_alarm_params(extended, "n")
    assert params["ExtendedStatistic"] == "p90" and "Statistic" not in params
    with pytest.raises(ap.PropertyError, match="exclude each other"):
        ap.check(dict(MEM_ALARM_HIGH, ExtendedStatistic="p90"))
    with pytest.raises(ap.PropertyError, match="one of Statistic and ExtendedStatistic"):
        ap.check(dict(MEM_ALARM_HIGH, Statistic=None))


def test_new_aws_members():
    props = dict(MEM_ALARM_HIGH, TreatMissingData="breaching",
                 EvaluateLowSampleCountPercentile="ignore", DatapointsToAlarm="2",
                 EvaluationPeriods="3", OKActions=["arn:a"], InsufficientDataActions=[])
    params = ap.put_metric_alarm_params(props, "n", actions={"OKActions": ["arn:b"]})
    assert params["TreatMissingData"] == "breaching"
    assert params["EvaluateLowSampleCountPercentile"] == "ignore"
    assert (params["DatapointsToAlarm"], params["EvaluationPeriods"]) == (2, 3)
    assert params["OKActions"] == ["arn:b"] and "InsufficientDataActions" not in params


def test_dimensions():
    assert ap.dimensions_of([{"Name": "InstanceId", "Value": 7}, {"Name": "x", "Value": 1.0}]) \
        == [{"Name": "InstanceId", "Value": "7"}, {"Name": "x", "Value": "1"}]
    with pytest.raises(ap.PropertyError, match="member 2 needs both Name and Value"):
        ap.dimensions_of([{"Name": "a", "Value": "b"}, {"Name": "c"}])
    with pytest.raises(ap.PropertyError, match="member 1 is not a map"):
        ap.dimensions_of(["AutoScalingGroupName=g"])


@pytest.mark.parametrize("value", ["sixty", "1.5", True, ""])
def test_bad_integers(value):
    with pytest.raises(ap.PropertyError, match="Period"):
        ap.to_int(value, "Period")


def test_numbers():
    assert ap.to_float(" 12.5 ", "Threshold") == 12.5
    assert ap.to_float(3, "Threshold") == 3.0
    with pytest.raises(ap.PropertyError, match="Threshold: 'x' is not a number"):
        ap.to_float("x", "Threshold")
    with pytest.raises(ap.PropertyError, match="yes"):
        ap.to_bool("yes", "ActionsEnabled")


def test_allowed_values_match_botocore():
    model = client.service_model("cloudwatch")
    assert list(ap.STANDARD_UNITS) == model.shape_for("StandardUnit").enum
    assert set(ap.STATISTICS) == set(model.shape_for("Statistic").enum)
    assert set(ap.COMPARISON_OPERATORS) <= set(model.shape_for("ComparisonOperator").enum)
