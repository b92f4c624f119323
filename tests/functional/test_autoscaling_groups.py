"""Auto Scaling groups end to end through boto3, boto2 and the AWS CLI, in both modes.

Instances come from the mode's instance driver (standalone: the no-cloud driver in the
store file; OpenStack: a Heat stack per group), and the engine beside the server carries
them from Pending to InService and out.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest

from tests.functional import boto2_clients
from tests.functional.autoscaling_support import (
    create_group,
    delete_group,
    describe_group,
    error_of,
    unique,
    wait_for,
    wait_settled,
)
from tests.functional.clients import aws_cli, boto3_client

pytestmark = pytest.mark.functional

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def ids(group: dict) -> set[str]:
    return {i["InstanceId"] for i in group["Instances"]}


def test_group_scales_to_desired_and_records_activities(autoscaling, creds):
    name = create_group(autoscaling, unique("web"), zones=["nova", "az2"], MinSize=1,
                        MaxSize=4, DesiredCapacity=2,
                        Tags=[{"Key": "team", "Value": "ops", "PropagateAtLaunch": True}])
    group = describe_group(autoscaling, name)
    assert group["AutoScalingGroupARN"].startswith(
        f"arn:aws:autoscaling:us-east-1:{creds.project}:autoScalingGroup:")
    assert group["AutoScalingGroupARN"].endswith(f":autoScalingGroupName/{name}")
    assert {k: group[k] for k in ("MinSize", "MaxSize", "DesiredCapacity", "DefaultCooldown",
                                  "AvailabilityZones", "HealthCheckType",
                                  "TerminationPolicies", "LaunchConfigurationName")} == {
        "MinSize": 1, "MaxSize": 4, "DesiredCapacity": 2, "DefaultCooldown": 300,
        "AvailabilityZones": ["nova", "az2"], "HealthCheckType": "EC2",
        "TerminationPolicies": ["Default"], "LaunchConfigurationName": name}
    assert group["Tags"] == [{"ResourceId": name, "ResourceType": "auto-scaling-group",
                              "Key": "team", "Value": "ops", "PropagateAtLaunch": True}]
    assert isinstance(group["CreatedTime"], dt.datetime)

    group = wait_settled(autoscaling, name, 2)
    assert all(re.fullmatch(r"i-[0-9a-f]{17}", i) for i in ids(group))
    # One instance in each zone.
    assert sorted(i["AvailabilityZone"] for i in group["Instances"]) == ["az2", "nova"]
    assert {i["LaunchConfigurationName"] for i in group["Instances"]} == {name}

    launches = autoscaling.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
    assert len(launches) == 2
    for activity in launches:
        assert activity["StatusCode"] == "Successful"
        assert activity["Progress"] == 100
        assert activity["Description"] in {f"Launching a new EC2 instance: {i}"
                                           for i in ids(group)}
        assert re.fullmatch(
            f"At {TIME} a user request created an AutoScalingGroup changing the desired "
            f"capacity from 0 to 2.  At {TIME} an instance was started in response to a "
            "difference between desired and actual capacity, increasing the capacity from "
            "0 to 2.", activity["Cause"]), activity["Cause"]
        assert activity["EndTime"] >= activity["StartTime"]
        assert json.loads(activity["Details"])["Availability Zone"] in {"nova", "az2"}

    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=3)
    group = wait_settled(autoscaling, name, 3)
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    group = wait_settled(autoscaling, name, 1)
    activities = autoscaling.describe_scaling_activities(AutoScalingGroupName=name)
    newest = activities["Activities"][0]
    assert newest["Description"].startswith("Terminating EC2 instance: i-")
    assert re.fullmatch(
        f"At {TIME} a user request explicitly set group desired capacity changing the "
        f"desired capacity from 3 to 1.  At {TIME} an instance was taken out of service in "
        "response to a difference between desired and actual capacity, shrinking the "
        f"capacity from 3 to 1.  At {TIME} instance i-[0-9a-f]{{17}} was selected for "
        "termination.", newest["Cause"]), newest["Cause"]
    assert len(activities["Activities"]) == 5

    instances = autoscaling.describe_auto_scaling_instances(
        InstanceIds=list(ids(group)))["AutoScalingInstances"]
    assert [(i["AutoScalingGroupName"], i["LifecycleState"], i["HealthStatus"])
            for i in instances] == [(name, "InService", "HEALTHY")]
    delete_group(autoscaling, name)
    assert autoscaling.describe_scaling_activities(AutoScalingGroupName=name,
                                                   IncludeDeletedGroups=True)["Activities"]


def test_capacity_refusals_name_aws_texts(autoscaling):
    name = create_group(autoscaling, unique("bounds"), MinSize=1, MaxSize=3,
                        DesiredCapacity=1)
    assert error_of(autoscaling.set_desired_capacity, AutoScalingGroupName=name,
                    DesiredCapacity=4) == {"code": "ValidationError", "status": 400, "message":
        "New SetDesiredCapacity value 4 is above max value 3 for the AutoScalingGroup."}
    assert error_of(autoscaling.set_desired_capacity, AutoScalingGroupName=name,
                    DesiredCapacity=0)["message"] == (
        "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.")
    assert error_of(autoscaling.update_auto_scaling_group, AutoScalingGroupName=name,
                    MinSize=3, MaxSize=2)["message"] == (
        "Max bound, 2, must be greater than or equal to min bound, 3")
    assert error_of(autoscaling.create_auto_scaling_group, AutoScalingGroupName=unique("x"),
                    LaunchConfigurationName=name, MinSize=2, MaxSize=1,
                    AvailabilityZones=["nova"])["message"] == (
        "Max bound, 1, must be greater than or equal to min bound, 2")
    assert error_of(autoscaling.create_auto_scaling_group, AutoScalingGroupName=name,
                    LaunchConfigurationName=name, MinSize=0, MaxSize=1,
                    AvailabilityZones=["nova"]) == {"code": "AlreadyExists", "status": 400,
        "message": f"AutoScalingGroup by this name already exists - A group with the name "
                   f"{name} already exists"}
    assert error_of(autoscaling.create_auto_scaling_group, AutoScalingGroupName=unique("x"),
                    LaunchConfigurationName=name, MinSize=0, MaxSize=1)["message"] == (
        "At least one Availability Zone or VPC Subnet is required.")
    assert error_of(autoscaling.create_auto_scaling_group, AutoScalingGroupName=unique("x"),
                    MinSize=0, MaxSize=1, AvailabilityZones=["nova"])["message"] == (
        "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, "
        "InstanceId or MixedInstancesPolicy parameter.")
    assert error_of(autoscaling.create_auto_scaling_group, AutoScalingGroupName=unique("x"),
                    MinSize=0, MaxSize=1, AvailabilityZones=["nova"],
                    LaunchTemplate={"LaunchTemplateName": "tpl"})["code"] == "ValidationError"
    missing = unique("missing")
    assert error_of(autoscaling.set_desired_capacity, AutoScalingGroupName=missing,
                    DesiredCapacity=1)["message"] == (
        f"AutoScalingGroup name not found - AutoScalingGroup {missing} not found")
    # The launch configuration of a group stays.
    assert error_of(autoscaling.delete_launch_configuration,
                    LaunchConfigurationName=name) == {"code": "ResourceInUse", "status": 400,
        "message": f"Cannot delete launch configuration {name} because it is attached to "
                   "AutoScalingGroup"}
    # Raising the minimum above the desired capacity raises it.
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=2)
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 2
    wait_settled(autoscaling, name, 2)
    assert error_of(autoscaling.delete_auto_scaling_group, AutoScalingGroupName=name) == {
        "code": "ResourceInUse", "status": 400, "message":
        "You cannot delete an AutoScalingGroup while there are instances or pending Spot "
        "instance request(s) still in the group."}
    delete_group(autoscaling, name)


def test_terminate_instance_removes_exactly_that_instance(autoscaling):
    name = create_group(autoscaling, unique("term"), MinSize=1, MaxSize=4, DesiredCapacity=3)
    before = ids(wait_settled(autoscaling, name, 3))
    victim = sorted(before)[1]
    activity = autoscaling.terminate_instance_in_auto_scaling_group(
        InstanceId=victim, ShouldDecrementDesiredCapacity=True)["Activity"]
    assert activity["Description"] == f"Terminating EC2 instance: {victim}"
    assert re.fullmatch(f"At {TIME} instance {victim} was taken out of service in response "
                        "to a user request, shrinking the capacity from 3 to 2.",
                        activity["Cause"]), activity["Cause"]
    after = ids(wait_settled(autoscaling, name, 2))
    assert after == before - {victim}
    assert describe_group(autoscaling, name)["DesiredCapacity"] == 2

    # Without decrement the group launches a replacement.
    second = sorted(after)[0]
    autoscaling.terminate_instance_in_auto_scaling_group(
        InstanceId=second, ShouldDecrementDesiredCapacity=False)
    replaced = ids(wait_settled(autoscaling, name, 2))
    assert second not in replaced and after - {second} <= replaced
    assert error_of(autoscaling.terminate_instance_in_auto_scaling_group,
                    InstanceId="i-0123456789abcdef0", ShouldDecrementDesiredCapacity=True)[
        "message"] == ("Instance Id not found - No managed instance found for instance ID: "
                       "i-0123456789abcdef0")
    delete_group(autoscaling, name)


def test_protected_instances_survive_scale_in(autoscaling):
    name = create_group(autoscaling, unique("prot"), MinSize=0, MaxSize=4, DesiredCapacity=3)
    group = wait_settled(autoscaling, name, 3)
    keep = sorted(ids(group))[:2]
    autoscaling.set_instance_protection(AutoScalingGroupName=name, InstanceIds=keep,
                                        ProtectedFromScaleIn=True)
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    # Only one instance is unprotected: the group goes down to the two protected ones.
    group = wait_settled(autoscaling, name, 2)
    assert sorted(ids(group)) == keep
    assert all(i["ProtectedFromScaleIn"] for i in group["Instances"])
    delete_group(autoscaling, name)


def test_unhealthy_instance_is_replaced(autoscaling):
    name = create_group(autoscaling, unique("health"), MinSize=1, MaxSize=2, DesiredCapacity=1)
    (sick,) = ids(wait_settled(autoscaling, name, 1))
    autoscaling.set_instance_health(InstanceId=sick, HealthStatus="Unhealthy",
                                    ShouldRespectGracePeriod=False)
    (fresh,) = ids(wait_for(lambda: (g := wait_settled(autoscaling, name, 1))
                            and sick not in ids(g) and g))
    assert fresh != sick
    causes = [a["Cause"] for a in autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"]]
    assert any(c.endswith("an instance was taken out of service in response to a user "
                          "health-check.") for c in causes), causes
    delete_group(autoscaling, name)


def test_force_delete_terminates_instances(autoscaling):
    name = create_group(autoscaling, unique("gone"), MinSize=2, MaxSize=2, DesiredCapacity=2)
    wait_settled(autoscaling, name, 2)
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    group = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"]
    if group:  # still terminating its instances
        assert group[0]["Status"] == "Delete in progress"
        assert (group[0]["MinSize"], group[0]["MaxSize"], group[0]["DesiredCapacity"]) == (
            0, 0, 0)
    wait_for(lambda: not autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"])
    assert autoscaling.describe_auto_scaling_instances()["AutoScalingInstances"] == [] or all(
        i["AutoScalingGroupName"] != name
        for i in autoscaling.describe_auto_scaling_instances()["AutoScalingInstances"])
    autoscaling.delete_launch_configuration(LaunchConfigurationName=name)


def test_groups_are_private_to_their_project(gateway, autoscaling, other_creds):
    name = create_group(autoscaling, unique("mine"))
    other = boto3_client("autoscaling", gateway.endpoint, other_creds)
    assert other.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"] == []
    assert error_of(other.set_desired_capacity, AutoScalingGroupName=name,
                    DesiredCapacity=1)["code"] == "ValidationError"
    delete_group(autoscaling, name)


def test_describe_pages(autoscaling):
    prefix = unique("page")
    names = [create_group(autoscaling, f"{prefix}-{i}") for i in range(3)]
    first = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=names, MaxRecords=2)
    assert [g["AutoScalingGroupName"] for g in first["AutoScalingGroups"]] == names[:2]
    second = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=names,
                                                      NextToken=first["NextToken"])
    assert [g["AutoScalingGroupName"] for g in second["AutoScalingGroups"]] == names[2:]
    assert "NextToken" not in second
    assert error_of(autoscaling.describe_auto_scaling_groups,
                    NextToken="bogus")["code"] == "InvalidNextToken"
    paginator = autoscaling.get_paginator("describe_auto_scaling_groups")
    seen = [g["AutoScalingGroupName"] for page in paginator.paginate(
        AutoScalingGroupNames=names, PaginationConfig={"PageSize": 1})
        for g in page["AutoScalingGroups"]]
    assert seen == names
    for name in names:
        delete_group(autoscaling, name)


@pytest.mark.parametrize("signature", ["v4", "v2"])
def test_boto2_groups(gateway, creds, autoscaling, signature):
    from boto.ec2.autoscale import AutoScalingGroup, LaunchConfiguration

    conn = boto2_clients.autoscale(gateway.endpoint, creds, signature)
    name = unique("boto2")
    conn.create_launch_configuration(LaunchConfiguration(name=name, image_id="cirros",
                                                         instance_type="m1.tiny"))
    conn.create_auto_scaling_group(AutoScalingGroup(
        group_name=name, launch_config=name, availability_zones=["nova"], min_size=1,
        max_size=3, desired_capacity=1, connection=conn))
    conn.set_desired_capacity(name, 2)
    wait_settled(autoscaling, name, 2)
    (group,) = conn.get_all_groups(names=[name])
    assert (group.min_size, group.max_size, group.desired_capacity) == (1, 3, 2)
    assert len(group.instances) == 2
    activities = conn.get_all_activities(name)
    assert len(activities) == 2 and all(a.status_code == "Successful" for a in activities)
    delete_group(autoscaling, name)


def test_aws_cli_groups(gateway, creds, autoscaling):
    name = unique("cli")
    cli = lambda *args: aws_cli(gateway.endpoint, creds, "autoscaling", *args)  # noqa: E731
    done = cli("create-launch-configuration", "--launch-configuration-name", name,
               "--image-id", "cirros", "--instance-type", "m1.tiny")
    assert done.returncode == 0, done.stderr
    done = cli("create-auto-scaling-group", "--auto-scaling-group-name", name,
               "--launch-configuration-name", name, "--min-size", "1", "--max-size", "2",
               "--availability-zones", "nova")
    assert done.returncode == 0, done.stderr
    wait_settled(autoscaling, name, 1)
    done = cli("describe-auto-scaling-groups", "--auto-scaling-group-names", name)
    assert done.returncode == 0, done.stderr
    (group,) = json.loads(done.stdout)["AutoScalingGroups"]
    assert group["DesiredCapacity"] == 1 and len(group["Instances"]) == 1
    done = cli("delete-auto-scaling-group", "--auto-scaling-group-name", name,
               "--force-delete")
    assert done.returncode == 0, done.stderr
    wait_for(lambda: not autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"])
    autoscaling.delete_launch_configuration(LaunchConfigurationName=name)


def test_standby_takes_instances_out_of_capacity_and_back(autoscaling):
    name = create_group(autoscaling, unique("standby"), MinSize=1, MaxSize=3,
                        DesiredCapacity=2)
    rest, resting = sorted(ids(wait_settled(autoscaling, name, 2)))
    (activity,) = autoscaling.enter_standby(AutoScalingGroupName=name, InstanceIds=[resting],
                                            ShouldDecrementDesiredCapacity=True)["Activities"]
    assert activity["Description"] == f"Moving EC2 instance to Standby: {resting}"
    assert re.fullmatch(f"At {TIME} instance {resting} was moved to standby in response to a "
                        "user request, shrinking the capacity from 2 to 1.", activity["Cause"])
    group = describe_group(autoscaling, name)
    assert group["DesiredCapacity"] == 1
    assert sorted((i["InstanceId"], i["LifecycleState"]) for i in group["Instances"]) == \
        sorted([(rest, "InService"), (resting, "Standby")])
    assert error_of(autoscaling.enter_standby, AutoScalingGroupName=name, InstanceIds=[rest],
                    ShouldDecrementDesiredCapacity=True)["code"] == "ValidationError"  # min 1
    (back,) = autoscaling.exit_standby(AutoScalingGroupName=name,
                                       InstanceIds=[resting])["Activities"]
    assert back["Description"] == f"Moving EC2 instance out of Standby: {resting}"
    group = wait_settled(autoscaling, name, 2)
    assert ids(group) == {rest, resting} and group["DesiredCapacity"] == 2
    delete_group(autoscaling, name)


def test_scaling_activities_filters(gateway, creds, autoscaling):
    name = create_group(autoscaling, unique("filters"), MaxSize=3, DesiredCapacity=2)
    wait_settled(autoscaling, name, 2)
    launches = autoscaling.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
    time.sleep(1.1)  # the termination starts in a later second than the launches
    autoscaling.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=1)
    wait_settled(autoscaling, name, 1)
    wait_for(lambda: [a["StatusCode"] for a in autoscaling.describe_scaling_activities(
        AutoScalingGroupName=name)["Activities"]] == ["Successful"] * 3)

    def described(*filters: tuple[str, list[str]], **kwargs) -> list[str]:
        return [a["ActivityId"] for a in autoscaling.describe_scaling_activities(
            Filters=[{"Name": n, "Values": v} for n, v in filters], **kwargs)["Activities"]]

    everything = described(AutoScalingGroupName=name)
    termination = autoscaling.describe_scaling_activities(
        ActivityIds=[everything[0]])["Activities"][0]
    assert termination["Description"].startswith("Terminating EC2 instance")
    since = termination["StartTime"].isoformat()
    assert described(("StartTimeLowerBound", [since]), AutoScalingGroupName=name) == \
        [termination["ActivityId"]]
    until = max(a["StartTime"] for a in launches).isoformat()
    assert sorted(described(("StartTimeUpperBound", [until]), AutoScalingGroupName=name)) == \
        sorted(a["ActivityId"] for a in launches)
    assert described(("StartTimeLowerBound", [since]), ("StartTimeUpperBound", [until]),
                     AutoScalingGroupName=name) == []
    assert described(("Status", ["Successful", "Failed"]), AutoScalingGroupName=name) == \
        everything
    assert described(("Status", ["Failed"]), AutoScalingGroupName=name) == []
    assert described(("Status", ["Successful"]), ActivityIds=everything[:1],
                     AutoScalingGroupName=name) == everything[:1]
    # AWS's rules.
    refused = error_of(autoscaling.describe_scaling_activities,
                       Filters=[{"Name": "Status", "Values": ["Successful"]}])
    assert refused == {"code": "ValidationError", "status": 400, "message":
                       "The Status filter can only be used in combination with the "
                       "AutoScalingGroupName parameter."}
    assert "not valid for DescribeScalingActivities" in error_of(
        autoscaling.describe_scaling_activities, AutoScalingGroupName=name,
        Filters=[{"Name": "tag-key", "Values": ["x"]}])["message"]
    # The AWS CLI's shorthand.
    done = aws_cli(gateway.endpoint, creds, "autoscaling", "describe-scaling-activities",
                   "--auto-scaling-group-name", name, "--filters",
                   f"Name=StartTimeLowerBound,Values={since}")
    assert done.returncode == 0, done.stderr
    assert [a["ActivityId"] for a in json.loads(done.stdout)["Activities"]] == \
        [termination["ActivityId"]]
    delete_group(autoscaling, name)


def test_a_launch_the_cloud_refuses_fails_visibly(backend, autoscaling):
    if backend != "openstack":
        pytest.skip("only a cloud refuses a launch configuration: the no-cloud driver "
                    "launches any")
    name = create_group(autoscaling, unique("refused"), MaxSize=3, DesiredCapacity=1)
    (first,) = ids(wait_settled(autoscaling, name, 1))
    bad = name + "-bad"
    autoscaling.create_launch_configuration(  # an image the test bed's cloud does not have
        LaunchConfigurationName=bad, ImageId="cfngw-testbed-no-such-image",
        InstanceType="m1.tiny")
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=name,
                                          LaunchConfigurationName=bad, DesiredCapacity=2)

    def failures() -> list[dict]:
        return [a for a in autoscaling.describe_scaling_activities(
            AutoScalingGroupName=name)["Activities"] if a["StatusCode"] == "Failed"]

    failed = wait_for(failures)[0]
    assert failed["Description"].startswith("Launching a new EC2 instance: i-")
    assert "cfngw-testbed-no-such-image" in failed["StatusMessage"]
    assert failed["StatusMessage"].endswith(". Launching EC2 instance failed.")
    # The instance in service carries on.
    group = describe_group(autoscaling, name)
    assert [(i["InstanceId"], i["LifecycleState"]) for i in group["Instances"]
            if i["InstanceId"] == first] == [(first, "InService")]
    # Fixed: the launch is tried again, after its back-off.
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=name,
                                          LaunchConfigurationName=name)
    assert first in ids(wait_settled(autoscaling, name, 2))
    delete_group(autoscaling, name)
    autoscaling.delete_launch_configuration(LaunchConfigurationName=bad)
