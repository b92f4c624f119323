"""A tiny evaluator of Gnocchi's resource search filters, for checking the driver's filters.

It follows ``gnocchi.indexer.sqlalchemy.QueryTransformer``: ``=`` with null is IS NULL,
``created_by_project_id`` matches the creator's project part, comparisons on strings and
ISO times compare as stored (times here are the driver's fixed-width ISO strings).
"""

from __future__ import annotations

from typing import Any


def matches(tree: dict[str, Any], resource: dict[str, Any]) -> bool:
    (op, nodes), = tree.items()
    if op == "and":
        return all(matches(node, resource) for node in nodes)
    if op == "or":
        return any(matches(node, resource) for node in nodes)
    if op == "not":
        return not matches(nodes, resource)
    (field, value), = nodes.items()
    held = resource.get(field)
    if op in ("=", "=="):
        return held == value
    if op == "in":
        return held in value
    if held is None or value is None:
        return False
    if op == ">=":
        return held >= value
    if op == ">":
        return held > value
    if op == "<":
        return held < value
    raise AssertionError(f"operator {op} not emulated")
