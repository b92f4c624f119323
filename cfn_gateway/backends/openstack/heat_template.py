"""An Auto Scaling group's members as the Heat stack that runs them, and back.  Pure: no I/O.

``template`` turns the members the engine wants into the group's flat HOT template: one
resource per member, named by its instance id, with the properties of that member's own
launch configuration (``member_properties``), plus two ``OS::Heat::None`` bookends.  Every
member depends on ``BEGIN`` and ``END`` depends on every member, so that each create,
update or delete of the stack has one leaf, whatever its size: Heat's convergence engine
waits one second after triggering each leaf of a traversal (``Stack._converge_create_or_
update``), so a flat template of N independent members costs N seconds per update (even a
no-op one), and with the bookends about one (measured: bench/heat_members.py).

A member to ``keep`` (leaving its group running: DetachInstances) has ``deletion_policy:
Retain``, so that Heat leaves its server alone when a later update drops it (Heat deletes
a dropped resource by the definition it was last updated to, hence two updates: the one
that marks it, then the one that drops it; ``retained`` reads the first back).  A member
with a ``cloud_id`` (AttachInstances) is that server, adopted with ``external_id`` (and
not after ``BEGIN``: Heat refuses dependencies of an external resource); Heat never
deletes an external resource, so a driver deletes the server itself when such a
member is dropped without being kept (``adopted_to_delete``).

``member_states`` reads the stack's resource list back into what a driver reports of each
member (``BOOTING``, ``RUNNING``, ``FAILED``; deleted or being deleted: absent), and
``group_stack`` picks the group's stack among those of its name: Heat checks that a name is
free and then inserts the stack, so callers that create a stack at the same instant may
make two of one name (measured: 2 of 4 concurrent POSTs answered 201).

Launch configuration to ``OS::Nova::Server`` properties:

=================================  ========================================================
``ImageId``, ``InstanceType``      ``image``, ``flavor`` (as given: Glance and Nova names
                                   or ids)
``KeyName``, ``SecurityGroups``    ``key_name``, ``security_groups``
``UserData``                       ``user_data``, base64-decoded (AWS sends base64 text);
                                   text that is not base64 of UTF-8 is passed as it is.
                                   Always ``user_data_format: RAW``: the instance gets
                                   the user data and nothing of heat-cfntools.
the member's zone                  ``availability_zone``
the group's propagated tags        ``metadata``: Nova allows keys of ``[A-Za-z0-9-_:. ]``
                                   only (AWS also ``/=+@`` and any letter), each other
                                   character becomes ``_``; values are cut to 255
                                   characters (AWS: 256)
the instance id                    ``name``, and the resource's name
``BlockDeviceMappings``            only a root device (``/dev/sda1``, ``/dev/xvda``,
                                   ``/dev/sda``, ``/dev/vda``) with an EBS ``VolumeSize``
                                   and no snapshot: ``block_device_mapping_v2`` booting
                                   from a volume of that size made from the image
                                   (``delete_on_termination`` as given, AWS's default
                                   true), ``image`` then left out.  Other mappings
                                   (snapshots, extra volumes, ephemeral, NoDevice) and the
                                   EBS volume type, IOPS, throughput and encryption have
                                   no clean Nova counterpart and are left out.
``[heat] member_networks``         ``networks``, one port on each (none: Nova chooses)
=================================  ========================================================

Not mapped (no Nova server property): ``KernelId``, ``RamdiskId`` (image properties in
Glance), ``InstanceMonitoring``, ``SpotPrice``, ``IamInstanceProfile``, ``EbsOptimized``,
``AssociatePublicIpAddress``, ``PlacementTenancy``, ``MetadataOptions``, ClassicLink.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cfn_gateway.backends.instances import BOOTING, FAILED, RUNNING, Member
from cfn_gateway.domain.launch_configurations import LaunchConfiguration

TEMPLATE_VERSION = "2018-08-31"
DEFAULT_RESOURCE_TYPE = "OS::Nova::Server"
#: The bookends: every member depends on BEGIN; END depends on every member.
BEGIN = "cfngw-begin"
END = "cfngw-end"
BOOKEND_TYPE = "OS::Heat::None"

STACK_PREFIX = "cfngw-asg-"
#: Stack tags: the marker every stack of the gateway has, and the group's id.
MARKER_TAG = "cfn-gateway"
GROUP_TAG_PREFIX = "cfngw-group-id="

RETAIN = "Retain"

#: A member's instance id (``i-`` and 17 hex digits): its resource name.
INSTANCE_ID = re.compile(r"i-[0-9a-f]{17}")
# Heat's stack names: [a-zA-Z][a-zA-Z0-9_.-]*, at most 255 characters.
_GROUP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_MAX_STACK_NAME = 255

ROOT_DEVICES = frozenset({"/dev/sda1", "/dev/sda", "/dev/xvda", "/dev/vda",
                          "sda1", "sda", "xvda", "vda"})
# Nova's server metadata: keys of these characters, 1 to 255 of them; values up to 255.
_METADATA_KEY_OUTSIDE = re.compile(r"[^A-Za-z0-9\-_:. ]")
METADATA_MAX = 255


def stack_name(group_id: str) -> str:
    """The name of the group's stack (Heat's pattern holds for any group id we make)."""
    if not _GROUP_ID.fullmatch(group_id) or len(STACK_PREFIX) + len(group_id) > _MAX_STACK_NAME:
        raise ValueError(f"group id {group_id!r} cannot name a Heat stack")
    return STACK_PREFIX + group_id


def stack_tags(group_id: str) -> list[str]:
    """The stack's tags: the gateway's marker and the group id (``stack_name`` checks it)."""
    stack_name(group_id)
    return [MARKER_TAG, GROUP_TAG_PREFIX + group_id]


def template(members: Sequence[Member], group_id: str, *,
             resource_type: str = DEFAULT_RESOURCE_TYPE, networks: Sequence[str] = (),
             bookends: bool = True,
             previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The group's HOT template: ``members``, each by its instance id.  A member whose
    launch configuration is gone keeps the properties ``previous`` (the stack's template)
    gives it, so that Heat leaves it as it is; without them it is left out."""
    resources: dict[str, Any] = {}
    if bookends:
        resources[BEGIN] = {"type": BOOKEND_TYPE}
    before = _member_resources(previous or {})
    listed = []
    for member in members:
        if not INSTANCE_ID.fullmatch(member.instance_id):
            raise ValueError(f"not an instance id: {member.instance_id!r}")
        if member.instance_id in resources:
            raise ValueError(f"instance {member.instance_id} listed twice")
        if member.launch_configuration is not None:
            properties = member_properties(member, networks)
        elif isinstance(before.get(member.instance_id, {}).get("properties"), Mapping):
            properties = dict(before[member.instance_id]["properties"])
        else:
            continue
        listed.append(member.instance_id)
        resource: dict[str, Any] = {"type": resource_type, "properties": properties}
        if member.keep:
            resource["deletion_policy"] = RETAIN
        if member.cloud_id:
            resource["external_id"] = member.cloud_id
        elif bookends:  # Heat refuses dependencies of an external resource
            resource["depends_on"] = [BEGIN]
        resources[member.instance_id] = resource
    if bookends:
        resources[END] = {"type": BOOKEND_TYPE, "depends_on": sorted(listed)}
    return {
        "heat_template_version": TEMPLATE_VERSION,
        "description": f"cfn-gateway Auto Scaling group {group_id}: one resource per "
                       "instance, named by its id (generated; edits are overwritten)",
        "resources": resources,
    }


def member_properties(member: Member, networks: Sequence[str] = ()) -> dict[str, Any]:
    """The ``OS::Nova::Server`` properties of one member (which has a launch
    configuration)."""
    lc = member.launch_configuration
    if lc is None:
        raise ValueError(f"member {member.instance_id} has no launch configuration")
    properties: dict[str, Any] = {
        "name": member.instance_id,
        "image": lc.image_id,
        "flavor": lc.instance_type,
        "user_data_format": "RAW",
    }
    if lc.key_name:
        properties["key_name"] = lc.key_name
    if lc.security_groups:
        properties["security_groups"] = list(lc.security_groups)
    if lc.user_data:
        properties["user_data"] = user_data(lc.user_data)
    if member.availability_zone:
        properties["availability_zone"] = member.availability_zone
    metadata = server_metadata(member.tags)
    if metadata:
        properties["metadata"] = metadata
    if networks:
        properties["networks"] = [{"network": network} for network in networks]
    boot_volume = block_device_mapping_v2(lc)
    if boot_volume:
        properties["block_device_mapping_v2"] = boot_volume
        del properties["image"]
    return properties


def user_data(text: str) -> str:
    """AWS's base64 user data as the text the instance gets; anything else as it is."""
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return text


def server_metadata(tags: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Propagated tags as Nova server metadata (keys made valid, values cut to fit)."""
    metadata: dict[str, str] = {}
    for key, value in sorted(tags):
        nova_key = _METADATA_KEY_OUTSIDE.sub("_", key)[:METADATA_MAX]
        if nova_key:
            metadata.setdefault(nova_key, str(value)[:METADATA_MAX])
    return metadata


def block_device_mapping_v2(lc: LaunchConfiguration) -> list[dict[str, Any]] | None:
    """A root volume of the size the launch configuration asks for, made from its image;
    None when it asks for none (the server then boots from the image on the flavor's
    disk)."""
    for mapping in lc.block_device_mappings:
        ebs = mapping.ebs
        if (mapping.device_name in ROOT_DEVICES and not mapping.no_device and ebs is not None
                and ebs.volume_size and not ebs.snapshot_id):
            return [{
                "image": lc.image_id,
                "boot_index": 0,
                "volume_size": ebs.volume_size,
                "delete_on_termination": (True if ebs.delete_on_termination is None
                                          else ebs.delete_on_termination),
            }]
    return None


# --- reading the stack back -------------------------------------------------------------

def _member_resources(stack_template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    resources = stack_template.get("resources") or {}
    return {name: resource for name, resource in resources.items()
            if INSTANCE_ID.fullmatch(str(name)) and isinstance(resource, Mapping)}


def _retained(resource: Mapping[str, Any]) -> bool:
    return str(resource.get("deletion_policy") or "").lower() == RETAIN.lower()


def retained(stack_template: Mapping[str, Any]) -> set[str]:
    """The members a stack's template (``GET .../template``) keeps: those Heat leaves
    running when an update drops them."""
    return {name for name, resource in _member_resources(stack_template).items()
            if _retained(resource)}


def adopted_to_delete(stack_template: Mapping[str, Any],
                      members: Iterable[Member]) -> dict[str, str]:
    """The adopted members of a stack's template that ``members`` drop without keeping
    them, with their servers' ids: Heat leaves them running, so the driver deletes them."""
    staying = {member.instance_id for member in members}
    return {name: str(resource["external_id"])
            for name, resource in _member_resources(stack_template).items()
            if resource.get("external_id") and not _retained(resource)
            and name not in staying}


@dataclass(frozen=True)
class MemberState:
    """What the stack says of one member: the driver's state, the server's id (None
    before it exists) and Heat's reason for its status."""

    state: str
    physical_id: str | None
    reason: str


def member_state(resource_status: str) -> str | None:
    """A member resource's Heat status (``CREATE_COMPLETE``, ...) as the driver's state;
    None for a member being deleted or deleted (absent).

    ``INIT_COMPLETE`` (in the template, not created yet), ``CREATE_IN_PROGRESS`` and
    ``ADOPT_IN_PROGRESS`` are ``BOOTING``; any ``*_FAILED`` (``CREATE_FAILED``,
    ``CHECK_FAILED`` when marked unhealthy, ``UPDATE_FAILED``, ``DELETE_FAILED``, ...) is
    ``FAILED``, as Heat replaces such a resource at the next update; everything else (a
    created server being checked, updated in place, ...) is ``RUNNING``.
    """
    action, _, status = resource_status.partition("_")
    if action == "DELETE" and status in ("IN_PROGRESS", "COMPLETE"):
        return None
    if status == "FAILED":
        return FAILED
    if (action, status) in (("INIT", "COMPLETE"), ("CREATE", "IN_PROGRESS"),
                            ("ADOPT", "IN_PROGRESS")):
        return BOOTING
    return RUNNING


def member_states(resources: Iterable[Mapping[str, Any]]) -> dict[str, MemberState]:
    """The members in a stack's resource list (``GET .../resources``), by instance id.

    Resources not named by an instance id (the bookends) are not members.  Should a name
    appear twice (a replacement under way), the newest that is not being deleted counts,
    and of two as new the one that did not fail.
    """
    chosen: dict[str, tuple[tuple[str, bool], MemberState]] = {}
    for resource in resources:
        name = str(resource.get("resource_name", ""))
        if not INSTANCE_ID.fullmatch(name):
            continue
        state = member_state(str(resource.get("resource_status", "")))
        if state is None:
            continue
        seen = MemberState(state, resource.get("physical_resource_id") or None,
                           str(resource.get("resource_status_reason") or ""))
        rank = (str(resource.get("creation_time") or ""), state != FAILED)
        if name not in chosen or rank > chosen[name][0]:
            chosen[name] = (rank, seen)
    return {name: seen for name, (_, seen) in chosen.items()}


@dataclass(frozen=True)
class StackState:
    """A stack as Heat lists it: id, ``stack_status`` (``UPDATE_COMPLETE``, ...), Heat's
    reason for it and its creation time (ISO 8601 text, to the second)."""

    stack_id: str
    status: str
    reason: str = ""
    created: str = ""

    @property
    def deleting(self) -> bool:
        """Being deleted, deleted, or its deletion failed: it takes no update."""
        return self.status.startswith("DELETE_")

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")


def stack_state(stack: Mapping[str, Any]) -> StackState:
    """One stack of ``GET /stacks`` (or ``GET /stacks/{name}/{id}``)."""
    return StackState(str(stack["id"]), str(stack.get("stack_status") or ""),
                      str(stack.get("stack_status_reason") or ""),
                      str(stack.get("creation_time") or ""))


def group_stack(stacks: Iterable[StackState]) -> StackState | None:
    """The group's stack among the stacks of its name: the oldest that is not being
    deleted (ties by id), so that every gateway process picks the same one; None when all
    are being deleted (or there are none).  The others are duplicates to delete."""
    live = [stack for stack in stacks if not stack.deleting]
    return min(live, key=lambda stack: (stack.created, stack.stack_id), default=None)
