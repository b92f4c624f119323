"""Point-by-point arithmetic on scalars, series and arrays, as metric math does it.

AWS user guide, "Basic arithmetic functions": "Missing values in a time series are
treated as 0.  If the value of a data point causes a function to attempt to divide by
zero, the data point is dropped."  "Comparison and logical operators": between two time
series, "if only one of the time series has a value for a particular time stamp, the
function treats the missing value in the other time series as 0"; comparisons give 1
(true) or 0 (false); a value is true when it is not 0.

So two series combine on the union of their timestamps (a missing point counts as 0); a
series and a scalar combine at each point of the series; an array combines element by
element.  Any point whose result is not a finite number (division by zero, ``0^-1``,
``LOG`` of 0 or of a negative number, overflow) is dropped and noted in a ``Tally`` so
the result carries ``ARITHMETIC_ERROR``.  Scalar results may be NaN or infinite (they are
no data points); a series computed from such a scalar drops the points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime

from cfn_gateway.domain.metric_math.nodes import Keyword
from cfn_gateway.domain.metric_math.series import Kind, Series

Operation = Callable[[float, float], float]


class Tally:
    """What an evaluation notices on the way: whether it dropped non-numeric points."""

    def __init__(self) -> None:
        self.dropped = False


def kind_of(value: object) -> Kind:
    if isinstance(value, Series):
        return Kind.SERIES
    if isinstance(value, tuple):
        return Kind.ARRAY
    if isinstance(value, float):
        return Kind.SCALAR
    return Kind.KEYWORD if isinstance(value, Keyword) else Kind.STRING


# --- Scalar operations: never raise, give NaN or an infinity instead --------------------


def _divide(a: float, b: float) -> float:
    if b == 0.0:
        return math.nan
    try:
        return a / b
    except OverflowError:  # pragma: no cover - float division overflows to inf, not raise
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (ValueError, ZeroDivisionError):
        return math.nan
    except OverflowError:
        return math.inf


def _truth(value: float) -> bool:
    return value != 0.0


OPERATIONS: dict[str, Operation] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "^": _power,
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "AND": lambda a, b: float(_truth(a) and _truth(b)),
    "OR": lambda a, b: float(_truth(a) or _truth(b)),
}

UNARY_OPERATIONS: dict[str, Callable[[float], float]] = {
    "-": lambda a: -a,
    "NOT": lambda a: float(not _truth(a)),
}


def safe(function: Callable[[float], float]) -> Callable[[float], float]:
    """``function`` giving NaN where it would raise (``math.log(0)``, overflow)."""
    def call(value: float) -> float:
        try:
            return float(function(value))
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.nan
    return call


# --- Building series that hold only finite values --------------------------------------


def finite_series(like: Series, points: Iterable[tuple[datetime, float]], tally: Tally,
                  ) -> Series:
    """``like`` (label, id, period) with the finite ``points``; others dropped, noted."""
    kept = []
    for timestamp, value in points:
        if math.isfinite(value):
            kept.append((timestamp, value))
        else:
            tally.dropped = True
    return like.with_points(kept)


def map_series(series: Series, function: Callable[[float], float], tally: Tally) -> Series:
    return finite_series(series, ((t, function(v)) for t, v in
                                  zip(series.timestamps, series.values, strict=True)), tally)


def combine_series(left: Series, right: Series, operation: Operation, tally: Tally,
                   ) -> Series:
    """Two series on the union of their timestamps, a missing point counting as 0; the
    result is named after ``left``."""
    a, b = left.points(), right.points()
    timestamps = sorted(a.keys() | b.keys())
    return finite_series(left, ((t, operation(a.get(t, 0.0), b.get(t, 0.0)))
                                for t in timestamps), tally)


# --- Operators over any operands -------------------------------------------------------


def apply_unary(op: str, value: float | Series | tuple[Series, ...], tally: Tally,
                ) -> float | Series | tuple[Series, ...]:
    function = UNARY_OPERATIONS[op]
    if isinstance(value, float):
        return function(value)
    if isinstance(value, Series):
        return map_series(value, function, tally)
    return tuple(map_series(series, function, tally) for series in value)


def apply_binary(op: str, left: float | Series | tuple[Series, ...],
                 right: float | Series | tuple[Series, ...], tally: Tally,
                 ) -> float | Series | tuple[Series, ...]:
    """``left op right``; the operands' kinds were checked (not two arrays)."""
    operation = OPERATIONS[op]
    if isinstance(left, tuple):
        return tuple(_binary_one(operation, series, right, tally) for series in left)
    if isinstance(right, tuple):
        return tuple(_binary_one(operation, left, series, tally) for series in right)
    return _binary_one(operation, left, right, tally)


def _binary_one(operation: Operation, left: float | Series, right: float | Series,
                tally: Tally) -> float | Series:
    if isinstance(left, Series):
        if isinstance(right, Series):
            return combine_series(left, right, operation, tally)
        return map_series(left, lambda v: operation(v, right), tally)
    if isinstance(right, Series):
        return map_series(right, lambda v: operation(left, v), tally)
    return operation(left, right)
