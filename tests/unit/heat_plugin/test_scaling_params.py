"""Launch configuration, group and policy properties -> Auto Scaling requests, and the
capacity arithmetic of ``adjust`` (no Heat needed)."""

from __future__ import annotations

import pytest
from botocore.validate import ParamValidator

from cfn_gateway.heat_plugin import client
from cfn_gateway.heat_plugin import policy_params as pp
from cfn_gateway.heat_plugin import scaling_params as sp
from cfn_gateway.heat_plugin.alarm_params import PropertyError


def assert_valid(operation: str, params: dict) -> None:
    op = client.service_model("autoscaling").operation_model(operation)
    report = ParamValidator().validate(params, op.input_shape)
    assert not report.has_errors(), report.generate_report()


# --- launch configurations

def test_launch_configuration_of_the_classic_template():
    props = {"ImageId": "F17-x86_64-cfntools", "InstanceType": "m1.small",
             "KeyName": "mykey", "UserData": "ignored here", "SecurityGroups": ["web", ""]}
    params = sp.launch_configuration_params(props, "st-LaunchConfig-abc", "QUJD")
    assert params == {"LaunchConfigurationName": "st-LaunchConfig-abc",
                      "ImageId": "F17-x86_64-cfntools", "InstanceType": "m1.small",
                      "KeyName": "mykey", "SecurityGroups": ["web"], "UserData": "QUJD"}
    assert_valid("CreateLaunchConfiguration", params)


def test_launch_configuration_block_devices_and_kernel():
    props = {"ImageId": "i", "InstanceType": "t", "KernelId": "k", "RamDiskId": "r",
             "BlockDeviceMappings": [
                 {"DeviceName": "vdb", "Ebs": {"SnapshotId": "snap-1", "VolumeSize": "10",
                                               "DeleteOnTermination": "false"}},
                 {"DeviceName": "vdc", "NoDevice": {}, "VirtualName": "ephemeral0"},
                 {"DeviceName": "vdd", "NoDevice": {"x": 1}},
             ]}
    params = sp.launch_configuration_params(props, "n", None)
    assert "UserData" not in params
    assert (params["KernelId"], params["RamdiskId"]) == ("k", "r")
    assert params["BlockDeviceMappings"] == [
        {"DeviceName": "vdb", "Ebs": {"SnapshotId": "snap-1", "VolumeSize": 10,
                                      "DeleteOnTermination": False}},
        {"DeviceName": "vdc", "VirtualName": "ephemeral0"},
        {"DeviceName": "vdd", "NoDevice": True},
    ]
    assert_valid("CreateLaunchConfiguration", params)


def test_launch_configuration_refusals_and_ignored():
    with pytest.raises(PropertyError, match="no EC2 instance to copy"):
        sp.launch_configuration_params({"InstanceId": "i-1"}, "n", None)
    with pytest.raises(PropertyError, match="needs a DeviceName"):
        sp.block_device_mappings([{"Ebs": {}}])
    with pytest.raises(PropertyError, match="VolumeSize"):
        sp.block_device_mappings([{"DeviceName": "vdb", "Ebs": {"VolumeSize": "big"}}])
    [sentence] = sp.ignored_launch_configuration_properties(
        {"NovaSchedulerHints": [{"Key": "group", "Value": "g"}]})
    assert "NovaSchedulerHints ignored" in sentence
    assert sp.ignored_launch_configuration_properties({"NovaSchedulerHints": []}) == []


# --- groups

CLASSIC_GROUP = {"AvailabilityZones": ["nova"], "LaunchConfigurationName": "st-LC-abc",
                 "MinSize": "1", "MaxSize": "3", "LoadBalancerNames": ["st-ELB-x"]}


def _tag(key, value, propagate, group="st-G-x"):
    return {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": key,
            "Value": value, "PropagateAtLaunch": propagate}


def test_create_group_of_the_classic_template():
    params = sp.create_group_params(CLASSIC_GROUP, "st-G-x", "stack-uuid", "WebServerGroup")
    assert params == {
        "AutoScalingGroupName": "st-G-x", "LaunchConfigurationName": "st-LC-abc",
        "MinSize": 1, "MaxSize": 3, "AvailabilityZones": ["nova"],
        "Tags": [_tag("metering.AutoScalingGroupName", "st-G-x", True),
                 _tag("heat-stack-id", "stack-uuid", False),
                 _tag("heat-logical-id", "WebServerGroup", False)],
    }
    assert "LoadBalancerNames" not in params        # the gateway refuses them
    [sentence] = sp.ignored_group_properties(CLASSIC_GROUP)
    assert "st-ELB-x" in sentence and "no Elastic Load Balancing" in sentence
    assert sp.ignored_group_properties({"LoadBalancerNames": []}) == []
    assert_valid("CreateAutoScalingGroup", params)


def test_create_group_all_settings():
    props = dict(CLASSIC_GROUP, DesiredCapacity="2", Cooldown="60",
                 HealthCheckGracePeriod=30, HealthCheckType="EC2",
                 VPCZoneIdentifier=["subnet-1", "subnet-2"],
                 AvailabilityZones=["az1", "az1", "az2"],
                 TerminationPolicies=["OldestInstance", "Default"],
                 Tags=[{"Key": "app", "Value": "web"},
                       {"Key": "secret", "Value": 1.0, "PropagateAtLaunch": "false"},
                       {"Key": "metering.AutoScalingGroupName", "Value": "mine"}])
    params = sp.create_group_params(props, "st-G-x", "s", "G")
    assert (params["DesiredCapacity"], params["DefaultCooldown"]) == (2, 60)
    assert (params["HealthCheckGracePeriod"], params["HealthCheckType"]) == (30, "EC2")
    assert params["VPCZoneIdentifier"] == "subnet-1,subnet-2"
    assert params["AvailabilityZones"] == ["az1", "az2"]
    assert params["TerminationPolicies"] == ["OldestInstance", "Default"]
    assert params["Tags"] == [
        _tag("app", "web", True), _tag("secret", "1", False),
        _tag("metering.AutoScalingGroupName", "mine", True),   # the template's wins
        _tag("heat-stack-id", "s", False), _tag("heat-logical-id", "G", False)]
    assert_valid("CreateAutoScalingGroup", params)


@pytest.mark.parametrize("change, error", [
    ({"MinSize": "4"}, "MinSize \\(4\\) cannot be greater than MaxSize \\(3\\)"),
    ({"MinSize": -1}, "cannot be negative"),
    ({"DesiredCapacity": "5"}, "DesiredCapacity \\(5\\) must be between"),
    ({"LaunchConfigurationName": None}, "LaunchConfigurationName is required"),
    ({"InstanceId": "i-1"}, "no EC2 instance"),
    ({"MaxSize": "three"}, "MaxSize: 'three' is not an integer"),
    ({"Tags": [{"Value": "v"}]}, "Tags member 1 needs a Key"),
])
def test_group_refusals(change, error):
    with pytest.raises(PropertyError, match=error):
        sp.create_group_params(dict(CLASSIC_GROUP, **change), "g", "s", "G")


def test_wanted_capacity():
    assert sp.wanted_capacity(CLASSIC_GROUP) == 1
    assert sp.wanted_capacity(dict(CLASSIC_GROUP, DesiredCapacity="2")) == 2
    assert sp.wanted_capacity(dict(CLASSIC_GROUP, DesiredCapacity=None)) == 1


def test_update_sends_desired_capacity_only_when_the_template_changed_it():
    props = dict(CLASSIC_GROUP, DesiredCapacity=2, MaxSize=5, Cooldown=30)
    params = sp.update_group_params(props, "g", ["MaxSize"])
    assert params == {"AutoScalingGroupName": "g", "LaunchConfigurationName": "st-LC-abc",
                      "MinSize": 1, "MaxSize": 5, "DefaultCooldown": 30,
                      "AvailabilityZones": ["nova"]}
    assert sp.update_group_params(props, "g", ["DesiredCapacity"])["DesiredCapacity"] == 2
    # removed from the template: the group keeps its size
    assert "DesiredCapacity" not in sp.update_group_params(CLASSIC_GROUP, "g",
                                                           ["DesiredCapacity"])
    assert_valid("UpdateAutoScalingGroup", params)


def test_tag_changes():
    old = dict(CLASSIC_GROUP, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    new = dict(CLASSIC_GROUP, Tags=[{"Key": "a", "Value": "1"}, {"Key": "c", "Value": "3"},
                                    {"Key": "b", "Value": "2", "PropagateAtLaunch": False}])
    put, gone = sp.tag_changes(old, new, "g", "s", "G")
    assert put == [_tag("c", "3", True, "g"), _tag("b", "2", False, "g")]
    assert gone == []
    put, gone = sp.tag_changes(new, CLASSIC_GROUP, "g", "s", "G")
    assert put == []
    assert [t["Key"] for t in gone] == ["a", "c", "b"]
    assert_valid("DeleteTags", {"Tags": gone})


def test_instances_in_service_and_failures():
    group = {"Instances": [
        {"InstanceId": "i-1", "LifecycleState": "InService"},
        {"InstanceId": "i-2", "LifecycleState": "Pending"},
        {"InstanceId": "i-3", "LifecycleState": "Terminating"},
        {"InstanceId": "i-4", "LifecycleState": "Terminating:Wait"},
    ]}
    assert sp.in_service(group) == 1
    assert [i["InstanceId"] for i in sp.live_instances(group)] == ["i-1", "i-2"]
    assert sp.in_service({}) == 0
    assert sp.failed_activity([]) is None
    assert sp.failed_activity([{"StatusCode": "InProgress"},
                               {"StatusCode": "Failed"}]) is None
    text = sp.failed_activity([{"StatusCode": "Failed",
                                "Description": "Launching a new EC2 instance",
                                "StatusMessage": "image foo not found"}])
    assert text == ("the group's scaling activity Launching a new EC2 instance failed: "
                    "image foo not found")
    assert "cancelled: no reason given" in sp.failed_activity([{"StatusCode": "Cancelled"}])


# --- policies

def test_policy_of_the_classic_template():
    props = {"AdjustmentType": "ChangeInCapacity", "AutoScalingGroupName": "st-G-x",
             "Cooldown": "60", "ScalingAdjustment": "-1"}
    params = pp.put_scaling_policy_params(props, "st-ScaleDown-x")
    assert params == {"AutoScalingGroupName": "st-G-x", "PolicyName": "st-ScaleDown-x",
                      "AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": -1,
                      "Cooldown": 60}
    assert_valid("PutScalingPolicy", params)


def test_policy_min_adjustment_step_and_steps():
    props = {"AdjustmentType": "PercentChangeInCapacity", "AutoScalingGroupName": "g",
             "ScalingAdjustment": 10, "MinAdjustmentStep": "2"}
    assert pp.put_scaling_policy_params(props, "p")["MinAdjustmentMagnitude"] == 2
    props = {"AdjustmentType": "ChangeInCapacity", "AutoScalingGroupName": "g",
             "PolicyType": "StepScaling", "MetricAggregationType": "Average",
             "EstimatedInstanceWarmup": "120",
             "StepAdjustments": [
                 {"MetricIntervalLowerBound": "0", "MetricIntervalUpperBound": 10,
                  "ScalingAdjustment": "1"},
                 {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 2}]}
    params = pp.put_scaling_policy_params(props, "p")
    assert params["StepAdjustments"] == [
        {"ScalingAdjustment": 1, "MetricIntervalLowerBound": 0.0,
         "MetricIntervalUpperBound": 10.0},
        {"ScalingAdjustment": 2, "MetricIntervalLowerBound": 10.0}]
    assert (params["PolicyType"], params["EstimatedInstanceWarmup"]) == ("StepScaling", 120)
    assert_valid("PutScalingPolicy", params)


@pytest.mark.parametrize("props, error", [
    ({"AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": 1, "MinAdjustmentStep": 1},
     "only allowed when AdjustmentType is PercentChangeInCapacity"),
    ({"AdjustmentType": "PercentChangeInCapacity", "ScalingAdjustment": 1,
      "MinAdjustmentStep": 1, "MinAdjustmentMagnitude": 2}, "differ"),
    ({"AdjustmentType": "ChangeInCapacity"}, "ScalingAdjustment is required"),
    ({"AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": 1,
      "StepAdjustments": [{"ScalingAdjustment": 1}]}, "only allowed with PolicyType"),
    ({"AdjustmentType": "ChangeInCapacity", "PolicyType": "StepScaling"},
     "StepAdjustments is required"),
    ({"AdjustmentType": "ChangeInCapacity", "PolicyType": "StepScaling", "Cooldown": 5,
      "StepAdjustments": [{"ScalingAdjustment": 1}]}, "only allowed with PolicyType"),
    ({"ScalingAdjustment": 1}, "AdjustmentType is required"),
])
def test_policy_refusals(props, error):
    with pytest.raises(PropertyError, match=error):
        pp.put_scaling_policy_params(dict(props, AutoScalingGroupName="g"), "p")


# --- capacity (group.adjust)

@pytest.mark.parametrize("current, adjustment, kind, step, expected", [
    (1, 1, "ChangeInCapacity", None, 2),
    (1, 5, "ChangeInCapacity", None, 3),           # clamped to MaxSize
    (1, -1, "ChangeInCapacity", None, 1),          # clamped to MinSize
    (2, -1, "change_in_capacity", None, 1),        # Heat's native spelling
    (2, 3, "ExactCapacity", None, 3),
    (2, 0, "exact_capacity", None, 1),
    (2, 10, "PercentChangeInCapacity", None, 3),   # 0.2 of an instance -> 1
    (3, -10, "PercentChangeInCapacity", None, 2),  # -0.3 -> -1
    (3, 50, "PercentChangeInCapacity", None, 3),   # 1.5 -> 1: 4, clamped to 3
    (2, 50, "PercentChangeInCapacity", 2, 3),      # 1 raised to 2: 4, clamped to 3
    (2, 0, "PercentChangeInCapacity", 2, 2),       # no change stays no change
    (1, 1, None, None, 2),                         # default: change in capacity
])
def test_new_capacity(current, adjustment, kind, step, expected):
    assert pp.new_capacity(current, adjustment, kind, step, 1, 3) == expected


@pytest.mark.parametrize("current, percent, expected", [
    (10, 25, 12), (10, -25, 8), (10, 5, 11), (10, -5, 9), (100, 150, 250), (7, -100, 0),
])
def test_percent_rounding(current, percent, expected):
    assert pp.new_capacity(current, percent, "PercentChangeInCapacity", None, 0,
                           1000) == expected


def test_unknown_adjustment_type():
    with pytest.raises(PropertyError, match="unknown adjustment type"):
        pp.new_capacity(1, 1, "Doubling", None, 0, 5)


@pytest.mark.parametrize("code, message, gone", [
    ("ValidationError", "AutoScalingGroup name not found - AutoScalingGroup g not found", True),
    ("ValidationError", "Launch configuration name not found - Launch configuration x not "
                        "found", True),
    ("ValidationError", "No policy found for the given parameters.", True),
    ("ResourceNotFound", "", True),
    ("ValidationError", "MinSize must be ...", False),
    ("ResourceInUse", "Cannot delete launch configuration x", False),
    ("InternalFailure", None, False),
])
def test_not_found_answers(code, message, gone):
    assert sp.is_not_found(code, message) is gone
