"""What the Gnocchi metric driver needs to exist in Gnocchi: archive policies, a resource type.

Archive policies (12, static): one per storage resolution (``1s``: high resolution,
``60s``: standard), tier (``main``, ``late``) and aggregation method (``sum``, ``min``,
``max``).  Each Gnocchi metric stores ONE statistic of a CloudWatch metric and needs only
the method that re-aggregates it exactly: sums and sample counts add up (``sum``), minima
take the ``min``, maxima the ``max``.

Granularities follow CloudWatch's retention (1 s for 3 h, 60 s for 15 days, 300 s for 63
days, 3600 s for 455 days) plus ``RETENTION_MARGIN``: Gnocchi measures a timespan back from
a metric's newest point, which may lie up to two hours in the future (PutMetricData accepts
that), and it drops whole splits only.

Late measures: Gnocchi keeps raw measures only from ``floor(newest, 3600 s) - back_window *
3600 s`` on and silently drops anything older (``carbonara.BoundTimeSerie.set_values``).
CloudWatch accepts data two weeks old, in any order.  Keeping two weeks of raw data for
every metric would make metricd rewrite two weeks of raw points at every processing, so the
driver writes a measure to a ``main`` metric (back window ``MAIN_BACK_WINDOW`` hours) when
it is recent enough that no newer point can push it out, and to a ``late`` metric (back
window ``LATE_BACK_WINDOW`` hours, two weeks and a bit) otherwise; reads merge both.

The resource type ``cfn_gateway_metric`` holds one CloudWatch metric per resource:
``namespace``, ``metric_name``, ``last_put`` (ListMetrics' activity) and up to 30 dimension
slots sorted by name.  Gnocchi string attributes hold at most 256 characters, so slot ``i``
is ``d{i}n`` (the name, at most 255) and ``d{i}v``, ``d{i}v1``..``d{i}v3`` (the value, up
to 1024 characters, in chunks of 256; unused chunks are null).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cfn_gateway.domain import dimensions, periods

RESOURCE_TYPE = "cfn_gateway_metric"

#: (granularity seconds, CloudWatch retention); the 1 s tier exists for high resolution only.
TIERS: tuple[tuple[int, timedelta], ...] = (
    (1, periods.HIGH_RESOLUTION_RETENTION),
    (60, periods.ONE_MINUTE_RETENTION),
    (300, periods.FIVE_MINUTE_RETENTION),
    (3600, timedelta(days=455)),
)
RETENTION_MARGIN = periods.MAX_FUTURE + timedelta(hours=1)
BLOCK = timedelta(hours=1)  # Gnocchi's raw block: the coarsest granularity

#: Measures are stamped inside their resolution slot (see ``gnocchi_mapping``), and gateway
#: hosts' clocks may differ a little: both widen the bound on a metric's newest point.
CLOCK_SKEW = timedelta(minutes=5)
MAIN_BACK_WINDOW = 6
LATE_BACK_WINDOW = (periods.MAX_PAST + periods.MAX_FUTURE + timedelta(minutes=1)
                    + CLOCK_SKEW) // BLOCK + 2

RESOLUTIONS = periods.STORAGE_RESOLUTIONS  # (1, 60)
METHODS = ("sum", "min", "max")
#: statistic -> the aggregation method that re-aggregates it exactly.
STATISTIC_METHODS = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}

CHUNK = 256
VALUE_CHUNKS = 4  # CloudWatch dimension values: up to 1024 characters


def granularities(resolution: int) -> tuple[int, ...]:
    """The granularities stored for data of a storage resolution, finest first."""
    return tuple(g for g, _ in TIERS if g >= resolution)


def retention(granularity: int) -> timedelta:
    """How far back CloudWatch serves data at ``granularity`` (what reads may rely on)."""
    return dict(TIERS)[granularity]


def policy_name(resolution: int, late: bool, method: str) -> str:
    return f"cfn-gateway-{resolution}s{'-late' if late else ''}-{method}"


def archive_policies() -> list[dict[str, Any]]:
    """Every archive policy the driver writes to, as Gnocchi's API takes them."""
    policies = []
    for resolution in RESOLUTIONS:
        definition = [
            {"granularity": g,
             "timespan": int((keep + RETENTION_MARGIN).total_seconds())}
            for g, keep in TIERS if g >= resolution
        ]
        if resolution == periods.HIGH_RESOLUTION:
            # 1 s points are served for 3 h only; keep them 6 h (not 3 h + margin * 1 s).
            definition[0]["timespan"] = 6 * 3600
        for late in (False, True):
            for method in METHODS:
                policies.append({
                    "name": policy_name(resolution, late, method),
                    "back_window": LATE_BACK_WINDOW if late else MAIN_BACK_WINDOW,
                    "aggregation_methods": [method],
                    "definition": definition,
                })
    return policies


def dimension_slot(i: int) -> tuple[str, tuple[str, ...]]:
    """Attribute names of dimension slot ``i``: the name, then the value's chunks."""
    return f"d{i}n", (f"d{i}v", *(f"d{i}v{j}" for j in range(1, VALUE_CHUNKS)))


def resource_type() -> dict[str, Any]:
    """The resource type as Gnocchi's API takes it."""
    def string(required: bool = False) -> dict[str, Any]:
        return {"type": "string", "required": required, "min_length": 0,
                "max_length": CHUNK}

    attributes: dict[str, Any] = {
        "namespace": string(True),
        "metric_name": string(True),
        "last_put": {"type": "datetime", "required": True},
    }
    for i in range(dimensions.MAX_DIMENSIONS):
        name, chunks = dimension_slot(i)
        attributes[name] = string()
        for chunk in chunks:
            attributes[chunk] = string()
    return {"name": RESOURCE_TYPE, "attributes": attributes}
