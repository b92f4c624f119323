"""Validation of parsed parameters against the model's constraints, with AWS's answers.

Checked: required members, Python types, length of strings (UTF-16 code units, as Java
counts), lists, maps and blobs, min/max of numbers, int32/int64 ranges, enums, patterns
(whole-value match, see ``patterns``), unions having exactly one member set.

Decisions, each from what the services answer on the wire:

- A constraint violation -> ``ValidationError`` (400) with AWS's front-end wording, every
  violation listed: "1 validation error detected: Value 'INVALID' at 'stateValue' failed
  to satisfy constraint: Member must satisfy enum value set: [OK, ALARM,
  INSUFFICIENT_DATA]".  Real CloudWatch answers exactly this (code ``ValidationError``,
  same text in Query, JSON and CBOR; only the order of the enum set may differ: we use
  the model's).  Paths are member names with a lower-case first letter, list items as
  ``name.N.member``; the value of a ``sensitive`` shape is not quoted.
- A missing required member in CloudWatch -> ``MissingParameter`` "The parameter
  Namespace is required." (nested: "The parameter MetricData.member.1.MetricName is
  required."), CloudWatch's long-standing Query answer, also modeled for its JSON and
  CBOR protocols (``MissingRequiredParameterException``, code ``MissingParameter``); the
  first missing member in model order is named.
- A missing required member in Auto Scaling -> ``ValidationError`` "1 validation error
  detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member
  must not be null", reported together with any other violation.
- Numbers beyond int32 (``integer``) or int64 (``long``) -> ``ValidationError`` here;
  the parsers already refuse them on the wire (see ``query_parser``, ``document_parser``).
- Unknown members are not an error (the parsers drop them, as AWS ignores them).

The walk here is the reference: requests are checked by the per-operation functions
``compiled_validation`` generates, which share ``violation`` and ``raise_for``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway import errors
from cfn_gateway.context import CLOUDWATCH
from cfn_gateway.protocol import patterns
from cfn_gateway.protocol.limits import INT_RANGES
from cfn_gateway.protocol.models import wire_name

PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "long": (int,), "double": (int, float),
    "float": (int, float), "boolean": (bool,), "timestamp": (dt.datetime,),
    "blob": (bytes, bytearray), "structure": (dict,), "list": (list, tuple),
    "map": (dict,),
}


def validate_params(op: OperationModel, params: dict[str, Any]) -> None:
    """Raise the AWS error for the first kind of problem found in ``params``, if any.

    The interpretive walk, kept as the reference of ``compiled_validation``."""
    shape = op.input_shape
    if shape is None:
        return
    service = op.service_model.service_name
    checker = _Checker(missing_is_violation=service != CLOUDWATCH)
    checker.structure(params, shape, "", "")
    raise_for(checker.missing, checker.violations)


def raise_for(missing: list[str], violations: list[str]) -> None:
    """``MissingParameter`` for the first missing member, else one ``ValidationError``
    listing every violation; nothing when both are empty."""
    if missing:
        raise errors.MissingParameter(f"The parameter {missing[0]} is required.")
    if violations:
        count = len(violations)
        plural = "error" if count == 1 else "errors"
        raise errors.ValidationError(
            f"{count} validation {plural} detected: {'; '.join(violations)}"
        )


def violation(value: Any, sensitive: bool, path: str, constraint: str) -> str:
    """One violation as AWS words it (the value of a sensitive shape is not quoted)."""
    if value is None:
        shown = "null"
    elif sensitive:
        shown = ""
    else:
        shown = f"'{_java_text(value)}'"
    where = f"Value {shown} at" if shown else "Value at"
    return f"{where} '{path}' failed to satisfy constraint: Member must {constraint}"


def camel(name: str) -> str:
    """A member name as AWS paths write it (lower-case first letter)."""
    return name[:1].lower() + name[1:]


def _java_text(value: Any) -> str:
    """Roughly how Java prints a value in a validation message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    return str(value)


def utf16_length(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class _Checker:
    def __init__(self, missing_is_violation: bool) -> None:
        self.missing_is_violation = missing_is_violation
        self.missing: list[str] = []
        self.violations: list[str] = []

    def fail(self, value: Any, shape: Shape, path: str, constraint: str) -> None:
        self.violations.append(
            violation(value, bool(shape.metadata.get("sensitive")), path, constraint))

    def value(self, value: Any, shape: Shape, path: str, query_path: str) -> None:
        kind = shape.type_name
        if not isinstance(value, PYTHON_TYPES.get(kind, (object,))) or (
            kind in ("integer", "long", "double", "float") and isinstance(value, bool)
        ):
            self.fail(value, shape, path, f"be of type {kind}")
            return
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            self.structure(value, shape, path, query_path)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            self.sized(value, shape, path, len(value))
            item_name = shape.member.serialization.get("name", "member")
            for index, item in enumerate(value, 1):
                item_path = f"{path}.{index}.member"
                item_query = f"{query_path}.{item_name}.{index}"
                if item is None:
                    self.fail(None, shape.member, item_path, "not be null")
                else:
                    self.value(item, shape.member, item_path, item_query)
        elif kind == "map":
            assert isinstance(shape, MapShape)
            self.sized(value, shape, path, len(value))
            for index, (key, item) in enumerate(value.items(), 1):
                entry = f"{query_path}.entry.{index}"
                self.value(key, shape.key, f"{path}.{index}.key", f"{entry}.key")
                self.value(item, shape.value, f"{path}.{index}.value", f"{entry}.value")
        elif kind == "string":
            self.string(value, shape, path)
        elif kind in ("integer", "long", "double", "float"):
            self.number(value, shape, path)
        elif kind == "blob":
            self.sized(value, shape, path, len(value))

    def structure(self, value: dict[str, Any], shape: StructureShape, path: str,
                  query_path: str) -> None:
        for name in shape.required_members:
            if value.get(name) is None:
                member_path = f"{path}.{camel(name)}" if path else camel(name)
                if self.missing_is_violation:
                    self.fail(None, shape.members[name], member_path, "not be null")
                else:
                    wire = wire_name(shape.members[name], name)
                    self.missing.append(f"{query_path}.{wire}" if query_path else wire)
        if shape.is_tagged_union and len([v for v in value.values() if v is not None]) != 1:
            self.fail(value, shape, path or "input", "have exactly one member set")
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                continue
            wire = wire_name(member, name)
            self.value(item, member, f"{path}.{camel(name)}" if path else camel(name),
                       f"{query_path}.{wire}" if query_path else wire)

    def sized(self, value: Any, shape: Shape, path: str, size: int) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            self.fail(value, shape, path, f"have length greater than or equal to {low}")
        if high is not None and size > high:
            self.fail(value, shape, path, f"have length less than or equal to {high}")

    def string(self, value: str, shape: Shape, path: str) -> None:
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            self.fail(value, shape, path, f"satisfy enum value set: [{', '.join(enum)}]")
        self.sized(value, shape, path, utf16_length(value))
        pattern = shape.metadata.get("pattern")
        if pattern and not patterns.matches(pattern, value):
            self.fail(value, shape, path, f"satisfy regular expression pattern: {pattern}")

    def number(self, value: float, shape: Shape, path: str) -> None:
        if shape.type_name in INT_RANGES:
            low, high = INT_RANGES[shape.type_name]
            if not low <= value <= high:
                self.fail(value, shape, path, f"fit in an {shape.type_name}")
                return
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.fail(value, shape, path, f"have value greater than or equal to {low}")
        if high is not None and value > high:
            self.fail(value, shape, path, f"have value less than or equal to {high}")
