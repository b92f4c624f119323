"""Group tags: CreateOrUpdate/Delete/DescribeTags with filters and pages, the filters of
DescribeAutoScalingGroups, and propagation to the instances launched: both modes."""

from __future__ import annotations

import pytest

from tests.functional.autoscaling_support import create_group, delete_group, error_of, unique

pytestmark = pytest.mark.functional


def tag(group: str, key: str, value: str, propagate: bool = False) -> dict:
    return {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": key,
            "Value": value, "PropagateAtLaunch": propagate}


def test_tags_and_filters(autoscaling):
    web, db = create_group(autoscaling, unique("web")), create_group(autoscaling, unique("db"))
    autoscaling.create_or_update_tags(Tags=[tag(web, "role", "web", True),
                                            tag(web, "team", "a"), tag(db, "role", "db"),
                                            tag(db, "team", "a")])
    autoscaling.create_or_update_tags(Tags=[tag(db, "team", "b")])  # an update
    mine = {"Name": "auto-scaling-group", "Values": [web, db]}
    found = autoscaling.describe_tags(Filters=[mine])["Tags"]
    assert [(t["ResourceId"], t["Key"], t["Value"], t["PropagateAtLaunch"]) for t in found] \
        == sorted([(web, "role", "web", True), (web, "team", "a", False),
                   (db, "role", "db", False), (db, "team", "b", False)])
    only = autoscaling.describe_tags(Filters=[mine, {"Name": "key", "Values": ["team"]},
                                              {"Name": "value", "Values": ["a", "zzz"]}])
    assert [(t["ResourceId"], t["Value"]) for t in only["Tags"]] == [(web, "a")]
    first = autoscaling.describe_tags(Filters=[mine], MaxRecords=3)
    rest = autoscaling.describe_tags(Filters=[mine], NextToken=first["NextToken"])
    assert len(first["Tags"]) == 3 and len(rest["Tags"]) == 1 and "NextToken" not in rest
    assert error_of(autoscaling.describe_tags,
                    Filters=[{"Name": "colour", "Values": ["x"]}])["code"] == "ValidationError"

    by_tag = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[web, db], Filters=[{"Name": "tag:role", "Values": ["db"]}])
    assert [g["AutoScalingGroupName"] for g in by_tag["AutoScalingGroups"]] == [db]
    by_key = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[web, db], Filters=[{"Name": "tag-key", "Values": ["team"]},
                                                  {"Name": "tag-value", "Values": ["web"]}])
    assert [g["AutoScalingGroupName"] for g in by_key["AutoScalingGroups"]] == [web]

    autoscaling.delete_tags(Tags=[tag(web, "team", "")])
    assert [t["Key"] for t in autoscaling.describe_tags(Filters=[
        {"Name": "auto-scaling-group", "Values": [web]}])["Tags"]] == ["role"]
    missing = unique("missing")
    assert error_of(autoscaling.create_or_update_tags,
                    Tags=[tag(web, "x", "1"), tag(missing, "x", "1")])["code"] == \
        "ValidationError"
    assert [t["Key"] for t in autoscaling.describe_tags(Filters=[
        {"Name": "auto-scaling-group", "Values": [web]}])["Tags"]] == ["role"]  # unchanged
    delete_group(autoscaling, web)
    delete_group(autoscaling, db)
