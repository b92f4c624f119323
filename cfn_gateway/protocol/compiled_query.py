"""Query-protocol input through per-operation functions compiled from the model, for
parameters in the form clients send.

``query_parser.parse_query`` (the reference) first builds a tree of every parameter name,
then walks it shape by shape.  Here that walk is written out once per operation as Python
source, on the operation's first Query request: each member's parameter is looked up by
its whole name (``MetricData.member.3.Value``), the items of a list or map are read by
counting up from 1 until an item has no parameter, and scalars are converted by the
reference's own ``scalar`` (doubles inline when they match its pattern, time stamps
remembered: the data of one request mostly share one).  A 1000-datum
PutMetricData takes a tenth of the reference's time.

The contract is ``fast_json``'s: ``parse_query`` answers params only when they equal the
reference's (same keys in the same order, same types and values); otherwise it answers
``None`` and the reference parses, raising its AWS errors.  This module never produces an
error.  The compiled function counts the parameters it read; the answer is kept only when
that is every parameter named after a member of the input (the reference ignores the
others, such as ``Action`` and ``Version``).  So anything off the common form goes to the
reference: an index with a leading zero or a gap, a member the model does not know, a
value beside a list or inside a structure's name, a map entry without its key or value,
any value the conversion refuses.  Shapes that contain themselves (none in the two
services' models) leave the whole operation to the reference.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway.errors import AWSError
from cfn_gateway.protocol import query_parser, timestamps
from cfn_gateway.protocol.codegen import MAX_INDENT, Function, Module
from cfn_gateway.protocol.query_parser import Spellings, query_key

#: The compiled walk of the parameters, given how many it may read at most (it stops
#: looking for list and map items once it has read that many): the params and how many
#: parameters it read.
Walk = Callable[[dict[str, str], int], tuple[dict[str, Any], int]]


class _OffForm(Exception):
    """Parameters off the common form: the reference decides."""


class _Uncompilable(Exception):
    """A shape this compiler leaves to the reference."""


def _off_form() -> None:
    raise _OffForm


@functools.lru_cache(maxsize=4096)
def _time(text: str) -> dt.datetime | None:
    """``timestamps.parse_text``, remembered (the data of a request share one time)."""
    return timestamps.parse_text(text)


_NAMESPACE: dict[str, Any] = {
    "_scalar": query_parser.scalar,
    "_double": query_parser.DOUBLE.fullmatch,
    "_time": _time,
    "_off_form": _off_form,
}

#: Parameters that requests carry besides the input's members: the action, the version,
#: and those of a signature in the query string.
_USUAL_OTHERS = ("Action", "Version", "AWSAccessKeyId", "Signature", "SignatureMethod",
                 "SignatureVersion", "Timestamp", "Expires", "SecurityToken",
                 "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                 "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token")


@dataclass(frozen=True)
class CompiledQuery:
    """One operation's compiled walk, the names of its input's members, and the usual
    other parameters that name none of them."""

    walk: Walk
    members: frozenset[str]
    usual_others: tuple[str, ...]

    def most(self, params: dict[str, str]) -> int:
        """How many parameters the walk may read at most: all but the usual others."""
        return len(params) - sum(1 for key in self.usual_others if key in params)

    def read_all(self, params: dict[str, str], read: int, most: int) -> bool:
        """Whether the ``read`` parameters the walk read are all those whose name starts
        with a member's (the reference reads just those)."""
        if read == most:
            return True
        members = self.members
        return read == sum(1 for key in params if key.partition(".")[0] in members)


_NO_SPELLINGS: Spellings = {}
#: (service, operation, id of the spellings) -> (the spellings, the compiled walk or None).
_COMPILED: dict[tuple[str, str, int], tuple[Spellings, CompiledQuery | None]] = {}


def parse_query(params: dict[str, str], op: OperationModel,
                spellings: Spellings = _NO_SPELLINGS) -> dict[str, Any] | None:
    """The params ``query_parser.parse_query`` would answer, or None (see the module)."""
    compiled = compiled_query(op, spellings or _NO_SPELLINGS)
    if compiled is None:
        return None
    most = compiled.most(params)
    try:
        out, read = compiled.walk(params, most)
    except (_OffForm, AWSError):
        return None
    return out if compiled.read_all(params, read, most) else None


def compiled_query(op: OperationModel, spellings: Spellings) -> CompiledQuery | None:
    """The compiled walk of ``op``'s input (compiled on first use, then cached)."""
    key = (op.service_model.service_name, op.name, id(spellings))
    found = _COMPILED.get(key)
    if found is None or found[0] is not spellings:
        found = _COMPILED[key] = (spellings, _compile(op, spellings))
    return found[1]


def _compile(op: OperationModel, spellings: Spellings) -> CompiledQuery | None:
    shape = op.input_shape
    if shape is None:
        return None
    title = f"{op.service_model.service_name}.{op.name} query"
    try:
        walk = _Compiler(title, spellings).compile(shape)
    except _Uncompilable:
        return None
    members = query_parser.member_keys(shape)
    usual_others = tuple(key for key in _USUAL_OTHERS if key not in members)
    return CompiledQuery(walk, members, usual_others)


#: Where the names of a shape's parameters begin: a variable holding text (or None)
#: and literal text after it.
Prefix = tuple[str | None, str]
_TOP: Prefix = (None, "")


def _name(prefix: Prefix, part: str) -> str:
    """The expression of the parameter name ``prefix`` + ``part``."""
    variable, text = prefix
    return repr(text + part) if variable is None else f"{variable} + {text + part!r}"


class _Compiler:
    def __init__(self, title: str, spellings: Spellings) -> None:
        self.module = Module(title, _NAMESPACE)
        self.spellings = spellings

    def compile(self, shape: StructureShape) -> Walk:
        fn = self.module.function("def walk(params, most):")
        fn.add(1, "n = 0")
        out = self.structure(fn, 1, shape, _TOP, ())
        fn.add(1, f"return {out}, n")
        return self.module.build("walk")

    def structure(self, fn: Function, ind: int, shape: StructureShape, prefix: Prefix,
                  stack: tuple[str, ...]) -> str:
        """Write the members of a structure; the variable holding them."""
        if shape.name in stack or ind > MAX_INDENT:
            raise _Uncompilable(shape.name)
        out = self.module.fresh("o")
        fn.add(ind, f"{out} = {{}}")
        inner = (*stack, shape.name)
        for name, member in shape.members.items():
            self.member(fn, ind, member, _name(prefix, query_key(member, name)),
                        f"{out}[{name!r}]", inner)
        return out

    def member(self, fn: Function, ind: int, shape: Shape, key: str, target: str,
               stack: tuple[str, ...]) -> None:
        """Write ``target = <value>`` when the parameters hold the value of the expression
        ``key``; ``n`` counts the parameters read."""
        kind = shape.type_name
        if kind not in ("structure", "list", "map"):
            value = self.module.fresh("v")
            fn.add(ind, f"{value} = params.get({key})")
            fn.add(ind, f"if {value} is not None:")
            fn.add(ind + 1, "n += 1")
            fn.add(ind + 1, f"{target} = {self.scalar(shape, value)}")
            return
        # A container: the names of its parts start with the key and a dot; the key
        # itself with an empty value stands for an empty one, as in the reference.
        name, before, empty = (self.module.fresh(p) for p in ("k", "m", "e"))
        fn.add(ind, f"{name} = {key}")
        fn.add(ind, f"{before} = n")
        value = getattr(self, f"w_{kind}")(fn, ind, shape, (name, "."), stack)
        fn.add(ind, f"if n != {before}:")
        fn.add(ind + 1, f"{target} = {value}")
        fn.add(ind, f"elif ({empty} := params.get({name})) is not None:")
        fn.add(ind + 1, f"if {empty}:")
        fn.add(ind + 2, "_off_form()")
        fn.add(ind + 1, "n += 1")
        fn.add(ind + 1, f"{target} = {'[]' if kind == 'list' else '{}'}")

    w_structure = structure

    def items(self, fn: Function, ind: int, prefix: Prefix) -> tuple[str, str]:
        """Open the loop over the numbered items under ``prefix``; the variables of the
        item's name and of the count before the item."""
        index, item, before = (self.module.fresh(p) for p in ("i", "p", "m"))
        fn.add(ind, f"{index} = 0")
        fn.add(ind, "while n < most:  # (at most: no parameter is left to read)")
        fn.add(ind + 1, f"{index} += 1")
        fn.add(ind + 1, f"{item} = {_name(prefix, '')} + str({index})")
        fn.add(ind + 1, f"{before} = n")
        return item, before

    def w_list(self, fn: Function, ind: int, shape: ListShape, prefix: Prefix,
               stack: tuple[str, ...]) -> str:
        if not shape.serialization.get("flattened"):
            wrapper = shape.member.serialization.get("name", "member")
            prefix = (prefix[0], f"{prefix[1]}{wrapper}.")
        out, target = self.module.fresh("l"), self.module.fresh("x")
        fn.add(ind, f"{out} = []")
        item, before = self.items(fn, ind, prefix)
        self.member(fn, ind + 1, shape.member, item, target, (*stack, shape.name))
        fn.add(ind + 1, f"if n == {before}:")
        fn.add(ind + 2, "break")
        fn.add(ind + 1, f"{out}.append({target})")
        return out

    def w_map(self, fn: Function, ind: int, shape: MapShape, prefix: Prefix,
              stack: tuple[str, ...]) -> str:
        if not shape.serialization.get("flattened"):
            prefix = (prefix[0], f"{prefix[1]}entry.")
        out, key, value, middle = (self.module.fresh(p) for p in ("d", "x", "x", "m"))
        fn.add(ind, f"{out} = {{}}")
        item, before = self.items(fn, ind, prefix)
        inner = (*stack, shape.name)
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        self.member(fn, ind + 1, shape.key, _name((item, "."), key_name), key, inner)
        fn.add(ind + 1, f"{middle} = n")
        self.member(fn, ind + 1, shape.value, _name((item, "."), value_name), value, inner)
        fn.add(ind + 1, f"if n == {before}:")
        fn.add(ind + 2, "break")
        fn.add(ind + 1, f"if {middle} == {before} or n == {middle}:")
        fn.add(ind + 2, "_off_form()  # a key without its value, or the reverse")
        fn.add(ind + 1, f"{out}[{key}] = {value}")
        return out

    def scalar(self, shape: Shape, value: str) -> str:
        """The expression converting the text ``value`` as the reference does (with its
        own ``scalar``, without a path: a refused value goes to the reference)."""
        kind = shape.type_name
        if kind == "string":
            respell = self.spellings.get(shape.name)
            if respell is None:
                return value
            return f"{self.module.constant(respell, 'R')}({value})"
        if kind == "timestamp":
            return f"_time({value}) or _off_form()"  # (a datetime is never false)
        converted = f"_scalar({value}, {self.module.constant(shape, 'S')}, '')"
        if kind in ("double", "float"):
            return f"float({value}) if _double({value}) else {converted}"
        return converted
