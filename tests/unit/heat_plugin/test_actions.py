"""What alarm action values become (no Heat needed)."""

from __future__ import annotations

import pytest

from cfn_gateway.heat_plugin import actions
from cfn_gateway.heat_plugin.actions import ActionError, Target

URL = ("http://127.0.0.1:8000/v1/signal/arn%3Aopenstack%3Aheat%3A%3Ap%3Astacks/s/i/"
       "resources/ScaleUp?SignatureMethod=HmacSHA256&SignatureVersion=2&AWSAccessKeyId=k"
       "&Signature=abc%3D")
POLICY_ARN = "arn:aws:autoscaling:RegionOne:p:scalingPolicy:u:autoScalingGroupName/g:policyName/up"

STACK = {
    "ScaleUp": Target("ScaleUp", "AWS::AutoScaling::ScalingPolicy", "AlarmUrl", URL),
    "native-policy-id": Target("NativePolicy", "OS::Heat::ScalingPolicy", "alarm_url",
                               "http://127.0.0.1:8000/v1/signal/native"),
    "Restarter": Target("Restarter", "OS::Heat::HARestarter"),
    "Bucket": Target("Bucket", "OS::Swift::Container"),
    "Pending": Target("Pending", "AWS::AutoScaling::ScalingPolicy", "AlarmUrl", None),
}


def lookup(value: str) -> Target | None:
    return STACK.get(value)


@pytest.mark.parametrize("value", [
    POLICY_ARN, URL, "https://hooks.example.com/x", "HTTP://EXAMPLE.COM/", "arn:openstack:x"])
def test_arns_and_urls_pass_as_they_are(value):
    def refuse(_):
        raise AssertionError("no lookup for direct values")
    assert actions.resolve([value], refuse).actions == [value]


def test_resource_names_become_their_url():
    result = actions.resolve(["ScaleUp", "native-policy-id"], lookup)
    assert result.actions == [URL, "http://127.0.0.1:8000/v1/signal/native"]
    assert result.dropped == []


def test_empty_values_and_duplicates_are_dropped_silently():
    result = actions.resolve([None, "", "  ", URL, "ScaleUp"], lookup, "OKActions")
    assert result.actions == [URL] and result.dropped == []
    assert actions.resolve(None, lookup).actions == []


def test_harestarter_is_dropped_with_a_reason():
    result = actions.resolve(["Restarter", POLICY_ARN], lookup, "AlarmActions")
    assert result.actions == [POLICY_ARN]
    assert result.dropped == [
        "AlarmActions: action 'Restarter' dropped: Restarter (OS::Heat::HARestarter) is a "
        "placeholder in this Heat and has nothing to call"]


def test_resource_without_url_fails():
    with pytest.raises(ActionError) as info:
        actions.resolve(["Bucket"], lookup, "InsufficientDataActions")
    assert str(info.value) == (
        "InsufficientDataActions: 'Bucket' is the resource Bucket (OS::Swift::Container), "
        "which has no AlarmUrl or alarm_url attribute for an alarm to call")


def test_url_without_value_fails():
    with pytest.raises(ActionError, match="whose AlarmUrl has no value yet"):
        actions.resolve(["Pending"], lookup)


def test_unknown_value_fails():
    with pytest.raises(ActionError) as info:
        actions.resolve(["NoSuchPolicy"], lookup)
    assert str(info.value) == ("AlarmActions: 'NoSuchPolicy' is neither an ARN (arn:...), an "
                               "http(s) URL nor a resource of this stack")


def test_too_long_action_fails():
    long_url = "http://h/" + "x" * 1100
    with pytest.raises(ActionError, match="over AWS's limit of 1024"):
        actions.resolve([long_url], lookup)
