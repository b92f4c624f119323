"""The values metric math computes on: time series, arrays of them, scalars; their kinds.

AWS's vocabulary (user guide, "Metric math syntax and functions", data type
abbreviations): **S** a scalar number, **TS** a time series, **TS[]** an array of time
series.  A series holds only the points it has: a missing point is absent, never NaN, and
no value is ever NaN or infinite (metric math drops such points, see ``ARITHMETIC_ERROR``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class MessageData:
    """One ``MessageData`` of a ``MetricDataResult``: a code and its text."""

    code: str
    value: str


#: What GetMetricData attaches to an expression's result when it dropped points whose
#: value was not a number (a division by zero, the LOG of a negative number, ...).  The
#: text is AWS's, as its clients report it (grafana/grafana#78608).
ARITHMETIC_ERROR = MessageData(
    "ArithmeticError",
    "One or more data-points have been dropped due to non-numeric values "
    "(NaN, -Infinite, +Infinite)",
)


@dataclass(frozen=True)
class Series:
    """One time series: ascending, distinct timestamps (aware UTC datetimes) and their values."""

    label: str
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]
    period: int  # seconds between points of this series (its query's Period)
    id: str = ""  # the query Id it came from (for METRICS() and labels)
    #: Messages about this result (``ARITHMETIC_ERROR`` when points were dropped).
    messages: tuple[MessageData, ...] = ()

    def __post_init__(self) -> None:
        if len(self.timestamps) != len(self.values):
            raise ValueError("a series needs as many values as timestamps")

    def points(self) -> dict[datetime, float]:
        """Timestamp -> value."""
        return dict(zip(self.timestamps, self.values, strict=True))

    def with_points(self, points: Mapping[datetime, float] | Iterable[tuple[datetime, float]],
                    ) -> Series:
        """This series (label, id, period) holding other points, put in time order."""
        items = sorted(points.items() if isinstance(points, Mapping) else points)
        return replace(self, timestamps=tuple(t for t, _ in items),
                       values=tuple(v for _, v in items))


def empty_series(period: int, label: str = "", series_id: str = "") -> Series:
    return Series(label, (), (), period, series_id)


class Kind(enum.Enum):
    """What an expression (or part of one) evaluates to; values are AWS's abbreviations."""

    SCALAR = "S"
    SERIES = "TS"
    ARRAY = "TS[]"
    STRING = "String"
    KEYWORD = "keyword"


#: A value during evaluation: a scalar, a series, an array of series; string literals and
#: bare keywords (``REPEAT``, ``DESC``) stay their syntax nodes.
Array = tuple[Series, ...]
