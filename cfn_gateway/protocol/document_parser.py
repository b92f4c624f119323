"""JSON 1.0 and RPC v2 CBOR input: a request body into typed values of the input shape.

Both bodies are one document (a JSON object, a CBOR map) keyed by wire member names; an
empty body is the empty input.  JSON carries timestamps as epoch seconds and blobs as
base64 text; CBOR carries timestamps as tag 1 (epoch seconds) and blobs as byte strings.
Doubles may also be the strings ``NaN``, ``Infinity`` and ``-Infinity``.  ``null`` for
a member means the member is absent.  Members the model does not know are ignored.

Anything that is not well-formed for the operation -> ``SerializationException`` (400),
as AWS's JSON front end answers (``com.amazon.coral.service#SerializationException``):
bytes that do not decode, a top level that is no object, a value of the wrong type (a
string where a list belongs), ``null`` inside a list or map, an integer beyond
int32/int64 for its shape, bare ``NaN``/``Infinity`` JSON tokens, bad base64.

The walk here is the reference: requests go through the per-operation functions
``compiled_document`` generates from it, which hand every value off their fast paths back
to this walker's handlers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import math
from typing import Any

import cbor2
from botocore.model import ListShape, MapShape, Shape, StructureShape

from cfn_gateway import errors
from cfn_gateway.protocol import timestamps
from cfn_gateway.protocol.limits import INT_RANGES
from cfn_gateway.protocol.models import wire_name

_SPECIAL_DOUBLES = {"NaN": float("nan"), "Infinity": float("inf"),
                    "-Infinity": float("-inf")}
_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
               int: "an integer", float: "a number", bytes: "a byte string"}


def parse_json(payload: bytes, shape: StructureShape | None) -> dict[str, Any]:
    if not payload.strip():
        return {}
    return _top(load_json(payload), shape, cbor=False)


def parse_cbor(payload: bytes, shape: StructureShape | None) -> dict[str, Any]:
    if not payload:
        return {}
    return _top(load_cbor(payload), shape, cbor=True)


def load_json(payload: bytes) -> Any:
    """The decoded JSON document of a non-empty body."""
    try:
        # What json.loads(payload, parse_constant=...) does, without a decoder per call.
        text = payload.decode(json.detect_encoding(payload), "surrogatepass")
        return _JSON_DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise errors.SerializationException("The request body is not valid JSON.") from exc


def load_cbor(payload: bytes) -> Any:
    """The decoded CBOR item of a non-empty body (exactly one item)."""
    stream = io.BytesIO(payload)
    try:
        document = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError,
            MemoryError) as exc:
        raise errors.SerializationException("The request body is not valid CBOR.") from exc
    if stream.tell() != len(payload):
        raise errors.SerializationException("The request body has data after its CBOR item.")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _top(document: Any, shape: StructureShape | None, cbor: bool) -> dict[str, Any]:
    check_top(document)
    if shape is None:
        return {}
    return walker(cbor).t_structure(document, shape, "")


def check_top(document: Any) -> None:
    """Refuse a document whose top level is no object."""
    if not isinstance(document, dict):
        raise errors.SerializationException("The request body must be an object.")


def walker(cbor: bool) -> _Walker:
    """The (stateless) walker of JSON or CBOR documents."""
    return _WALKERS[cbor]


def wrong_type(value: Any, path: str, expected: str) -> errors.AWSError:
    """The error for a value of the wrong type at ``path``."""
    where = path or "the top level"
    return errors.SerializationException(
        f"Expected {expected} at {where}, found {_describe(value)}."
    )


def _absent(value: Any) -> bool:
    return value is None or value is cbor2.undefined


def _describe(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    return "null" if _absent(value) else f"a {type(value).__name__}"


class _Walker:
    """Checks and converts one decoded document against the model's shapes."""

    def __init__(self, cbor: bool) -> None:
        self.cbor = cbor

    def wrong(self, value: Any, path: str, expected: str) -> errors.AWSError:
        return wrong_type(value, path, expected)

    def value(self, value: Any, shape: Shape, path: str) -> Any:
        handler = getattr(self, f"t_{shape.type_name}", None)
        if handler is None:
            raise errors.InternalFailure(f"Unsupported shape type {shape.type_name}.")
        return handler(value, shape, path)

    def t_structure(self, value: Any, shape: StructureShape, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.wrong(value, path, "an object")
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(wire_name(member, name))
            if not _absent(item):
                out[name] = self.value(item, member, f"{path}.{name}" if path else name)
        return out

    def t_list(self, value: Any, shape: ListShape, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.wrong(value, path, "a list")
        out = []
        for index, item in enumerate(value, 1):
            item_path = f"{path}.member.{index}"
            if _absent(item):
                raise self.wrong(item, item_path, "a value")
            out.append(self.value(item, shape.member, item_path))
        return out

    def t_map(self, value: Any, shape: MapShape, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.wrong(value, path, "an object")
        out: dict[str, Any] = {}
        for key, item in value.items():
            key_text = self.t_string(key, shape.key, f"{path} (a key)")
            item_path = f"{path}.{key_text}"
            if _absent(item):
                raise self.wrong(item, item_path, "a value")
            out[key_text] = self.value(item, shape.value, item_path)
        return out

    def t_string(self, value: Any, shape: Shape, path: str) -> str:
        if not isinstance(value, str):
            raise self.wrong(value, path, "a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise errors.SerializationException(f"Invalid Unicode text at {path}.") from exc
        return value

    def t_integer(self, value: Any, shape: Shape, path: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.wrong(value, path, f"an {shape.type_name}")
        low, high = INT_RANGES[shape.type_name]
        if not low <= value <= high:
            raise errors.SerializationException(
                f"Value {value} at {path} is out of range for an {shape.type_name}."
            )
        return value

    t_long = t_integer

    def t_double(self, value: Any, shape: Shape, path: str) -> float:
        if isinstance(value, str) and value in _SPECIAL_DOUBLES:
            return _SPECIAL_DOUBLES[value]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.wrong(value, path, "a number")
        try:
            return float(value)
        except OverflowError as exc:
            raise errors.SerializationException(f"Number at {path} is too large.") from exc

    t_float = t_double

    def t_boolean(self, value: Any, shape: Shape, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.wrong(value, path, "a boolean")
        return value

    def t_timestamp(self, value: Any, shape: Shape, path: str) -> dt.datetime:
        if self.cbor and isinstance(value, dt.datetime):
            result = timestamps.in_utc(value)
        else:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise self.wrong(value, path, "epoch seconds")
            if isinstance(value, float) and not math.isfinite(value):
                raise self.wrong(value, path, "finite epoch seconds")
            result = timestamps.from_epoch(value)
        if result is None:
            raise errors.SerializationException(f"Timestamp at {path} is out of range.")
        return result

    def t_blob(self, value: Any, shape: Shape, path: str) -> bytes:
        if self.cbor:
            if not isinstance(value, (bytes, bytearray)):
                raise self.wrong(value, path, "a byte string")
            return bytes(value)
        if not isinstance(value, str):
            raise self.wrong(value, path, "base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise errors.SerializationException(f"Invalid base64 at {path}.") from exc


_WALKERS = {False: _Walker(cbor=False), True: _Walker(cbor=True)}
