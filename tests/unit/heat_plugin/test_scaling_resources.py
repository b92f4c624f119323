"""The launch configuration, group and policy resource classes, where Heat is importable
(the test bed's venv); skipped in the gateway's own venv, which has no Heat."""

from __future__ import annotations

import pytest

pytest.importorskip("heat.engine.resource")

from heat.engine import properties
from heat.engine.resources.aws.autoscaling import autoscaling_group as heat_group
from heat.engine.resources.aws.autoscaling import launch_config as heat_lc
from heat.engine.resources.aws.autoscaling import scaling_policy as heat_policy

from cfn_gateway.heat_plugin import policy_params as pp
from cfn_gateway.heat_plugin import scaling_params as sp
from cfn_gateway.heat_plugin.group import AutoScalingGroup
from cfn_gateway.heat_plugin.launch_config import LaunchConfiguration
from cfn_gateway.heat_plugin.policy import ScalingPolicy


def test_launch_configuration_is_heats_with_no_update():
    assert issubclass(LaunchConfiguration, heat_lc.LaunchConfiguration)
    assert LaunchConfiguration.properties_schema is heat_lc.LaunchConfiguration.properties_schema
    assert not any(s.update_allowed for s in LaunchConfiguration.properties_schema.values())
    assert LaunchConfiguration.strict_dependency is True


def test_group_and_policy_take_heats_property_names():
    assert set(heat_group.AutoScalingGroup.properties_schema) <= \
        set(AutoScalingGroup.properties_schema)
    assert set(heat_policy.AWSScalingPolicy.properties_schema) <= \
        set(ScalingPolicy.properties_schema)
    for cls in (AutoScalingGroup, ScalingPolicy):
        assert set(cls.properties_schema) == set(cls.PROPERTIES)
        for name, schema in cls.properties_schema.items():
            assert schema.update_allowed == (name not in cls.REPLACING_PROPERTIES), name
    assert set(AutoScalingGroup.attributes_schema) == {"InstanceList"}
    assert set(ScalingPolicy.attributes_schema) == {"AlarmUrl"}
    assert set(AutoScalingGroup.update_policy_schema) == {"AutoScalingRollingUpdate"}


def test_classic_template_properties_validate():
    group = properties.Properties(AutoScalingGroup.properties_schema, {
        "AvailabilityZones": ["nova"], "LaunchConfigurationName": "lc",
        "MinSize": "1", "MaxSize": "3", "LoadBalancerNames": ["elb"],
        "Tags": [{"Key": "a", "Value": "b"}]})
    group.validate()
    assert (group["MinSize"], group["MaxSize"]) == (1, 3)
    assert group["Tags"] == [{"Key": "a", "Value": "b", "PropagateAtLaunch": True}]
    assert sp.create_group_params(group, "g", "s", "G")["Tags"][0]["PropagateAtLaunch"]
    policy = properties.Properties(ScalingPolicy.properties_schema, {
        "AdjustmentType": "ChangeInCapacity", "AutoScalingGroupName": "g",
        "Cooldown": "60", "ScalingAdjustment": "1"})
    policy.validate()
    assert pp.put_scaling_policy_params(policy, "p")["ScalingAdjustment"] == 1
