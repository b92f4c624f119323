"""Groups, instances and activities as the Auto Scaling API shows them."""

from __future__ import annotations

from typing import Any

from cfn_gateway.domain.groups import Activity, Group, GroupTag, Instance

GROUP_RESOURCE_TYPE = "auto-scaling-group"


def tag_to_aws(group_name: str, tag: GroupTag) -> dict[str, Any]:
    return {"ResourceId": group_name, "ResourceType": GROUP_RESOURCE_TYPE, "Key": tag.key,
            "Value": tag.value, "PropagateAtLaunch": tag.propagate_at_launch}


def instance_to_aws(instance: Instance, with_group: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "InstanceId": instance.instance_id,
        "AvailabilityZone": instance.availability_zone,
        "LifecycleState": instance.lifecycle_state,
        "HealthStatus": instance.health_status,
        "ProtectedFromScaleIn": instance.protected_from_scale_in,
    }
    if instance.instance_type:
        out["InstanceType"] = instance.instance_type
    if instance.launch_configuration_name:
        out["LaunchConfigurationName"] = instance.launch_configuration_name
    if with_group:
        out["AutoScalingGroupName"] = instance.group_name
        # DescribeAutoScalingInstances spells health in capitals.
        out["HealthStatus"] = instance.health_status.upper()
    return out


def group_to_aws(group: Group, instances: list[Instance] | None,
                 zones: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AutoScalingGroupName": group.name,
        "AutoScalingGroupARN": group.arn,
        "LaunchConfigurationName": group.launch_configuration_name,
        "MinSize": group.min_size,
        "MaxSize": group.max_size,
        "DesiredCapacity": group.desired_capacity,
        "DefaultCooldown": group.default_cooldown,
        "AvailabilityZones": list(zones),
        "LoadBalancerNames": [],
        "TargetGroupARNs": [],
        "HealthCheckType": group.health_check_type,
        "HealthCheckGracePeriod": group.health_check_grace_period,
        "CreatedTime": group.created_at,
        "SuspendedProcesses": [{"ProcessName": name,
                                "SuspensionReason": dict(group.suspension_reasons).get(name, "")}
                               for name in group.suspended_processes],
        "EnabledMetrics": [{"Metric": name, "Granularity": "1Minute"}
                           for name in group.enabled_metrics],
        "Tags": [tag_to_aws(group.name, tag) for tag in group.tags],
        "TerminationPolicies": list(group.termination_policies),
        "NewInstancesProtectedFromScaleIn": group.new_instances_protected_from_scale_in,
        "CapacityRebalance": False,
        "TrafficSources": [],
    }
    if instances is not None:
        out["Instances"] = [instance_to_aws(i) for i in instances]
    if group.vpc_zone_identifier:
        out["VPCZoneIdentifier"] = group.vpc_zone_identifier
    if group.status:
        out["Status"] = group.status
    if group.max_instance_lifetime is not None:
        out["MaxInstanceLifetime"] = group.max_instance_lifetime
    if group.default_instance_warmup is not None:
        out["DefaultInstanceWarmup"] = group.default_instance_warmup
    return out


def activity_to_aws(activity: Activity, group_arn: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ActivityId": activity.activity_id,
        "AutoScalingGroupName": activity.group_name,
        "Description": activity.description,
        "Cause": activity.cause,
        "StartTime": activity.start_time,
        "StatusCode": activity.status_code,
        "Progress": activity.progress,
        "Details": activity.details,
    }
    if activity.end_time is not None:
        out["EndTime"] = activity.end_time
    if activity.status_message:
        out["StatusMessage"] = activity.status_message
    if group_arn:
        out["AutoScalingGroupARN"] = group_arn
    return out
