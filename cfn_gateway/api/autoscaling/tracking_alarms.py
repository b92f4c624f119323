"""The CloudWatch alarms a target tracking policy owns: made, changed and deleted with it.

They are ordinary metric alarms of the caller's project, written through the CloudWatch
API's own handlers (``api.cloudwatch.alarms``), so they are validated, stored, evaluated
and shown exactly as alarms put with PutMetricAlarm, in both modes.  Their description
is AWS's: "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy ARN.".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cfn_gateway.api.cloudwatch.alarms import delete_alarms, put_metric_alarm
from cfn_gateway.context import CLOUDWATCH, RequestContext
from cfn_gateway.domain import policies as p

PERIOD = 60


def _cloudwatch(ctx: RequestContext, operation: str) -> RequestContext:
    return replace(ctx, service=CLOUDWATCH, operation=operation)


def put_alarms(ctx: RequestContext, policy: p.ScalingPolicy) -> list[dict[str, Any]]:
    """Put the policy's alarms; returns them as PutScalingPolicy's ``Alarms``."""
    tracking = policy.target_tracking
    assert tracking is not None
    metric = tracking.metric
    made = []
    for shape in p.tracking_alarms(tracking):
        params: dict[str, Any] = {
            "AlarmName": shape.name,
            "AlarmDescription": "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy "
                                f"{policy.arn}.",
            "Namespace": metric.namespace, "MetricName": metric.metric_name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in metric.dimensions],
            "Statistic": metric.statistic, "Period": PERIOD,
            "EvaluationPeriods": shape.evaluation_periods,
            "DatapointsToAlarm": shape.evaluation_periods,
            "Threshold": shape.threshold, "ComparisonOperator": shape.comparison,
            "AlarmActions": [policy.arn],
        }
        if metric.unit:
            params["Unit"] = metric.unit
        put_metric_alarm(_cloudwatch(ctx, "PutMetricAlarm"), params)
        stored = ctx.backends.alarms.get(ctx.project_id, shape.name)
        made.append({"AlarmName": shape.name,
                     "AlarmARN": stored.alarm.arn if stored else ""})
    return made


def delete_alarms_of(ctx: RequestContext, policy: p.ScalingPolicy,
                     keep: tuple[str, ...] = ()) -> None:
    """Delete the policy's alarms (but those in ``keep``)."""
    tracking = policy.target_tracking
    if tracking is None:
        return
    names = [n for n in tracking.alarm_names if n not in keep]
    if names:
        delete_alarms(_cloudwatch(ctx, "DeleteAlarms"), {"AlarmNames": names})


def alarms_to_aws(ctx: RequestContext, policy: p.ScalingPolicy) -> list[dict[str, Any]]:
    tracking = policy.target_tracking
    if tracking is None:
        return []
    found = ctx.backends.alarms.get_many(ctx.project_id, list(tracking.alarm_names))
    return [{"AlarmName": name, "AlarmARN": found[name].alarm.arn}
            for name in tracking.alarm_names if name in found]
