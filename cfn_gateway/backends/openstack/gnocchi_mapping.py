"""CloudWatch identity and data <-> Gnocchi resources, metrics and measures (pure functions).

Identity: one Gnocchi resource (type ``cfn_gateway_metric``) per CloudWatch metric, that is
per project, namespace, name and EXACT dimension set.  Its id is a uuid5 of those, so a
write needs no lookup, {A} and {A, B} are different resources, and the same metric in two
projects never shares an id.  Its attributes carry the identity for ListMetrics (see
``gnocchi_schema``).

Data: inside that resource, one Gnocchi metric per (storage resolution, tier, statistic,
unit), named ``{resolution}s[-late].{statistic}.{unit}`` with the unit percent-encoded (a
metric name may not contain "/", as in "Bytes/Second").  Statistics are ``sum``, ``count``,
``min`` and ``max``: each CloudWatch datum becomes one measure on each of the four, and any
period's SampleCount, Sum, Minimum and Maximum (and Average = Sum / SampleCount) are exact
re-aggregations of them, for single values, Values/Counts and statistic sets alike.

Gnocchi keeps one measure per timestamp (a second measure at the same instant replaces the
first), while CloudWatch stamps every datum of a minute (a second, for high resolution)
with the same truncated time.  So the samples of one request that share a metric, unit,
resolution and time are merged into one statistic set first (exact), and each measure is
stamped at a random nanosecond inside its resolution slot: Gnocchi's coarsest bucket of
the slot is still the slot itself, and two writes to the same slot collide with odds of
one in 6e10 (one in 1e9 for high resolution).
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from cfn_gateway import errors
from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.domain import dimensions, periods
from cfn_gateway.domain.metrics import Datum, MetricFilter, MetricKey, StatisticSet
from cfn_gateway.domain.statistics import merge_all

#: Namespace of the resource ids (uuid5); changing it would orphan every stored metric.
ID_NAMESPACE = uuid.UUID("5f0b3c8e-2d7a-5b8c-9e61-0c4f2a7d9b13")

STATISTICS = ("sum", "count", "min", "max")
MAX_METRIC_NAME = 255
_NS_PER_S = 1_000_000_000


@dataclass(frozen=True, order=True)
class Series:
    """One CloudWatch metric's data of one unit, resolution and tier."""

    resolution: int
    late: bool
    unit: str

    def metric_name(self, statistic: str) -> str:
        tier = "-late" if self.late else ""
        return f"{self.resolution}s{tier}.{statistic}.{quote(self.unit, safe='')}"

    def policy(self, statistic: str) -> str:
        return schema.policy_name(self.resolution, self.late,
                                  schema.STATISTIC_METHODS[statistic])


def parse_metric_name(name: str) -> tuple[Series, str] | None:
    """The series and statistic a Gnocchi metric name stands for (None: not ours)."""
    parts = name.split(".", 2)
    if len(parts) != 3 or parts[1] not in STATISTICS:
        return None
    head, statistic, unit = parts
    late = head.endswith("-late")
    resolution = head.removesuffix("-late").removesuffix("s")
    if not resolution.isdigit() or int(resolution) not in schema.RESOLUTIONS:
        return None
    return Series(int(resolution), late, unquote(unit)), statistic


def check_unit(unit: str) -> None:
    """Units whose metric names would not fit Gnocchi (AWS's own units all fit)."""
    if len(Series(60, True, unit).metric_name("count")) > MAX_METRIC_NAME:
        raise errors.InvalidParameterValue(
            f"The value {unit} for parameter Unit is invalid.")


# --- time ---------------------------------------------------------------------------------

def to_ns(moment: datetime) -> int:
    return (moment - periods.EPOCH) // timedelta(microseconds=1) * 1000


def format_ns(ns: int) -> str:
    """A naive UTC ISO time with nanoseconds, as Gnocchi (numpy) parses it."""
    seconds, fraction = divmod(ns, _NS_PER_S)
    moment = periods.EPOCH + timedelta(seconds=seconds)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:09d}"


def format_time(moment: datetime) -> str:
    return format_ns(to_ns(moment))


def is_late(timestamp: datetime, now: datetime) -> bool:
    """Whether a measure could fall behind a ``main`` metric's back window.

    The newest point a main metric can hold is ``now + MAX_FUTURE`` (plus slot and clock
    skew); Gnocchi keeps raw points ``MAIN_BACK_WINDOW`` blocks back from it.
    """
    newest = now + periods.MAX_FUTURE + timedelta(minutes=1) + schema.CLOCK_SKEW
    return timestamp < newest - schema.MAIN_BACK_WINDOW * schema.BLOCK


# --- identity -----------------------------------------------------------------------------

def resource_id(project_id: str, key: MetricKey) -> str:
    canonical = json.dumps(
        [project_id, key.namespace, key.name, [list(d) for d in key.dimensions]],
        ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(ID_NAMESPACE, canonical))


def _chunks(value: str) -> list[str | None]:
    parts: list[str | None] = [value[i:i + schema.CHUNK]
                               for i in range(0, len(value), schema.CHUNK)]
    if len(parts) > schema.VALUE_CHUNKS:
        raise errors.InvalidParameterValue(
            f"The value {value} for parameter Dimensions.member.Value is invalid.")
    return parts + [None] * (schema.VALUE_CHUNKS - len(parts))


def resource_body(project_id: str, key: MetricKey, last_put: datetime) -> dict[str, Any]:
    """The body that creates ``key``'s resource in ``project_id``."""
    body: dict[str, Any] = {
        "id": resource_id(project_id, key),
        "project_id": project_id,
        "namespace": key.namespace,
        "metric_name": key.name,
        "last_put": format_time(last_put),
    }
    for i, (name, value) in enumerate(key.dimensions):
        name_attr, chunk_attrs = schema.dimension_slot(i)
        body[name_attr] = name
        body.update((attr, chunk) for attr, chunk in zip(chunk_attrs, _chunks(value),
                                                          strict=True) if chunk is not None)
    return body


def key_from_resource(resource: dict[str, Any]) -> MetricKey:
    dims = []
    for i in range(dimensions.MAX_DIMENSIONS):
        name_attr, chunk_attrs = schema.dimension_slot(i)
        name = resource.get(name_attr)
        if name is None:
            break
        dims.append((name, "".join(resource.get(a) or "" for a in chunk_attrs)))
    return MetricKey.of(resource["namespace"], resource["metric_name"], dims)


# --- ListMetrics --------------------------------------------------------------------------

def search_filter(project_id: str, query: MetricFilter, active_since: datetime,
                  after: str | None = None) -> dict[str, Any]:
    """A resource search for ListMetrics' query (exact: no client-side filtering needed).

    Besides Gnocchi's own confinement to the token's project, only resources the gateway
    created for this project (``created_by_project_id``) count.
    """
    clauses: list[dict[str, Any]] = [
        {"=": {"project_id": project_id}},
        {"=": {"created_by_project_id": project_id}},
        {">=": {"last_put": format_time(active_since)}},
    ]
    if query.namespace is not None:
        clauses.append({"=": {"namespace": query.namespace}})
    if query.name is not None:
        clauses.append({"=": {"metric_name": query.name}})
    for wanted in query.dimensions:
        slots = []
        for i in range(dimensions.MAX_DIMENSIONS):
            name_attr, chunk_attrs = schema.dimension_slot(i)
            slot = [{"=": {name_attr: wanted.name}}]
            if wanted.value is not None:
                for attr, chunk in zip(chunk_attrs, _chunks(wanted.value), strict=True):
                    slot.append({"=": {attr: chunk}})
                    if chunk is None:
                        break
            slots.append({"and": slot})
        clauses.append({"or": slots})
    if after is not None:
        clauses.append({">": {"id": after}})
    return {"and": clauses}


# --- PutMetricData ------------------------------------------------------------------------

def build_measures(
    project_id: str, data: Sequence[Datum], now: datetime, rng: random.Random | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, MetricKey]]:
    """The body of one batch-measures call for ``data``, and every resource it touches."""
    rng = rng or random.SystemRandom()
    grouped: dict[tuple[MetricKey, Series, int], list[StatisticSet]] = defaultdict(list)
    keys: dict[str, MetricKey] = {}
    for datum in data:
        check_unit(datum.unit)
        keys.setdefault(resource_id(project_id, datum.key), datum.key)
        series = Series(datum.storage_resolution, is_late(datum.timestamp, now), datum.unit)
        grouped[(datum.key, series, to_ns(datum.timestamp))].extend(datum.samples)
    body: dict[str, dict[str, Any]] = {}
    for (key, series, at), samples in grouped.items():
        merged = merge_all(samples)
        if merged is None:
            continue  # only Values seen zero times: the metric exists, without data
        rid = resource_id(project_id, key)
        stamp = format_ns(at + rng.randrange(series.resolution * _NS_PER_S))
        values = {"sum": merged.sum, "count": merged.sample_count,
                  "min": merged.minimum, "max": merged.maximum}
        metrics = body.setdefault(rid, {})
        for statistic in STATISTICS:
            entry = metrics.setdefault(series.metric_name(statistic), {
                "archive_policy_name": series.policy(statistic), "measures": []})
            entry["measures"].append({"timestamp": stamp, "value": values[statistic]})
    return body, keys
