"""AWS dicts <-> metric dataclasses, with CloudWatch's own wording for bad input.

Params arrive parsed and validated against the botocore model (types, lengths, enums,
required members); what is checked here is what the model cannot say.  Error texts follow
AWS's, where AWS's are known (see the report in the module docstring of
``api/cloudwatch/metrics.py``).  A PutMetricData with several bad members answers one error:
the class of the first problem, with the messages of every problem of that class joined by
newlines, as CloudWatch does.  PutMetricData's members take ``fast_datums`` first, which
converts the common, valid ones in a few calls and leaves every other to ``_datum`` here
(the reference, and the only place errors come from).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import fast_datums
from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain import periods
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import (
    BucketStats,
    Datum,
    Dimension,
    DimensionFilter,
    MetricKey,
    StatisticSet,
)
from cfn_gateway.domain.units import stored_unit

MAX_METRIC_DATA = 1000
MAX_VALUES = stats.MAX_VALUES

#: AWS statistic names -> domain statistic names.
STATISTICS = {
    "SampleCount": "sample_count",
    "Average": "average",
    "Sum": "sum",
    "Minimum": "minimum",
    "Maximum": "maximum",
}


def utc(moment: datetime) -> datetime:
    """A timestamp param as an aware UTC datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def number(value: float) -> str:
    """A double as AWS prints it in messages."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


# --- dimensions and metrics ---------------------------------------------------------------

def dimensions_from_aws(items: Sequence[dict[str, Any]] | None) -> list[Dimension]:
    return [(item["Name"], item["Value"]) for item in items or ()]


def dimension_filters_from_aws(
    items: Sequence[dict[str, Any]] | None,
) -> tuple[DimensionFilter, ...]:
    return tuple(DimensionFilter(item["Name"], item.get("Value")) for item in items or ())


def metric_to_aws(key: MetricKey) -> dict[str, Any]:
    return {
        "Namespace": key.namespace,
        "MetricName": key.name,
        "Dimensions": [{"Name": name, "Value": value} for name, value in key.dimensions],
    }


#: AWS statistic names -> the function reading that statistic from a set.
_READERS = {name: stats.reader(domain_name) for name, domain_name in STATISTICS.items()}


def datapoint_to_aws(bucket: BucketStats, statistics: Sequence[str]) -> dict[str, Any]:
    point: dict[str, Any] = {"Timestamp": bucket.start, "Unit": bucket.unit}
    values = bucket.stats
    for name in statistics:
        point[name] = _READERS[name](values)
    return point


# --- PutMetricData ------------------------------------------------------------------------

class Problems:
    """Bad input collected across a whole request, answered as one AWS error."""

    def __init__(self) -> None:
        self.items: list[tuple[type[errors.AWSError], str]] = []

    def add(self, kind: type[errors.AWSError], message: str) -> None:
        self.items.append((kind, message))

    def raise_any(self) -> None:
        if self.items:
            kind = self.items[0][0]
            raise kind("\n".join(message for k, message in self.items if k is kind))


def check_namespace(namespace: str, reserved_ok: bool = False) -> None:
    """PutMetricData may not write AWS's own namespaces (``AWS/...``); an alarm may watch
    them (``reserved_ok``), as on AWS."""
    if not reserved_ok and dims.reserved_namespace(namespace):
        raise errors.InvalidParameterValue(
            f"The value {dims.RESERVED_NAMESPACE_PREFIX} for parameter Namespace is invalid.")
    if not dims.valid_namespace(namespace):
        raise errors.InvalidParameterValue(
            f"The value {namespace} for parameter Namespace is invalid.")


def _items(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The MetricData members, then those inside EntityMetricData, in request order."""
    items = list(params.get("MetricData") or ())
    for entity in params.get("EntityMetricData") or ():
        items += entity.get("MetricData") or ()
    return items


def _members(params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``_items`` with the path each is named by in messages."""
    for i, item in enumerate(params.get("MetricData") or (), 1):
        yield f"MetricData.member.{i}", item
    for e, entity in enumerate(params.get("EntityMetricData") or (), 1):
        for i, item in enumerate(entity.get("MetricData") or (), 1):
            yield f"EntityMetricData.member.{e}.MetricData.member.{i}", item


def metric_data_from_aws(params: dict[str, Any], now: datetime,
                         fast: bool = True) -> list[Datum]:
    """Every MetricData member (also those inside EntityMetricData) as a ``Datum``.

    All-or-nothing: any bad member raises, so nothing of the request gets stored.  Members
    go through ``fast_datums`` first (``fast``, the default); those it leaves (None),
    through ``_datum``, which alone reports problems: a member ``fast_datums`` takes is one
    ``_datum`` would take without a problem, as an equal ``Datum``.
    """
    namespace = params["Namespace"]
    check_namespace(namespace)
    items = _items(params)
    if not items:
        raise errors.MissingParameter("The parameter MetricData is required.")
    if len(items) > MAX_METRIC_DATA:
        raise errors.InvalidParameterValue(
            f"The collection MetricData must not have a size greater than {MAX_METRIC_DATA}.")
    data = fast_datums.data(namespace, items, now) if fast else [None] * len(items)
    if not all(data):  # a Datum is always true
        problems = Problems()
        data = [d if d is not None else _datum(namespace, path, item, now, problems)
                for d, (path, item) in zip(data, _members(params), strict=True)]
        problems.raise_any()
    return [d for d in data if d is not None]


def decoded_metric_data(decoded: Any, now: datetime) -> list[Datum] | None:
    """``metric_data_from_aws`` for a body decoded into structs
    (``protocol.decode_valid_json``), when every member is one ``fast_datums`` takes;
    None in any other case (then the params go through ``metric_data_from_aws``, which
    alone raises the errors)."""
    items = decoded.MetricData
    if (not items or len(items) > MAX_METRIC_DATA
            or getattr(decoded, "EntityMetricData", None)
            or not _valid_namespace(decoded.Namespace)):
        return None
    return fast_datums.decoded_data(decoded.Namespace, items, now)


def _valid_namespace(namespace: str) -> bool:
    try:
        check_namespace(namespace)
    except errors.AWSError:
        return False
    return True


def _datum(namespace: str, path: str, item: dict[str, Any], now: datetime,
           problems: Problems) -> Datum | None:
    before = len(problems.items)
    if not dims.valid_metric_name(item["MetricName"]):
        problems.add(errors.InvalidParameterValue,
                     f"The value {item['MetricName']} for parameter {path}.MetricName is "
                     "invalid.")
    dimensions = _dimensions(path, item.get("Dimensions") or (), problems)
    samples = _samples(path, item, problems)
    timestamp = utc(item["Timestamp"]) if item.get("Timestamp") is not None else now
    if not periods.timestamp_acceptable(timestamp, now):
        problems.add(errors.InvalidParameterValue,
                     f"The parameter {path}.Timestamp must specify a time within the past "
                     "two weeks.")
    resolution = item.get("StorageResolution")
    if resolution is None:
        resolution = periods.STANDARD_RESOLUTION
    if resolution not in periods.STORAGE_RESOLUTIONS:
        problems.add(errors.InvalidParameterValue,
                     f"The parameter {path}.StorageResolution must be a value in the set "
                     "[ 1, 60 ].")
    if len(problems.items) > before:
        return None
    return Datum(
        key=MetricKey.of(namespace, item["MetricName"], dimensions),
        timestamp=periods.truncate_to_resolution(timestamp, resolution),
        unit=stored_unit(item.get("Unit")),
        storage_resolution=resolution,
        samples=tuple(samples),
    )


def _dimensions(path: str, items: Sequence[dict[str, Any]],
                problems: Problems) -> list[Dimension]:
    result = dimensions_from_aws(items)
    if len(result) > dims.MAX_DIMENSIONS:
        problems.add(errors.InvalidParameterValue,
                     f"The collection {path}.Dimensions must not have a size greater than "
                     f"{dims.MAX_DIMENSIONS}.")
    for j, (name, value) in enumerate(result, 1):
        if not dims.valid_dimension_name(name):
            problems.add(errors.InvalidParameterValue,
                         f"The value {name} for parameter {path}.Dimensions.member.{j}.Name "
                         "is invalid.")
        if not dims.valid_dimension_value(value):
            problems.add(errors.InvalidParameterValue,
                         f"The value {value} for parameter {path}.Dimensions.member.{j}.Value "
                         "is invalid.")
    if dims.has_duplicate_names(result):
        problems.add(errors.InvalidParameterValue,
                     "No Metric may specify the same dimension twice.")
    return result


def _check_number(value: float, param: str, problems: Problems) -> bool:
    if stats.acceptable_value(value):
        return True
    problems.add(errors.InvalidParameterValue,
                 f"The value {number(value)} for parameter {param} is invalid.")
    return False


def _samples(path: str, item: dict[str, Any], problems: Problems) -> list[StatisticSet]:
    value = item.get("Value")
    values = item.get("Values") or None
    counts = item.get("Counts") or None
    statistic_values = item.get("StatisticValues")
    if value is not None and values is not None:
        problems.add(errors.InvalidParameterCombination,
                     f"The parameters {path}.Value and {path}.Values are mutually exclusive "
                     "and you have specified both.")
        return []
    if value is not None and statistic_values is not None:
        problems.add(errors.InvalidParameterCombination,
                     f"The parameters {path}.Value and {path}.StatisticValues are mutually "
                     "exclusive and you have specified both.")
        return []
    if counts is not None and len(counts) != len(values or ()):
        problems.add(errors.InvalidParameterValue,
                     f"The parameters {path}.Values and {path}.Counts must be of the same "
                     "size.")
        return []
    if value is not None:
        return [stats.single(value)] if _check_number(value, f"{path}.Value", problems) else []
    if values is not None:
        # AWS also accepts StatisticValues next to Values; the values are what is kept.
        return _values(path, values, counts, problems)
    if statistic_values is not None:
        return _statistic_set(path, statistic_values, problems)
    problems.add(errors.MissingParameter,
                 f"At least one of the parameters {path}.Value or {path}.StatisticValues "
                 "must be specified.")
    return []


def _values(path: str, values: Sequence[float], counts: Sequence[float] | None,
            problems: Problems) -> list[StatisticSet]:
    if len(values) > MAX_VALUES:
        problems.add(errors.InvalidParameterValue,
                     f"The collection {path}.Values must not have a size greater than "
                     f"{MAX_VALUES}.")
        return []
    ok = all([_check_number(v, f"{path}.Values.member.{j}", problems)
              for j, v in enumerate(values, 1)])
    for j, count in enumerate(counts or (), 1):
        if count < 0 or not stats.acceptable_value(count):
            problems.add(errors.InvalidParameterValue,
                         f"The value {number(count)} for parameter {path}.Counts.member.{j} "
                         "is invalid.")
            ok = False
    return stats.from_values(values, counts) if ok else []


def _statistic_set(path: str, given: dict[str, Any], problems: Problems) -> list[StatisticSet]:
    prefix = f"{path}.StatisticValues"
    ok = all([_check_number(given[name], f"{prefix}.{name}", problems)
              for name in ("SampleCount", "Sum", "Minimum", "Maximum")])
    if not ok:
        return []
    if given["SampleCount"] <= 0:
        problems.add(errors.InvalidParameterValue,
                     f"The parameter {prefix}.SampleCount must be greater than 0.")
        return []
    if given["Maximum"] < given["Minimum"]:
        problems.add(errors.InvalidParameterValue,
                     f"The parameter {prefix}.Maximum must be greater than {prefix}.Minimum.")
        return []
    return [StatisticSet(sample_count=float(given["SampleCount"]), sum=float(given["Sum"]),
                         minimum=float(given["Minimum"]), maximum=float(given["Maximum"]))]
