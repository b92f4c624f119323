"""Query-protocol answers through per-operation functions compiled from the model.

``query_render`` (the reference) builds an lxml tree of the answer, element by element,
walking the output shape as it goes, then serializes it.  Here the same walk is written
out once per operation as Python source, on the operation's first answer, appending the
XML text itself: tags precomputed from the wire names in shape order, each scalar's text
by the reference's own ``scalar_text`` (doubles, strings and whole-second UTC times inline),
escaped as libxml2 escapes text (``&``, ``<``, ``>`` and carriage return).  The bytes are
the reference's, declaration and self-closed empty elements included
(``tests/unit/protocol/test_compiled_query_render.py`` compares them on every operation).
A day of datapoints at Period 60 renders several times faster.

Structures, lists and maps are written inline into their parent; a shape that contains
itself, or one nested too deep for one Python function, gets a function of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway.protocol.codegen import MAX_INDENT, Function, Module, finite, shape_key
from cfn_gateway.protocol.models import wire_name

#: The compiled answer: the handler's result and the request id -> the XML document.
Renderer = Callable[[dict[str, Any] | None, str], bytes]

#: Text in element content as libxml2 writes it.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _namespace() -> dict[str, Any]:
    from cfn_gateway.protocol import query_render  # (query_render calls this module)

    return {"_scalar": query_render.scalar_text, "_clean": query_render.xml_text,
            "_TEXT_ESCAPES": _TEXT_ESCAPES, "_datetime": dt.datetime, "_UTC": dt.UTC}


#: (service, operation) -> the compiled renderer of the operation's success answer.
_RENDERERS: dict[tuple[str, str], Renderer] = {}


def renderer(service: str, op: OperationModel) -> Renderer:
    """The compiled success answer of ``op`` (compiled on first use, then cached)."""
    key = (service, op.name)
    found = _RENDERERS.get(key)
    if found is None:
        found = _RENDERERS[key] = _Compiler(f"{service}.{op.name} query answer").compile(
            op, op.service_model.metadata["xmlNamespace"])
    return found


class _Compiler:
    def __init__(self, title: str) -> None:
        self.module = Module(title, _namespace())

    def compile(self, op: OperationModel, namespace: str) -> Renderer:
        fn = self.module.function("def render(result, request_id):")
        root = f"{op.name}Response"
        head = f"<?xml version='1.0' encoding='UTF-8'?>\n<{root} xmlns=\"{namespace}\">"
        fn.add(1, f"out = [{head!r}]")
        fn.add(1, "add = out.append")
        shape = op.output_shape
        if shape is not None:
            assert isinstance(shape, StructureShape)
            wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
            fn.add(1, "value = result or {}")
            self.element(fn, 1, wrapper, shape, "value", ())
        fn.add(1, "add('<ResponseMetadata><RequestId>')")
        fn.add(1, "add(_clean(request_id).translate(_TEXT_ESCAPES))")
        fn.add(1, f"add({f'</RequestId></ResponseMetadata></{root}>'!r})")
        fn.add(1, "return ''.join(out).encode('utf-8')")
        return self.module.build("render")

    def element(self, fn: Function, ind: int, name: str, shape: Shape, var: str,
                stack: tuple[str, ...]) -> None:
        """Write the element ``name`` holding ``var`` (the reference's ``fill``)."""
        kind = shape.type_name
        if kind not in ("structure", "list", "map"):
            text = self.module.fresh("t")
            fn.add(ind, f"{text} = {self.scalar(shape, var)}")
            fn.add(ind, f"add({f'<{name}>'!r} + {text} + {f'</{name}>'!r} if {text} "
                        f"else {f'<{name}></{name}>'!r})")
            return
        if shape.name in stack or ind > MAX_INDENT:
            function = self.module.shape_function(
                (shape_key(shape), name), "element_",
                lambda fname: self.function(fname, name, shape))
            fn.add(ind, f"{function}(add, out, {var})")
            return
        self.container(fn, ind, name, shape, var, stack)

    def container(self, fn: Function, ind: int, name: str, shape: Shape, var: str,
                  stack: tuple[str, ...]) -> None:
        """The element ``name`` around its children; ``<name/>`` when it has none."""
        mark = self.module.fresh("m")
        fn.add(ind, f"{mark} = len(out)")
        fn.add(ind, f"add({f'<{name}>'!r})")
        getattr(self, f"w_{shape.type_name}")(fn, ind, shape, var, (*stack, shape.name))
        fn.add(ind, f"if len(out) == {mark} + 1:")
        fn.add(ind + 1, f"out[{mark}] = {f'<{name}/>'!r}")
        fn.add(ind, "else:")
        fn.add(ind + 1, f"add({f'</{name}>'!r})")

    def function(self, fname: str, name: str, shape: Shape) -> None:
        fn = self.module.function(f"def {fname}(add, out, value):")
        self.container(fn, 1, name, shape, "value", ())

    def w_structure(self, fn: Function, ind: int, shape: StructureShape, var: str,
                    stack: tuple[str, ...]) -> None:
        for name, member in shape.members.items():
            item = self.module.fresh("v")
            fn.add(ind, f"{item} = {var}.get({name!r})")
            fn.add(ind, f"if {item} is not None:")
            self.member(fn, ind + 1, wire_name(member, name), member, item, stack)

    def member(self, fn: Function, ind: int, name: str, shape: Shape, var: str,
               stack: tuple[str, ...]) -> None:
        """``var`` as the element(s) ``name`` (the reference's ``member``)."""
        flattened = shape.serialization.get("flattened")
        if shape.type_name == "list" and flattened:
            assert isinstance(shape, ListShape)
            self.items(fn, ind, shape.member.serialization.get("name", name), shape.member,
                       var, (*stack, shape.name))
        elif shape.type_name == "map" and flattened:
            assert isinstance(shape, MapShape)
            self.entries(fn, ind, name, shape, var, (*stack, shape.name))
        else:
            self.element(fn, ind, name, shape, var, stack)

    def items(self, fn: Function, ind: int, name: str, shape: Shape, var: str,
              stack: tuple[str, ...]) -> None:
        item = self.module.fresh("i")
        fn.add(ind, f"for {item} in {var}:")
        fn.add(ind + 1, f"if {item} is not None:")
        self.element(fn, ind + 2, name, shape, item, stack)

    def entries(self, fn: Function, ind: int, name: str, shape: MapShape, var: str,
                stack: tuple[str, ...]) -> None:
        key, item = self.module.fresh("k"), self.module.fresh("i")
        fn.add(ind, f"for {key}, {item} in {var}.items():")
        fn.add(ind + 1, f"if {item} is not None:")
        fn.add(ind + 2, f"add({f'<{name}>'!r})")
        self.element(fn, ind + 2, shape.key.serialization.get("name", "key"), shape.key,
                     key, stack)
        self.element(fn, ind + 2, shape.value.serialization.get("name", "value"),
                     shape.value, item, stack)
        fn.add(ind + 2, f"add({f'</{name}>'!r})")

    def w_list(self, fn: Function, ind: int, shape: ListShape, var: str,
               stack: tuple[str, ...]) -> None:
        self.items(fn, ind, shape.member.serialization.get("name", "member"), shape.member,
                   var, stack)

    def w_map(self, fn: Function, ind: int, shape: MapShape, var: str,
              stack: tuple[str, ...]) -> None:
        self.entries(fn, ind, "entry", shape, var, stack)

    def scalar(self, shape: Shape, var: str) -> str:
        """The expression of ``var``'s escaped text (the reference's ``scalar_text``)."""
        kind = shape.type_name
        reference = f"_scalar({var}, {self.module.constant(shape, 'S')})"
        if kind == "string":
            return (f"(_clean({var}) if type({var}) is str else {reference})"
                    ".translate(_TEXT_ESCAPES)")
        if kind in ("double", "float"):
            return (f"repr({var}) if type({var}) is float and {finite(var)} "
                    f"else {reference}")
        if kind == "timestamp":  # ``timestamps.to_iso`` inline for whole UTC seconds
            return (f"{var}.isoformat()[:-6] + 'Z' if type({var}) is _datetime and "
                    f"{var}.tzinfo is _UTC and not {var}.microsecond else {reference}")
        return reference  # digits, true/false, ISO 8601 or base64: nothing to escape
