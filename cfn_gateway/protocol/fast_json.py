"""JSON 1.0 request bodies decoded and validated in one pass in C (msgspec), for valid input.

The reference path of a JSON body is ``json`` -> ``compiled_document`` (types, wire names)
-> ``compiled_validation`` (the model's constraints).  Here each operation's input shape
becomes, once, a tree of ``msgspec.Struct`` types carrying the same rules: required
members, ``Literal`` enums, lengths, int32/int64 ranges and model min/max as
``msgspec.Meta`` constraints, patterns (anchored), list and map sizes.  A body that
decodes into them is valid; ``msgspec.to_builtins`` turns the Structs into the reference's
dicts (members in model order, absent ones left out), and a small Python pass converts
what msgspec cannot produce as the reference does: epoch seconds into ``datetime``,
base64 into ``bytes``; it also checks unions (exactly one member) and patterns naming
Unicode categories (compiled on first use, as the validator does).  A handler that reads
the Structs themselves (``decode``; ``api.registry.decoded_action``) is spared
``to_builtins``, which for a thousand PutMetricData members costs more than decoding them.

The contract: ``parse_json`` answers params only when the reference would accept the body
and produce exactly equal params (same keys in the same order, same types and values);
otherwise it answers ``None`` and the reference parses and validates, raising the AWS
error as it always has.  This module never produces an error message.  Besides anything
msgspec refuses, these go to the reference:

- a member the model does not know (the reference ignores it, but msgspec would skip its
  value unchecked: invalid UTF-8, nesting too deep for the reference's ``json``);
- ``null`` for a member (the reference reads it as absent);
- text whose UTF-16 length may differ from its length in code points (a 4-byte UTF-8
  sequence, or a ``\\uD8..``-``\\uDF..`` escape): models count UTF-16 units;
- ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` for doubles, and numbers beyond a double;
- a member whose wire name differs from its member name, a shape containing itself, a
  shape type msgspec cannot express, a structure with no possible valid value.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import msgspec
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway.protocol import patterns, timestamps
from cfn_gateway.protocol.codegen import MAX_INDENT, Function, Module, shape_key
from cfn_gateway.protocol.limits import INT_RANGES
from cfn_gateway.protocol.models import wire_name
from cfn_gateway.protocol.validation import utf16_length

#: The post-decoding step: makes decoded params the reference's, in place (raises
#: ``_Refused`` for a value the fast path leaves to the reference).
Fixer = Callable[[dict[str, Any]], Any]

# Lead bytes of 4-byte UTF-8 sequences (code points beyond the BMP) and beyond.
_WIDE_UTF8 = re.compile(rb"[\xf0-\xff]")
# Escapes of UTF-16 surrogates: a pair is one code point of UTF-16 length 2.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_EPOCH = timestamps.EPOCH
_EPOCH_LOW, _EPOCH_HIGH = timestamps.INLINE_EPOCH_LOW, timestamps.INLINE_EPOCH_HIGH
_timedelta = dt.timedelta


class _Refused(Exception):
    """A value the fast path does not accept: the reference decides."""


class _Never:
    """A type no JSON value decodes into (see ``_dec_hook``)."""


def _dec_hook(kind: type, value: Any) -> Any:
    raise ValueError("left to the reference path")


@dataclass(frozen=True)
class FastDecoder:
    """One operation's decoder and post-decoding step."""

    decoder: msgspec.json.Decoder[Any]
    fix: Fixer | None

    def parse(self, payload: bytes) -> dict[str, Any] | None:
        """The params of a valid body, or None: the reference decides."""
        decoded = self.decode(payload)
        return None if decoded is None else self.params(decoded)

    def decode(self, payload: bytes) -> Any | None:
        """A valid body as the operation's structs (members by their names, absent ones
        ``msgspec.UNSET``, timestamps still epoch seconds), or None: the reference decides.
        ``params`` turns it into the params ``parse`` answers."""
        if not payload.isascii() and _WIDE_UTF8.search(payload) is not None:
            return None
        # (find of one byte is a memchr: much faster than looking for two)
        if payload.find(b"\\") != -1 and _SURROGATE_ESCAPE.search(payload) is not None:
            return None
        try:
            return self.decoder.decode(payload)
        except msgspec.MsgspecError:
            return None

    def params(self, decoded: Any) -> dict[str, Any] | None:
        """The params of what ``decode`` answered, or None: the reference decides."""
        params: dict[str, Any] = msgspec.to_builtins(decoded)
        if self.fix is not None:
            try:
                self.fix(params)
            except _Refused:
                return None
        return params


#: (service, operation) -> the operation's fast decoder, or None when it has none.
_DECODERS: dict[tuple[str, str], FastDecoder | None] = {}


def parse_json(payload: bytes, op: OperationModel) -> dict[str, Any] | None:
    """The validated input of ``op`` from a JSON body, or None: the reference decides."""
    found = decoder(op)
    return None if found is None else found.parse(payload)


def decoder(op: OperationModel) -> FastDecoder | None:
    """The cached fast decoder of ``op`` (None: the operation has none)."""
    key = (op.service_model.service_name, op.name)
    try:
        return _DECODERS[key]
    except KeyError:
        found = _DECODERS[key] = build(op.input_shape, f"{key[0]}.{key[1]} fast json")
        return found


def build(shape: StructureShape | None, title: str = "fast decoder") -> FastDecoder | None:
    """The fast decoder of an input shape; None when there is no input shape (or it cannot
    be expressed at all)."""
    if shape is None:
        return None
    builder = _Builder()
    kind = builder.value(shape, ())
    if kind is _Never:
        return None
    fix = _FixCompiler(builder, title).compile(shape) if builder.needs_fix(shape) else None
    return FastDecoder(msgspec.json.Decoder(kind, dec_hook=_dec_hook), fix)


def _constrained(kind: Any, **meta: Any) -> Any:
    bounds = {name: value for name, value in meta.items() if value is not None}
    return Annotated[kind, msgspec.Meta(**bounds)] if bounds else kind


def _sizes(shape: Shape) -> dict[str, Any]:
    return {"min_length": shape.metadata.get("min"), "max_length": shape.metadata.get("max")}


def _category_pattern(shape: Shape) -> str | None:
    """The pattern of a string shape checked after decoding (it names Unicode categories,
    costly to compile: compiled on first use, as the validator does)."""
    pattern = shape.metadata.get("pattern")
    if pattern and not shape.metadata.get("enum") and patterns.uses_categories(pattern):
        return str(pattern)
    return None


class _Builder:
    """The msgspec types of one operation's shapes, and which shapes need fixing after."""

    def __init__(self) -> None:
        self.memo: dict[tuple[str, str, str], Any] = {}
        #: shape key -> whether decoded values of the shape need the post-decoding step.
        self.fixes: dict[tuple[str, str, str], bool] = {}

    def needs_fix(self, shape: Shape) -> bool:
        return self.fixes.get(shape_key(shape), False)

    def value(self, shape: Shape, stack: tuple[str, ...]) -> Any:
        if shape.name in stack:
            return _Never
        key = shape_key(shape)
        found = self.memo.get(key)
        if found is None:
            write = getattr(self, f"t_{shape.type_name}", None)
            found = _Never if write is None else write(shape, (*stack, shape.name))
            self.memo[key] = found
            self.fixes[key] = found is not _Never and self.fixed(shape)
        return found

    def fixed(self, shape: Shape) -> bool:
        kind = shape.type_name
        if kind == "structure":
            return shape.is_tagged_union or any(
                self.needs_fix(member) for member in shape.members.values())
        if kind == "list":
            return self.needs_fix(shape.member)
        if kind == "map":
            return _category_pattern(shape.key) is not None or self.needs_fix(shape.value)
        if kind == "string":
            return _category_pattern(shape) is not None
        return kind in ("timestamp", "blob")

    def t_structure(self, shape: StructureShape, stack: tuple[str, ...]) -> Any:
        fields: list[tuple[Any, ...]] = []
        rename: dict[str, str] = {}
        required = set(shape.required_members)
        for name, member in shape.members.items():
            if not name.isidentifier() or name.startswith("_"):
                return _Never
            kind = self.value(member, stack)
            wire = wire_name(member, name)
            if wire != name:  # to_builtins would name it by its wire name
                kind = _Never
                rename[name] = wire
            if name in required:
                fields.append((name, kind))
            else:
                fields.append((name, Union[kind, msgspec.UnsetType],  # noqa: UP007
                               msgspec.UNSET))
        return msgspec.defstruct(shape.name, fields, kw_only=True, forbid_unknown_fields=True,
                                 rename=rename or None, gc=False)

    def t_list(self, shape: ListShape, stack: tuple[str, ...]) -> Any:
        kind = self.value(shape.member, stack)
        return _constrained(list[kind], **_sizes(shape))  # type: ignore[valid-type]

    def t_map(self, shape: MapShape, stack: tuple[str, ...]) -> Any:
        key = self.t_string(shape.key, stack)
        if key is _Never:
            return _Never
        kind = self.value(shape.value, stack)
        return _constrained(dict[key, kind], **_sizes(shape))  # type: ignore[valid-type]

    def t_string(self, shape: Shape, stack: tuple[str, ...]) -> Any:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        pattern = shape.metadata.get("pattern")
        enum = shape.metadata.get("enum")
        if enum:
            allowed = tuple(value for value in enum
                            if (low is None or utf16_length(value) >= low)
                            and (high is None or utf16_length(value) <= high)
                            and (not pattern or patterns.matches(pattern, value)))
            return Literal[allowed] if allowed else _Never
        anchored = None
        if pattern and _category_pattern(shape) is None:
            anchored = rf"(?s)\A(?:{patterns.translate(pattern)})\Z"
            re.compile(anchored)
        return _constrained(str, min_length=low, max_length=high, pattern=anchored)

    def t_integer(self, shape: Shape, stack: tuple[str, ...]) -> Any:
        low, high = INT_RANGES[shape.type_name]
        if shape.metadata.get("min") is not None:
            low = max(low, math.ceil(shape.metadata["min"]))
        if shape.metadata.get("max") is not None:
            high = min(high, math.floor(shape.metadata["max"]))
        if low > high:
            return _Never
        return Annotated[int, msgspec.Meta(ge=low, le=high)]

    t_long = t_integer

    def t_double(self, shape: Shape, stack: tuple[str, ...]) -> Any:
        return _constrained(float, ge=shape.metadata.get("min"), le=shape.metadata.get("max"))

    t_float = t_double

    def t_boolean(self, shape: Shape, stack: tuple[str, ...]) -> Any:
        return bool

    def t_timestamp(self, shape: Shape, stack: tuple[str, ...]) -> Any:
        return Union[int, float]  # noqa: UP007

    def t_blob(self, shape: Shape, stack: tuple[str, ...]) -> Any:
        return str


def epoch_time(value: int | float) -> dt.datetime | None:
    """A decoded timestamp (epoch seconds) as the reference reads it; None when out of
    range (the reference decides).  Well inside years 1-9999 without a range check."""
    if _EPOCH_LOW < value < _EPOCH_HIGH:
        if type(value) is float:
            return _EPOCH + _timedelta(0, 0, round(value * 1000000))
        return _EPOCH + _timedelta(0, value)
    return timestamps.from_epoch(value)


def _timestamp(value: int | float) -> dt.datetime:
    """``epoch_time``; out of range: the reference decides."""
    moment = epoch_time(value)
    if moment is None:
        raise _Refused
    return moment


def _blob(value: str, low: int | None, high: int | None) -> bytes:
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Refused from exc
    if (low is not None and len(data) < low) or (high is not None and len(data) > high):
        raise _Refused
    return data


_NAMESPACE: dict[str, Any] = {
    "_Refused": _Refused,
    "_timestamp": _timestamp,
    "_blob": _blob,
    "_matches": patterns.matches,
}


class _FixCompiler:
    """Writes the post-decoding step of an operation as one Python function (``codegen``):
    it walks only the members whose shapes need it, in the dicts ``to_builtins`` made."""

    def __init__(self, builder: _Builder, title: str) -> None:
        self.builder = builder
        self.module = Module(title, _NAMESPACE)

    def compile(self, shape: StructureShape) -> Fixer:
        entry = self.module.function("def fix(value):")
        # Epoch seconds -> datetime, once per distinct value in the body (clients send
        # one timestamp for many datums); equal numbers, int or float, are equal times.
        entry.add(1, "times = {}")
        self.w_structure(entry, 1, shape, "value", ())
        entry.add(1, "return value")
        return self.module.build("fix")

    def value(self, fn: Function, ind: int, shape: Shape, var: str,
              stack: tuple[str, ...]) -> str | None:
        """Write the fixing of ``var``: the expression of its new value, or None when it
        is fixed in place."""
        kind = shape.type_name
        if kind in ("structure", "list", "map") and ind > MAX_INDENT:
            name = self.module.shape_function(
                shape_key(shape), "fix_", lambda name: self.function(name, shape, stack))
            fn.add(ind, f"{name}({var}, times)")
            return None
        return getattr(self, f"w_{kind}")(fn, ind, shape, var, stack)

    def function(self, name: str, shape: Shape, stack: tuple[str, ...]) -> None:
        fn = self.module.function(f"def {name}(value, times):")
        getattr(self, f"w_{shape.type_name}")(fn, 1, shape, "value", stack)
        fn.add(1, "return")

    def w_structure(self, fn: Function, ind: int, shape: StructureShape, var: str,
                    stack: tuple[str, ...]) -> None:
        if shape.is_tagged_union:
            fn.add(ind, f"if len({var}) != 1:")
            fn.add(ind + 1, "raise _Refused")
        inner = (*stack, shape.name)
        for name, member in shape.members.items():
            if member.name in inner or not self.builder.needs_fix(member):
                continue
            item = self.module.fresh("v")
            fn.add(ind, f"{item} = {var}.get({name!r})")
            fn.add(ind, f"if {item} is not None:")
            before = len(fn.lines)
            result = self.value(fn, ind + 1, member, item, inner)
            if result:
                fn.add(ind + 1, f"{var}[{name!r}] = {result}")
            elif len(fn.lines) == before:
                fn.add(ind + 1, "pass")

    def w_list(self, fn: Function, ind: int, shape: ListShape, var: str,
               stack: tuple[str, ...]) -> None:
        index, item = self.module.fresh("i"), self.module.fresh("v")
        fn.add(ind, f"for {index}, {item} in enumerate({var}):")
        before = len(fn.lines)
        result = self.value(fn, ind + 1, shape.member, item, (*stack, shape.name))
        if result:
            fn.add(ind + 1, f"{var}[{index}] = {result}")
        elif len(fn.lines) == before:
            fn.add(ind + 1, "pass")

    def w_map(self, fn: Function, ind: int, shape: MapShape, var: str,
              stack: tuple[str, ...]) -> None:
        key, item = self.module.fresh("k"), self.module.fresh("v")
        fn.add(ind, f"for {key}, {item} in {var}.items():")
        before = len(fn.lines)
        self.w_string(fn, ind + 1, shape.key, key, stack)
        if self.builder.needs_fix(shape.value) and shape.value.name not in stack:
            result = self.value(fn, ind + 1, shape.value, item, (*stack, shape.name))
            if result:  # a new value for a key it has: the dict keeps its size and order
                fn.add(ind + 1, f"{var}[{key}] = {result}")
        if len(fn.lines) == before:
            fn.add(ind + 1, "pass")

    def w_string(self, fn: Function, ind: int, shape: Shape, var: str,
                 stack: tuple[str, ...]) -> None:
        pattern = _category_pattern(shape)
        if pattern is not None:
            fn.add(ind, f"if not _matches({self.module.constant(pattern, 'P')}, {var}):")
            fn.add(ind + 1, "raise _Refused")

    def w_timestamp(self, fn: Function, ind: int, shape: Shape, var: str,
                    stack: tuple[str, ...]) -> str:
        # msgspec gives an int or a finite float.
        result = self.module.fresh("t")
        fn.add(ind, f"{result} = times.get({var})")
        fn.add(ind, f"if {result} is None:")
        fn.add(ind + 1, f"{result} = times[{var}] = _timestamp({var})")
        return result

    def w_blob(self, fn: Function, ind: int, shape: Shape, var: str,
               stack: tuple[str, ...]) -> str:
        return f"_blob({var}, {shape.metadata.get('min')!r}, {shape.metadata.get('max')!r})"
