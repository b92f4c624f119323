"""The functions of metric math: what each accepts, what it returns, how it computes.

Source: AWS CloudWatch user guide, "Metric math syntax and functions" (the functions table
and "Using IF expressions").  Argument kinds are AWS's: S (scalar), TS (time series),
TS[] (array of time series), String; keyword arguments are listed by name.  A call whose
arguments match none of a function's signatures is refused (``MathError``).

Where AWS's text leaves a choice open, this module decides so (and the tests pin it):

- Aggregates over an array (``SUM``, ``AVG``, ``MIN``, ``MAX``, ``STDDEV`` of ``TS[]``)
  work per timestamp on the union of the series' timestamps, a series missing a point
  counting as 0 (AWS: "Missing values are treated as 0", said of AVG and of arithmetic).
- ``STDDEV`` is the population standard deviation (divides by n).
- Of a series with no points, ``AVG``, ``MIN``, ``MAX`` and ``STDDEV`` are NaN (a series
  built from them has no points), ``SUM`` is 0 and ``DATAPOINT_COUNT`` 0.
- ``DIFF``, ``DIFF_TIME`` and ``RATE`` give nothing at the first point (it has no
  preceding value).
- ``FILL`` fills the points of the series' period grid over the request's range
  (``timegrid``) that the series lacks; ``REPEAT`` and ``LINEAR`` leave points before the
  first value (and for ``LINEAR``, after the last) missing, as there is nothing to repeat
  or interpolate from.  ``FILL(TS, TS)`` is accepted (AWS: "You can specify a metric to use
  as the filler value"; its table lists a series filler only for arrays).
- ``SORT`` keeps the order of the input among equal values and puts series with no points
  last; ``SLICE`` gives a single series (AWS's "TS" return type) when its bounds are
  constants one apart, an array otherwise.  Bounds and limits are whole numbers >= 0.
- ``IF`` follows AWS's per-form tables; with a scalar condition the branches are two series
  (or a series and nothing), or two scalars.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cfn_gateway.domain.metric_math.errors import MathError
from cfn_gateway.domain.metric_math.nodes import (
    Binary,
    Expression,
    Keyword,
    Number,
    String,
    Unary,
)
from cfn_gateway.domain.metric_math.pointwise import (
    OPERATIONS,
    Tally,
    finite_series,
    map_series,
    safe,
)
from cfn_gateway.domain.metric_math.series import Kind, Series, empty_series
from cfn_gateway.domain.metric_math.timegrid import grid, series_grid

Value = float | Series | tuple[Series, ...] | String | Keyword

#: Functions AWS has that this gateway refuses, and why (they need services or models the
#: gateway does not have).
REFUSED = {
    "ANOMALY_DETECTION_BAND": "it needs an anomaly detection model, which this gateway "
                              "does not train",
    "DB_PERF_INSIGHTS": "it reads Amazon RDS Performance Insights, which this gateway "
                        "cannot reach",
    "INSIGHT_RULE_METRIC": "it reads CloudWatch Contributor Insights rules, which this "
                           "gateway does not have",
    "LAMBDA": "it calls an AWS Lambda function as a custom data source, which this "
              "gateway cannot",
    "SEARCH": "this gateway does not evaluate search expressions",
    "SERVICE_QUOTA": "it reads AWS Service Quotas, which this gateway does not have",
}


class Context(Protocol):
    """What functions read from the evaluation besides their arguments."""

    tally: Tally
    period: int  # the request's period (seconds)
    start: datetime  # the request's StartTime (inclusive)
    end: datetime  # the request's EndTime (exclusive)

    def metrics(self, contains: str | None) -> tuple[Series, ...]:
        """The metrics of the request (not expressions), in request order, optionally only
        those whose Id contains ``contains``."""
        ...


Implementation = Callable[[Context, Sequence[Value], Sequence[Expression]], Value]


# --- Signatures -----------------------------------------------------------------------

_KIND_NAMES = {kind.value: kind for kind in Kind if kind is not Kind.KEYWORD}
_KIND_ORDER = (Kind.SCALAR, Kind.SERIES, Kind.ARRAY, Kind.STRING)


@dataclass(frozen=True)
class Param:
    """One argument: the kinds it takes, or the keywords (``REPEAT``...)."""

    kinds: frozenset[Kind]
    keywords: frozenset[str] = frozenset()

    def accepts(self, kind: Kind, keyword: str | None) -> bool:
        if kind is Kind.KEYWORD:
            return keyword in self.keywords
        return kind in self.kinds

    def describe(self) -> str:
        names = [kind.value for kind in _KIND_ORDER if kind in self.kinds]
        return "|".join(names + sorted(self.keywords))


@dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...]
    result: Kind

    def describe(self) -> str:
        return "(" + ", ".join(param.describe() for param in self.params) + ")"


def _param(spec: str) -> Param:
    kinds, keywords = set(), set()
    for name in spec.split("|"):
        if name in _KIND_NAMES:
            kinds.add(_KIND_NAMES[name])
        else:
            keywords.add(name)
    return Param(frozenset(kinds), frozenset(keywords))


def _sig(text: str) -> Signature:
    """``"TS[], AVG|MAX, S -> TS"``."""
    params, result = text.split("->")
    return Signature(tuple(_param(p.strip()) for p in params.split(",") if p.strip()),
                     _KIND_NAMES[result.strip()])


@dataclass(frozen=True)
class Function:
    name: str
    signatures: tuple[Signature, ...]
    implement: Implementation
    #: Adjusts the result kind from the argument nodes (SLICE).
    refine: Callable[[Sequence[Expression], Kind], Kind] | None = None

    def result_kind(self, kinds: Sequence[Kind], args: Sequence[Expression],
                    keywords: Sequence[str | None], position: int | None = None) -> Kind:
        """The kind of the call's result; MathError (at ``position``) if no signature
        fits."""
        for signature in self.signatures:
            if len(signature.params) == len(kinds) and all(
                    param.accepts(kind, keyword)
                    for param, kind, keyword in zip(signature.params, kinds, keywords,
                                                    strict=True)):
                result = signature.result
                return self.refine(args, result) if self.refine else result
        got = ", ".join(keyword if kind is Kind.KEYWORD and keyword else kind.value
                        for kind, keyword in zip(kinds, keywords, strict=True))
        accepted = " or ".join(s.describe() for s in self.signatures)
        raise MathError(f"{self.name} does not accept ({got}); it accepts {accepted}",
                        position=position)


# --- Helpers --------------------------------------------------------------------------


def constant_value(node: Expression) -> float | None:
    """The value of ``node`` if it is made of numbers only (``-1``, ``2*3``), else None."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Unary) and node.op == "-":
        value = constant_value(node.operand)
        return None if value is None else -value
    if isinstance(node, Binary) and node.op in OPERATIONS:
        left, right = constant_value(node.left), constant_value(node.right)
        if left is None or right is None:
            return None
        return OPERATIONS[node.op](left, right)
    return None


def _whole(value: float, function: str, what: str) -> int:
    if not (math.isfinite(value) and value.is_integer() and value >= 0):
        raise MathError(f"the {what} of {function} must be a whole number of 0 or more, "
                        f"not {value:g}", per_result=True)
    return int(value)


def _grid(series: Series, context: Context) -> list[datetime]:
    try:
        return series_grid(series, context.period, context.start, context.end)
    except ValueError as error:
        raise MathError(str(error), per_result=True) from None


def _each(function: Callable[[Series, Context], Series]) -> Implementation:
    """An implementation applying ``function`` to a series, or to each of an array."""
    def implement(context: Context, args: Sequence[Value], nodes: Sequence[Expression],
                  ) -> Value:
        value = args[0]
        if isinstance(value, tuple):
            return tuple(function(series, context) for series in value)
        assert isinstance(value, Series)
        return function(value, context)
    return implement


def _pointwise(function: Callable[[float], float]) -> Implementation:
    return _each(lambda series, context: map_series(series, function, context.tally))


def _pairs(series: Series) -> Iterator[tuple[tuple[datetime, float], tuple[datetime, float]]]:
    """(previous, current) timestamp/value pairs of consecutive points."""
    return itertools.pairwise(zip(series.timestamps, series.values, strict=True))


# --- Statistics -----------------------------------------------------------------------


def statistic(name: str, values: Sequence[float]) -> float:
    """``SUM``, ``AVG``, ``MIN``, ``MAX`` or ``STDDEV`` of ``values``."""
    if name == "SUM":
        return math.fsum(values)
    if not values:
        return math.nan
    if name == "AVG":
        return math.fsum(values) / len(values)
    if name == "MIN":
        return min(values)
    if name == "MAX":
        return max(values)
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def _across(array: tuple[Series, ...], reduce: Callable[[list[float]], float],
            context: Context, missing: float | None = 0.0) -> Series:
    """One series from an array, ``reduce`` applied per timestamp of the union; a series
    lacking a point gives ``missing`` there (None: it is left out)."""
    period = array[0].period if array else context.period
    points = [series.points() for series in array]
    timestamps = sorted(set().union(*points)) if points else []
    out = []
    for timestamp in timestamps:
        if missing is None:
            values = [p[timestamp] for p in points if timestamp in p]
        else:
            values = [p.get(timestamp, missing) for p in points]
        out.append((timestamp, reduce(values)))
    return finite_series(empty_series(period), out, context.tally)


def _aggregate(name: str) -> Implementation:
    def implement(context: Context, args: Sequence[Value], nodes: Sequence[Expression],
                  ) -> Value:
        value = args[0]
        if isinstance(value, Series):
            return statistic(name, value.values)
        assert isinstance(value, tuple)
        return _across(value, lambda values: statistic(name, values), context)
    return implement


def _datapoint_count(context: Context, args: Sequence[Value], nodes: Sequence[Expression],
                     ) -> Value:
    value = args[0]
    if isinstance(value, Series):
        return float(len(value.values))
    assert isinstance(value, tuple)
    return _across(value, lambda values: float(len(values)), context, missing=None)


# --- Per series -----------------------------------------------------------------------


def _diff(series: Series, context: Context) -> Series:
    return finite_series(series, ((t, v - pv) for (_, pv), (t, v) in _pairs(series)),
                         context.tally)


def _diff_time(series: Series, context: Context) -> Series:
    return series.with_points(((t, (t - pt).total_seconds()) for (pt, _), (t, _v)
                               in _pairs(series)))


def _rate(series: Series, context: Context) -> Series:
    return finite_series(series, ((t, (v - pv) / (t - pt).total_seconds())
                                  for (pt, pv), (t, v) in _pairs(series)), context.tally)


def _running_sum(series: Series, context: Context) -> Series:
    total, out = 0.0, []
    for timestamp, value in zip(series.timestamps, series.values, strict=True):
        total += value
        out.append((timestamp, total))
    return finite_series(series, out, context.tally)


def _fill(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    target, filler = args[0], args[1]
    if isinstance(target, tuple):
        return tuple(_fill_one(series, filler, context) for series in target)
    assert isinstance(target, Series)
    return _fill_one(target, filler, context)


def _fill_one(series: Series, filler: Value, context: Context) -> Series:
    have = series.points()
    missing = [t for t in _grid(series, context) if t not in have]
    times, values = series.timestamps, series.values
    added: list[tuple[datetime, float]] = []
    if isinstance(filler, float):
        if math.isfinite(filler):
            added = [(t, filler) for t in missing]
        elif missing:
            context.tally.dropped = True
    elif isinstance(filler, Series):
        other = filler.points()
        added = [(t, other[t]) for t in missing if t in other]
    elif isinstance(filler, Keyword) and filler.name == "REPEAT":
        for t in missing:
            before = bisect.bisect_left(times, t)
            if before:
                added.append((t, values[before - 1]))
    else:  # LINEAR
        for t in missing:
            after = bisect.bisect_left(times, t)
            if 0 < after < len(times):
                t0, t1 = times[after - 1], times[after]
                v0, v1 = values[after - 1], values[after]
                added.append((t, v0 + (v1 - v0) * ((t - t0) / (t1 - t0))))
    return series.with_points([*have.items(), *added])


def _time_function(part: Callable[[datetime], float]) -> Implementation:
    def one(series: Series, context: Context) -> Series:
        return series.with_points((t, part(t.astimezone(UTC))) for t in _grid(series, context))
    return _each(one)


# --- Arrays ---------------------------------------------------------------------------


def _first(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    array = args[0]
    assert isinstance(array, tuple)
    return array[0] if array else empty_series(context.period)


def _last(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    array = args[0]
    assert isinstance(array, tuple)
    return array[-1] if array else empty_series(context.period)


def _metric_count(context: Context, args: Sequence[Value], nodes: Sequence[Expression],
                  ) -> Value:
    array = args[0]
    assert isinstance(array, tuple)
    return float(len(array))


def _metrics(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    contains = args[0].value if args and isinstance(args[0], String) else None
    return context.metrics(contains)


def _remove_empty(context: Context, args: Sequence[Value], nodes: Sequence[Expression],
                  ) -> Value:
    array = args[0]
    assert isinstance(array, tuple)
    return tuple(series for series in array if series.timestamps)


def _slice_is_single(nodes: Sequence[Expression]) -> bool:
    if len(nodes) != 3:
        return False
    start, end = constant_value(nodes[1]), constant_value(nodes[2])
    return start is not None and end is not None and end - start == 1


def _slice_kind(nodes: Sequence[Expression], kind: Kind) -> Kind:
    return Kind.SERIES if _slice_is_single(nodes) else kind


def _slice(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    array, start = args[0], args[1]
    assert isinstance(array, tuple) and isinstance(start, float)
    first = _whole(start, "SLICE", "start")
    last = None
    if len(args) == 3:
        end = args[2]
        assert isinstance(end, float)
        last = _whole(end, "SLICE", "end")
    part = array[first:last]
    if _slice_is_single(nodes):
        return part[0] if part else empty_series(context.period)
    return part


def _sort(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    array, by, order = args[0], args[1], args[2]
    assert isinstance(array, tuple) and isinstance(by, Keyword) and isinstance(order, Keyword)
    keyed = [(statistic(by.name, series.values), series) for series in array]
    present = [item for item in keyed if not math.isnan(item[0])]
    present.sort(key=lambda item: item[0], reverse=order.name == "DESC")
    result = tuple(series for _, series in present) + tuple(
        series for value, series in keyed if math.isnan(value))
    if len(args) == 4:
        limit = args[3]
        assert isinstance(limit, float)
        result = result[:_whole(limit, "SORT", "limit")]
    return result


# --- IF, PERIOD, TIME_SERIES ----------------------------------------------------------


def _if(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    condition, when_true = args[0], args[1]
    when_false = args[2] if len(args) == 3 else None
    if isinstance(condition, float):
        if math.isnan(condition):
            context.tally.dropped = True
            chosen = None
        else:
            chosen = when_true if condition != 0.0 else when_false
        if chosen is None:
            period = when_true.period if isinstance(when_true, Series) else context.period
            return empty_series(period)
        return chosen
    assert isinstance(condition, Series)
    true_points = when_true.points() if isinstance(when_true, Series) else None
    false_points = when_false.points() if isinstance(when_false, Series) else None
    out: list[tuple[datetime, float]] = []
    for timestamp, value in zip(condition.timestamps, condition.values, strict=True):
        if value != 0.0:
            if true_points is not None:
                out.append((timestamp, true_points.get(timestamp, 0.0)))
            else:
                assert isinstance(when_true, float)
                out.append((timestamp, when_true))
        elif false_points is not None:
            if timestamp in false_points:
                out.append((timestamp, false_points[timestamp]))
            elif true_points is not None:  # IF(TS, TS, TS): 0; IF(TS, S, TS): dropped
                out.append((timestamp, 0.0))
        elif isinstance(when_false, float):
            out.append((timestamp, when_false))
    return finite_series(condition, out, context.tally)


def _period(context: Context, args: Sequence[Value], nodes: Sequence[Expression]) -> Value:
    series = args[0]
    assert isinstance(series, Series)
    return float(series.period)


def _time_series(context: Context, args: Sequence[Value], nodes: Sequence[Expression],
                 ) -> Value:
    value = args[0]
    assert isinstance(value, float)
    try:
        times = grid(context.start, context.period, context.start, context.end)
    except ValueError as error:
        raise MathError(str(error), per_result=True) from None
    like = empty_series(context.period)
    return finite_series(like, ((t, value) for t in times), context.tally)


# --- The catalogue --------------------------------------------------------------------

_ELEMENTWISE = ("TS -> TS", "TS[] -> TS[]")
_AGGREGATE = ("TS -> S", "TS[] -> TS")
_FILLER = "S|TS|REPEAT|LINEAR"
_SORT_BY = "AVG|MAX|MIN|SUM"


def _function(name: str, signatures: Sequence[str], implement: Implementation,
              refine: Callable[[Sequence[Expression], Kind], Kind] | None = None,
              ) -> tuple[str, Function]:
    return name, Function(name, tuple(_sig(s) for s in signatures), implement, refine)


FUNCTIONS: dict[str, Function] = dict([
    _function("ABS", _ELEMENTWISE, _pointwise(abs)),
    _function("AVG", _AGGREGATE, _aggregate("AVG")),
    _function("CEIL", _ELEMENTWISE, _pointwise(safe(math.ceil))),
    _function("DATAPOINT_COUNT", _AGGREGATE, _datapoint_count),
    _function("DIFF", _ELEMENTWISE, _each(_diff)),
    _function("DIFF_TIME", _ELEMENTWISE, _each(_diff_time)),
    _function("FILL", (f"TS, {_FILLER} -> TS", f"TS[], {_FILLER} -> TS[]"), _fill),
    _function("FIRST", ("TS[] -> TS",), _first),
    _function("FLOOR", _ELEMENTWISE, _pointwise(safe(math.floor))),
    _function("IF", ("S, TS -> TS", "S, TS, TS -> TS", "S, S, S -> S", "TS, S|TS -> TS",
                     "TS, S|TS, S|TS -> TS"), _if),
    _function("LAST", ("TS[] -> TS",), _last),
    _function("LOG", _ELEMENTWISE, _pointwise(safe(math.log))),
    _function("LOG10", _ELEMENTWISE, _pointwise(safe(math.log10))),
    _function("MAX", _AGGREGATE, _aggregate("MAX")),
    _function("METRIC_COUNT", ("TS[] -> S",), _metric_count),
    _function("METRICS", (" -> TS[]", "String -> TS[]"), _metrics),
    _function("MIN", _AGGREGATE, _aggregate("MIN")),
    _function("MINUTE", ("TS -> TS",), _time_function(lambda t: float(t.minute))),
    _function("HOUR", ("TS -> TS",), _time_function(lambda t: float(t.hour))),
    _function("DAY", ("TS -> TS",), _time_function(lambda t: float(t.isoweekday()))),
    _function("DATE", ("TS -> TS",), _time_function(lambda t: float(t.day))),
    _function("MONTH", ("TS -> TS",), _time_function(lambda t: float(t.month))),
    _function("YEAR", ("TS -> TS",), _time_function(lambda t: float(t.year))),
    _function("EPOCH", ("TS -> TS",), _time_function(lambda t: float(int(t.timestamp())))),
    _function("PERIOD", ("TS -> S",), _period),
    _function("RATE", _ELEMENTWISE, _each(_rate)),
    _function("REMOVE_EMPTY", ("TS[] -> TS[]",), _remove_empty),
    _function("RUNNING_SUM", _ELEMENTWISE, _each(_running_sum)),
    _function("SLICE", ("TS[], S -> TS[]", "TS[], S, S -> TS[]"), _slice, _slice_kind),
    _function("SORT", (f"TS[], {_SORT_BY}, ASC|DESC -> TS[]",
                       f"TS[], {_SORT_BY}, ASC|DESC, S -> TS[]"), _sort),
    _function("STDDEV", _AGGREGATE, _aggregate("STDDEV")),
    _function("SUM", _AGGREGATE, _aggregate("SUM")),
    _function("TIME_SERIES", ("S -> TS",), _time_series),
])

#: The bare words functions take as arguments.
KEYWORDS = frozenset(keyword for function in FUNCTIONS.values()
                     for signature in function.signatures
                     for param in signature.params for keyword in param.keywords)
