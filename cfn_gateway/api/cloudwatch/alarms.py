"""The alarm actions of CloudWatch: define, list, delete, set state, history and tags.

State changes come from the alarm engine (``cfn_gateway.engine``), or from SetAlarmState;
either way the alarm's actions are queued in the store with the change and run by an
engine, so an acknowledged change never loses its actions.  AWS behaviours kept here:
- Updating an alarm keeps its state; ``Tags`` of PutMetricAlarm / PutCompositeAlarm apply
  only when the alarm is created (AWS ignores them on update: TagResource changes tags).
- DescribeAlarms and DescribeAlarmHistory return metric alarms only unless AlarmTypes says
  otherwise; ChildrenOfAlarmName and ParentsOfAlarmName combine with nothing but
  MaxRecords and NextToken.
- DeleteAlarms deletes the named alarms that exist and ignores names that do not; history
  outlives the alarm.
- SetAlarmState lasts until the next evaluation; its actions run as a real change's do.
- TagResource, UntagResource and ListTagsForResource hand dashboard ARNs to
  ``dashboards.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import alarm_rules, dashboards
from cfn_gateway.api.cloudwatch import alarm_views as views
from cfn_gateway.api.cloudwatch.views import dimensions_from_aws, utc
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import (
    AlarmLimitExceeded,
    AlarmStore,
    InvalidNextToken,
    QueuedActions,
    StaleAlarm,
    StoredAlarm,
)
from cfn_gateway.common.clock import utcnow
from cfn_gateway.config import CONF
from cfn_gateway.context import CLOUDWATCH, RequestContext
from cfn_gateway.domain import alarm_history, composite_rules
from cfn_gateway.domain import alarms as al
from cfn_gateway.domain.alarm_notifications import state_change_message
from cfn_gateway.domain.alarms import Alarm, AlarmFilter, AlarmState, CompositeRule, HistoryFilter
from cfn_gateway.domain.metrics import MetricKey

DESCRIBE_PAGE = 50
HISTORY_PAGE = 100
#: SetAlarmState may race with an evaluation; it retries on a fresh read this many times.
STATE_RETRIES = 5


def _store(ctx: RequestContext) -> AlarmStore:
    return ctx.backends.alarms


def _arn(ctx: RequestContext, name: str) -> str:
    return views.alarm_arn(CONF.alarms.region, ctx.project_id, name)


def _put(ctx: RequestContext, alarm: Alarm, params: dict[str, Any]) -> None:
    tags = views.tags_from_aws(params.get("Tags"))
    try:
        _store(ctx).put(ctx.project_id, alarm, tags, alarm_history.configuration_change,
                        CONF.alarms.max_alarms_per_project)
    except AlarmLimitExceeded:
        raise errors.LimitExceeded(
            f"The maximum number of alarms ({CONF.alarms.max_alarms_per_project}) for this "
            "account has been reached.") from None


@action(CLOUDWATCH, "PutMetricAlarm")
def put_metric_alarm(ctx: RequestContext, params: dict[str, Any]) -> None:
    rule = alarm_rules.metric_rule_from_aws(params, ctx.backends.metrics.keeps_values)
    name = params["AlarmName"]
    alarm = views.alarm_from_aws(params, _arn(ctx, name), utcnow(), metric_rule=rule)
    existing = _store(ctx).get(ctx.project_id, name)
    if existing is not None and existing.alarm.composite_rule is not None:
        raise errors.InvalidParameterCombination(
            f"The alarm {name} is a composite alarm; PutMetricAlarm cannot change it.")
    _put(ctx, alarm, params)
    return None


@action(CLOUDWATCH, "PutCompositeAlarm")
def put_composite_alarm(ctx: RequestContext, params: dict[str, Any]) -> None:
    store = _store(ctx)
    name = params["AlarmName"]
    views.check_alarm_name(name)
    try:
        parsed = composite_rules.parse(params["AlarmRule"])
        composite_rules.check_references(parsed, name)
    except composite_rules.RuleError as problem:
        raise errors.ValidationError(str(problem)) from None
    children = list(parsed.children)
    found = store.get_many(ctx.project_id, children)
    missing = [child for child in children if child not in found]
    if missing:
        raise errors.ValidationError(
            f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the "
            "alarm rule do not exist")

    def children_of(child: str) -> list[str]:
        stored = found.get(child) or store.get(ctx.project_id, child)
        rule = stored.alarm.composite_rule if stored else None
        return list(rule.children) if rule else []

    cycle = composite_rules.find_cycle(name, children, children_of)
    if cycle:
        raise errors.ValidationError(
            "The alarm rule would create a cycle of composite alarms: "
            + " -> ".join(cycle))
    existing = store.get(ctx.project_id, name)
    if existing is not None and existing.alarm.composite_rule is None:
        raise errors.InvalidParameterCombination(
            f"The alarm {name} is a metric alarm; PutCompositeAlarm cannot change it.")
    rule = CompositeRule(expression=params["AlarmRule"], children=tuple(children),
                         **_suppressor(ctx, store, name, params))
    alarm = views.alarm_from_aws(params, _arn(ctx, name), utcnow(), composite_rule=rule)
    _put(ctx, alarm, params)
    return None


def _suppressor(ctx: RequestContext, store: AlarmStore, name: str,
                params: dict[str, Any]) -> dict[str, Any]:
    suppressor = params.get("ActionsSuppressor")
    wait, extension = (params.get("ActionsSuppressorWaitPeriod"),
                       params.get("ActionsSuppressorExtensionPeriod"))
    if suppressor is None:
        if wait is not None or extension is not None:
            raise errors.ValidationError(
                "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod need "
                "ActionsSuppressor.")
        return {}
    if wait is None or extension is None:
        raise errors.ValidationError(
            "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required "
            "with ActionsSuppressor.")
    if wait < 0 or extension < 0:
        raise errors.ValidationError(
            "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod must not be "
            "negative.")
    suppressor_name = views.alarm_name_from_arn(
        suppressor, CONF.alarms.region, ctx.project_id) or suppressor
    if suppressor_name == name:
        raise errors.ValidationError("An alarm cannot suppress its own actions.")
    if store.get(ctx.project_id, suppressor_name) is None:
        raise errors.ValidationError(
            f"The ActionsSuppressor alarm {suppressor} does not exist.")
    return {"actions_suppressor": suppressor_name, "suppressor_wait_period": wait,
            "suppressor_extension_period": extension}


def alarm_lists(project_id: str, store: AlarmStore, alarms: list[Alarm]) -> dict[str, Any]:
    """DescribeAlarms' MetricAlarms and CompositeAlarms of ``alarms``."""
    alarms = _with_suppression(project_id, store, alarms)
    return {
        "MetricAlarms": [views.metric_alarm_to_aws(a) for a in alarms
                         if a.alarm_type == al.METRIC_ALARM],
        "CompositeAlarms": [views.composite_alarm_to_aws(a) for a in alarms
                            if a.alarm_type == al.COMPOSITE_ALARM],
    }


def _with_suppression(project_id: str, store: AlarmStore,
                      alarms: list[Alarm]) -> list[Alarm]:
    """Composite alarms with their ActionsSuppressedBy / Reason as of now: it follows from
    the suppressor's state and the wait and extension periods, so it is computed when
    described, the same way the engine decides whether to run a change's actions."""
    suppressors = {a.composite_rule.actions_suppressor for a in alarms
                   if a.composite_rule is not None and a.composite_rule.actions_suppressor}
    if not suppressors:
        return alarms
    found = store.get_many(project_id, sorted(suppressors))
    now = utcnow()
    out = []
    for alarm in alarms:
        rule = alarm.composite_rule
        suppressor = found.get(rule.actions_suppressor) if rule and rule.actions_suppressor \
            else None
        if rule is not None and suppressor is not None:
            by, reason = composite_rules.suppression_by(suppressor.alarm.state, rule,
                                                        alarm.state, now)
            alarm = replace(alarm, actions_suppressed_by=by, actions_suppressed_reason=reason)
        out.append(alarm)
    return out


@action(CLOUDWATCH, "DescribeAlarms")
def describe_alarms(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _store(ctx)
    limit = params.get("MaxRecords") or DESCRIBE_PAGE
    relation = [m for m in ("ChildrenOfAlarmName", "ParentsOfAlarmName") if params.get(m)]
    if relation:
        others = [m for m in ("AlarmNames", "AlarmNamePrefix", "AlarmTypes", "StateValue",
                              "ActionPrefix", "ChildrenOfAlarmName", "ParentsOfAlarmName")
                  if params.get(m) and m not in relation[:1]]
        if others:
            raise errors.InvalidParameterCombination(
                f"{relation[0]} cannot be combined with {', '.join(others)}.")
        return _related(ctx, store, relation[0], params[relation[0]])
    types = tuple(params.get("AlarmTypes") or (al.METRIC_ALARM,))
    query = AlarmFilter(
        names=tuple(params.get("AlarmNames") or ()),
        name_prefix=params.get("AlarmNamePrefix"),
        alarm_types=types,
        state_value=params.get("StateValue"),
        action_prefix=params.get("ActionPrefix"),
    )
    try:
        page = store.describe(ctx.project_id, query, limit, params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The value for parameter NextToken is invalid.") from None
    result = alarm_lists(ctx.project_id, store, page.items)
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


def _related(ctx: RequestContext, store: AlarmStore, relation: str,
             name: str) -> dict[str, Any]:
    if relation == "ChildrenOfAlarmName":
        stored = store.get(ctx.project_id, name)
        rule = stored.alarm.composite_rule if stored else None
        names = list(rule.children) if rule else []
    else:
        names = store.parents_of(ctx.project_id, name)
    found = store.get_many(ctx.project_id, names)
    return alarm_lists(ctx.project_id, store, [found[n].alarm for n in sorted(found)])


@action(CLOUDWATCH, "DescribeAlarmsForMetric")
def describe_alarms_for_metric(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    key = MetricKey.of(params["Namespace"], params["MetricName"],
                       dimensions_from_aws(params.get("Dimensions")))
    statistic = params.get("Statistic") or params.get("ExtendedStatistic")
    matches = []
    for alarm in _store(ctx).for_metric(ctx.project_id, key):
        metric = alarm.metric_rule.metric if alarm.metric_rule else None
        if metric is None:
            continue
        if statistic is not None and metric.statistic != statistic:
            continue
        if params.get("Period") is not None and metric.period != params["Period"]:
            continue
        if params.get("Unit") is not None and metric.unit != params["Unit"]:
            continue
        matches.append(views.metric_alarm_to_aws(alarm))
    return {"MetricAlarms": matches}


@action(CLOUDWATCH, "DeleteAlarms")
def delete_alarms(ctx: RequestContext, params: dict[str, Any]) -> None:
    now = utcnow()
    names = list(dict.fromkeys(params["AlarmNames"]))
    _store(ctx).delete(ctx.project_id, names,
                       lambda alarm: alarm_history.deletion(alarm, now))
    return None


@action(CLOUDWATCH, "SetAlarmState")
def set_alarm_state(ctx: RequestContext, params: dict[str, Any]) -> None:
    store = _store(ctx)
    name = params["AlarmName"]
    views.check_reason_data(params.get("StateReasonData"))
    for _ in range(STATE_RETRIES):
        stored = store.get(ctx.project_id, name)
        if stored is None:
            raise errors.ResourceNotFound(f"Alarm {name} not found")
        try:
            _set_state(store, stored, params, utcnow())
            return None
        except StaleAlarm:
            continue
    raise errors.ServiceUnavailable(
        f"The alarm {name} is changing too often to set its state; try again.")


def _set_state(store: AlarmStore, stored: StoredAlarm, params: dict[str, Any],
               now: datetime) -> None:
    alarm, old = stored.alarm, stored.alarm.state
    value = params["StateValue"]
    new = AlarmState(
        value=value,
        reason=params["StateReason"],
        updated_at=now,
        transitioned_at=now if value != old.value else old.transitioned_at,
        reason_data=params.get("StateReasonData") or None,
        previous_value=old.value if value != old.value else old.previous_value,
    )
    actions = alarm.actions_for(value) if alarm.actions_enabled and value != old.value else ()
    queued = QueuedActions(
        alarm_name=alarm.name, alarm_type=alarm.alarm_type, actions=actions,
        state_value=value, state_updated_at=now,
        message=state_change_message(alarm, old, new, CONF.alarms.region, stored.project_id),
    ) if actions else None
    store.set_state(stored.project_id, alarm.name, stored.version, new,
                    [alarm_history.state_change(alarm, old, new)],
                    actions_repeated_at=now, actions=queued)
    # Composite alarms that name this one follow at the engine's next pass.
    store.make_due(stored.project_id, store.parents_of(stored.project_id, alarm.name), now)


@action(CLOUDWATCH, "EnableAlarmActions")
def enable_alarm_actions(ctx: RequestContext, params: dict[str, Any]) -> None:
    _store(ctx).set_actions_enabled(ctx.project_id, list(params["AlarmNames"]), True,
                                    alarm_history.configuration_change)
    return None


@action(CLOUDWATCH, "DisableAlarmActions")
def disable_alarm_actions(ctx: RequestContext, params: dict[str, Any]) -> None:
    _store(ctx).set_actions_enabled(ctx.project_id, list(params["AlarmNames"]), False,
                                    alarm_history.configuration_change)
    return None


@action(CLOUDWATCH, "DescribeAlarmHistory")
def describe_alarm_history(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("AlarmContributorId") is not None:
        raise errors.NotImplemented(
            "Alarm contributors (AlarmContributorId) are not implemented by this gateway.")
    start, end = params.get("StartDate"), params.get("EndDate")
    query = HistoryFilter(
        alarm_name=params.get("AlarmName"),
        alarm_types=tuple(params.get("AlarmTypes") or (al.METRIC_ALARM,)),
        item_type=params.get("HistoryItemType"),
        start=utc(start) if start is not None else None,
        end=utc(end) if end is not None else None,
        newest_first=params.get("ScanBy", "TimestampDescending") == "TimestampDescending",
    )
    limit = params.get("MaxRecords") or HISTORY_PAGE
    try:
        page = _store(ctx).history(ctx.project_id, query, limit,
                                   params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidNextToken("The value for parameter NextToken is invalid.") from None
    result: dict[str, Any] = {
        "AlarmHistoryItems": [views.history_item_to_aws(i) for i in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


# --- tags ---------------------------------------------------------------------------------

def _tagged_alarm(ctx: RequestContext, arn: str) -> str:
    name = views.alarm_name_from_arn(arn, CONF.alarms.region, ctx.project_id)
    if name is None:
        raise _not_found(arn)
    return name


def _not_found(arn: str) -> errors.ResourceNotFoundException:
    error = errors.ResourceNotFoundException(f"Resource {arn} not found.")
    error.fields = {"ResourceType": "alarm", "ResourceId": arn}  # type: ignore[attr-defined]
    return error


@action(CLOUDWATCH, "TagResource")
def tag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceARN"]
    tags = views.tags_from_aws(params["Tags"])
    if dashboards.is_dashboard_arn(arn):
        return dashboards.tag_dashboard(ctx, arn, tags)
    if not _store(ctx).tag(ctx.project_id, _tagged_alarm(ctx, arn), tags):
        raise _not_found(arn)
    return {}


@action(CLOUDWATCH, "UntagResource")
def untag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceARN"]
    if dashboards.is_dashboard_arn(arn):
        return dashboards.untag_dashboard(ctx, arn, list(params["TagKeys"]))
    if not _store(ctx).untag(ctx.project_id, _tagged_alarm(ctx, arn), list(params["TagKeys"])):
        raise _not_found(arn)
    return {}


@action(CLOUDWATCH, "ListTagsForResource")
def list_tags_for_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceARN"]
    if dashboards.is_dashboard_arn(arn):
        return dashboards.dashboard_tags(ctx, arn)
    tags = _store(ctx).tags(ctx.project_id, _tagged_alarm(ctx, arn))
    if tags is None:
        raise _not_found(arn)
    return {"Tags": views.tags_to_aws(tags)}
