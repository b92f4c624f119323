"""Rich, valid values for any botocore shape: every member, nested lists, maps, structures.

Values respect the model's constraints (enum, pattern, min/max length and value) so that
botocore's own validator and ours accept them.  Strings carry XML-special characters,
non-ASCII text, a supplementary-plane character and line breaks wherever the model
allows; numbers include int32/int64 extremes; timestamps with and without fractions.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from cfn_gateway.protocol import patterns
from cfn_gateway.protocol.limits import INT_RANGES

RICH = "välue <&>\"' ✓ 😀\r\n\tend"
STRING_CANDIDATES = [
    RICH,
    "välue <&>\"' ✓ 😀 end",
    "ascii <&>\"' text\r\n\tend",
    "ascii <&>\"' text",
    "a/b.c:(1)+%",
    "Name_1-x",
    "Name-1",
    "Average",
    "p99",
    "m5.*",
    "ami-0abc123",
    "default",
    "arn:aws:cloudwatch:us-east-1:123456789012:dataset/default",
    "arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
    "arn:aws:sns:us-east-1:123456789012:topic",
    "x",
]
INTEGERS = [7, 0, -3, 123456, 2**31 - 1, -(2**31)]
LONGS = [2**40 + 3, 2**63 - 1, -(2**63), 42]
DOUBLES = [1.5, -0.25, 1e-07, 12345.678, 1.5e300, 0.1, 42.0]
TIMESTAMPS = [
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=dt.UTC),
    dt.datetime(1999, 12, 31, 23, 59, 59, 123456, tzinfo=dt.UTC),
]
BLOBS = [b"\x00\xffbinary\x80 data", b"plain"]
MAX_DEPTH = 8


def utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class Generator:
    """Deterministic: the same shapes give the same values."""

    def __init__(self) -> None:
        self.turn = itertools.count()

    def pick(self, options: list[Any]) -> Any:
        return options[next(self.turn) % len(options)]

    def value(self, shape: Shape, depth: int = 0) -> Any:
        return getattr(self, f"gen_{shape.type_name}")(shape, depth)

    def gen_structure(self, shape: StructureShape, depth: int) -> dict[str, Any]:
        names = list(shape.members)
        if shape.is_tagged_union:
            names = [self.pick(names)]
        elif depth >= MAX_DEPTH:  # keep deep structures small, but never empty
            names = list(shape.required_members) or names[:1]
        return {name: self.value(shape.members[name], depth + 1) for name in names}

    def count(self, shape: Shape) -> int:
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 3)
        return max(low, min(2, high))

    def gen_list(self, shape: ListShape, depth: int) -> list[Any]:
        return [self.value(shape.member, depth + 1) for _ in range(self.count(shape))]

    def gen_map(self, shape: MapShape, depth: int) -> dict[str, Any]:
        wanted, out = self.count(shape), {}
        for _ in range(wanted * 10):
            if len(out) == wanted:
                break
            key = self.gen_string(shape.key, depth, unique=True)
            out[key] = self.value(shape.value, depth + 1)
        assert len(out) >= shape.metadata.get("min", 0), shape.name
        return out

    def gen_string(self, shape: Shape, depth: int, unique: bool = False) -> str:
        enum = shape.metadata.get("enum")
        if enum:
            return self.pick(enum)
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 10_000)
        pattern = shape.metadata.get("pattern")
        suffix = str(next(self.turn))
        for candidate in STRING_CANDIDATES:
            for text in (candidate + suffix, candidate) if unique else (candidate,):
                text = text[:high]
                while utf16_length(text) > high:
                    text = text[:-1]
                if pattern is None and len(text) < low:
                    text = text + "x" * (low - len(text))
                if low <= len(text) and utf16_length(text) <= high and (
                    pattern is None or patterns.matches(pattern, text)
                ):
                    return text
        raise AssertionError(f"no candidate string for {shape.name} ({pattern})")

    def number(self, shape: Shape, options: list[Any]) -> Any:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        value = self.pick(options)
        if (low is not None and value < low) or (high is not None and value > high):
            value = low if low is not None else high
            if low is not None and high is not None:
                value = (low + high) // 2 if isinstance(low, int) else (low + high) / 2
        return value

    def gen_integer(self, shape: Shape, depth: int) -> int:
        return self.number(shape, INTEGERS)

    def gen_long(self, shape: Shape, depth: int) -> int:
        value = self.number(shape, LONGS)
        low, high = INT_RANGES["long"]
        assert low <= value <= high
        return value

    def gen_double(self, shape: Shape, depth: int) -> float:
        return float(self.number(shape, DOUBLES))

    gen_float = gen_double

    def gen_boolean(self, shape: Shape, depth: int) -> bool:
        return self.pick([True, False])

    def gen_timestamp(self, shape: Shape, depth: int) -> dt.datetime:
        return self.pick(TIMESTAMPS)

    def gen_blob(self, shape: Shape, depth: int) -> bytes:
        return self.pick(BLOBS)
