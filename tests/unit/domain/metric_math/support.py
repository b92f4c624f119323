"""Shared builders for the metric math tests: a request range and series on its minutes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from cfn_gateway.domain.metric_math import Series, evaluate, parse

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
PERIOD = 60
START = T0
END = T0 + timedelta(minutes=5)  # the request covers minutes 0..4


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def series(values: Mapping[int, float] | list[float | None], *, label: str = "",
           series_id: str = "", period: int = PERIOD) -> Series:
    """A series from {minute: value} or from a list with None for missing minutes."""
    if isinstance(values, list):
        values = {i: v for i, v in enumerate(values) if v is not None}
    items = sorted(values.items())
    return Series(label, tuple(at(m) for m, _ in items), tuple(float(v) for _, v in items),
                  period, series_id)


def minutes(result: Series) -> dict[float, float]:
    """{minute: value} of a series."""
    return {(t - T0).total_seconds() / 60: v
            for t, v in zip(result.timestamps, result.values, strict=True)}


def listed(result: Series, count: int = 5) -> list[float | None]:
    """The values at minutes 0..count-1, None where missing."""
    points = minutes(result)
    return [points.get(m) for m in range(count)]


def run(text: str, env: Mapping[str, Series | tuple[Series, ...]], **options):
    """Parse and evaluate ``text`` as query e1 over the request range."""
    options = {"query_id": "e1", "period": PERIOD, "start": START, "end": END, **options}
    return evaluate(parse(text), env, **options)
