"""CreateOrUpdateTags, DeleteTags and DescribeTags: the tags of Auto Scaling groups.

Tags live in their group's definition (at most ``MAX_TAGS`` per group, AWS's quota).  A
call may name several groups; each group's change is one compare-and-set, and a call
naming a group that does not exist changes nothing.  Tags with ``PropagateAtLaunch``
reach the instances launched after the change (as Nova server metadata in OpenStack
mode); instances already running keep theirs, as on AWS.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling.group_support import change_group, existing_group, max_records
from cfn_gateway.api.autoscaling.group_views import GROUP_RESOURCE_TYPE, tag_to_aws
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import tag_filters
from cfn_gateway.domain.groups import Group, GroupTag

MAX_TAGS = 50
DESCRIBE_PAGE = 50


def filters_of(params: dict[str, Any]) -> list[tag_filters.Filter]:
    """The request's Filters (DescribeTags, DescribeAutoScalingGroups,
    DescribeScalingActivities); each must have a Name."""
    filters = []
    for f in params.get("Filters") or ():
        if not f.get("Name"):
            raise errors.ValidationError("Each filter must have a Name.")
        filters.append(tag_filters.Filter(f["Name"], tuple(f.get("Values") or ())))
    return filters


def _by_group(tags: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tag in tags:
        resource_id = tag.get("ResourceId")
        if not resource_id:
            raise errors.ValidationError("ResourceId is required: the name of the Auto "
                                         "Scaling group the tag belongs to.")
        if tag.get("ResourceType") not in (None, GROUP_RESOURCE_TYPE):
            raise errors.ValidationError(f"Tag resource type must be {GROUP_RESOURCE_TYPE}.")
        grouped[resource_id].append(tag)
    return grouped


@action(AUTOSCALING, "CreateOrUpdateTags")
def create_or_update_tags(ctx: RequestContext, params: dict[str, Any]) -> None:
    grouped = _by_group(params["Tags"])
    for name in grouped:
        existing_group(ctx, name)
    for name, items in grouped.items():
        def put(group: Group, items: list[dict[str, Any]] = items) -> Group:
            tags = {t.key: t for t in group.tags}
            for item in items:
                tags[item["Key"]] = GroupTag(item["Key"], item.get("Value") or "",
                                             bool(item.get("PropagateAtLaunch", False)))
            if len(tags) > MAX_TAGS:
                raise errors.LimitExceeded(
                    f"A group can have at most {MAX_TAGS} tags.")
            return replace(group, tags=tuple(tags.values()))

        change_group(ctx, name, put)


@action(AUTOSCALING, "DeleteTags")
def delete_tags(ctx: RequestContext, params: dict[str, Any]) -> None:
    grouped = _by_group(params["Tags"])
    for name in grouped:
        existing_group(ctx, name)
    for name, items in grouped.items():
        keys = {item["Key"] for item in items}

        def drop(group: Group, keys: set[str] = keys) -> Group | None:
            kept = tuple(t for t in group.tags if t.key not in keys)
            return None if len(kept) == len(group.tags) else replace(group, tags=kept)

        change_group(ctx, name, drop)


@action(AUTOSCALING, "DescribeTags")
def describe_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    filters = filters_of(params)
    try:
        tag_filters.check_tag_filters(filters)
    except tag_filters.InvalidFilter as exc:
        raise errors.ValidationError(str(exc)) from None
    try:
        page = ctx.backends.groups.describe_tags(
            ctx.project_id, filters, max_records(params, DESCRIBE_PAGE),
            params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The token provided is not valid.") from None
    result: dict[str, Any] = {"Tags": [tag_to_aws(name, tag) for name, tag in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result
