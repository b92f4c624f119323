"""Launch configurations through boto3 (Query), boto2 and the AWS CLI, in both modes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.functional import boto2_clients
from tests.functional.autoscaling_support import error_of, unique
from tests.functional.clients import aws_cli, boto3_client

pytestmark = pytest.mark.functional


def test_create_describe_delete(autoscaling, creds):
    name = unique("web")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=name, ImageId="cirros-0.6", InstanceType="m1.small",
        KeyName="ops", SecurityGroups=["default", "web"], UserData="#!/bin/sh\n",
        BlockDeviceMappings=[{"DeviceName": "/dev/vdb",
                              "Ebs": {"VolumeSize": 20, "DeleteOnTermination": True}}],
        InstanceMonitoring={"Enabled": False}, AssociatePublicIpAddress=True,
        MetadataOptions={"HttpTokens": "required"})
    (found,) = autoscaling.describe_launch_configurations(
        LaunchConfigurationNames=[name])["LaunchConfigurations"]
    assert found["LaunchConfigurationARN"].startswith(
        f"arn:aws:autoscaling:us-east-1:{creds.project}:launchConfiguration:")
    assert found["LaunchConfigurationARN"].endswith(f":launchConfigurationName/{name}")
    assert isinstance(found["CreatedTime"], dt.datetime)
    assert {k: found[k] for k in (
        "ImageId", "InstanceType", "KeyName", "SecurityGroups", "UserData", "KernelId",
        "RamdiskId", "InstanceMonitoring", "EbsOptimized", "AssociatePublicIpAddress",
        "MetadataOptions", "BlockDeviceMappings")} == {
        "ImageId": "cirros-0.6", "InstanceType": "m1.small", "KeyName": "ops",
        # boto3 base64-encodes UserData before sending it, as AWS wants it.
        "SecurityGroups": ["default", "web"], "UserData": "IyEvYmluL3NoCg==",
        "KernelId": "", "RamdiskId": "", "InstanceMonitoring": {"Enabled": False},
        "EbsOptimized": False, "AssociatePublicIpAddress": True,
        "MetadataOptions": {"HttpTokens": "required"},
        "BlockDeviceMappings": [{"DeviceName": "/dev/vdb",
                                 "Ebs": {"VolumeSize": 20, "DeleteOnTermination": True}}]}

    again = error_of(autoscaling.create_launch_configuration, LaunchConfigurationName=name,
                     ImageId="x", InstanceType="y")
    assert again == {"code": "AlreadyExists", "status": 400, "message": (
        "Launch Configuration by this name already exists - A launch configuration "
        f"already exists with the name {name}")}

    autoscaling.delete_launch_configuration(LaunchConfigurationName=name)
    assert autoscaling.describe_launch_configurations(
        LaunchConfigurationNames=[name])["LaunchConfigurations"] == []
    gone = error_of(autoscaling.delete_launch_configuration, LaunchConfigurationName=name)
    assert gone == {"code": "ValidationError", "status": 400, "message": (
        f"Launch configuration name not found - Launch configuration {name} not found")}


def test_defaults_and_refusals(autoscaling):
    name = unique("minimal")
    autoscaling.create_launch_configuration(LaunchConfigurationName=name, ImageId="img",
                                            InstanceType="m1.tiny")
    (found,) = autoscaling.describe_launch_configurations(
        LaunchConfigurationNames=[name])["LaunchConfigurations"]
    assert (found["KeyName"], found["SecurityGroups"], found["InstanceMonitoring"],
            found["BlockDeviceMappings"]) == ("", [], {"Enabled": True}, [])
    assert "AssociatePublicIpAddress" not in found and "SpotPrice" not in found

    missing = error_of(autoscaling.create_launch_configuration,
                       LaunchConfigurationName=unique("x"), ImageId="img")
    assert missing["code"] == "ValidationError"
    assert missing["message"] == ("Valid requests must contain either the InstanceID "
                                  "parameter or both the ImageId and InstanceType parameters.")
    from_instance = error_of(autoscaling.create_launch_configuration,
                             LaunchConfigurationName=unique("x"), InstanceId="i-0123456789")
    assert (from_instance["code"], from_instance["status"]) == ("NotImplemented", 501)
    too_many = error_of(autoscaling.describe_launch_configurations, MaxRecords=101)
    assert too_many["code"] == "ValidationError" and "less than or equal to 100" in \
        too_many["message"]
    bad_token = error_of(autoscaling.describe_launch_configurations, NextToken="nope")
    assert bad_token["code"] == "InvalidNextToken"


def test_pages_and_projects(autoscaling, gateway, other_creds):
    names = sorted(unique(f"page{i}") for i in range(5))
    for name in names:
        autoscaling.create_launch_configuration(LaunchConfigurationName=name, ImageId="img",
                                                InstanceType="m1.tiny")
    seen, token = [], None
    while True:
        page = autoscaling.describe_launch_configurations(
            LaunchConfigurationNames=names, MaxRecords=2, **({"NextToken": token} if token
                                                             else {}))
        assert len(page["LaunchConfigurations"]) <= 2
        seen += [c["LaunchConfigurationName"] for c in page["LaunchConfigurations"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    paginated = autoscaling.get_paginator("describe_launch_configurations").paginate(
        LaunchConfigurationNames=names, PaginationConfig={"PageSize": 3})
    assert [c["LaunchConfigurationName"] for p in paginated
            for c in p["LaunchConfigurations"]] == names
    other = boto3_client("autoscaling", gateway.endpoint, other_creds)
    assert other.describe_launch_configurations(
        LaunchConfigurationNames=names)["LaunchConfigurations"] == []


def test_boto2_and_the_aws_cli(gateway, creds):
    from boto.ec2.autoscale import LaunchConfiguration

    name = unique("boto2")
    conn = boto2_clients.autoscale(gateway.endpoint, creds)
    conn.create_launch_configuration(LaunchConfiguration(
        name=name, image_id="img", instance_type="m1.small", key_name="ops",
        security_groups=["default"]))
    (found,) = conn.get_all_launch_configurations(names=[name])
    assert (found.name, found.image_id, found.instance_type, found.key_name) == (
        name, "img", "m1.small", "ops")
    done = aws_cli(gateway.endpoint, creds, "autoscaling", "describe-launch-configurations",
                   "--launch-configuration-names", name)
    assert done.returncode == 0, done.stderr
    (listed,) = json.loads(done.stdout)["LaunchConfigurations"]
    assert listed["SecurityGroups"] == ["default"]
    deleted = aws_cli(gateway.endpoint, creds, "autoscaling", "delete-launch-configuration",
                      "--launch-configuration-name", name)
    assert deleted.returncode == 0, deleted.stderr
    assert conn.get_all_launch_configurations(names=[name]) == []
