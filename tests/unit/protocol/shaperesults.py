"""Hypothesis strategies for handler results built from a botocore output shape.

``results(shape, mutate)`` draws what a handler might answer for an output shape: members
by their (AWS) member names, each present, absent or ``None``, plus a member the model
does not know; ``None`` inside lists and maps; map keys that are not text.  Without
``mutate`` every value is one the renderers turn into a document, though often not of
the shape's own Python type: ints and booleans for doubles, NaN and infinities, numbers
for strings, naive, other-zone and not-quite-UTC datetimes, epoch seconds for timestamps,
``bytearray`` and ``memoryview`` for blobs, tuples for lists.  With ``mutate`` any value
may also be one the renderers refuse (a list for a structure, ``"x"`` for an integer,
epoch seconds beyond year 9999, text for a blob, ...).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

from .shapegen import STRING_CANDIDATES

MAX_DEPTH = 6
UNKNOWN = "NotAModelMember"
ABSENT = object()


class Moment(dt.datetime):
    """A datetime subclass (as freezegun's): never the renderers' fast path."""


ZONES = [dt.UTC, dt.timezone(dt.timedelta(0)), dt.timezone(dt.timedelta(hours=2)),
         dt.timezone(-dt.timedelta(hours=5, minutes=30))]
junk = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3),
                 st.just([]), st.just({}), st.lists(st.integers(0, 2), max_size=2))


def results(shape: Shape, mutate: bool, max_depth: int = MAX_DEPTH,
            max_items: int = 4) -> st.SearchStrategy[Any]:
    """Results for the output shape ``shape`` (a structure or any other shape)."""
    return _Results(mutate, max_depth, max_items).value(shape, 0)


class _Results:
    def __init__(self, mutate: bool, max_depth: int, max_items: int) -> None:
        self.mutate = mutate
        self.max_depth = max_depth
        self.max_items = max_items
        self.cache: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {}

    def value(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        key = (shape.name, repr(sorted(shape.metadata.items())),
               repr(sorted(shape.serialization.items())), depth)
        found = self.cache.get(key)
        if found is None:
            kind = shape.type_name
            found = getattr(self, f"r_{kind}", self.r_other)(shape, depth)
            if self.mutate:
                found = st.one_of(found, getattr(self, f"bad_{kind}", junk))
            self.cache[key] = found
        return found

    def r_structure(self, shape: Any, depth: int) -> st.SearchStrategy[Any]:
        if depth > self.max_depth:
            return st.just({})
        # Each member present (most often), None or left out, in shape order.
        members = {name: st.one_of(self.value(member, depth + 1), st.none(), st.just(ABSENT))
                   for name, member in shape.members.items()}
        members[UNKNOWN] = st.one_of(junk, st.just(ABSENT))
        return st.fixed_dictionaries(members).map(
            lambda drawn: {name: item for name, item in drawn.items() if item is not ABSENT})

    def r_list(self, shape: Any, depth: int) -> st.SearchStrategy[Any]:
        if depth > self.max_depth:
            return st.just([])
        items = st.lists(st.one_of(self.value(shape.member, depth + 1), st.none()),
                         max_size=self.max_items)
        return st.one_of(items, items.map(tuple))

    def r_map(self, shape: Any, depth: int) -> st.SearchStrategy[Any]:
        if depth > self.max_depth:
            return st.just({})
        keys = st.one_of(self.r_string(shape.key, depth), st.integers(-2, 2))
        values = st.one_of(self.value(shape.value, depth + 1), st.none())
        return st.dictionaries(keys, values, max_size=self.max_items)

    def r_string(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        options = [st.text(max_size=6), st.sampled_from([*STRING_CANDIDATES, "a\ud800b"]),
                   st.integers(), st.floats(), st.booleans()]
        enum = shape.metadata.get("enum")
        if enum:
            options.insert(0, st.sampled_from(enum))
        return st.one_of(options)

    def r_boolean(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        return st.one_of(st.booleans(), st.sampled_from([0, 1, "", "x", 0.0]))

    def r_integer(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        return st.one_of(st.integers(), st.sampled_from([2**31, -(2**63) - 1, 2**70]),
                         st.booleans(), st.floats(-1e20, 1e20), st.sampled_from(["12", " -3 "]))

    r_long = r_integer

    def r_double(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        return st.one_of(st.floats(), st.sampled_from([float("nan"), float("inf"),
                                                       float("-inf"), -0.0, 2**1023 * 1.9]),
                         st.integers(-(2**70), 2**70), st.booleans(),
                         st.sampled_from(["1.5", "nan", "-Infinity", " 2 "]))

    r_float = r_double

    def r_timestamp(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        # Aware datetimes with an offset keep a day off the ends of datetime's range.
        safe = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))
        return st.one_of(
            st.datetimes(timezones=st.just(dt.UTC)),
            st.datetimes(),
            st.datetimes(timezones=st.sampled_from(ZONES)) if self.mutate
            else safe.flatmap(lambda moment: st.sampled_from(
                [moment.replace(tzinfo=zone) for zone in ZONES])),
            st.datetimes(timezones=st.sampled_from([dt.UTC, None])).map(
                lambda moment: Moment.fromisoformat(moment.isoformat())),
            st.integers(-(10**10), 10**11), st.floats(-1e10, 1e11), st.booleans(),
            st.sampled_from([0, -0.0, 1.5, -1.25, 1717171717.123, 253402300799]),
        )

    def r_blob(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        return st.one_of(st.binary(max_size=8), st.binary(max_size=8).map(bytearray),
                         st.binary(max_size=8).map(memoryview),
                         st.lists(st.integers(0, 255), max_size=3), st.integers(0, 3))

    def r_other(self, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
        return junk

    bad_structure = st.sampled_from([[], ["a"], "text", 3])
    bad_list = st.sampled_from([3, 1.5, True])
    bad_map = st.sampled_from([[], [("a", 1)], "text", 3])
    bad_string = st.just(object())
    bad_boolean = st.just(object())
    bad_integer = st.sampled_from(["x", "1.5", float("nan"), float("inf"), 1.5 + 0j, b"1"])
    bad_long = bad_integer
    bad_double = st.sampled_from(["x", "", 10**400, 1 + 0j, [1.0], object()])
    bad_float = bad_double
    bad_timestamp = st.sampled_from([
        10**20, -(10**20), float("nan"), float("inf"), "now", object(),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=2))),
    ])
    bad_blob = st.sampled_from(["text", -1, 1.5, [256], object()])
