"""GetMetricData: MetricStat queries and metric math expressions over them.

The request is checked whole before any data is read (AWS answers bad input without
partial results): StartTime before EndTime, 1 to 500 queries, unique Ids (a lower-case
letter, then letters, digits and underscores), each query either a MetricStat or an
Expression, at least one with ReturnData, valid periods and statistics, every expression
parsed (``domain.metric_math``) and naming only Ids of the request, without cycles.  Then
every MetricStat is read (``MetricStore.aggregate_many``: concurrently where the store
calls a service), the expressions are evaluated in dependency order, and the results with
ReturnData are paged (``domain.metric_data``).  Metrics Insights queries (``SELECT ...``)
and cross-account reads (``AccountId`` of another account) are refused with a clear error.

AWS's texts where AWS documents them (StartTime/EndTime, Period, as GetMetricStatistics);
the other messages are the gateway's, in AWS's style (docs/compatibility.md M-rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
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
from cfn_gateway.domain import pagination, periods
from cfn_gateway.domain.metrics import MetricKey

QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*")
TIMEZONE = re.compile(r"[+-]([01]\d|2[0-3])[0-5]\d")
_INSIGHTS = re.compile(r"\s*SELECT\s", re.IGNORECASE)


@dataclass(frozen=True)
class StatQuery:
    key: MetricKey
    period: int
    stat: str
    unit: str | None


@dataclass(frozen=True)
class Query:
    query_id: str
    label: str | None
    return_data: bool
    stat: StatQuery | None = None
    expression: str | None = None
    period: int | None = None


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


def _query(ctx: RequestContext, item: dict[str, Any], n: int) -> Query:
    query_id = item["Id"]
    if not QUERY_ID.fullmatch(query_id):
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
    common = {"query_id": query_id, "label": item.get("Label"),
              "return_data": item.get("ReturnData", True)}
    if expression is not None:
        if _INSIGHTS.match(expression):
            raise errors.NotImplemented(
                "Metrics Insights queries (SELECT ...) are not implemented by this gateway; "
                "use MetricStat queries and metric math.")
        period = item.get("Period")
        return Query(**common, expression=expression,
                     period=None if period is None else _period(period, _member(n, "Period")))
    metric = stat["Metric"]
    if not metric.get("Namespace") or not metric.get("MetricName"):
        raise errors.ValidationError(
            f"{_member(n, 'MetricStat.Metric')} needs a Namespace and a MetricName.")
    key = MetricKey.of(metric["Namespace"], metric["MetricName"],
                       views.dimensions_from_aws(metric.get("Dimensions")))
    return Query(**common, stat=StatQuery(
        key, _period(stat["Period"], _member(n, "MetricStat.Period")),
        _stat(stat["Stat"], _member(n, "MetricStat.Stat")), stat.get("Unit")))


def _queries(ctx: RequestContext, params: dict[str, Any]) -> list[Query]:
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
        if query.query_id in seen:
            raise errors.ValidationError(
                f"The Id {query.query_id} is used by more than one query of "
                "MetricDataQueries: Ids must be unique.")
        seen.add(query.query_id)
    if not any(q.return_data for q in queries):
        raise errors.ValidationError(
            "At least one query of MetricDataQueries must have ReturnData set to true.")
    return queries


def _read(ctx: RequestContext, queries: list[Query], start: datetime, end: datetime,
          now: datetime) -> dict[str, md.Points]:
    """The points of every MetricStat query, by Id."""
    stats = [q.stat for q in queries if q.stat is not None]
    readable = [s for s in stats if not dims.has_duplicate_names(s.key.dimensions)
                and periods.period_serves_start(s.period, start, now)]
    sets = [s for s in readable if s.stat in md.SET_STATISTICS]
    extended = [s for s in readable if s.stat not in md.SET_STATISTICS]
    metrics = ctx.backends.metrics
    found: dict[StatQuery, md.Points] = {}
    for stat, buckets in zip(sets, metrics.aggregate_many(
            ctx.project_id, [_request(s, start, end, now) for s in sets]), strict=True):
        found[stat] = md.statistic_points(buckets, stat.stat)
    if extended:
        for stat, samples in zip(extended, metrics.samples(
                ctx.project_id, [_request(s, start, end, now) for s in extended]),
                strict=True):
            parsed = xs.parse(stat.stat)
            assert parsed is not None
            found[stat] = md.extended_points(samples, parsed)
    return {q.query_id: found.get(q.stat, md.Points()) for q in queries
            if q.stat is not None}


def _request(stat: StatQuery, start: datetime, end: datetime,
             now: datetime) -> AggregateRequest:
    return AggregateRequest(stat.key, periods.align_start(start, stat.period, now), end,
                            stat.period, stat.unit)


def _expressions(queries: list[Query]) -> tuple[dict[str, mm.Expression], list[str]]:
    """Every expression parsed and checked (kinds, Ids, cycles), and the order to evaluate
    them in: AWS refuses a bad expression before it reads any data."""
    parsed: dict[str, mm.Expression] = {}
    metric_kinds = {q.query_id: mm.Kind.SERIES for q in queries if q.stat is not None}
    try:
        for query in queries:
            if query.expression is not None:
                parsed[query.query_id] = mm.parse(query.expression, query_id=query.query_id)
        mm.check_queries(parsed, metric_kinds)
        return parsed, mm.evaluation_order(parsed, metric_kinds.keys())
    except mm.MathError as exc:
        if exc.unsupported:
            raise errors.NotImplemented(str(exc)) from None
        raise errors.ValidationError(str(exc)) from None


def _each(result: mm.Series | tuple[mm.Series, ...]) -> tuple[mm.Series, ...]:
    """An expression's result as series: one, or each of an array (each is a result of
    its own, under the query's Id)."""
    return (result,) if isinstance(result, mm.Series) else result


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


def _metric_series(queries: list[Query], points: dict[str, md.Points], now: datetime,
                   zone: tzinfo) -> dict[str, mm.Series | tuple[mm.Series, ...]]:
    """The MetricStat results as series, labelled (the metric's name by default)."""
    found: dict[str, mm.Series | tuple[mm.Series, ...]] = {}
    for query in queries:
        if query.stat is None:
            continue
        name = query.stat.key.name
        series = mm.Series(name, points[query.query_id].timestamps,
                           points[query.query_id].values, query.stat.period, query.query_id)
        if query.label:
            series = replace(series, label=mm.render_label(
                query.label, series, default_label=name, now=now, zone=zone))
        found[query.query_id] = series
    return found


def _evaluate(queries: list[Query], parsed: dict[str, mm.Expression], order: list[str],
              found: dict[str, mm.Series | tuple[mm.Series, ...]], start: datetime,
              end: datetime, now: datetime, zone: tzinfo) -> None:
    """Evaluate the expressions in ``order`` into ``found``; an error found only on the
    data is that result's message, the others fail the request."""
    metric_ids = [q.query_id for q in queries if q.stat is not None]
    by_id = {q.query_id: q for q in queries}
    default_period = min((q.stat.period for q in queries if q.stat is not None), default=60)
    for query_id in order:
        query = by_id[query_id]
        period = query.period or default_period
        try:
            found[query_id] = mm.evaluate(
                parsed[query_id], found, period=period,
                start=periods.align_start(start, period, now), end=end, query_id=query_id,
                label=query.label, metric_ids=metric_ids, now=now, zone=zone)
        except mm.MathError as exc:
            if not exc.per_result:
                raise errors.ValidationError(str(exc)) from None
            found[query_id] = mm.Series(query.label or query_id, (), (), period, query_id,
                                        (mm.MessageData(exc.code, str(exc)),))


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
    parsed, order = _expressions(queries)

    found = _metric_series(queries, _read(ctx, queries, start, end, now), now, zone)
    _evaluate(queries, parsed, order, found, start, end, now, zone)
    results = [md.Result(q.query_id, series.label,
                         md.Points(series.timestamps, series.values),
                         tuple((m.code, m.value) for m in series.messages))
               for q in queries if q.return_data for series in _each(found[q.query_id])]
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
