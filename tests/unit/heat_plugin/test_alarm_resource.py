"""The resource class itself, where Heat is importable (the test bed's venv); skipped in
the gateway's own venv, which has no Heat."""

from __future__ import annotations

import pytest

pytest.importorskip("heat.engine.resource")

from cfn_gateway.heat_plugin import alarm_params as ap
from cfn_gateway.heat_plugin.alarm import Alarm


def test_schema_names_and_update_rules():
    assert set(Alarm.properties_schema) == set(Alarm.PROPERTIES)
    for name, schema in Alarm.properties_schema.items():
        assert schema.update_allowed == (name not in ap.REPLACING_PROPERTIES), name
    assert Alarm.strict_dependency is False
    assert set(Alarm.attributes_schema) == {"Arn"}


def test_classic_template_properties_validate():
    from heat.engine import properties
    props = properties.Properties(Alarm.properties_schema, {
        "AlarmDescription": "Scale-up if MEM > 50% for 1 minute",
        "MetricName": "MemoryUtilization", "Namespace": "system/linux",
        "Statistic": "Average", "Period": "60", "EvaluationPeriods": "1", "Threshold": "50",
        "AlarmActions": ["http://x/"], "ComparisonOperator": "GreaterThanThreshold",
        "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "g"}], "Units": "Percent",
    })
    props.validate()
    assert (props["Period"], props["Threshold"]) == (60, 50)
    params = ap.put_metric_alarm_params(props, "n")
    assert params["Unit"] == "Percent" and params["Period"] == 60
