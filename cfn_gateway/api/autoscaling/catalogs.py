"""The Auto Scaling catalogues: the fixed lists of names other calls accept.

DescribeAdjustmentTypes, DescribeScalingProcessTypes, DescribeTerminationPolicyTypes,
DescribeAutoScalingNotificationTypes, DescribeLifecycleHookTypes and
DescribeMetricCollectionTypes answer what this gateway accepts, which is what AWS lists
(AWS's orders), except that the warm-pool metrics are left out: the gateway has no warm
pools.  The lists come from the modules that act on them (``domain.capacity``,
``domain.termination``) or are defined here until their calls exist.
"""

from __future__ import annotations

from typing import Any

from cfn_gateway.api.registry import action
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain.capacity import ADJUSTMENT_TYPES
from cfn_gateway.domain.termination import POLICIES as TERMINATION_POLICIES

#: Suspend/ResumeProcesses names.
SCALING_PROCESSES = ("AZRebalance", "AddToLoadBalancer", "AlarmNotification", "HealthCheck",
                     "InstanceRefresh", "Launch", "ReplaceUnhealthy", "ScheduledActions",
                     "Terminate")
NOTIFICATION_TYPES = ("autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
                      "autoscaling:EC2_INSTANCE_TERMINATE",
                      "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
                      "autoscaling:TEST_NOTIFICATION")
LIFECYCLE_HOOK_TYPES = ("autoscaling:EC2_INSTANCE_LAUNCHING",
                        "autoscaling:EC2_INSTANCE_TERMINATING")
#: Enable/DisableMetricsCollection names: instance counts and capacity units.
GROUP_METRICS = ("GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity",
                 "GroupInServiceInstances", "GroupInServiceCapacity",
                 "GroupPendingInstances", "GroupPendingCapacity",
                 "GroupTerminatingInstances", "GroupTerminatingCapacity",
                 "GroupStandbyInstances", "GroupStandbyCapacity",
                 "GroupTotalInstances", "GroupTotalCapacity")
METRIC_GRANULARITIES = ("1Minute",)


@action(AUTOSCALING, "DescribeAdjustmentTypes")
def describe_adjustment_types(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"AdjustmentTypes": [{"AdjustmentType": name} for name in ADJUSTMENT_TYPES]}


@action(AUTOSCALING, "DescribeScalingProcessTypes")
def describe_scaling_process_types(ctx: RequestContext,
                                   params: dict[str, Any]) -> dict[str, Any]:
    return {"Processes": [{"ProcessName": name} for name in SCALING_PROCESSES]}


@action(AUTOSCALING, "DescribeTerminationPolicyTypes")
def describe_termination_policy_types(ctx: RequestContext,
                                      params: dict[str, Any]) -> dict[str, Any]:
    return {"TerminationPolicyTypes": sorted(TERMINATION_POLICIES)}


@action(AUTOSCALING, "DescribeAutoScalingNotificationTypes")
def describe_auto_scaling_notification_types(ctx: RequestContext,
                                             params: dict[str, Any]) -> dict[str, Any]:
    return {"AutoScalingNotificationTypes": list(NOTIFICATION_TYPES)}


@action(AUTOSCALING, "DescribeLifecycleHookTypes")
def describe_lifecycle_hook_types(ctx: RequestContext,
                                  params: dict[str, Any]) -> dict[str, Any]:
    return {"LifecycleHookTypes": list(LIFECYCLE_HOOK_TYPES)}


@action(AUTOSCALING, "DescribeMetricCollectionTypes")
def describe_metric_collection_types(ctx: RequestContext,
                                     params: dict[str, Any]) -> dict[str, Any]:
    return {"Metrics": [{"Metric": name} for name in GROUP_METRICS],
            "Granularities": [{"Granularity": g} for g in METRIC_GRANULARITIES]}
