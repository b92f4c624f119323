"""JSON 1.0 and RPC v2 CBOR answers through per-operation functions compiled from the model.

``document_render``'s converter walks a handler's result shape by shape, looking up each
member's wire name and dispatching on its type as it goes.  Here the same walk is written
out once per operation and flavour (JSON or CBOR) as Python source, on the operation's
first answer: members read by name and stored under precomputed wire names in shape
order, and an inline fast path for the common case of each scalar type (a ``str`` for a
string, an ``int`` for an integer, a finite ``float`` for a double, an aware UTC
``datetime`` for a timestamp).  Anything off the common case (a number as a string, a
special double in JSON, a naive or other-zone datetime, epoch seconds for a timestamp, a
shape type of no known kind) goes to the reference converter's own ``value`` for that
value, so documents and errors are exactly those of the reference.

Structures, lists and maps are written inline into their parent; a shape that contains
itself, or one nested too deep for one Python function, gets a function of its own.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

import cbor2
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway.protocol import timestamps
from cfn_gateway.protocol.codegen import MAX_INDENT, Function, Module, finite, shape_key
from cfn_gateway.protocol.models import wire_name

Renderer = Callable[[Any], dict[str, Any]]


class Reference(Protocol):
    """The interpretive converter the compiled functions stand for (and fall back on)."""

    cbor: bool

    def value(self, value: Any, shape: Shape) -> Any: ...


_NAMESPACE: dict[str, Any] = {
    "_Tag": cbor2.CBORTag,
    "_EPOCH": timestamps.EPOCH,
    "_SECOND": dt.timedelta(seconds=1),
    "_UTC": dt.UTC,
    "_datetime": dt.datetime,
    "_b64encode": base64.b64encode,
}
_CONTAINERS = ("structure", "list", "map")

#: (service, operation, cbor) -> the compiled renderer of the operation's output.
_RENDERERS: dict[tuple[str, str, bool], Renderer] = {}


def renderer(op: OperationModel, reference: Reference) -> Renderer:
    """The compiled renderer of ``op``'s output shape in the flavour of ``reference``
    (compiled on first use, then cached per operation and flavour)."""
    key = (op.service_model.service_name, op.name, reference.cbor)
    found = _RENDERERS.get(key)
    if found is None:
        shape = op.output_shape
        assert isinstance(shape, StructureShape), f"{op.name} has no output shape"
        flavour = "cbor" if reference.cbor else "json"
        found = _RENDERERS[key] = compile_renderer(shape, reference,
                                                   f"{key[0]}.{key[1]} {flavour} answer")
    return found


def compile_renderer(shape: StructureShape, reference: Reference,
                     title: str = "renderer") -> Renderer:
    """A function of a result dict doing what ``reference.value(result, shape)`` does."""
    return _Compiler(reference, title).compile(shape)


class _Compiler:
    def __init__(self, reference: Reference, title: str) -> None:
        self.cbor = reference.cbor
        self.module = Module(title, {**_NAMESPACE, "_value": reference.value})

    def compile(self, shape: StructureShape) -> Renderer:
        entry = self.module.function("def render(result):")
        out = self.w_structure(entry, 1, shape, "result", ())
        entry.add(1, f"return {out}")
        return self.module.build("render")

    def shape(self, shape: Shape) -> str:
        return self.module.constant(shape, "S")

    def fallback(self, shape: Shape, var: str) -> str:
        return f"_value({var}, {self.shape(shape)})"

    def inline(self, shape: Shape, stack: tuple[str, ...], ind: int) -> bool:
        """Whether ``shape`` is a container written into its parent's function."""
        return (shape.type_name in _CONTAINERS and shape.name not in stack
                and ind <= MAX_INDENT)

    def value(self, fn: Function, ind: int, shape: Shape, var: str,
              stack: tuple[str, ...]) -> str:
        """Write the rendering of ``var`` (never None); an expression of the result."""
        if self.inline(shape, stack, ind):
            return getattr(self, f"w_{shape.type_name}")(fn, ind, shape, var, stack)
        return self.expression(shape, var)

    def expression(self, shape: Shape, var: str) -> str:
        """The rendering of ``var`` as one expression (a scalar, or a container rendered
        by a function of its own)."""
        kind = shape.type_name
        if kind in _CONTAINERS:
            name = self.module.shape_function(
                shape_key(shape), "render_", lambda name: self.function(name, shape))
            return f"{name}({var})"
        write = getattr(self, f"e_{kind}", None)
        if write is None:
            return self.fallback(shape, var)
        return write(shape, var)

    def function(self, name: str, shape: Shape) -> None:
        fn = self.module.function(f"def {name}(value):")
        out = getattr(self, f"w_{shape.type_name}")(fn, 1, shape, "value", (shape.name,))
        fn.add(1, f"return {out}")

    # --- containers: statements, the name of the variable holding the result ---------

    def w_structure(self, fn: Function, ind: int, shape: StructureShape, var: str,
                    stack: tuple[str, ...]) -> str:
        out = self.module.fresh("o")
        fn.add(ind, f"{out} = {{}}")
        inner = (*stack, shape.name)
        for name, member in shape.members.items():
            item = self.module.fresh("v")
            fn.add(ind, f"{item} = {var}.get({name!r})")
            fn.add(ind, f"if {item} is not None:")
            result = self.value(fn, ind + 1, member, item, inner)
            fn.add(ind + 1, f"{out}[{wire_name(member, name)!r}] = {result}")
        return out

    def w_list(self, fn: Function, ind: int, shape: ListShape, var: str,
               stack: tuple[str, ...]) -> str:
        out, item = self.module.fresh("o"), self.module.fresh("v")
        inner = (*stack, shape.name)
        if not self.inline(shape.member, inner, ind + 2):
            fn.add(ind, f"{out} = [{self.expression(shape.member, item)} "
                        f"for {item} in {var} if {item} is not None]")
            return out
        fn.add(ind, f"{out} = []")
        fn.add(ind, f"for {item} in {var}:")
        fn.add(ind + 1, f"if {item} is not None:")
        result = self.value(fn, ind + 2, shape.member, item, inner)
        fn.add(ind + 2, f"{out}.append({result})")
        return out

    def w_map(self, fn: Function, ind: int, shape: MapShape, var: str,
              stack: tuple[str, ...]) -> str:
        out, key, item = (self.module.fresh(prefix) for prefix in ("o", "k", "v"))
        inner = (*stack, shape.name)
        text = f"({key} if type({key}) is str else str({key}))"
        if not self.inline(shape.value, inner, ind + 2):
            fn.add(ind, f"{out} = {{{text}: {self.expression(shape.value, item)} "
                        f"for {key}, {item} in {var}.items() if {item} is not None}}")
            return out
        # The key goes through str() before the value is rendered, as in a comprehension.
        fn.add(ind, f"{out} = {{}}")
        fn.add(ind, f"for {key}, {item} in {var}.items():")
        fn.add(ind + 1, f"if {item} is not None:")
        fn.add(ind + 2, f"{key} = {text}")
        result = self.value(fn, ind + 2, shape.value, item, inner)
        fn.add(ind + 2, f"{out}[{key}] = {result}")
        return out

    # --- scalars: one expression each ---------------------------------------------------

    def e_string(self, shape: Shape, var: str) -> str:
        return f"({var} if type({var}) is str else str({var}))"

    def e_boolean(self, shape: Shape, var: str) -> str:
        return f"({var} if type({var}) is bool else bool({var}))"

    def e_integer(self, shape: Shape, var: str) -> str:
        return f"({var} if type({var}) is int else int({var}))"

    e_long = e_integer

    def e_double(self, shape: Shape, var: str) -> str:
        test = f"type({var}) is float"
        if not self.cbor:  # JSON spells non-finite doubles as strings
            test += " and " + finite(var)
        return f"({var} if {test} else {self.fallback(shape, var)})"

    e_float = e_double

    def e_timestamp(self, shape: Shape, var: str) -> str:
        # ``timestamps.to_epoch`` for an aware UTC datetime: whole seconds as an int, else
        # microseconds / 10**6 (timedelta / timedelta divides the microsecond counts).
        delta = self.module.fresh("d")
        seconds = (f"({delta}.days * 86400 + {delta}.seconds "
                   f"if not ({delta} := {var} - _EPOCH).microseconds "
                   f"else {delta} / _SECOND)")
        if self.cbor:
            seconds = f"_Tag(1, {seconds})"
        return (f"({seconds} if type({var}) is _datetime and {var}.tzinfo is _UTC "
                f"else {self.fallback(shape, var)})")

    def e_blob(self, shape: Shape, var: str) -> str:
        if self.cbor:
            return f"bytes({var})"
        return f"_b64encode(bytes({var})).decode('ascii')"
