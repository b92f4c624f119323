"""Put/Delete/DescribeNotificationConfigurations: where a group reports its launches and
terminations.

A topic is an ``http://`` or ``https://`` URL (``domain.group_notifications``: this cloud
has no SNS, so an SNS topic ARN is refused with a ValidationError saying so).  Putting a
configuration for a topic replaces its notification types and sends it an
``autoscaling:TEST_NOTIFICATION``, as AWS does.  A group has at most ``MAX_TOPICS``
topics.  Deliveries are queued and sent by the engine (``engine.notifications``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.autoscaling.catalogs import NOTIFICATION_TYPES
from cfn_gateway.api.autoscaling.group_support import change_group, max_records
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.common.clock import utcnow
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain import group_notifications as n
from cfn_gateway.domain.groups import Group

DESCRIBE_PAGE = 50


@action(AUTOSCALING, "PutNotificationConfiguration")
def put_notification_configuration(ctx: RequestContext, params: dict[str, Any]) -> None:
    topic = params["TopicARN"]
    if not n.is_topic(topic):
        raise errors.ValidationError(
            f"Topic {topic} cannot be used: this cloud has no SNS; give an http:// or "
            "https:// URL to POST the notifications to.")
    types = tuple(dict.fromkeys(params["NotificationTypes"]))
    for kind in types:
        if kind not in NOTIFICATION_TYPES:
            raise errors.ValidationError(f"Invalid notification type: {kind}")

    def put(group: Group) -> Group:
        others = tuple(c for c in group.notification_configurations if c[0] != topic)
        if len(others) >= n.MAX_TOPICS:
            raise errors.LimitExceeded(
                f"A group can have at most {n.MAX_TOPICS} notification topics.")
        return replace(group, notification_configurations=(*others, (topic, types)))

    _, group = change_group(ctx, params["AutoScalingGroupName"], put)
    ctx.backends.groups.queue_notifications(ctx.project_id, group.name,
                                            [(topic, n.test_message(group, utcnow()))])


@action(AUTOSCALING, "DeleteNotificationConfiguration")
def delete_notification_configuration(ctx: RequestContext, params: dict[str, Any]) -> None:
    topic = params["TopicARN"]

    def delete(group: Group) -> Group:
        kept = tuple(c for c in group.notification_configurations if c[0] != topic)
        if len(kept) == len(group.notification_configurations):
            raise errors.ValidationError(
                f"No notification configuration found for topic {topic} in group "
                f"{group.name}.")
        return replace(group, notification_configurations=kept)

    change_group(ctx, params["AutoScalingGroupName"], delete)


@action(AUTOSCALING, "DescribeNotificationConfigurations")
def describe_notification_configurations(ctx: RequestContext,
                                         params: dict[str, Any]) -> dict[str, Any]:
    try:
        page = ctx.backends.groups.describe(
            ctx.project_id, list(params.get("AutoScalingGroupNames") or ()),
            max_records(params, DESCRIBE_PAGE), params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The token provided is not valid.") from None
    result: dict[str, Any] = {"NotificationConfigurations": [
        {"AutoScalingGroupName": stored.group.name, "TopicARN": topic,
         "NotificationType": kind}
        for stored in page.items
        for topic, types in stored.group.notification_configurations for kind in types]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result
