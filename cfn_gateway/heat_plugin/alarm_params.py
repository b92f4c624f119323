"""``OS::CfnGateway::Alarm``'s properties as PutMetricAlarm parameters: pure rules.

Heat hands properties over already converted (CFN strings such as ``"60"`` become
numbers), but a template resource or a plain dict in a test may not; every number and
boolean is therefore normalised here again.  Nothing here imports Heat.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from typing import Any

# Property names (AWS::CloudWatch::Alarm's, plus Heat's old spelling Units).
ALARM_NAME = "AlarmName"
ALARM_DESCRIPTION = "AlarmDescription"
COMPARISON_OPERATOR = "ComparisonOperator"
EVALUATION_PERIODS = "EvaluationPeriods"
DATAPOINTS_TO_ALARM = "DatapointsToAlarm"
METRIC_NAME = "MetricName"
NAMESPACE = "Namespace"
PERIOD = "Period"
STATISTIC = "Statistic"
EXTENDED_STATISTIC = "ExtendedStatistic"
THRESHOLD = "Threshold"
UNIT = "Unit"
UNITS = "Units"
DIMENSIONS = "Dimensions"
ALARM_ACTIONS = "AlarmActions"
OK_ACTIONS = "OKActions"
INSUFFICIENT_DATA_ACTIONS = "InsufficientDataActions"
ACTIONS_ENABLED = "ActionsEnabled"
TREAT_MISSING_DATA = "TreatMissingData"
EVALUATE_LOW_SAMPLE_COUNT_PERCENTILE = "EvaluateLowSampleCountPercentile"
DIMENSION_NAME = "Name"
DIMENSION_VALUE = "Value"

ACTION_LISTS = (ALARM_ACTIONS, OK_ACTIONS, INSUFFICIENT_DATA_ACTIONS)

#: A change of these replaces the alarm (a new name is a new alarm); every other
#: property is updated in place with PutMetricAlarm, as CloudFormation does.
REPLACING_PROPERTIES = frozenset({ALARM_NAME})

COMPARISON_OPERATORS = (
    "GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
    "LessThanThreshold", "LessThanOrEqualToThreshold",
)
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
TREAT_MISSING_DATA_VALUES = ("breaching", "notBreaching", "ignore", "missing")
LOW_SAMPLE_COUNT_VALUES = ("evaluate", "ignore")
#: CloudWatch's StandardUnit values (the unit test compares them with botocore's model).
STANDARD_UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
)


class PropertyError(ValueError):
    """Properties that cannot make one PutMetricAlarm request; the text says why."""


def check(props: Mapping[str, Any]) -> None:
    """Rules across properties that a per-property schema cannot say."""
    statistic, extended = props.get(STATISTIC), props.get(EXTENDED_STATISTIC)
    if statistic and extended:
        raise PropertyError(f"{STATISTIC} and {EXTENDED_STATISTIC} exclude each other: "
                            "give one of them")
    if not statistic and not extended:
        raise PropertyError(f"one of {STATISTIC} and {EXTENDED_STATISTIC} is required")
    unit_of(props)


def unit_of(props: Mapping[str, Any]) -> str | None:
    """``Unit``, or Heat's old spelling ``Units``; both given must agree."""
    unit, units = props.get(UNIT) or None, props.get(UNITS) or None
    if unit and units and unit != units:
        raise PropertyError(f"{UNIT} ({unit}) and {UNITS} ({units}) differ: {UNITS} is the "
                            f"old spelling of {UNIT}, give one of them")
    return unit or units


def put_metric_alarm_params(props: Mapping[str, Any], name: str,
                            actions: Mapping[str, list[str]] | None = None,
                            tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    """PutMetricAlarm's parameters for the alarm ``name`` with these properties.

    ``actions``: the resolved action lists by property name (``actions.resolve``); a list
    missing here is sent as the properties give it.  ``tags``: sent in this order.
    """
    check(props)
    params: dict[str, Any] = {"AlarmName": name}
    _put_str(params, props, ALARM_DESCRIPTION)
    _put_str(params, props, METRIC_NAME)
    _put_str(params, props, NAMESPACE)
    _put_str(params, props, STATISTIC)
    _put_str(params, props, EXTENDED_STATISTIC)
    dimensions = dimensions_of(props.get(DIMENSIONS))
    if dimensions:
        params["Dimensions"] = dimensions
    _put_int(params, props, PERIOD)
    unit = unit_of(props)
    if unit:
        params["Unit"] = unit
    _put_int(params, props, EVALUATION_PERIODS)
    _put_int(params, props, DATAPOINTS_TO_ALARM)
    if props.get(THRESHOLD) is not None:
        params["Threshold"] = to_float(props[THRESHOLD], THRESHOLD)
    _put_str(params, props, COMPARISON_OPERATOR)
    if props.get(ACTIONS_ENABLED) is not None:
        params["ActionsEnabled"] = to_bool(props[ACTIONS_ENABLED], ACTIONS_ENABLED)
    for key in ACTION_LISTS:
        values = (actions or {}).get(key)
        if values is None:
            values = [str(v) for v in props.get(key) or () if v]
        if values:
            params[key] = list(values)
    missing = props.get(TREAT_MISSING_DATA) or heat_missing_data(params)
    if missing:
        params[TREAT_MISSING_DATA] = missing
    _put_str(params, props, EVALUATE_LOW_SAMPLE_COUNT_PERCENTILE)
    if tags:
        params["Tags"] = [{"Key": k, "Value": str(v)} for k, v in tags.items()]
    return params


#: The comparison of each operator, as ``compare(value, threshold)``.
_COMPARE = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def heat_missing_data(params: Mapping[str, Any]) -> str | None:
    """TreatMissingData for an alarm whose template gives none, as Heat's own CloudWatch
    alarms treated a period without data: a SampleCount or Sum of nothing is 0, compared
    with the threshold like any value ("breaching" or "notBreaching"); other statistics
    keep AWS's default (None: "missing").

    That is what makes the HA templates' heartbeat alarms (SampleCount of ``Heartbeat``
    LessThanThreshold 1, fed by ``cfn-push-stats --heartbeat``) fire when the heartbeats
    stop; under AWS's default they would go to INSUFFICIENT_DATA instead.
    """
    compare = _COMPARE.get(params.get(COMPARISON_OPERATOR, ""))
    threshold = params.get(THRESHOLD)
    if params.get(STATISTIC) not in ("SampleCount", "Sum") or compare is None \
            or threshold is None:
        return None
    return "breaching" if compare(0.0, threshold) else "notBreaching"


def dimensions_of(value: Iterable[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """``[{Name, Value}, ...]`` with string values; a member missing either is an error."""
    out = []
    for i, member in enumerate(value or (), start=1):
        if not isinstance(member, Mapping):
            raise PropertyError(f"{DIMENSIONS} member {i} is not a map of Name and Value")
        name, val = member.get(DIMENSION_NAME), member.get(DIMENSION_VALUE)
        if name in (None, "") or val is None:
            raise PropertyError(f"{DIMENSIONS} member {i} needs both Name and Value")
        out.append({"Name": str(name), "Value": to_text(val)})
    return out


def to_int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise PropertyError(f"{what}: {value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise PropertyError(f"{what}: {value!r} is not an integer") from None


def to_float(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise PropertyError(f"{what}: {value!r} is not a number")
    try:
        return float(value if isinstance(value, int | float) else str(value).strip())
    except ValueError:
        raise PropertyError(f"{what}: {value!r} is not a number") from None


def to_bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise PropertyError(f"{what}: {value!r} is not true or false")


def to_text(value: Any) -> str:
    """A property value as a string; a whole float (a CFN number) without its ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _put_str(params: dict[str, Any], props: Mapping[str, Any], key: str) -> None:
    value = props.get(key)
    if value is not None and value != "":
        params[key] = str(value)


def _put_int(params: dict[str, Any], props: Mapping[str, Any], key: str) -> None:
    value = props.get(key)
    if value is not None and value != "":
        params[key] = to_int(value, key)
