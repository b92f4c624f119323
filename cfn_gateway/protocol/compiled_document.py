"""JSON 1.0 and RPC v2 CBOR input through per-operation functions compiled from the model.

``document_parser`` walks a decoded document shape by shape, looking up each member's wire
name and handler as it goes.  Here the same walk is written out once per operation and
flavour (JSON or CBOR) as Python source, on the operation's first request: member lookups
by precomputed wire names, inline type checks for the common case of each scalar type,
and paths for messages built only when an error is raised.  Anything off the common case
(a non-ASCII string, a special double, an integer out of range, a blob, any wrong type)
goes to the reference walker's own handler for that value, so values and errors are
exactly those of ``document_parser``.

Structures, lists and maps are written inline into their parent; a shape that contains
itself, or one nested too deep for one Python function, gets a function of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import cbor2
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway.protocol import document_parser, timestamps
from cfn_gateway.protocol.codegen import (
    MAX_INDENT,
    PATH_PARAMETER,
    Function,
    Module,
    Path,
    Var,
    shape_key,
)
from cfn_gateway.protocol.limits import INT_RANGES
from cfn_gateway.protocol.models import wire_name

Decoder = Callable[[dict[str, Any]], dict[str, Any]]

_NAMESPACE: dict[str, Any] = {
    "_UNDEF": cbor2.undefined,
    "_wrong": document_parser.wrong_type,
    "_EPOCH": timestamps.EPOCH,
    "_timedelta": dt.timedelta,
    "_in_utc": timestamps.in_utc,
    "_datetime": dt.datetime,
}
_CONTAINERS = ("structure", "list", "map")
_EPOCH_LOW, _EPOCH_HIGH = timestamps.INLINE_EPOCH_LOW, timestamps.INLINE_EPOCH_HIGH

#: (service, operation, cbor) -> the operation's compiled decoder.
_DECODERS: dict[tuple[str, str, bool], Decoder] = {}


def parse_json(payload: bytes, op: OperationModel) -> dict[str, Any]:
    """``document_parser.parse_json`` for the input of ``op``."""
    if not payload.strip():
        return {}
    return parse_document(document_parser.load_json(payload), op, cbor=False)


def parse_cbor(payload: bytes, op: OperationModel) -> dict[str, Any]:
    """``document_parser.parse_cbor`` for the input of ``op``."""
    if not payload:
        return {}
    return parse_document(document_parser.load_cbor(payload), op, cbor=True)


def parse_document(document: Any, op: OperationModel, cbor: bool) -> dict[str, Any]:
    """A decoded document as the input of ``op``."""
    document_parser.check_top(document)
    if op.input_shape is None:
        return {}
    return decoder(op, cbor)(document)


def decoder(op: OperationModel, cbor: bool) -> Decoder:
    """The compiled decoder of ``op``'s input (compiled on first use, then cached)."""
    key = (op.service_model.service_name, op.name, cbor)
    found = _DECODERS.get(key)
    if found is None:
        flavour = "cbor" if cbor else "json"
        found = _DECODERS[key] = compile_decoder(op.input_shape, cbor,
                                                 f"{key[0]}.{key[1]} {flavour}")
    return found


def compile_decoder(shape: StructureShape, cbor: bool, title: str = "decoder") -> Decoder:
    """A function doing what ``document_parser``'s walk of ``shape`` does."""
    return _Compiler(cbor, title).compile(shape)


class _Compiler:
    def __init__(self, cbor: bool, title: str) -> None:
        self.walker = document_parser.walker(cbor)
        self.cbor = cbor
        self.module = Module(title, _NAMESPACE)
        self.handlers: dict[str, str] = {}

    def compile(self, shape: StructureShape) -> Decoder:
        entry = self.module.function("def decode(document):")
        result = self.w_structure(entry, 1, shape, "document", Path(), ())
        entry.add(1, f"return {result}")
        return self.module.build("decode")

    def handler(self, kind: str) -> str:
        """The reference walker's handler of ``kind``, bound to a name."""
        name = self.handlers.get(kind)
        if name is None:
            name = self.handlers[kind] = self.module.constant(
                getattr(self.walker, kind if kind == "value" else f"t_{kind}"), f"t_{kind}_")
        return name

    def value(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
              stack: tuple[str, ...]) -> str:
        """Write the decoding of ``var``; the name of the variable holding the result."""
        kind = shape.type_name
        if kind in _CONTAINERS and (shape.name in stack or ind > MAX_INDENT):
            name = self.module.shape_function(
                shape_key(shape), "decode_", lambda name: self.function(name, shape))
            result = self.module.fresh("r")
            fn.add(ind, f"{result} = {name}({var}, {path.expr()})")
            return result
        write = getattr(self, f"w_{kind}", None)
        if write is None:
            result = self.module.fresh("r")
            fn.add(ind, f"{result} = {self.handler('value')}({var}, {self.shape(shape)}, "
                        f"{path.expr()})")
            return result
        return write(fn, ind, shape, var, path, stack)

    def function(self, name: str, shape: Shape) -> None:
        fn = self.module.function(f"def {name}(value, path):")
        result = getattr(self, f"w_{shape.type_name}")(fn, 1, shape, "value", PATH_PARAMETER,
                                                (shape.name,))
        fn.add(1, f"return {result}")

    def shape(self, shape: Shape) -> str:
        return self.module.constant(shape, "S")

    def w_structure(self, fn: Function, ind: int, shape: StructureShape, var: str,
                  path: Path, stack: tuple[str, ...]) -> str:
        fn.add(ind, f"if not isinstance({var}, dict):")
        fn.add(ind + 1, f"raise _wrong({var}, {path.expr()}, 'an object')")
        out = self.module.fresh("o")
        fn.add(ind, f"{out} = {{}}")
        inner = (*stack, shape.name)
        for name, member in shape.members.items():
            item = self.module.fresh("v")
            wire = wire_name(member, name)
            fn.add(ind, f"{item} = {var}.get({wire!r})")
            fn.add(ind, f"if {item} is not None and {item} is not _UNDEF:")
            result = self.value(fn, ind + 1, member, item, path.join(name), inner)
            fn.add(ind + 1, f"{out}[{name!r}] = {result}")
        return out

    def w_list(self, fn: Function, ind: int, shape: ListShape, var: str, path: Path,
             stack: tuple[str, ...]) -> str:
        fn.add(ind, f"if not isinstance({var}, list):")
        fn.add(ind + 1, f"raise _wrong({var}, {path.expr()}, 'a list')")
        out, index, item = (self.module.fresh(p) for p in ("o", "i", "v"))
        item_path = path.plus(".member.", Var(index))
        fn.add(ind, f"{out} = []")
        fn.add(ind, f"for {index}, {item} in enumerate({var}, 1):")
        fn.add(ind + 1, f"if {item} is None or {item} is _UNDEF:")
        fn.add(ind + 2, f"raise _wrong({item}, {item_path.expr()}, 'a value')")
        result = self.value(fn, ind + 1, shape.member, item, item_path,
                            (*stack, shape.name))
        fn.add(ind + 1, f"{out}.append({result})")
        return out

    def w_map(self, fn: Function, ind: int, shape: MapShape, var: str, path: Path,
            stack: tuple[str, ...]) -> str:
        fn.add(ind, f"if not isinstance({var}, dict):")
        fn.add(ind + 1, f"raise _wrong({var}, {path.expr()}, 'an object')")
        out, key, item = (self.module.fresh(p) for p in ("o", "k", "v"))
        fn.add(ind, f"{out} = {{}}")
        fn.add(ind, f"for {key}, {item} in {var}.items():")
        self.w_string(fn, ind + 1, shape.key, key, path.plus(" (a key)"), stack)
        item_path = path.plus(".", Var(key, text=True))
        fn.add(ind + 1, f"if {item} is None or {item} is _UNDEF:")
        fn.add(ind + 2, f"raise _wrong({item}, {item_path.expr()}, 'a value')")
        result = self.value(fn, ind + 1, shape.value, item, item_path, (*stack, shape.name))
        fn.add(ind + 1, f"{out}[{key}] = {result}")
        return out

    def w_string(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
               stack: tuple[str, ...]) -> str:
        fn.add(ind, f"if type({var}) is not str or not {var}.isascii():")
        fn.add(ind + 1, f"{self.handler('string')}({var}, {self.shape(shape)}, "
                        f"{path.expr()})")
        return var

    def w_integer(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
                stack: tuple[str, ...]) -> str:
        low, high = INT_RANGES[shape.type_name]
        fn.add(ind, f"if type({var}) is not int or not {low} <= {var} <= {high}:")
        fn.add(ind + 1, f"{var} = {self.handler(shape.type_name)}({var}, "
                        f"{self.shape(shape)}, {path.expr()})")
        return var

    w_long = w_integer

    def w_double(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
               stack: tuple[str, ...]) -> str:
        result = self.module.fresh("r")
        fn.add(ind, f"{result} = {var} if type({var}) is float else "
                    f"{self.handler(shape.type_name)}({var}, {self.shape(shape)}, "
                    f"{path.expr()})")
        return result

    w_float = w_double

    def w_boolean(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
                stack: tuple[str, ...]) -> str:
        fn.add(ind, f"if type({var}) is not bool:")
        fn.add(ind + 1, f"{var} = {self.handler('boolean')}({var}, {self.shape(shape)}, "
                        f"{path.expr()})")
        return var

    def w_timestamp(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
                    stack: tuple[str, ...]) -> str:
        # ``timestamps.from_epoch`` inline for epoch seconds well inside years 1-9999
        # (timedelta(0, s) is timedelta(seconds=s)); anything else goes to the reference.
        result = self.module.fresh("r")
        fast = (f"_EPOCH + _timedelta(0, 0, round({var} * 1000000)) "
                f"if type({var}) is float and {_EPOCH_LOW} < {var} < {_EPOCH_HIGH} "
                f"else _EPOCH + _timedelta(0, {var}) "
                f"if type({var}) is int and {_EPOCH_LOW} < {var} < {_EPOCH_HIGH} ")
        if self.cbor:
            fast += f"else _in_utc({var}) if type({var}) is _datetime "
        fn.add(ind, f"{result} = {fast}else None")
        fn.add(ind, f"if {result} is None:")
        fn.add(ind + 1, f"{result} = {self.handler('timestamp')}({var}, "
                        f"{self.shape(shape)}, {path.expr()})")
        return result

    def w_blob(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
             stack: tuple[str, ...]) -> str:
        result = self.module.fresh("r")
        fn.add(ind, f"{result} = {self.handler('blob')}({var}, {self.shape(shape)}, "
                    f"{path.expr()})")
        return result
