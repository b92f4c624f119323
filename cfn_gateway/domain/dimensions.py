"""Metric identity and the character rules of namespaces and dimensions.

Identity: namespace + metric name + the exact set of dimensions, order-insensitive
(``MetricKey.of`` sorts them).  GetMetricStatistics needs that exact set; ListMetrics'
dimension filters match every metric that *has* the filtered dimensions, whatever else it
has ("If you specify one dimension name and a metric has that dimension and also other
dimensions, it will be returned", ListMetrics reference).

Character rules (Dimension reference): names and values must include at least one
non-whitespace character and no ASCII control characters, and names cannot start with a
colon.  Namespaces and metric names may not contain control characters (a NUL or an escape
sequence would be stored, then rendered as U+FFFD in XML, no longer matching), and AWS
reserves the "AWS/" prefix for its own services.  The "ASCII only" wording of the reference
is not enforced: a stricter gateway would refuse data that clients have always been able
to send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from cfn_gateway.domain.metrics import Dimension, DimensionFilter, MetricFilter, MetricKey

MAX_DIMENSIONS = 30
RESERVED_NAMESPACE_PREFIX = "AWS/"


_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")


def _has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTER.search(text) is not None


def valid_namespace(namespace: str) -> bool:
    return bool(namespace) and not namespace.startswith(":") and not _has_control_characters(
        namespace)


def valid_metric_name(name: str) -> bool:
    return bool(name) and not _has_control_characters(name)


def reserved_namespace(namespace: str) -> bool:
    return namespace.startswith(RESERVED_NAMESPACE_PREFIX)


def valid_dimension_name(name: str) -> bool:
    return bool(name.strip()) and not name.startswith(":") and not _has_control_characters(name)


def valid_dimension_value(value: str) -> bool:
    return bool(value.strip()) and not _has_control_characters(value)


def has_duplicate_names(dimensions: Sequence[Dimension]) -> bool:
    names = [name for name, _ in dimensions]
    return len(set(names)) != len(names)


def valid_metric(name: str, dimensions: Sequence[Dimension]) -> bool:
    """Whether a metric name and its dimensions pass every check above at once: a valid
    metric name, at most ``MAX_DIMENSIONS`` valid dimensions, no dimension name twice.  One
    control-character search covers all the strings (their concatenation has one iff one
    of them has)."""
    if not name or len(dimensions) > MAX_DIMENSIONS:
        return False
    texts = [name]
    for dimension_name, value in dimensions:
        if not dimension_name.strip() or dimension_name.startswith(":") or not value.strip():
            return False
        texts += (dimension_name, value)
    if len({dimension_name for dimension_name, _ in dimensions}) != len(dimensions):
        return False
    return _CONTROL_CHARACTER.search("".join(texts)) is None


def filter_matches(dimensions: Iterable[Dimension], filters: Iterable[DimensionFilter]) -> bool:
    """ListMetrics: the metric has every filtered dimension (and value, when given)."""
    held = dict(dimensions)
    return all(
        f.name in held and (f.value is None or held[f.name] == f.value) for f in filters
    )


def metric_matches(key: MetricKey, query: MetricFilter) -> bool:
    """Whether ListMetrics' ``query`` selects the metric ``key`` (activity aside)."""
    return (
        (query.namespace is None or key.namespace == query.namespace)
        and (query.name is None or key.name == query.name)
        and filter_matches(key.dimensions, query.dimensions)
    )
