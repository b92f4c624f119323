"""Query-protocol input: flat ``Name.member.N.Field=value`` parameters into typed values.

The reference is botocore's ``QuerySerializer``: whatever it emits parses back here.
Structure members by their wire name (``locationName`` or member name); lists as
``Name.member.N`` (the member's ``locationName`` instead of ``member`` when it has one),
flattened lists as ``Name.N``; maps as ``Name.entry.N.key`` / ``.value``; an empty list
as ``Name=``.  Parameters that name no member (``Action``, ``Version``, signature
parameters, anything unknown) are ignored, as AWS ignores unknown Query parameters.

Errors (decisions, see also ``validation``):

- a value that cannot be read as the member's type (``Period=abc``, ``true``/``false``
  misspelt, bad timestamp or base64, an integer beyond int32/int64) ->
  ``InvalidParameterValue`` "Value abc for parameter Period is invalid. Reason: ...", the
  code the AWS common-errors table gives Query APIs for "an invalid or out-of-range value";
- parameters whose shape contradicts the model (``Statistics.member.x``,
  ``Namespace.member.1``, ``Dimensions=abc``) -> ``MalformedInput``, what AWS's Query
  front end answers for such requests ("Start of list found where not expected").

Legacy spellings: the caller may give, per string shape name, a function that turns a value
as old Query clients spell it into the value the model defines (the gateway gives one for
CloudWatch's ``StandardUnit``: ``Counter`` -> ``Count``, see ``cfn_gateway.dispatch``).  It
applies to every member of that shape in every operation, before validation; a value it
does not recognise is left for validation to refuse.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from cfn_gateway import errors
from cfn_gateway.protocol import timestamps
from cfn_gateway.protocol.limits import INT_RANGES

_INDEX = re.compile(r"[1-9][0-9]{0,8}")
_INTEGER = re.compile(r"[+-]?[0-9]{1,40}")
DOUBLE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,5})?")
_SPECIAL_DOUBLES = {"NaN": float("nan"), "Infinity": float("inf"),
                    "-Infinity": float("-inf")}
_SHOWN = 200  # characters of an offending value quoted in a message

# String shape name -> the modeled value for a value as sent (see the module docstring).
Spellings = Mapping[str, Callable[[str], str]]
_NO_SPELLINGS: Spellings = {}


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.value: str | None = None


def parse_query(params: dict[str, str], shape: StructureShape | None,
                spellings: Spellings = _NO_SPELLINGS) -> dict[str, Any]:
    """The operation input from Query parameters, with AWS member names as keys.

    ``spellings`` maps string shape names to the legacy spellings accepted for them.
    """
    if shape is None:
        return {}
    wanted = _members(shape)[2]
    root = _Node()
    for key, value in params.items():
        parts = key.split(".")
        if parts[0] not in wanted:
            continue
        node = root
        for part in parts:
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
            node = child
        node.value = value
    return _structure(root, shape, "", spellings)


#: Per structure shape (models are loaded once): the shape, its members as (name, shape,
#: Query key), and those keys.
_MemberKeys = tuple[tuple[str, Shape, str], ...]
_MEMBER_KEYS: dict[int, tuple[StructureShape, _MemberKeys, frozenset[str]]] = {}


def _members(shape: StructureShape) -> tuple[StructureShape, _MemberKeys, frozenset[str]]:
    found = _MEMBER_KEYS.get(id(shape))
    if found is None or found[0] is not shape:
        keys = tuple((name, member, query_key(member, name))
                     for name, member in shape.members.items())
        found = _MEMBER_KEYS[id(shape)] = (shape, keys, frozenset(key for *_, key in keys))
    return found


def member_keys(shape: StructureShape) -> frozenset[str]:
    """The Query names of ``shape``'s members (the first part of their parameters)."""
    return _members(shape)[2]


def query_key(member: Shape, name: str) -> str:
    """The Query name of the member ``name`` of a structure."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        item_name = member.member.serialization.get("name")
        if item_name:
            return item_name
    return member.serialization.get("name", name)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _value(node: _Node, shape: Shape, path: str, spellings: Spellings) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not node.children:
            if node.value:
                raise errors.MalformedInput(f"Unexpected value for structure {path}.")
            return {}
        return _structure(node, shape, path, spellings)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return _list(node, shape, path, spellings)
    if kind == "map":
        assert isinstance(shape, MapShape)
        return _map(node, shape, path, spellings)
    if node.children:
        found = "list" if "member" in node.children else "structure or map"
        raise errors.MalformedInput(f"Start of {found} found where not expected ({path}).")
    value = scalar(node.value or "", shape, path)
    respell = spellings.get(shape.name) if kind == "string" else None
    return respell(value) if respell is not None else value


def _structure(node: _Node, shape: StructureShape, path: str,
               spellings: Spellings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    children = node.children
    for name, member, key in _members(shape)[1]:
        child = children.get(key)
        if child is not None:
            out[name] = _value(child, member, _join(path, key), spellings)
    return out


def _items(node: _Node, shape: ListShape | MapShape, wrapper: str,
           path: str) -> list[tuple[str, _Node]]:
    """The numbered items of a list or map, in index order, with their paths.

    Items sit under ``wrapper`` (``member``, ``entry``, ...) unless the shape is flattened.
    """
    container = node
    if not shape.serialization.get("flattened"):
        inner = node.children.get(wrapper)
        if inner is None or len(node.children) > 1:
            other = next(k for k in node.children if k != wrapper)
            raise errors.MalformedInput(f"Unexpected element {_join(path, other)}.")
        container, path = inner, _join(path, wrapper)
    for index in container.children:
        if not _INDEX.fullmatch(index):
            raise errors.MalformedInput(f"Unexpected list element {_join(path, index)}.")
    ordered = sorted(container.children.items(), key=lambda item: int(item[0]))
    return [(_join(path, index), item) for index, item in ordered]


def _list(node: _Node, shape: ListShape, path: str, spellings: Spellings) -> list[Any]:
    if not node.children:
        if node.value:
            raise errors.MalformedInput(f"Expected a list for {path}, found a value.")
        return []
    wrapper = shape.member.serialization.get("name", "member")
    return [_value(item, shape.member, item_path, spellings)
            for item_path, item in _items(node, shape, wrapper, path)]


def _map(node: _Node, shape: MapShape, path: str, spellings: Spellings) -> dict[str, Any]:
    if not node.children:
        if node.value:
            raise errors.MalformedInput(f"Expected a map for {path}, found a value.")
        return {}
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    out: dict[str, Any] = {}
    for entry_path, entry in _items(node, shape, "entry", path):
        key_node, value_node = entry.children.get(key_name), entry.children.get(value_name)
        if key_node is None or value_node is None:
            raise errors.MalformedInput(f"Map entry {entry_path} needs a key and a value.")
        key = _value(key_node, shape.key, _join(entry_path, key_name), spellings)
        out[key] = _value(value_node, shape.value, _join(entry_path, value_name), spellings)
    return out


def _invalid(raw: str, path: str, reason: str) -> errors.AWSError:
    shown = raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "..."
    return errors.InvalidParameterValue(
        f"Value {shown} for parameter {path} is invalid. Reason: {reason}"
    )


def scalar(raw: str, shape: Shape, path: str) -> Any:
    """One Query scalar (also used for Query-style values elsewhere) as its model type."""
    kind = shape.type_name
    if kind == "string":
        return raw
    if kind in INT_RANGES:
        if not _INTEGER.fullmatch(raw):
            raise _invalid(raw, path, f"Must be an {kind}.")
        number = int(raw)
        low, high = INT_RANGES[kind]
        if not low <= number <= high:
            raise _invalid(raw, path, f"Out of range for an {kind}.")
        return number
    if kind in ("double", "float"):
        if raw in _SPECIAL_DOUBLES:
            return _SPECIAL_DOUBLES[raw]
        if not DOUBLE.fullmatch(raw):
            raise _invalid(raw, path, "Must be a number.")
        return float(raw)
    if kind == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise _invalid(raw, path, "Must be true or false.")
        return lowered == "true"
    if kind == "timestamp":
        value = timestamps.parse_text(raw)
        if value is None:
            raise _invalid(raw, path, "Must be an ISO 8601 timestamp or epoch seconds.")
        return value
    if kind == "blob":
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _invalid(raw, path, "Must be base64-encoded.") from exc
    raise errors.InternalFailure(f"Unsupported shape type {kind}.")
