"""Per-period statistics of one CloudWatch metric, read from Gnocchi.

``aggregate`` answers ``MetricStore.aggregate`` for the Gnocchi store and for the Aodh
plugin's evaluator alike: it finds the metric's resource (its id is derived from the project
and the metric, and a resource another project made is never read), plans which Gnocchi
buckets cover the window exactly (``gnocchi_reads``), fetches them in parallel and merges
them into the requested periods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from gnocchiclient import exceptions as g_exc

from cfn_gateway.backends.openstack import gnocchi_mapping as mapping
from cfn_gateway.backends.openstack import gnocchi_reads as reads
from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.backends.openstack.gnocchi_api import GnocchiAPI
from cfn_gateway.backends.openstack.gnocchi_listing import RESOURCES
from cfn_gateway.domain.metrics import BucketStats, MetricKey, StatisticSet
from cfn_gateway.domain.statistics import merge_all

#: Runs a function over items, possibly in parallel, results in order.
ParallelMap = Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def owned_by(resource: dict[str, Any], project_id: str) -> bool:
    """Whether ``project_id`` made the resource (and so may read it as its metric)."""
    return (resource.get("project_id") == project_id
            and resource.get("created_by_project_id") == project_id)


def aggregate(api: GnocchiAPI, parallel_map: ParallelMap, project_id: str, key: MetricKey,
              start: datetime, end: datetime, period: int, unit: str | None,
              now: datetime) -> list[BucketStats]:
    """``MetricStore.aggregate`` of the metric ``key`` of ``project_id`` at ``now``."""
    try:
        resource = api.call("GET", f"{RESOURCES}/{mapping.resource_id(project_id, key)}",
                            handled=(g_exc.NotFound,))
    except g_exc.NotFound:
        return []
    if not owned_by(resource, project_id):
        return []
    series: dict[mapping.Series, dict[str, str]] = defaultdict(dict)
    for name, metric_id in (resource.get("metrics") or {}).items():
        parsed = mapping.parse_metric_name(name)
        if parsed is not None and (unit is None or parsed[0].unit == unit):
            series[parsed[0]][parsed[1]] = metric_id
    plans = {s.resolution: reads.plan(start, end, period, s.resolution, now)
             for s in series}
    jobs = [(s, granularity, statistic, metric_id, window)
            for s, metrics in series.items() if len(metrics) == len(mapping.STATISTICS)
            for granularity, window in reads.fetch_windows(plans[s.resolution]).items()
            for statistic, metric_id in metrics.items()]
    fetched = parallel_map(lambda job: _measures(api, job), jobs)
    points: dict[mapping.Series, dict[int, dict[int, dict[str, float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(dict)))
    for (s, granularity, statistic, _, _), values in zip(jobs, fetched, strict=True):
        for at, value in values:
            points[s][granularity][at][statistic] = value
    per_bucket: dict[tuple[int, str], list[StatisticSet]] = defaultdict(list)
    for s, by_granularity in points.items():
        for index, sets in reads.period_sets(by_granularity, plans[s.resolution],
                                             start, period).items():
            per_bucket[(index, s.unit)].extend(sets)
    return [BucketStats(start + timedelta(seconds=index * period), bucket_unit,
                        merged)
            for (index, bucket_unit), sets in sorted(per_bucket.items())
            if (merged := merge_all(sets)) is not None]


def _measures(api: GnocchiAPI, job: tuple[Any, ...]) -> list[tuple[int, float]]:
    _, granularity, statistic, metric_id, (first, stop) = job
    try:
        rows = api.call("GET", f"v1/metric/{metric_id}/measures", params={
            "aggregation": schema.STATISTIC_METHODS[statistic],
            "granularity": granularity,
            "start": mapping.format_ns(first * 1_000_000_000),
            "stop": mapping.format_ns(stop * 1_000_000_000),
            "refresh": "true",
        }, handled=(g_exc.MetricNotFound,))
    except g_exc.MetricNotFound:
        return []  # deleted meanwhile
    return [(int((parse_time(at) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()),
             float(value)) for at, _, value in rows]
