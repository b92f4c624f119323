"""Put/BatchPut/Delete/BatchDelete/DescribeScheduledActions.

Definitions and their validation are ``domain.scheduled_actions``; the engine runs them
(``engine.schedules``).  Putting an action of an existing name updates it: what the call
leaves out keeps its value, as AWS documents.  A group has at most
``MAX_PER_GROUP`` scheduled actions (AWS's quota); batches hold at most 50.  Batch calls
answer per action: a failed one is listed with its error code and message, the others
are done.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling.group_support import (
    existing_group,
    group_not_found,
    max_records,
)
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.groups import GroupGone, ScheduledActionLimitExceeded
from cfn_gateway.common.clock import utcnow
from cfn_gateway.config import CONF
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import scheduled_actions as s

MAX_PER_GROUP = 125
MAX_BATCH = 50
DESCRIBE_PAGE = 50


def scheduled_action_arn(project_id: str, group_name: str, name: str) -> str:
    return (f"arn:aws:autoscaling:{CONF.autoscaling.region}:{project_id}:"
            f"scheduledUpdateGroupAction:{uuid.uuid4()}:autoScalingGroupName/{group_name}:"
            f"scheduledActionName/{name}")


def _put(ctx: RequestContext, group_name: str, item: dict[str, Any], now: datetime) -> None:
    name = item["ScheduledActionName"]
    old = ctx.backends.groups.get_scheduled_action(ctx.project_id, group_name, name)
    start = item.get("StartTime") or item.get("Time")
    fields = {"start_time": start, "end_time": item.get("EndTime"),
              "recurrence": item.get("Recurrence"), "time_zone": item.get("TimeZone"),
              "min_size": item.get("MinSize"), "max_size": item.get("MaxSize"),
              "desired_capacity": item.get("DesiredCapacity")}
    given = {k: v for k, v in fields.items() if v is not None}
    if old is not None:
        scheduled = replace(old, **given)
    else:
        scheduled = s.ScheduledAction(
            name=name, arn=scheduled_action_arn(ctx.project_id, group_name, name),
            group_name=group_name, **given)
    try:
        s.validate(scheduled, now, new_start=start is not None)
    except s.InvalidScheduledAction as exc:
        raise errors.ValidationError(str(exc)) from None
    try:
        ctx.backends.groups.put_scheduled_action(
            ctx.project_id, scheduled, s.first_run(scheduled, now), MAX_PER_GROUP)
    except GroupGone:
        raise group_not_found(group_name) from None
    except ScheduledActionLimitExceeded:
        raise errors.LimitExceeded(
            f"A group can have at most {MAX_PER_GROUP} scheduled actions.") from None


@action(AUTOSCALING, "PutScheduledUpdateGroupAction")
def put_scheduled_update_group_action(ctx: RequestContext, params: dict[str, Any]) -> None:
    group_name = params["AutoScalingGroupName"]
    existing_group(ctx, group_name)
    _put(ctx, group_name, params, utcnow())


@action(AUTOSCALING, "BatchPutScheduledUpdateGroupAction")
def batch_put_scheduled_update_group_action(ctx: RequestContext,
                                            params: dict[str, Any]) -> dict[str, Any]:
    group_name = params["AutoScalingGroupName"]
    items = params["ScheduledUpdateGroupActions"]
    if len(items) > MAX_BATCH:
        raise errors.ValidationError(
            f"You can put at most {MAX_BATCH} scheduled actions in one request.")
    existing_group(ctx, group_name)
    now = utcnow()
    failed = []
    for item in items:
        try:
            _put(ctx, group_name, item, now)
        except errors.AWSError as exc:
            failed.append({"ScheduledActionName": item["ScheduledActionName"],
                           "ErrorCode": exc.code, "ErrorMessage": exc.message})
    return {"FailedScheduledUpdateGroupActions": failed}


def _delete(ctx: RequestContext, group_name: str, name: str) -> None:
    if not ctx.backends.groups.delete_scheduled_action(ctx.project_id, group_name, name):
        raise errors.ValidationError("Scheduled action name not found - Could not find "
                                     f"scheduled action {name} for group {group_name}")


@action(AUTOSCALING, "DeleteScheduledAction")
def delete_scheduled_action(ctx: RequestContext, params: dict[str, Any]) -> None:
    group_name = params["AutoScalingGroupName"]
    existing_group(ctx, group_name)
    _delete(ctx, group_name, params["ScheduledActionName"])


@action(AUTOSCALING, "BatchDeleteScheduledAction")
def batch_delete_scheduled_action(ctx: RequestContext,
                                  params: dict[str, Any]) -> dict[str, Any]:
    group_name = params["AutoScalingGroupName"]
    names = params["ScheduledActionNames"]
    if len(names) > MAX_BATCH:
        raise errors.ValidationError(
            f"You can delete at most {MAX_BATCH} scheduled actions in one request.")
    existing_group(ctx, group_name)
    failed = []
    for name in names:
        try:
            _delete(ctx, group_name, name)
        except errors.AWSError as exc:
            failed.append({"ScheduledActionName": name, "ErrorCode": exc.code,
                           "ErrorMessage": exc.message})
    return {"FailedScheduledActions": failed}


def scheduled_action_to_aws(scheduled: s.ScheduledAction,
                            next_run: datetime | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AutoScalingGroupName": scheduled.group_name,
        "ScheduledActionName": scheduled.name,
        "ScheduledActionARN": scheduled.arn,
    }
    start = next_run or scheduled.start_time
    optional = {"Time": start, "StartTime": start, "EndTime": scheduled.end_time,
                "Recurrence": scheduled.recurrence, "MinSize": scheduled.min_size,
                "MaxSize": scheduled.max_size, "DesiredCapacity": scheduled.desired_capacity,
                "TimeZone": scheduled.time_zone}
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


@action(AUTOSCALING, "DescribeScheduledActions")
def describe_scheduled_actions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group_name = params.get("AutoScalingGroupName")
    if group_name is not None:
        existing_group(ctx, group_name)
    start, end = params.get("StartTime"), params.get("EndTime")
    try:
        page = ctx.backends.groups.describe_scheduled_actions(
            ctx.project_id, group_name, list(params.get("ScheduledActionNames") or ()),
            max_records(params, DESCRIBE_PAGE), params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The token provided is not valid.") from None
    shown = [(scheduled, next_run) for scheduled, next_run in page.items
             if (start is None or (next_run is not None and next_run >= start))
             and (end is None or (next_run is not None and next_run <= end))]
    result: dict[str, Any] = {"ScheduledUpdateGroupActions": [
        scheduled_action_to_aws(scheduled, next_run) for scheduled, next_run in shown]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result
