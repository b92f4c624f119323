"""CreateLaunchConfiguration, DescribeLaunchConfigurations, DeleteLaunchConfiguration.

Launch configurations are kept by the gateway in both modes (``backends/
launch_configurations.py``).  AWS's messages: "Launch Configuration by this name already
exists - A launch configuration already exists with the name NAME" (AlreadyExists),
"Launch configuration name not found - Launch configuration NAME not found"
(ValidationError on delete), "Valid requests must contain either the InstanceID parameter
or both the ImageId and InstanceType parameters." (ValidationError).  Creating one from a
running instance (``InstanceId``) is not supported: NotImplemented.
"""

from __future__ import annotations

import uuid
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.launch_configurations import (
    LaunchConfigurationExists,
    LaunchConfigurationInUse,
    LaunchConfigurationLimitExceeded,
)
from cfn_gateway.common.clock import utcnow
from cfn_gateway.config import CONF
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain.launch_configurations import (
    BlockDeviceMapping,
    EbsVolume,
    LaunchConfiguration,
    MetadataOptions,
)

DESCRIBE_PAGE = 50
DESCRIBE_MAX = 100


def launch_configuration_arn(region: str, project_id: str, name: str) -> str:
    return (f"arn:aws:autoscaling:{region}:{project_id}:launchConfiguration:"
            f"{uuid.uuid4()}:launchConfigurationName/{name}")


def _block_device_mapping(item: dict[str, Any]) -> BlockDeviceMapping:
    ebs = item.get("Ebs")
    return BlockDeviceMapping(
        device_name=item["DeviceName"], virtual_name=item.get("VirtualName"),
        no_device=item.get("NoDevice"),
        ebs=None if ebs is None else EbsVolume(
            snapshot_id=ebs.get("SnapshotId"), volume_size=ebs.get("VolumeSize"),
            volume_type=ebs.get("VolumeType"),
            delete_on_termination=ebs.get("DeleteOnTermination"), iops=ebs.get("Iops"),
            encrypted=ebs.get("Encrypted"), throughput=ebs.get("Throughput")))


def _metadata_options(item: dict[str, Any] | None) -> MetadataOptions | None:
    if item is None:
        return None
    return MetadataOptions(http_tokens=item.get("HttpTokens"),
                           http_put_response_hop_limit=item.get("HttpPutResponseHopLimit"),
                           http_endpoint=item.get("HttpEndpoint"))


@action(AUTOSCALING, "CreateLaunchConfiguration")
def create_launch_configuration(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["LaunchConfigurationName"]
    if params.get("InstanceId"):
        raise errors.NotImplemented(
            "Creating a launch configuration from an instance (InstanceId) is not "
            "supported by this gateway; give ImageId and InstanceType.")
    if not params.get("ImageId") or not params.get("InstanceType"):
        raise errors.ValidationError(
            "Valid requests must contain either the InstanceID parameter or both the "
            "ImageId and InstanceType parameters.")
    monitoring = params.get("InstanceMonitoring") or {}
    config = LaunchConfiguration(
        name=name,
        arn=launch_configuration_arn(CONF.autoscaling.region, ctx.project_id, name),
        created_at=utcnow(),
        image_id=params["ImageId"],
        instance_type=params["InstanceType"],
        key_name=params.get("KeyName"),
        security_groups=tuple(params.get("SecurityGroups") or ()),
        user_data=params.get("UserData"),
        kernel_id=params.get("KernelId"),
        ramdisk_id=params.get("RamdiskId"),
        block_device_mappings=tuple(_block_device_mapping(item)
                                    for item in params.get("BlockDeviceMappings") or ()),
        instance_monitoring=monitoring.get("Enabled", True),
        spot_price=params.get("SpotPrice"),
        iam_instance_profile=params.get("IamInstanceProfile"),
        ebs_optimized=bool(params.get("EbsOptimized", False)),
        associate_public_ip_address=params.get("AssociatePublicIpAddress"),
        placement_tenancy=params.get("PlacementTenancy"),
        metadata_options=_metadata_options(params.get("MetadataOptions")),
        classic_link_vpc_id=params.get("ClassicLinkVPCId"),
        classic_link_vpc_security_groups=tuple(
            params.get("ClassicLinkVPCSecurityGroups") or ()),
    )
    try:
        ctx.backends.launch_configurations.create(
            ctx.project_id, config, CONF.autoscaling.max_launch_configurations)
    except LaunchConfigurationExists:
        raise errors.AlreadyExists(
            "Launch Configuration by this name already exists - A launch configuration "
            f"already exists with the name {name}") from None
    except LaunchConfigurationLimitExceeded:
        raise errors.LimitExceeded(
            "Max number of launch configurations reached for this account: "
            f"{CONF.autoscaling.max_launch_configurations}.") from None


def _ebs_to_aws(ebs: EbsVolume) -> dict[str, Any]:
    out = {"SnapshotId": ebs.snapshot_id, "VolumeSize": ebs.volume_size,
           "VolumeType": ebs.volume_type, "DeleteOnTermination": ebs.delete_on_termination,
           "Iops": ebs.iops, "Encrypted": ebs.encrypted, "Throughput": ebs.throughput}
    return {k: v for k, v in out.items() if v is not None}


def _mapping_to_aws(mapping: BlockDeviceMapping) -> dict[str, Any]:
    out: dict[str, Any] = {"DeviceName": mapping.device_name}
    if mapping.virtual_name is not None:
        out["VirtualName"] = mapping.virtual_name
    if mapping.ebs is not None:
        out["Ebs"] = _ebs_to_aws(mapping.ebs)
    if mapping.no_device is not None:
        out["NoDevice"] = mapping.no_device
    return out


def launch_configuration_to_aws(config: LaunchConfiguration) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LaunchConfigurationName": config.name,
        "LaunchConfigurationARN": config.arn,
        "ImageId": config.image_id,
        "KeyName": config.key_name or "",
        "SecurityGroups": list(config.security_groups),
        "ClassicLinkVPCSecurityGroups": list(config.classic_link_vpc_security_groups),
        "UserData": config.user_data or "",
        "InstanceType": config.instance_type,
        "KernelId": config.kernel_id or "",
        "RamdiskId": config.ramdisk_id or "",
        "BlockDeviceMappings": [_mapping_to_aws(m) for m in config.block_device_mappings],
        "InstanceMonitoring": {"Enabled": config.instance_monitoring},
        "CreatedTime": config.created_at,
        "EbsOptimized": config.ebs_optimized,
    }
    optional = {
        "SpotPrice": config.spot_price,
        "IamInstanceProfile": config.iam_instance_profile,
        "AssociatePublicIpAddress": config.associate_public_ip_address,
        "PlacementTenancy": config.placement_tenancy,
        "ClassicLinkVPCId": config.classic_link_vpc_id,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    options = config.metadata_options
    if options is not None:
        out["MetadataOptions"] = {k: v for k, v in {
            "HttpTokens": options.http_tokens,
            "HttpPutResponseHopLimit": options.http_put_response_hop_limit,
            "HttpEndpoint": options.http_endpoint}.items() if v is not None}
    return out


def _max_records(params: dict[str, Any]) -> int:
    value = params.get("MaxRecords")
    if value is None:
        return DESCRIBE_PAGE
    if value > DESCRIBE_MAX:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at 'maxRecords' failed to satisfy "
            f"constraint: Member must have value less than or equal to {DESCRIBE_MAX}")
    if value < 1:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at 'maxRecords' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1")
    return value


@action(AUTOSCALING, "DescribeLaunchConfigurations")
def describe_launch_configurations(ctx: RequestContext,
                                   params: dict[str, Any]) -> dict[str, Any]:
    try:
        page = ctx.backends.launch_configurations.describe(
            ctx.project_id, list(params.get("LaunchConfigurationNames") or ()),
            _max_records(params), params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The token provided is not valid.") from None
    result: dict[str, Any] = {
        "LaunchConfigurations": [launch_configuration_to_aws(c) for c in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@action(AUTOSCALING, "DeleteLaunchConfiguration")
def delete_launch_configuration(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["LaunchConfigurationName"]
    try:
        deleted = ctx.backends.launch_configurations.delete(ctx.project_id, name)
    except LaunchConfigurationInUse:
        raise errors.ResourceInUse(
            f"Cannot delete launch configuration {name} because it is attached to "
            "AutoScalingGroup") from None
    if not deleted:
        raise errors.ValidationError(
            f"Launch configuration name not found - Launch configuration {name} not found")
