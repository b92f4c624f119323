"""DescribeScalingActivities: a group's activity history, newest first.

Activities outlive their group, as on AWS: ``IncludeDeletedGroups`` shows those of groups
that are gone.  ``ActivityIds`` names activities directly (at most 50).  ``Filters`` by
start time and status: ``domain.activity_filters``.
"""

from __future__ import annotations

from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling.group_support import group_not_found, max_records
from cfn_gateway.api.autoscaling.group_views import activity_to_aws
from cfn_gateway.api.autoscaling.tags import filters_of
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import activity_filters
from cfn_gateway.domain.tag_filters import InvalidFilter

DESCRIBE_PAGE = 100
MAX_ACTIVITY_IDS = 50


@action(AUTOSCALING, "DescribeScalingActivities")
def describe_scaling_activities(ctx: RequestContext,
                                params: dict[str, Any]) -> dict[str, Any]:
    groups = ctx.backends.groups
    limit = max_records(params, DESCRIBE_PAGE)
    include_deleted = params.get("IncludeDeletedGroups", False)
    name = params.get("AutoScalingGroupName")
    try:
        only = activity_filters.activity_filter(filters_of(params), name is not None)
    except InvalidFilter as exc:
        raise errors.ValidationError(str(exc)) from None
    arns: dict[str, str] = {}
    activity_ids = list(dict.fromkeys(params.get("ActivityIds") or ()))
    if activity_ids:
        if len(activity_ids) > MAX_ACTIVITY_IDS:
            raise errors.ValidationError(
                f"You can name at most {MAX_ACTIVITY_IDS} activity IDs in one request.")
        items = [a for a in groups.activities_by_id(ctx.project_id, activity_ids)
                 if (name is None or a.group_name == name) and only.matches(a)]
        result: dict[str, Any] = {"Activities": []}
    else:
        if name is not None:
            stored = groups.get(ctx.project_id, name)
            if stored is None and not include_deleted:
                raise group_not_found(name)
            names = [name]
        elif include_deleted:
            names = []
        else:
            names = [s.group.name for s in _every_group(ctx)]
            if not names:
                return {"Activities": []}
        try:
            page = groups.activities(ctx.project_id, names, limit,
                                     params.get("NextToken") or None, only)
        except InvalidNextToken:
            raise errors.InvalidNextToken("The token provided is not valid.") from None
        items = page.items
        result = {"Activities": []}
        if page.next_token:
            result["NextToken"] = page.next_token
    for activity in items:
        if activity.group_name not in arns:
            stored = groups.get(ctx.project_id, activity.group_name)
            arns[activity.group_name] = stored.group.arn if stored else ""
        result["Activities"].append(activity_to_aws(activity, arns[activity.group_name]))
    return result


def _every_group(ctx: RequestContext) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = ctx.backends.groups.describe(ctx.project_id, [], 100, token)
        out.extend(page.items)
        token = page.next_token
        if not token:
            return out
