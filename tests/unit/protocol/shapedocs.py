"""Hypothesis strategies for JSON / CBOR request documents built from a botocore shape.

``documents(shape, cbor, mutate)`` draws wire documents for an input shape: members by
their wire names, each present or not (or ``null``), plus a member the model does not
know.  Without ``mutate`` every value has a type the parsers accept, but constraints are
probed at their edges (lengths in UTF-16 code units around min/max, enum and pattern
misses, int32/int64 and min/max bounds, special doubles, timestamps near the ends of the
datetime range), so the validators have plenty to say.  With ``mutate`` any value may
also be of the wrong type, ``null`` inside a list or map, a huge number or bad base64.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import cbor2
from botocore.model import Shape
from hypothesis import strategies as st

from cfn_gateway.protocol.limits import INT_RANGES

from .shapegen import STRING_CANDIDATES

MAX_DEPTH = 6
UNKNOWN = "NotAModelMember"
EPOCH_EDGES = [0, 1.5, -1.25, 1717171717.123, -62135596800, -62135596801, -62135510400,
               -62135510401, 253402300799, 253402300800, 253402214399, 253402214400,
               253402300799.9999995, 10**20, -(10**20)]

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(-10, 10), st.text(max_size=3),
    st.just([]), st.just({}), st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.sampled_from(["a", "Name", "Value"]), st.integers(0, 2), max_size=2),
)


def documents(shape: Shape, cbor: bool, mutate: bool) -> st.SearchStrategy[Any]:
    """Top-level documents (always objects) for the input shape ``shape``."""
    return _structure(shape, cbor, mutate, 0)


def _key(shape: Shape) -> tuple[str, str, str]:
    return (shape.name, repr(sorted(shape.metadata.items())),
            repr(sorted(shape.serialization.items())))


_STRATEGIES: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {}


def _value(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    key = (_key(shape), cbor, mutate, depth)
    found = _STRATEGIES.get(key)
    if found is None:
        found = _STRATEGIES[key] = _strategy(shape, cbor, mutate, depth)
    return found


def _strategy(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    base = {
        "structure": _structure, "list": _list, "map": _map, "string": _string,
        "integer": _integer, "long": _integer, "double": _double, "float": _double,
        "boolean": _boolean, "timestamp": _timestamp, "blob": _blob,
    }[kind](shape, cbor, mutate, depth)
    if not mutate:
        return base
    wrong = st.one_of(junk, st.sampled_from([10**400, -(10**400), 2**64, "**", "NaN"]))
    if cbor:
        wrong = st.one_of(wrong, st.binary(max_size=3), st.just(cbor2.undefined))
    return st.one_of(base, wrong)


def _structure(shape: Any, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    if depth > MAX_DEPTH:
        return st.just({})
    absent = st.one_of(st.none(), st.just(cbor2.undefined)) if cbor else st.none()
    optional = {
        member.serialization.get("name", name):
            st.one_of(_value(member, cbor, mutate, depth + 1), absent)
        for name, member in shape.members.items()
    }
    optional[UNKNOWN] = junk
    return st.fixed_dictionaries({}, optional=optional)


def _list(shape: Any, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    if depth > MAX_DEPTH:
        return st.just([])
    item = _value(shape.member, cbor, mutate, depth + 1)
    if mutate:
        item = st.one_of(item, st.none())
    high = shape.metadata.get("max")
    size = 4 if high is None or high > 3 else high + 1
    return st.lists(item, max_size=size)


def _map(shape: Any, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    if depth > MAX_DEPTH:
        return st.just({})
    value = _value(shape.value, cbor, mutate, depth + 1)
    key = _string(shape.key, cbor, False, depth)
    if mutate:
        value = st.one_of(value, st.none())
        if cbor:
            key = st.one_of(key, st.integers(0, 3))
    return st.dictionaries(key, value, max_size=3)


def _string(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 64)
    edges = {"", "x" * max(low - 1, 0), "x" * low, "\U0001f600" * max(low - 1, 0)}
    if high <= 4096:
        edges |= {"x" * high, "x" * (high + 1), "\U0001f600" * (high // 2),
                  "\U0001f600" * (high // 2 + 1), "\u00e9" * high}
    options = [st.sampled_from(sorted(edges)), st.sampled_from(STRING_CANDIDATES),
               st.text(max_size=6)]
    enum = shape.metadata.get("enum")
    if enum:
        options.insert(0, st.sampled_from(enum))
        options.append(st.sampled_from([value.lower() for value in enum]))
    if not cbor:  # a lone surrogate: JSON carries it as an escape, CBOR text cannot
        options.append(st.just("a\ud800b"))
    return st.one_of(options)


def _integer(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    low, high = INT_RANGES[shape.type_name]
    edges = {0, 1, -1, low, high, low - 1, high + 1, 2**31, -(2**31) - 1, 2**63}
    for bound in (shape.metadata.get("min"), shape.metadata.get("max")):
        if bound is not None:
            edges |= {int(bound) - 1, int(bound), int(bound) + 1}
    return st.one_of(st.sampled_from(sorted(edges)), st.integers(-100, 100))


def _double(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    edges: set[Any] = {0, 1, -1, 0.5, 1e300, -0.0, 2**64, 2**1023 * 2 - 1}
    for bound in (shape.metadata.get("min"), shape.metadata.get("max")):
        if bound is not None:
            edges |= {bound - 1, bound, bound + 0.5}
    options = [st.sampled_from(sorted(edges, key=repr)),
               st.floats(allow_nan=cbor, allow_infinity=cbor),
               st.sampled_from(["NaN", "Infinity", "-Infinity"])]
    if mutate:
        options.append(st.sampled_from(["nan", "inf", "1.5", 10**400]))
    return st.one_of(options)


def _boolean(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    return st.booleans()


def _timestamp(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    options = [st.sampled_from(EPOCH_EDGES), st.integers(-(10**11), 10**12),
               st.floats(-1e11, 1e12)]
    if cbor:
        zones = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-2)),
                                 dt.timezone(dt.timedelta(hours=5, minutes=30))])
        options.append(st.datetimes(timezones=zones))
        late = dt.datetime(9999, 12, 31, 23)
        options.append(st.sampled_from([late.replace(tzinfo=dt.timezone(dt.timedelta(hours=-2))),
                                        late.replace(tzinfo=dt.UTC)]))
    if mutate:
        options.append(st.sampled_from(["2024-01-01T00:00:00Z", float("inf"), 10**30]))
    return st.one_of(options)


def _blob(shape: Shape, cbor: bool, mutate: bool, depth: int) -> st.SearchStrategy[Any]:
    if cbor:
        return st.binary(max_size=8)
    return st.one_of(st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode()),
                     st.sampled_from(["**", "AA=", "AAE="]))
