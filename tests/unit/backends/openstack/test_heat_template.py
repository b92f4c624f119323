"""Members -> the group's HOT template, and Heat's resource list -> member states (pure)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from cfn_gateway.backends.instances import BOOTING, FAILED, RUNNING, Member
from cfn_gateway.backends.openstack import heat_template as ht
from cfn_gateway.backends.openstack.heat_template import MemberState, StackState
from cfn_gateway.domain.launch_configurations import (
    BlockDeviceMapping,
    EbsVolume,
    LaunchConfiguration,
)

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
GROUP = "5b0c1a9e-2f4d-4c1e-9a51-0d4b8e7f6a21"
I1, I2, I3 = "i-0123456789abcdef0", "i-0123456789abcdef1", "i-0123456789abcdef2"
LC = LaunchConfiguration(name="web", arn="arn:lc", created_at=T0, image_id="cirros",
                         instance_type="m1.small")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def props(lc: LaunchConfiguration = LC, zone: str = "nova",
          tags: tuple[tuple[str, str], ...] = (), networks: tuple[str, ...] = ()
          ) -> dict[str, Any]:
    return ht.member_properties(Member(I1, zone, lc, tags), networks)


BASE = {"name": I1, "image": "cirros", "flavor": "m1.small", "user_data_format": "RAW",
        "availability_zone": "nova"}


@pytest.mark.parametrize(("label", "arguments", "expected"), [
    ("minimal", {}, BASE),
    ("key pair and security groups",
     {"lc": replace(LC, key_name="ops", security_groups=("sg-web", "default"))},
     {**BASE, "key_name": "ops", "security_groups": ["sg-web", "default"]}),
    ("no zone", {"zone": ""}, {k: v for k, v in BASE.items() if k != "availability_zone"}),
    ("user data decoded",
     {"lc": replace(LC, user_data=b64("#!/bin/sh\necho héllo\n"))},
     {**BASE, "user_data": "#!/bin/sh\necho héllo\n"}),
    ("user data base64 wrapped over lines",
     {"lc": replace(LC, user_data=b64("x" * 100)[:76] + "\n" + b64("x" * 100)[76:])},
     {**BASE, "user_data": "x" * 100}),
    ("user data not base64: as is",
     {"lc": replace(LC, user_data="#!/bin/sh\necho hi\n")},
     {**BASE, "user_data": "#!/bin/sh\necho hi\n"}),
    ("user data base64 of binary: as is",
     {"lc": replace(LC, user_data=base64.b64encode(b"\x1f\x8b\x08\x00\xff").decode())},
     {**BASE, "user_data": base64.b64encode(b"\x1f\x8b\x08\x00\xff").decode()}),
    ("propagated tags as metadata",
     {"tags": (("team", "web"), ("Name", "frontend"))},
     {**BASE, "metadata": {"Name": "frontend", "team": "web"}}),
    ("networks", {"networks": ("private", "9f0c0e0a-0000-4000-8000-000000000001")},
     {**BASE, "networks": [{"network": "private"},
                           {"network": "9f0c0e0a-0000-4000-8000-000000000001"}]}),
])
def test_member_properties(label, arguments, expected):
    assert props(**arguments) == expected, label


@pytest.mark.parametrize(("tags", "expected"), [
    ((), {}),
    ((("aws:autoscaling:groupName", "web"),), {"aws:autoscaling:groupName": "web"}),
    ((("kubernetes.io/cluster/a", "owned"),), {"kubernetes.io_cluster_a": "owned"}),
    ((("a=b+c@d", "v"), ("ключ", "значение")), {"a_b_c_d": "v", "____": "значение"}),
    ((("long", "v" * 256),), {"long": "v" * 255}),
    ((("k", ""),), {"k": ""}),
    # two keys made alike: the first in key order stays
    ((("a/b", "2"), ("a+b", "1")), {"a_b": "1"}),
])
def test_server_metadata(tags, expected):
    assert ht.server_metadata(tags) == expected


def ebs(device: str, **volume: Any) -> BlockDeviceMapping:
    return BlockDeviceMapping(device, ebs=EbsVolume(**volume))


@pytest.mark.parametrize(("mappings", "expected"), [
    ((), None),
    ((ebs("/dev/xvda", volume_size=20),),
     [{"image": "cirros", "boot_index": 0, "volume_size": 20,
       "delete_on_termination": True}]),
    ((ebs("/dev/sda1", volume_size=8, delete_on_termination=False, volume_type="gp3",
          iops=3000),),
     [{"image": "cirros", "boot_index": 0, "volume_size": 8,
       "delete_on_termination": False}]),
    ((ebs("/dev/sdf", volume_size=100), ebs("/dev/vda", volume_size=10)),
     [{"image": "cirros", "boot_index": 0, "volume_size": 10,
       "delete_on_termination": True}]),
    # left out: no size, a snapshot, a data volume, ephemeral, NoDevice
    ((ebs("/dev/xvda", delete_on_termination=False),), None),
    ((ebs("/dev/xvda", volume_size=20, snapshot_id="snap-1"),), None),
    ((ebs("/dev/sdf", volume_size=100),), None),
    ((BlockDeviceMapping("/dev/sdb", virtual_name="ephemeral0"),), None),
    ((BlockDeviceMapping("/dev/xvda", ebs=EbsVolume(volume_size=20), no_device=True),), None),
])
def test_block_device_mapping_v2(mappings, expected):
    lc = replace(LC, block_device_mappings=mappings)
    assert ht.block_device_mapping_v2(lc) == expected
    properties = props(lc)
    if expected is None:
        assert "block_device_mapping_v2" not in properties
        assert properties["image"] == "cirros"
    else:
        assert properties["block_device_mapping_v2"] == expected
        assert "image" not in properties  # the server boots from the volume


def test_template_is_flat_with_bookends():
    other = replace(LC, name="big", instance_type="m1.large", key_name="k")
    members = [Member(I2, "az1", LC), Member(I1, "az2", other, (("env", "prod"),))]
    template = ht.template(members, GROUP)
    assert template["heat_template_version"] == ht.TEMPLATE_VERSION
    assert GROUP in template["description"]
    resources = template["resources"]
    assert list(resources) == [ht.BEGIN, I2, I1, ht.END]
    assert resources[ht.BEGIN] == {"type": "OS::Heat::None"}
    assert resources[ht.END] == {"type": "OS::Heat::None", "depends_on": [I1, I2]}
    assert resources[I2] == {"type": "OS::Nova::Server", "depends_on": [ht.BEGIN],
                             "properties": ht.member_properties(members[0])}
    assert resources[I1]["properties"]["flavor"] == "m1.large"
    assert resources[I1]["properties"]["key_name"] == "k"
    assert resources[I1]["properties"]["metadata"] == {"env": "prod"}
    assert resources[I1]["properties"]["availability_zone"] == "az2"
    assert "key_name" not in resources[I2]["properties"]


def test_template_options():
    members = [Member(I1, "nova", LC)]
    flat = ht.template(members, GROUP, resource_type="My::Server", networks=("net",),
                       bookends=False)
    assert flat["resources"] == {I1: {"type": "My::Server", "properties": {
        **ht.member_properties(members[0]), "networks": [{"network": "net"}]}}}
    empty = ht.template([], GROUP)
    assert empty["resources"] == {ht.BEGIN: {"type": "OS::Heat::None"},
                                  ht.END: {"type": "OS::Heat::None", "depends_on": []}}


def test_kept_and_adopted_members():
    members = [Member(I1, "nova", LC, keep=True), Member(I2, "nova", LC, cloud_id="srv-2"),
               Member(I3, "nova", LC, keep=True, cloud_id="srv-3")]
    resources = ht.template(members, GROUP)["resources"]
    assert resources[I1]["deletion_policy"] == "Retain" and "external_id" not in resources[I1]
    assert resources[I2]["external_id"] == "srv-2" and "deletion_policy" not in resources[I2]
    assert "depends_on" not in resources[I2] and resources[I1]["depends_on"] == [ht.BEGIN]
    assert resources[ht.END]["depends_on"] == [I1, I2, I3]
    assert (resources[I3]["deletion_policy"], resources[I3]["external_id"]) == (
        "Retain", "srv-3")
    stack_template = ht.template(members, GROUP)
    assert ht.retained(stack_template) == {I1, I3}
    # Dropped: the adopted member that is not kept is the driver's to delete.
    assert ht.adopted_to_delete(stack_template, []) == {I2: "srv-2"}
    assert ht.adopted_to_delete(stack_template, members[1:2]) == {}
    assert ht.adopted_to_delete({"resources": {ht.BEGIN: {"type": "OS::Heat::None"}}},
                                []) == {}
    assert ht.retained({}) == set() and ht.adopted_to_delete({}, []) == {}


def test_a_member_whose_configuration_is_gone_stays_as_it_is():
    big = replace(LC, name="big", instance_type="m1.large")
    previous = ht.template([Member(I1, "nova", big), Member(I2, "nova", LC)], GROUP)
    now = ht.template([Member(I1, "nova", None), Member(I2, "nova", LC),
                       Member(I3, "nova", None)], GROUP, previous=previous)
    assert now["resources"][I1] == previous["resources"][I1]  # Heat leaves it alone
    assert I3 not in now["resources"]  # nothing to say what it is: left out
    assert now["resources"][ht.END]["depends_on"] == [I1, I2]
    with pytest.raises(ValueError):
        ht.member_properties(Member(I1, "nova", None))


def test_same_members_same_template():
    """What an unchanged member is must not change between applies (Heat would update or
    replace it)."""
    tags = (("b", "2"), ("a", "1"))
    one = ht.template([Member(I1, "nova", LC, tags), Member(I2, "nova", LC)], GROUP)
    two = ht.template([Member(I2, "nova", LC), Member(I1, "nova", LC, tags[::-1])], GROUP)
    assert one["resources"][I1] == two["resources"][I1]
    assert one["resources"][ht.END] == two["resources"][ht.END]


@pytest.mark.parametrize("instance_ids", [["i-1"], ["web-1"], [I1, I1],
                                          ["i-0123456789ABCDEF0"], [ht.BEGIN]])
def test_template_refuses_bad_members(instance_ids):
    with pytest.raises(ValueError):
        ht.template([Member(i, "nova", LC) for i in instance_ids], GROUP)


@pytest.mark.parametrize(("group_id", "name"), [
    (GROUP, f"cfngw-asg-{GROUP}"),
    ("abc_1.2", "cfngw-asg-abc_1.2"),
])
def test_stack_name_and_tags(group_id, name):
    assert ht.stack_name(group_id) == name
    assert ht.stack_tags(group_id) == ["cfn-gateway", f"cfngw-group-id={group_id}"]


@pytest.mark.parametrize("group_id", ["", "-abc", "a,b", "a b", "a/b", "x" * 250])
def test_stack_name_refuses_what_heat_would(group_id):
    with pytest.raises(ValueError):
        ht.stack_name(group_id)


@pytest.mark.parametrize(("status", "state"), [
    ("INIT_COMPLETE", BOOTING),
    ("CREATE_IN_PROGRESS", BOOTING),
    ("ADOPT_IN_PROGRESS", BOOTING),
    ("CREATE_COMPLETE", RUNNING),
    ("UPDATE_IN_PROGRESS", RUNNING),
    ("UPDATE_COMPLETE", RUNNING),
    ("CHECK_IN_PROGRESS", RUNNING),
    ("CHECK_COMPLETE", RUNNING),
    ("RESUME_COMPLETE", RUNNING),
    ("ADOPT_COMPLETE", RUNNING),
    ("CREATE_FAILED", FAILED),
    ("CHECK_FAILED", FAILED),
    ("UPDATE_FAILED", FAILED),
    ("DELETE_FAILED", FAILED),
    ("DELETE_IN_PROGRESS", None),
    ("DELETE_COMPLETE", None),
])
def test_member_state(status, state):
    assert ht.member_state(status) == state


def row(name: str, status: str, physical: str = "", created: str = "2026-11-29T12:00:00Z",
        reason: str = "") -> dict[str, Any]:
    return {"resource_name": name, "resource_status": status,
            "physical_resource_id": physical, "creation_time": created,
            "resource_status_reason": reason, "resource_type": "OS::Nova::Server"}


@pytest.mark.parametrize(("rows", "expected"), [
    ([], {}),
    ([row(ht.BEGIN, "CREATE_COMPLETE", "x"), row(ht.END, "INIT_COMPLETE"),
      row(I1, "CREATE_COMPLETE", "s1"), row(I2, "INIT_COMPLETE"),
      row(I3, "CREATE_FAILED", reason="boom")],
     {I1: MemberState(RUNNING, "s1", ""), I2: MemberState(BOOTING, None, ""),
      I3: MemberState(FAILED, None, "boom")}),
    ([row(I1, "DELETE_IN_PROGRESS", "s1"), row(I2, "DELETE_COMPLETE", "s2")], {}),
    # a replacement under way: the newer row counts
    ([row(I1, "CHECK_FAILED", "old", "2026-11-29T12:00:00Z"),
      row(I1, "CREATE_IN_PROGRESS", "new", "2026-11-29T12:00:05Z")],
     {I1: MemberState(BOOTING, "new", "")}),
    ([row(I1, "CREATE_COMPLETE", "new", "2026-11-29T12:00:05Z"),
      row(I1, "DELETE_IN_PROGRESS", "old", "2026-11-29T12:00:00Z")],
     {I1: MemberState(RUNNING, "new", "")}),
    # as new as each other: the one that did not fail
    ([row(I1, "CREATE_IN_PROGRESS", "b"), row(I1, "CREATE_FAILED", "a")],
     {I1: MemberState(BOOTING, "b", "")}),
])
def test_member_states(rows, expected):
    assert ht.member_states(rows) == expected


def test_stack_state_from_heat():
    listed = {"id": "s1", "stack_name": "cfngw-asg-x", "stack_status": "UPDATE_IN_PROGRESS",
              "stack_status_reason": "Stack UPDATE started",
              "creation_time": "2026-11-29T12:00:00Z", "tags": ["cfn-gateway"]}
    state = ht.stack_state(listed)
    assert state == StackState("s1", "UPDATE_IN_PROGRESS", "Stack UPDATE started",
                               "2026-11-29T12:00:00Z")
    assert state.in_progress and not state.deleting
    assert ht.stack_state({"id": "s2", "stack_status": "DELETE_FAILED"}).deleting


def stack(stack_id: str, status: str = "CREATE_COMPLETE",
          created: str = "2026-11-29T12:00:00Z") -> StackState:
    return StackState(stack_id, status, "", created)


@pytest.mark.parametrize(("stacks", "chosen"), [
    ([], None),
    ([stack("a")], "a"),
    ([stack("a", "UPDATE_FAILED")], "a"),
    ([stack("a", "DELETE_IN_PROGRESS")], None),
    ([stack("a", "DELETE_FAILED"), stack("b", "DELETE_COMPLETE")], None),
    # made twice at once: the oldest, then the smallest id; never one being deleted
    ([stack("b", created="2026-11-29T12:00:00Z"), stack("a", created="2026-11-29T12:00:01Z")],
     "b"),
    ([stack("b"), stack("a", "CREATE_IN_PROGRESS")], "a"),
    ([stack("a", "DELETE_IN_PROGRESS"), stack("b")], "b"),
])
def test_group_stack(stacks, chosen):
    found = ht.group_stack(stacks)
    assert (found.stack_id if found else None) == chosen
