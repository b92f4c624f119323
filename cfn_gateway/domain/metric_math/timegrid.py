"""The regular timestamps of a request: the grid FILL, TIME_SERIES and the time functions
(MINUTE ... EPOCH) produce points on.

A grid is every ``anchor + k * period`` (k any integer) in ``[start, end)``: the request's
range (``StartTime`` inclusive, ``EndTime`` exclusive), on the period of the series.  A
series is anchored at its own first timestamp, so filled points line up with the points it
has; a series with no points, and TIME_SERIES, are anchored at ``start``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cfn_gateway.domain.metric_math.series import Series

#: Grids longer than this are refused (AWS returns at most 100,800 points per call).
MAX_POINTS = 100_800


def grid(anchor: datetime, period: int, start: datetime, end: datetime) -> list[datetime]:
    if period <= 0:
        raise ValueError("a grid needs a positive period")
    step = timedelta(seconds=period)
    first = anchor + (-((anchor - start) // step)) * step  # the first k with time >= start
    count = max(0, -((first - end) // step))  # times first + i*step < end
    if count > MAX_POINTS:
        raise ValueError(f"a grid of {count} points is longer than {MAX_POINTS}")
    return [first + i * step for i in range(count)]


def series_grid(series: Series, default_period: int, start: datetime, end: datetime,
                ) -> list[datetime]:
    """The grid of ``series``'s period (or ``default_period``) over ``[start, end)``."""
    period = series.period if series.period > 0 else default_period
    anchor = series.timestamps[0] if series.timestamps else start
    return grid(anchor, period, start, end)
