"""Launch configuration and group properties as Auto Scaling requests, and what the
resources read of the answers: pure rules (policies: ``policy_params``).

The property names are Heat's ``AWS::AutoScaling::*`` ones (plus a few AWS ones), so an
environment can map those names to the gateway's types and templates run unchanged.
Numbers may arrive as CFN strings (``"1"``); they are normalised here.  Nothing here
imports Heat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cfn_gateway.domain.heat_tags import TAG_LOGICAL_ID, TAG_STACK_ID
from cfn_gateway.heat_plugin.alarm_params import PropertyError, to_bool, to_int, to_text

# --- launch configuration properties (AWS::AutoScaling::LaunchConfiguration's)
IMAGE_ID = "ImageId"
INSTANCE_TYPE = "InstanceType"
KEY_NAME = "KeyName"
USER_DATA = "UserData"
SECURITY_GROUPS = "SecurityGroups"
KERNEL_ID = "KernelId"
RAM_DISK_ID = "RamDiskId"
BLOCK_DEVICE_MAPPINGS = "BlockDeviceMappings"
NOVA_SCHEDULER_HINTS = "NovaSchedulerHints"
INSTANCE_ID = "InstanceId"

# --- group properties (AWS::AutoScaling::AutoScalingGroup's, plus TerminationPolicies)
AVAILABILITY_ZONES = "AvailabilityZones"
LAUNCH_CONFIGURATION_NAME = "LaunchConfigurationName"
MAX_SIZE = "MaxSize"
MIN_SIZE = "MinSize"
COOLDOWN = "Cooldown"
DESIRED_CAPACITY = "DesiredCapacity"
HEALTH_CHECK_GRACE_PERIOD = "HealthCheckGracePeriod"
HEALTH_CHECK_TYPE = "HealthCheckType"
LOAD_BALANCER_NAMES = "LoadBalancerNames"
VPC_ZONE_IDENTIFIER = "VPCZoneIdentifier"
TAGS = "Tags"
TERMINATION_POLICIES = "TerminationPolicies"
TAG_KEY, TAG_VALUE, TAG_PROPAGATE = "Key", "Value", "PropagateAtLaunch"

HEALTH_CHECK_TYPES = ("EC2", "ELB")
TERMINATION_POLICY_VALUES = (
    "Default", "OldestInstance", "NewestInstance", "OldestLaunchConfiguration",
    "ClosestToNextInstanceHour", "AllocationStrategy", "OldestLaunchTemplate",
)

#: The tag cfn-push-stats turns into a metric dimension (Heat's groups add it too).
METERING_TAG = "metering.AutoScalingGroupName"
GROUP_RESOURCE_TYPE = "auto-scaling-group"
IN_SERVICE = "InService"
FAILED_ACTIVITY_CODES = ("Failed", "Cancelled")

#: Answers that mean "no such launch configuration / group / policy": a delete of
#: something already gone is done.
NOT_FOUND_CODES = frozenset({"ResourceNotFound", "ResourceNotFoundException"})
_NOT_FOUND_TEXTS = ("not found", "no policy found")


# --- launch configurations

def launch_configuration_params(props: Mapping[str, Any], name: str,
                                user_data: str | None) -> dict[str, Any]:
    """CreateLaunchConfiguration's parameters; ``user_data``: the base64 text to send."""
    if props.get(INSTANCE_ID):
        raise PropertyError(instance_id_refusal())
    params: dict[str, Any] = {"LaunchConfigurationName": name}
    put_str(params, "ImageId", props.get(IMAGE_ID))
    put_str(params, "InstanceType", props.get(INSTANCE_TYPE))
    put_str(params, "KeyName", props.get(KEY_NAME))
    groups = [str(g) for g in props.get(SECURITY_GROUPS) or () if g not in (None, "")]
    if groups:
        params["SecurityGroups"] = groups
    put_str(params, "KernelId", props.get(KERNEL_ID))
    put_str(params, "RamdiskId", props.get(RAM_DISK_ID))
    mappings = block_device_mappings(props.get(BLOCK_DEVICE_MAPPINGS))
    if mappings:
        params["BlockDeviceMappings"] = mappings
    if user_data:
        params["UserData"] = user_data
    return params


def instance_id_refusal() -> str:
    return (f"{INSTANCE_ID} is not supported: there is no EC2 instance to copy a launch "
            f"configuration from; give {IMAGE_ID} and {INSTANCE_TYPE}")


def ignored_launch_configuration_properties(props: Mapping[str, Any]) -> list[str]:
    """One sentence per property the gateway's launch configurations cannot carry."""
    if props.get(NOVA_SCHEDULER_HINTS):
        return [f"{NOVA_SCHEDULER_HINTS} ignored: the gateway's launch configurations "
                "have no scheduler hints"]
    return []


def block_device_mappings(value: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(value or (), start=1):
        what = f"{BLOCK_DEVICE_MAPPINGS} member {i}"
        if not isinstance(item, Mapping) or not item.get("DeviceName"):
            raise PropertyError(f"{what} needs a DeviceName")
        mapping: dict[str, Any] = {"DeviceName": str(item["DeviceName"])}
        put_str(mapping, "VirtualName", item.get("VirtualName"))
        if item.get("NoDevice"):
            mapping["NoDevice"] = True
        ebs = item.get("Ebs")
        if ebs:
            out_ebs: dict[str, Any] = {}
            put_str(out_ebs, "SnapshotId", ebs.get("SnapshotId"))
            for key in ("VolumeSize", "Iops"):
                if ebs.get(key) not in (None, ""):
                    out_ebs[key] = to_int(ebs[key], f"{what} Ebs {key}")
            put_str(out_ebs, "VolumeType", ebs.get("VolumeType"))
            if ebs.get("DeleteOnTermination") is not None:
                out_ebs["DeleteOnTermination"] = to_bool(
                    ebs["DeleteOnTermination"], f"{what} Ebs DeleteOnTermination")
            mapping["Ebs"] = out_ebs
        out.append(mapping)
    return out


# --- groups

def check_group(props: Mapping[str, Any]) -> None:
    """Rules across the group's properties (sizes, launch configuration)."""
    if props.get(INSTANCE_ID):
        raise PropertyError(f"{INSTANCE_ID} is not supported: there is no EC2 instance "
                            f"to make a group from; give {LAUNCH_CONFIGURATION_NAME}")
    if not props.get(LAUNCH_CONFIGURATION_NAME):
        raise PropertyError(f"{LAUNCH_CONFIGURATION_NAME} is required")
    min_size = to_int(props.get(MIN_SIZE), MIN_SIZE)
    max_size = to_int(props.get(MAX_SIZE), MAX_SIZE)
    if min_size < 0:
        raise PropertyError(f"{MIN_SIZE} ({min_size}) cannot be negative")
    if max_size < min_size:
        raise PropertyError(f"{MIN_SIZE} ({min_size}) cannot be greater than {MAX_SIZE} "
                            f"({max_size})")
    desired = props.get(DESIRED_CAPACITY)
    if desired not in (None, ""):
        desired = to_int(desired, DESIRED_CAPACITY)
        if not min_size <= desired <= max_size:
            raise PropertyError(f"{DESIRED_CAPACITY} ({desired}) must be between "
                                f"{MIN_SIZE} ({min_size}) and {MAX_SIZE} ({max_size})")


def wanted_capacity(props: Mapping[str, Any]) -> int:
    """The instances a new group starts with: DesiredCapacity, else MinSize."""
    desired = props.get(DESIRED_CAPACITY)
    if desired not in (None, ""):
        return to_int(desired, DESIRED_CAPACITY)
    return to_int(props.get(MIN_SIZE), MIN_SIZE)


def group_tags(props: Mapping[str, Any], name: str, stack_id: str,
               logical_id: str) -> list[dict[str, Any]]:
    """The group's tags: the template's (propagated to instances unless it says not),
    then :data:`METERING_TAG` (propagated, unless the template sets that key) and the
    stack's identifiers (kept on the group only)."""
    tags: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(props.get(TAGS) or (), start=1):
        if not isinstance(item, Mapping) or item.get(TAG_KEY) in (None, ""):
            raise PropertyError(f"{TAGS} member {i} needs a Key")
        propagate = item.get(TAG_PROPAGATE)
        tags[str(item[TAG_KEY])] = _tag(
            name, str(item[TAG_KEY]), item.get(TAG_VALUE),
            True if propagate is None else to_bool(propagate, f"{TAGS} member {i} "
                                                              f"{TAG_PROPAGATE}"))
    tags.setdefault(METERING_TAG, _tag(name, METERING_TAG, name, True))
    tags.setdefault(TAG_STACK_ID, _tag(name, TAG_STACK_ID, stack_id, False))
    tags.setdefault(TAG_LOGICAL_ID, _tag(name, TAG_LOGICAL_ID, logical_id, False))
    return list(tags.values())


def _tag(group: str, key: str, value: Any, propagate: bool) -> dict[str, Any]:
    return {"ResourceId": group, "ResourceType": GROUP_RESOURCE_TYPE, "Key": key,
            "Value": "" if value is None else to_text(value), "PropagateAtLaunch": propagate}


def ignored_group_properties(props: Mapping[str, Any]) -> list[str]:
    """One sentence per property accepted for the template's sake and not sent."""
    names = [str(n) for n in props.get(LOAD_BALANCER_NAMES) or () if n]
    if names:
        return [f"{LOAD_BALANCER_NAMES} ignored ({', '.join(names)}): the gateway has no "
                "Elastic Load Balancing; its instances are not registered with a load "
                "balancer"]
    return []


def create_group_params(props: Mapping[str, Any], name: str, stack_id: str,
                        logical_id: str) -> dict[str, Any]:
    """CreateAutoScalingGroup's parameters for the group ``name``."""
    check_group(props)
    params: dict[str, Any] = {
        "AutoScalingGroupName": name,
        "LaunchConfigurationName": str(props[LAUNCH_CONFIGURATION_NAME]),
        "MinSize": to_int(props[MIN_SIZE], MIN_SIZE),
        "MaxSize": to_int(props[MAX_SIZE], MAX_SIZE),
    }
    if props.get(DESIRED_CAPACITY) not in (None, ""):
        params["DesiredCapacity"] = to_int(props[DESIRED_CAPACITY], DESIRED_CAPACITY)
    params.update(_group_settings(props))
    params["Tags"] = group_tags(props, name, stack_id, logical_id)
    return params


def update_group_params(props: Mapping[str, Any], name: str,
                        changed: Iterable[str]) -> dict[str, Any]:
    """UpdateAutoScalingGroup's parameters after the properties in ``changed`` changed.

    Sizes, launch configuration and settings are sent as the template now has them;
    DesiredCapacity only when the template sets it and it changed (CloudFormation's rule:
    a group scaled since keeps its size otherwise).  None when nothing is to be sent.
    """
    check_group(props)
    changed = set(changed)
    params: dict[str, Any] = {
        "AutoScalingGroupName": name,
        "LaunchConfigurationName": str(props[LAUNCH_CONFIGURATION_NAME]),
        "MinSize": to_int(props[MIN_SIZE], MIN_SIZE),
        "MaxSize": to_int(props[MAX_SIZE], MAX_SIZE),
    }
    if DESIRED_CAPACITY in changed and props.get(DESIRED_CAPACITY) not in (None, ""):
        params["DesiredCapacity"] = to_int(props[DESIRED_CAPACITY], DESIRED_CAPACITY)
    params.update(_group_settings(props))
    return params


def tag_changes(old_props: Mapping[str, Any], new_props: Mapping[str, Any], name: str,
                stack_id: str, logical_id: str,
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(tags to create or update, tags to delete) when the Tags property changes."""
    old = {t["Key"]: t for t in group_tags(old_props, name, stack_id, logical_id)}
    new = {t["Key"]: t for t in group_tags(new_props, name, stack_id, logical_id)}
    put = [t for key, t in new.items() if old.get(key) != t]
    gone = [{"ResourceId": name, "ResourceType": GROUP_RESOURCE_TYPE, "Key": key}
            for key in old if key not in new]
    return put, gone


def _group_settings(props: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if props.get(COOLDOWN) not in (None, ""):
        params["DefaultCooldown"] = to_int(props[COOLDOWN], COOLDOWN)
    zones = [str(z) for z in props.get(AVAILABILITY_ZONES) or () if z not in (None, "")]
    if zones:
        params["AvailabilityZones"] = list(dict.fromkeys(zones))
    if props.get(HEALTH_CHECK_TYPE):
        params["HealthCheckType"] = str(props[HEALTH_CHECK_TYPE])
    if props.get(HEALTH_CHECK_GRACE_PERIOD) not in (None, ""):
        params["HealthCheckGracePeriod"] = to_int(props[HEALTH_CHECK_GRACE_PERIOD],
                                                  HEALTH_CHECK_GRACE_PERIOD)
    subnets = [str(s) for s in props.get(VPC_ZONE_IDENTIFIER) or () if s]
    if subnets:
        params["VPCZoneIdentifier"] = ",".join(subnets)
    policies = [str(p) for p in props.get(TERMINATION_POLICIES) or () if p]
    if policies:
        params["TerminationPolicies"] = policies
    return params


def live_instances(group: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The group's instances that are not on their way out."""
    return [i for i in group.get("Instances") or ()
            if not str(i.get("LifecycleState", "")).startswith(("Terminat", "Detach"))]


def in_service(group: Mapping[str, Any]) -> int:
    """How many of the group's instances are InService."""
    return sum(1 for i in group.get("Instances") or () if i.get("LifecycleState") == IN_SERVICE)


def failed_activity(activities: Sequence[Mapping[str, Any]]) -> str | None:
    """A sentence about the group's latest scaling activity when it failed, else None
    (DescribeScalingActivities lists the newest first)."""
    if not activities:
        return None
    latest = activities[0]
    if latest.get("StatusCode") not in FAILED_ACTIVITY_CODES:
        return None
    text = latest.get("StatusMessage") or latest.get("Cause") or "no reason given"
    return (f"the group's scaling activity {latest.get('Description') or ''!s} "
            f"{str(latest.get('StatusCode')).lower()}: {text}").replace("  ", " ")


# --- answers

def is_not_found(code: str | None, message: str | None) -> bool:
    """Whether an error answer says the named thing does not exist."""
    if code in NOT_FOUND_CODES:
        return True
    return code == "ValidationError" and any(
        text in (message or "").lower() for text in _NOT_FOUND_TEXTS)


def put_str(params: dict[str, Any], key: str, value: Any) -> None:
    """``params[key] = str(value)``, unless the value is None or empty."""
    if value is not None and value != "":
        params[key] = str(value)
