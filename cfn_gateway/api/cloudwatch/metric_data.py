"""GetMetricData: MetricStat queries and metric math expressions over them.

The request is checked whole before any data is read (AWS answers bad input without
partial results): StartTime before EndTime, 1 to 500 queries, unique Ids (a lower-case
letter, then letters, digits and underscores), each query either a MetricStat or an
Expression, at least one with ReturnData, valid periods and statistics, every expression
parsed (``domain.metric_queries``, ``domain.metric_math``: as metric-math alarms are) and
naming only Ids of the request, without cycles. Then every MetricStat is read
(``MetricStore.aggregate_many``: concurrently where the store calls a service), the
expressions are evaluated in dependency order, and the results with ReturnData are paged
(``domain.metric_data``). Metrics Insights queries (``SELECT ...``) and cross-account
reads (``AccountId`` of another account) are refused with a clear error.

AWS's texts where AWS documents them (StartTime/EndTime, Period, as GetMetricStatistics);
the other messages are the gateway's, in AWS's style (docs/compatibility.md M-rows).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import views
from cfn_gateway.api.cloudwatch.metrics import utcnow
from cfn_gateway.api.registry import action
from cfn_gateway.backends.metrics import AggregateRequest
from cfn_gateway.context import CLOUDWATCH, RequestContext
from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain import extended_statistics as xs
from cfn_gateway.domain import metric_data as md
from cfn_gateway.domain import metric_math as mm
from cfn_gateway.domain import metric_queries as mq
from cfn_gateway.domain import pagination, periods
from cfn_gateway.domain.metric_queries import MetricQuery, MetricStat
from cfn_gateway.domain.metrics import MetricKey

TIMEZONE = re.compile(r"[+-]([01]\d|2[0-3])[0-5]\d")


def _member(n: int, name: str) -> str:
    return f"MetricDataQueries.member.{n}.{name}"


def _period(value: int, where: str) -> int:
    if not periods.valid_period(value):
        raise errors.InvalidParameterValue(
            f"The parameter {where} must be 1, 5, 10, 20, 30 or a multiple of 60.")
    return value


def _stat(value: str, where: str) -> str:
    if value in md.SET_STATISTICS or xs.parse(value) is not None:
        return value
    raise errors.InvalidParameterValue(f"The value {value} for parameter {where} is invalid.")


def _query(ctx: RequestContext, item: dict[str, Any], n: int) -> MetricQuery:
    query_id = item["Id"]
    if not mq.QUERY_ID.fullmatch(query_id):
        raise errors.ValidationError(
            f"The value {query_id} for parameter {_member(n, 'Id')} is invalid: an Id starts "
            "with a lower-case letter and holds only letters, digits and underscores.")
    account = item.get("AccountId")
    if account is not None and account != ctx.project_id:
        raise errors.ValidationError(
            f"The value {account} for parameter {_member(n, 'AccountId')} is invalid: this "
            "gateway reads the caller's own account only.")
    stat, expression = item.get("MetricStat"), item.get("Expression")
    if (stat is None) == (expression is None):
        raise errors.ValidationError(
            f"Exactly one of {_member(n, 'MetricStat')} and {_member(n, 'Expression')} must "
            "be given.")
    common = {"id": query_id, "label": item.get("Label"),
              "return_data": item.get("ReturnData", True)}
    if expression is not None:
        if mq.is_insights_query(expression):
            raise errors.NotImplemented(
                "Metrics Insights queries (SELECT ...) are not implemented by this gateway; "
                "use MetricStat queries and metric math.")
        period = item.get("Period")
        return MetricQuery(**common, expression=expression, period=None if period is None
                           else _period(period, _member(n, "Period")))
    metric = stat["Metric"]
    if not metric.get("Namespace") or not metric.get("MetricName"):
        raise errors.ValidationError(
            f"{_member(n, 'MetricStat.Metric')} needs a Namespace and a MetricName.")
    key = MetricKey.of(metric["Namespace"], metric["MetricName"],
                       views.dimensions_from_aws(metric.get("Dimensions")))
    return MetricQuery(**common, metric_stat=MetricStat(
        key, _period(stat["Period"], _member(n, "MetricStat.Period")),
        _stat(stat["Stat"], _member(n, "MetricStat.Stat")), stat.get("Unit")))


def _queries(ctx: RequestContext, params: dict[str, Any]) -> list[MetricQuery]:
    items = params["MetricDataQueries"]
    if not items:
        raise errors.ValidationError("MetricDataQueries must hold at least one query.")
    if len(items) > md.MAX_QUERIES:
        raise errors.ValidationError(
            f"The collection MetricDataQueries must not have a size greater than "
            f"{md.MAX_QUERIES}.")
    queries = [_query(ctx, item, n) for n, item in enumerate(items, 1)]
    seen: set[str] = set()
    for query in queries:
        if query.id in seen:
            raise errors.ValidationError(
                f"The Id {query.id} is used by more than one query of "
                "MetricDataQueries: Ids must be unique.")
        seen.add(query.id)
    if not any(q.return_data for q in queries):
        raise errors.ValidationError(
            "At least one query of MetricDataQueries must have ReturnData set to true.")
    return queries


def _read(ctx: RequestContext, queries: list[MetricQuery], start: datetime, end: datetime,
          now: datetime) -> dict[str, md.Points]:
    """The points of every MetricStat query, by Id."""
    stats = [q.metric_stat for q in queries if q.metric_stat is not None]
    readable = [s for s in stats if not dims.has_duplicate_names(s.key.dimensions)
                and periods.period_serves_start(s.period, start, now)]
    sets = [s for s in readable if s.statistic in md.SET_STATISTICS]
    extended = [s for s in readable if s.statistic not in md.SET_STATISTICS]
    metrics = ctx.backends.metrics
    found: dict[MetricStat, md.Points] = {}
    for stat, buckets in zip(sets, metrics.aggregate_many(
            ctx.project_id, [_request(s, start, end, now) for s in sets]), strict=True):
        found[stat] = md.statistic_points(buckets, stat.statistic)
    if extended:
        for stat, samples in zip(extended, metrics.samples(
                ctx.project_id, [_request(s, start, end, now) for s in extended]),
                strict=True):
            parsed = xs.parse(stat.statistic)
            assert parsed is not None
            found[stat] = md.extended_points(samples, parsed)
    return {q.id: found.get(q.metric_stat, md.Points()) for q in queries
            if q.metric_stat is not None}


def _request(stat: MetricStat, start: datetime, end: datetime,
             now: datetime) -> AggregateRequest:
    return AggregateRequest(stat.key, periods.align_start(start, stat.period, now), end,
                            stat.period, stat.unit)


def _plan(queries: list[MetricQuery]) -> mq.Plan:
    """Every expression parsed and checked (kinds, Ids, cycles): AWS refuses a bad
    expression before it reads any data."""
    try:
        return mq.plan(queries)
    except mm.MathError as exc:
        if exc.unsupported:
            raise errors.NotImplemented(str(exc)) from None
        raise errors.ValidationError(str(exc)) from None


def _digest(params: dict[str, Any], start: datetime, end: datetime) -> str:
    """What a page token is bound to: the queries, the time range and the order."""
    return pagination.digest("GetMetricData", repr(params["MetricDataQueries"]),
                             start.isoformat(), end.isoformat(),
                             params.get("ScanBy") or md.DESCENDING)


def _position(ctx: RequestContext, token: str | None, secret: bytes, digest: str) -> int:
    """How many points the pages before returned (0 without a token)."""
    if not token:
        return 0
    try:
        after = pagination.position(secret, token, ctx.project_id, digest)
    except ValueError:
        after = None
    if not isinstance(after, int) or after < 0:
        raise errors.InvalidNextToken("The service couldn't process the NextToken.")
    return after


@action(CLOUDWATCH, "GetMetricData")
def get_metric_data(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    start, end = views.utc(params["StartTime"]), views.utc(params["EndTime"])
    if start >= end:
        raise errors.InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.")
    queries = _queries(ctx, params)
    limit = params.get("MaxDatapoints")
    if limit is not None and limit < 1:
        raise errors.InvalidParameterValue(
            f"The value {limit} for parameter MaxDatapoints is invalid: it must be at "
            "least 1.")
    timezone = (params.get("LabelOptions") or {}).get("Timezone")
    if timezone is not None and not TIMEZONE.fullmatch(timezone):
        raise errors.InvalidParameterValue(
            f"The value {timezone} for parameter LabelOptions.Timezone is invalid: use + or "
            "- and four digits, such as +0130.")
    zone = UTC if timezone is None else mm.parse_timezone(timezone)
    secret = ctx.backends.metrics.token_secret()
    digest = _digest(params, start, end)
    returned = _position(ctx, params.get("NextToken"), secret, digest)
    planned = _plan(queries)

    points = _read(ctx, queries, start, end, now)
    found: dict[str, mq.Result] = {
        q.id: mq.stat_series(q, points[q.id].timestamps, points[q.id].values, now=now,
                             zone=zone)
        for q in queries if q.metric_stat is not None}
    try:
        mq.evaluate(queries, planned, found, start=start, end=end, now=now, zone=zone)
    except mm.MathError as exc:
        raise errors.ValidationError(str(exc)) from None
    results = [md.Result(q.id, series.label, md.Points(series.timestamps, series.values),
                         tuple((m.code, m.value) for m in series.messages))
               for q in queries if q.return_data for series in mq.each(found[q.id])]
    page = md.page(results, params.get("ScanBy") or md.DESCENDING,
                   limit or md.DEFAULT_MAX_DATAPOINTS, returned)
    answer: dict[str, Any] = {"MetricDataResults": [{
        "Id": r.query_id, "Label": r.label, "Timestamps": list(r.timestamps),
        "Values": list(r.values), "StatusCode": r.status,
        "Messages": [{"Code": c, "Value": v} for c, v in r.messages]}
        for r in page.results], "Messages": []}
    if page.returned is not None:
        answer["NextToken"] = pagination.page_token(secret, ctx.project_id, digest,
                                                    page.returned)
    return answer
