"""Validation against the models, with the codes and texts CloudWatch and Auto Scaling use."""

from __future__ import annotations

import datetime as dt

import pytest

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CLOUDWATCH
from cfn_gateway.protocol import validate_params
from cfn_gateway.protocol.models import operation_model

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def check(operation: str, params: dict, service: str = CLOUDWATCH) -> None:
    validate_params(operation_model(service, operation), params)


def stats(**changes) -> dict:
    params = {"Namespace": "ns", "MetricName": "m", "Period": 60, "StartTime": T0,
              "EndTime": T0, "Statistics": ["Sum"]}
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def test_valid_input_passes():
    check("GetMetricStatistics", stats())


def test_cloudwatch_missing_required():
    with pytest.raises(errors.MissingParameter) as caught:
        check("PutMetricData", {"MetricData": [{"MetricName": "m"}]})
    assert caught.value.message == "The parameter Namespace is required."
    assert caught.value.status == 400 and caught.value.sender_fault


def test_cloudwatch_missing_nested_member_named_query_style():
    with pytest.raises(errors.MissingParameter) as caught:
        check("PutMetricData", {"Namespace": "ns", "MetricData": [{"MetricName": "m"}, {}]})
    assert caught.value.message == "The parameter MetricData.member.2.MetricName is required."


def test_cloudwatch_first_missing_in_model_order():
    with pytest.raises(errors.MissingParameter, match="The parameter MetricName is required"):
        check("GetMetricStatistics", {"Namespace": "ns"})


def test_too_long():
    with pytest.raises(errors.ValidationError) as caught:
        check("PutMetricData", {"Namespace": "ns", "MetricData": [{"MetricName": "x" * 256}]})
    assert caught.value.message == (
        f"1 validation error detected: Value '{'x' * 256}' at 'metricData.1.member.metricName'"
        " failed to satisfy constraint: Member must have length less than or equal to 255")


def test_length_counts_utf16_code_units_like_java():
    check("PutMetricData", {"Namespace": "ns", "MetricData": [{"MetricName": "😀" * 127}]})
    with pytest.raises(errors.ValidationError):
        check("PutMetricData", {"Namespace": "ns", "MetricData": [{"MetricName": "😀" * 128}]})


def test_enum_violation_is_cloudwatchs_answer():
    with pytest.raises(errors.ValidationError) as caught:
        check("SetAlarmState", {"AlarmName": "a", "StateValue": "INVALID", "StateReason": "r"})
    assert caught.value.message == (
        "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy "
        "constraint: Member must satisfy enum value set: [OK, ALARM, INSUFFICIENT_DATA]")


def test_pattern_violation():
    with pytest.raises(errors.ValidationError) as caught:
        check("ListMetrics", {"Namespace": ":starts-with-colon"})
    assert caught.value.message == (
        "1 validation error detected: Value ':starts-with-colon' at 'namespace' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [^:].*")


def test_java_dot_excludes_line_breaks():
    with pytest.raises(errors.ValidationError):
        check("ListMetrics", {"Namespace": "a\nb"})


def definition(**changes) -> dict:
    return {"Id": "id-1", "Path": "p", "Expression": "SELECT 1", "Type": "SQL"} | changes


def test_unicode_category_pattern():
    check("PutMetricDataQueryDefinition", definition(Path="Dossier/Équipe ✓"))
    with pytest.raises(errors.ValidationError, match="'path'"):
        check("PutMetricDataQueryDefinition", definition(Path="tab\there"))


def test_sensitive_values_are_not_echoed():
    with pytest.raises(errors.ValidationError) as caught:
        check("PutMetricDataQueryDefinition", definition(Expression=""))
    assert caught.value.message == (
        "1 validation error detected: Value at 'expression' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1")


@pytest.mark.parametrize(("value", "constraint"), [
    (0, "Member must have value greater than or equal to 1"),
    (101, "Member must have value less than or equal to 100"),
])
def test_number_range(value, constraint):
    with pytest.raises(errors.ValidationError) as caught:
        check("DescribeAlarmHistory", {"MaxRecords": value})
    assert caught.value.message == (
        f"1 validation error detected: Value '{value}' at 'maxRecords' failed to satisfy "
        f"constraint: {constraint}")


def test_list_too_long_and_several_errors_listed():
    with pytest.raises(errors.ValidationError) as caught:
        check("GetMetricStatistics", stats(Statistics=["Sum"] * 6, MetricName=""))
    assert caught.value.message == (
        "2 validation errors detected: "
        "Value '' at 'metricName' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1; "
        "Value '[Sum, Sum, Sum, Sum, Sum, Sum]' at 'statistics' failed to satisfy "
        "constraint: Member must have length less than or equal to 5")


def test_enum_inside_a_list():
    with pytest.raises(errors.ValidationError, match=r"'statistics\.1\.member'"):
        check("GetMetricStatistics", stats(Statistics=["Median"]))


@pytest.mark.parametrize("period", [2**31, -(2**31) - 1])
def test_int32_overflow(period):
    with pytest.raises(errors.ValidationError, match="fit in an integer"):
        check("GetMetricStatistics", stats(Period=period))


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"Period": "60"}, "be of type integer"),
    ({"Period": True}, "be of type integer"),
    ({"StartTime": "2024-01-01"}, "be of type timestamp"),
    ({"Statistics": "Sum"}, "be of type list"),
])
def test_python_types(changes, fragment):
    with pytest.raises(errors.ValidationError, match=fragment):
        check("GetMetricStatistics", stats(**changes))


def test_map_size_and_entries():
    good = {"Entity": {"KeyAttributes": {"Type": "Service", "Name": "n"}},
            "MetricData": [{"MetricName": "m"}]}
    check("PutMetricData", {"Namespace": "ns", "EntityMetricData": [good]})
    bad = {"Entity": {"KeyAttributes": {"Type": "Service"}}}
    with pytest.raises(errors.ValidationError, match="have length greater than or equal to 2"):
        check("PutMetricData", {"Namespace": "ns", "EntityMetricData": [bad]})


def test_union_needs_exactly_one_member():
    window = {"WallClockWindow": {}, "SlidingWindow": {}}
    params = {"AlarmName": "a", "EvaluationCriteria": {"PromQLCriteria": {"Query": "up"}},
              "EvaluationInterval": 60, "EvaluationWindow": window}
    with pytest.raises(errors.ValidationError, match="have exactly one member set"):
        check("PutMetricAlarm", params)


def test_autoscaling_missing_required_is_a_validation_error():
    with pytest.raises(errors.ValidationError) as caught:
        check("CreateAutoScalingGroup", {"AutoScalingGroupName": "g"}, AUTOSCALING)
    assert caught.value.message == (
        "2 validation errors detected: "
        "Value null at 'minSize' failed to satisfy constraint: Member must not be null; "
        "Value null at 'maxSize' failed to satisfy constraint: Member must not be null")


def test_autoscaling_length():
    with pytest.raises(errors.ValidationError) as caught:
        check("DeleteAutoScalingGroup", {"AutoScalingGroupName": ""}, AUTOSCALING)
    assert caught.value.message == (
        "1 validation error detected: Value '' at 'autoScalingGroupName' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1")


def test_autoscaling_xml_string_pattern_refuses_control_characters():
    with pytest.raises(errors.ValidationError, match="regular expression pattern"):
        check("DeleteAutoScalingGroup", {"AutoScalingGroupName": "bad\x01name"}, AUTOSCALING)
    check("DeleteAutoScalingGroup", {"AutoScalingGroupName": "ok 😀 name"}, AUTOSCALING)


def test_operation_without_input():
    check("DescribeAccountLimits", {}, AUTOSCALING)


def test_nonstandard_units_are_refused():
    """``Counter`` is no AWS unit: the model check refuses it (Query requests reach it as
    ``Count`` when legacy units are on, see ``test_legacy_units``)."""
    params = {"Namespace": "system/linux",
              "MetricData": [{"MetricName": "Heartbeat", "Value": 1.0, "Unit": "Counter"}]}
    with pytest.raises(errors.ValidationError, match="enum value set"):
        check("PutMetricData", params)
