"""PutMetricData, ListMetrics and GetMetricStatistics.

AWS rules implemented here and where their wording comes from (CloudWatch API reference
2010-08-01 and the botocore model; error texts as recorded from AWS by AWS-validated test
snapshots or quoted in client bug reports):
- PutMetricData: "The value AWS/ for parameter Namespace is invalid."; "The parameter
  MetricData.member.N.Timestamp must specify a time within the past two weeks." (also for
  more than 2 hours ahead); "The parameters ...Value and ...Values|StatisticValues are
  mutually exclusive and you have specified both." (InvalidParameterCombination); "The
  parameters ...Values and ...Counts must be of the same size."; "The parameter
  ...StorageResolution must be a value in the set [ 1, 60 ]."; NaN, infinities and values
  outside 8.515920e-109..1.174271e+108 in magnitude: "The value X for parameter P is
  invalid.".  At most 1000 members, 150 Values each, 30 dimensions.
- GetMetricStatistics: neither Statistics nor ExtendedStatistics: InvalidParameterCombination
  "Must specify either Statistics or ExtendedStatistics"; "The parameter StartTime must be
  less than the parameter EndTime." (also when equal); "You have requested up to N
  datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by
  increasing Period, or decreasing the time range." (InvalidParameterCombination).
  ExtendedStatistics (percentiles ``p0.0`` to ``p100``, trimmed means ``tm90`` /
  ``TM(10%:90%)``, ``WM``, ``TC``, ``TS``, ``PR``, ``IQM``): ``domain.extended_statistics``,
  each keyed by the name as asked; a period whose values are not available (a statistic
  set without its values, a negative value) has no ExtendedStatistics, nor has one a
  statistic without a value for it (a trimmed mean of nothing kept).
- ListMetrics: pages of 500 with an opaque NextToken; a token the store did not issue for
  this project and query: InvalidParameterValue (the only client error the model lists).
  Cross-account observability: no account is linked to another here, so with
  ``IncludeLinkedAccounts`` every metric's ``OwningAccounts`` entry is the caller's own
  account, and an ``OwningAccount`` other than the caller's owns no metric.
- PutMetricData from a Heat stack user: ``AlarmName`` values that are logical alarm names
  of its stack name the alarm (``stack_alarm_names``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import views
from cfn_gateway.api.cloudwatch.stack_alarm_names import LOGICAL_ALARM_NAMES
from cfn_gateway.api.registry import Declined, action, decoded_action
from cfn_gateway.backends.metrics import AggregateRequest, InvalidNextToken
from cfn_gateway.context import CLOUDWATCH, RequestContext
from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain import extended_statistics as xs
from cfn_gateway.domain import percentiles as pct
from cfn_gateway.domain import periods
from cfn_gateway.domain.metrics import Datum, MetricFilter, MetricKey


def utcnow() -> datetime:
    """The time of the request (tests replace this)."""
    return datetime.now(UTC)


@action(CLOUDWATCH, "PutMetricData")
def put_metric_data(ctx: RequestContext, params: dict[str, Any]) -> None:
    now = utcnow()
    _put(ctx, views.metric_data_from_aws(params, now), now)


@decoded_action(CLOUDWATCH, "PutMetricData")
def put_decoded_metric_data(ctx: RequestContext, decoded: Any) -> None:
    """A JSON body's members straight from its decoded structs, when all are plain."""
    now = utcnow()
    data = views.decoded_metric_data(decoded, now)
    if data is None:
        raise Declined
    _put(ctx, data, now)


def _put(ctx: RequestContext, data: list[Datum], now: datetime) -> None:
    stack_user_project = ctx.identity.stack_user_project
    if stack_user_project:  # a Heat stack user (cfn-push-stats --watch <logical name>)
        data = LOGICAL_ALARM_NAMES.rewrite(ctx.backends.alarms, ctx.project_id,
                                           stack_user_project, data)
    ctx.backends.metrics.put(ctx.project_id, data, now)


@action(CLOUDWATCH, "ListMetrics")
def list_metrics(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    query = MetricFilter(
        namespace=params.get("Namespace"),
        name=params.get("MetricName"),
        dimensions=views.dimension_filters_from_aws(params.get("Dimensions")),
        recently_active=params.get("RecentlyActive") == "PT3H",
    )
    since = periods.active_since(utcnow(), query.recently_active)
    linked = params.get("IncludeLinkedAccounts", False)
    owner = params.get("OwningAccount")
    if owner is not None and owner != ctx.project_id:
        # No account is linked to this one: another account owns none of its metrics.
        return {"Metrics": [], "OwningAccounts": []} if linked else {"Metrics": []}
    try:
        page = ctx.backends.metrics.list_metrics(
            ctx.project_id, query, since, params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidParameterValue(
            "The value for parameter NextToken is invalid.") from None
    result: dict[str, Any] = {"Metrics": [views.metric_to_aws(key) for key in page.metrics]}
    if linked:
        result["OwningAccounts"] = [ctx.project_id] * len(page.metrics)
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@action(CLOUDWATCH, "GetMetricStatistics")
def get_metric_statistics(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    statistics = list(params.get("Statistics") or ())
    extended = list(params.get("ExtendedStatistics") or ())
    if not statistics and not extended:
        raise errors.InvalidParameterCombination(
            "Must specify either Statistics or ExtendedStatistics")
    period = params["Period"]
    if not periods.valid_period(period):
        raise errors.InvalidParameterValue("The parameter Period must be a multiple of 60.")
    start, end = views.utc(params["StartTime"]), views.utc(params["EndTime"])
    if start >= end:
        raise errors.InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.")
    requested = periods.requested_datapoints(start, end, period)
    if requested > periods.MAX_DATAPOINTS:
        raise errors.InvalidParameterCombination(
            f"You have requested up to {requested} datapoints, which exceeds the limit of "
            f"{periods.MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing "
            "Period, or decreasing the time range.")
    wanted_extended = {}
    for i, name in enumerate(extended, 1):
        parsed = xs.parse(name)
        if parsed is None:
            raise errors.InvalidParameterValue(
                f"The value {name} for parameter ExtendedStatistics.member.{i} is invalid.")
        wanted_extended[name] = parsed

    metric_name = params["MetricName"]
    dimensions = views.dimensions_from_aws(params.get("Dimensions"))
    result: dict[str, Any] = {"Label": metric_name, "Datapoints": []}
    if dims.has_duplicate_names(dimensions) or not periods.period_serves_start(
            period, start, now):
        return result  # no metric has such dimensions / no data kept at that resolution
    key = MetricKey.of(params["Namespace"], metric_name, dimensions)
    aligned = periods.align_start(start, period, now)
    buckets = ctx.backends.metrics.aggregate(ctx.project_id, key, aligned, end, period,
                                             params.get("Unit"))
    extended_values: dict[tuple[datetime, str], dict[str, float]] = {}
    if wanted_extended:
        (found,) = ctx.backends.metrics.samples(ctx.project_id, [AggregateRequest(
            key, aligned, end, period, params.get("Unit"))])
        for bucket in found:
            values = pct.values_of(bucket.samples)
            if values:
                extended_values[(bucket.start, bucket.unit)] = {
                    name: value for name, parsed in wanted_extended.items()
                    if (value := xs.compute(values, parsed)) is not None}
    for bucket in buckets:
        point = views.datapoint_to_aws(bucket, statistics)
        wanted = extended_values.get((bucket.start, bucket.unit))
        if wanted:
            point["ExtendedStatistics"] = wanted
        elif not statistics:
            continue  # only extended statistics asked for, none available for this period
        result["Datapoints"].append(point)
    return result
