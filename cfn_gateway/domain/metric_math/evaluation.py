"""Check and evaluate metric math expressions over the series of a GetMetricData request.

Order of work for a request (what GetMetricData does with these functions):

1. ``parse`` every expression (syntax and names);
2. ``check_queries``: the order to evaluate expressions in (an expression may use the
   results of others; unknown Ids and circular references are refused) and the kind of
   each result, refusing operands that do not fit an operator or a function and results
   that are not a time series or an array of them (user guide: "The final result of any
   math expression must be a single time series or an array of time series");
3. fetch the metrics, then ``evaluate`` the expressions in that order, each seeing the
   metrics' series and the results of the expressions before it.

Errors of steps 1 and 2 are ``MathError(per_result=False)`` (the request fails); an error
found only while evaluating is ``per_result=True`` (the caller reports it on the query's
result).  A result that dropped non-numeric points carries ``ARITHMETIC_ERROR`` (and a
result carries no other message: not those of the results it was computed from).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo

from cfn_gateway.domain.metric_math.errors import MathError
from cfn_gateway.domain.metric_math.functions import FUNCTIONS, Value
from cfn_gateway.domain.metric_math.labels import label_result
from cfn_gateway.domain.metric_math.nodes import (
    ArrayLiteral,
    Binary,
    Call,
    Expression,
    Keyword,
    Number,
    Reference,
    String,
    Unary,
    fold,
    walk,
)
from cfn_gateway.domain.metric_math.pointwise import Tally, apply_binary, apply_unary, kind_of
from cfn_gateway.domain.metric_math.series import ARITHMETIC_ERROR, Kind, MessageData, Series

_NUMERIC = (Kind.SCALAR, Kind.SERIES, Kind.ARRAY)
_SERIES = (Kind.SERIES, Kind.ARRAY)


# --- Kind rules shared by checking and evaluation --------------------------------------


def _describe(kind: Kind, node: Expression) -> str:
    return node.name if isinstance(node, Keyword) else kind.value


def unary_kind(node: Unary, operand: Kind) -> Kind:
    if operand not in _NUMERIC:
        raise MathError(f"the operator {node.op} does not accept "
                        f"({_describe(operand, node.operand)})", position=node.position)
    return operand


def binary_kind(node: Binary, left: Kind, right: Kind) -> Kind:
    """AWS lists S,S  S,TS  TS,TS  S,TS[]  TS,TS[] (either way round); not TS[],TS[]."""
    if left not in _NUMERIC or right not in _NUMERIC or left is right is Kind.ARRAY:
        raise MathError(f"the operator {node.op} does not accept "
                        f"({_describe(left, node.left)}, {_describe(right, node.right)})",
                        position=node.position)
    for kind in (Kind.ARRAY, Kind.SERIES):
        if kind in (left, right):
            return kind
    return Kind.SCALAR


def array_kind(node: ArrayLiteral, items: Sequence[Kind]) -> Kind:
    for item, kind in zip(node.items, items, strict=True):
        if kind not in _SERIES:
            raise MathError(f"an array lists time series (TS or TS[]), not "
                            f"{_describe(kind, item)}", position=item.position)
    return Kind.ARRAY


def call_kind(node: Call, args: Sequence[Kind], metric_ids: Collection[str] | None) -> Kind:
    keywords = [arg.name if isinstance(arg, Keyword) else None for arg in node.args]
    kind = FUNCTIONS[node.name].result_kind(args, node.args, keywords, node.position)
    if node.name == "PERIOD":
        arg = node.args[0]
        if not isinstance(arg, Reference) or (metric_ids is not None
                                              and arg.id not in metric_ids):
            raise MathError("PERIOD takes the Id of a metric, not an expression or its "
                            "result", position=arg.position)
    return kind


def result_kind(kind: Kind) -> Kind:
    if kind not in _SERIES:
        raise MathError("the result of an expression must be a time series or an array of "
                        f"time series, not {'a scalar' if kind is Kind.SCALAR else kind.value}")
    return kind


# --- Checking -------------------------------------------------------------------------


def check(expr: Expression, kinds: Mapping[str, Kind], *,
          metric_ids: Collection[str] | None = None, query_id: str = "") -> Kind:
    """The kind of ``expr``'s result (TS or TS[]), given the kinds of the queries it may
    name; MathError if it names an unknown query or mixes kinds AWS refuses.

    ``metric_ids``: the Ids of the request's metrics (PERIOD accepts only those).
    """
    try:
        return result_kind(_kind(expr, kinds, metric_ids))
    except MathError as error:
        raise error.for_query(query_id) from None


def _kind(expr: Expression, kinds: Mapping[str, Kind],
          metric_ids: Collection[str] | None) -> Kind:
    def combine(node: Expression, below: Sequence[Kind]) -> Kind:
        if isinstance(node, Number):
            return Kind.SCALAR
        if isinstance(node, String):
            return Kind.STRING
        if isinstance(node, Keyword):
            return Kind.KEYWORD
        if isinstance(node, Reference):
            if node.id not in kinds:
                raise _unknown(node)
            return kinds[node.id]
        if isinstance(node, ArrayLiteral):
            return array_kind(node, below)
        if isinstance(node, Unary):
            return unary_kind(node, below[0])
        if isinstance(node, Binary):
            return binary_kind(node, below[0], below[1])
        assert isinstance(node, Call)
        return call_kind(node, below, metric_ids)
    return fold(expr, combine)


def _unknown(node: Reference) -> MathError:
    return MathError(f"unknown metric or expression id '{node.id}'", position=node.position)


def evaluation_order(expressions: Mapping[str, Expression],
                     metric_ids: Collection[str]) -> list[str]:
    """The Ids of ``expressions`` in an order where each comes after every expression it
    names; MathError for an Id that is neither a metric nor an expression, and for an
    expression that depends on itself."""
    order: list[str] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(query_id: str) -> None:
        if query_id in done:
            return
        if query_id in path:
            cycle = " -> ".join([*path[path.index(query_id):], query_id])
            raise MathError(f"circular reference {cycle}", query_id=query_id)
        path.append(query_id)
        for node in walk(expressions[query_id]):
            if not isinstance(node, Reference) or node.id in metric_ids:
                continue
            if node.id not in expressions:
                raise _unknown(node).for_query(query_id)
            visit(node.id)
        path.pop()
        done.add(query_id)
        order.append(query_id)

    for query_id in expressions:
        visit(query_id)
    return order


def check_queries(expressions: Mapping[str, Expression],
                  metric_kinds: Mapping[str, Kind]) -> dict[str, Kind]:
    """The kind of every query of a request: ``metric_kinds`` gives the metrics' (TS; TS[]
    for a Metrics Insights query with GROUP BY), the expressions' are worked out in
    ``evaluation_order``.  MathError for the first expression AWS would refuse."""
    kinds = dict(metric_kinds)
    for query_id in evaluation_order(expressions, metric_kinds.keys()):
        kinds[query_id] = check(expressions[query_id], kinds,
                                metric_ids=metric_kinds.keys(), query_id=query_id)
    return kinds


# --- Evaluation -----------------------------------------------------------------------


def evaluate(expr: Expression, env: Mapping[str, Series | tuple[Series, ...]], *,
             period: int, start: datetime, end: datetime, query_id: str,
             label: str | None = None, metric_ids: Sequence[str] | None = None,
             now: datetime | None = None, zone: tzinfo = UTC,
             ) -> Series | tuple[Series, ...]:
    """The result of ``expr`` over ``env``, labelled as GetMetricData returns it.

    - ``env``: query Id -> result, for the request's metrics and the expressions already
      evaluated;
    - ``period``, ``start``, ``end``: the request's period and range (``end`` exclusive),
      for TIME_SERIES, FILL and the time functions;
    - ``label``: the query's Label (dynamic placeholders are filled in, with ``now`` and
      ``zone`` for the time-based ones); see ``labels``;
    - ``metric_ids``: the Ids of the request's metrics in request order, what
      ``METRICS()`` returns (default: every ``env`` entry that is a single series).
    """
    evaluation = _Evaluation(env, period, start, end, metric_ids)
    try:
        value = evaluation.value(expr)
        kind = result_kind(kind_of(value))
    except MathError as error:
        raise error.at_evaluation().for_query(query_id) from None
    assert isinstance(value, (Series, tuple)) and kind in _SERIES
    result = label_result(value, query_id=query_id, label=label, now=now, zone=zone)
    return _with_messages(result, (ARITHMETIC_ERROR,) if evaluation.tally.dropped else ())


def _with_messages(result: Series | tuple[Series, ...], messages: tuple[MessageData, ...],
                   ) -> Series | tuple[Series, ...]:
    """The result carrying exactly the messages of this evaluation (not those of the
    results it was computed from)."""
    def mark(series: Series) -> Series:
        return series if series.messages == messages else replace(series, messages=messages)
    return mark(result) if isinstance(result, Series) else tuple(map(mark, result))


class _Evaluation:
    """One expression being evaluated: its inputs and what it noticed (the ``Context``
    of ``functions``)."""

    def __init__(self, env: Mapping[str, Series | tuple[Series, ...]], period: int,
                 start: datetime, end: datetime, metric_ids: Sequence[str] | None) -> None:
        self.env = env
        self.period = period
        self.start = start
        self.end = end
        self.metric_ids = metric_ids
        self.tally = Tally()

    def metrics(self, contains: str | None) -> tuple[Series, ...]:
        ids = self.metric_ids
        if ids is None:
            ids = [key for key, value in self.env.items() if isinstance(value, Series)]
        found: list[Series] = []
        for metric_id in ids:
            if contains is not None and contains not in metric_id:
                continue
            value = self.env.get(metric_id)
            if isinstance(value, Series):
                found.append(value if value.id else replace(value, id=metric_id))
            elif value is not None:
                found.extend(value)
        return tuple(found)

    def value(self, expr: Expression) -> Value:
        return fold(expr, self._combine)

    def _combine(self, node: Expression, below: Sequence[Value]) -> Value:
        """The value of ``node`` from the values of its children."""
        if isinstance(node, Number):
            return node.value
        if isinstance(node, (String, Keyword)):
            return node
        if isinstance(node, Reference):
            if node.id not in self.env:
                raise _unknown(node)
            return self.env[node.id]
        kinds = [kind_of(value) for value in below]
        if isinstance(node, ArrayLiteral):
            array_kind(node, kinds)
            flat: list[Series] = []
            for item in below:
                flat.extend(item if isinstance(item, tuple) else (item,))
            return tuple(flat)
        if isinstance(node, Unary):
            unary_kind(node, kinds[0])
            return apply_unary(node.op, below[0], self.tally)
        if isinstance(node, Binary):
            binary_kind(node, kinds[0], kinds[1])
            return apply_binary(node.op, below[0], below[1], self.tally)
        assert isinstance(node, Call)
        call_kind(node, kinds, self.metric_ids)
        return FUNCTIONS[node.name].implement(self, below, node.args)
