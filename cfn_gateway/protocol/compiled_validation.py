"""Validation through per-operation functions compiled from the model.

``validation`` checks parameters by walking the model shape by shape.  Here the same walk
is written out once per operation (on its first request) as Python source: required
members, types, lengths in UTF-16 code units, min/max, int32/int64 ranges, enums (as sets),
patterns (compiled once), unions, with the constraint texts precomputed and paths built
only for a violation.  Violations and missing members are collected in the reference's
order and answered by the reference's ``raise_for``, so the errors are exactly those of
``validation.validate_params``.

Structures, lists and maps are written inline into their parent; a shape that contains
itself, or one nested too deep for one Python function, gets a function of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway.context import CLOUDWATCH
from cfn_gateway.protocol import patterns, validation
from cfn_gateway.protocol.codegen import (
    MAX_INDENT,
    Function,
    Module,
    Path,
    Var,
    shape_key,
)
from cfn_gateway.protocol.limits import INT_RANGES
from cfn_gateway.protocol.models import wire_name

#: params -> (missing members, violations), as the reference collects them.
Checker = Callable[[dict[str, Any]], tuple[list[str], list[str]]]

_NAMESPACE: dict[str, Any] = {
    "_violation": validation.violation,
    "_utf16_length": validation.utf16_length,
    "_compiled": patterns.compiled,
}
_CONTAINERS = ("structure", "list", "map")
_NUMBERS = ("integer", "long", "double", "float")

#: (service, operation) -> the operation's compiled checker.
_CHECKERS: dict[tuple[str, str], Checker] = {}


def validate_params(op: OperationModel, params: dict[str, Any]) -> None:
    """``validation.validate_params``: the AWS error for ``params``, if any."""
    if op.input_shape is None:
        return
    missing, violations = checker(op)(params)
    if missing or violations:
        validation.raise_for(missing, violations)


def checker(op: OperationModel) -> Checker:
    """The compiled checker of ``op``'s input (compiled on first use, then cached)."""
    key = (op.service_model.service_name, op.name)
    found = _CHECKERS.get(key)
    if found is None:
        found = _CHECKERS[key] = compile_checker(
            op.input_shape, missing_is_violation=key[0] != CLOUDWATCH,
            title=f"{key[0]}.{key[1]} validation")
    return found


def compile_checker(shape: StructureShape, missing_is_violation: bool,
                    title: str = "checker") -> Checker:
    """A function collecting what ``validation``'s walk of ``shape`` collects."""
    return _Compiler(missing_is_violation, title).compile(shape)


class _Compiler:
    def __init__(self, missing_is_violation: bool, title: str) -> None:
        self.missing_is_violation = missing_is_violation
        self.module = Module(title, _NAMESPACE)

    def compile(self, shape: StructureShape) -> Checker:
        entry = self.module.function("def check(params):")
        entry.add(1, "missing = []")
        entry.add(1, "violations = []")
        # As the reference: the top level is walked as a structure without a type check.
        self.w_structure(entry, 1, shape, "params", Path(), Path(), ())
        entry.add(1, "return missing, violations")
        return self.module.build("check")

    def fail(self, fn: Function, ind: int, value: str, shape: Shape | None, path: Path,
             constraint: str) -> None:
        """Write the recording of a violation (``shape`` None: the value is null)."""
        sensitive = bool(shape is not None and shape.metadata.get("sensitive"))
        fn.add(ind, f"violations.append(_violation({value}, {sensitive}, {path.expr()}, "
                    f"{self.module.constant(constraint, 'C')}))")

    def value(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
              query: Path, stack: tuple[str, ...]) -> None:
        """Write the checks of ``var`` (any value, even None) against ``shape``."""
        kind = shape.type_name
        types = validation.PYTHON_TYPES.get(kind)
        if types is None:
            return
        names = ", ".join(self.module.constant(kind_type, "T") for kind_type in types)
        wrong = f"not isinstance({var}, {names if len(types) == 1 else f'({names})'})"
        if kind in _NUMBERS:
            exact = " and ".join(f"type({var}) is not {self.module.constant(t, 'T')}"
                                 for t in types)
            wrong = f"{exact} and ({wrong} or isinstance({var}, bool))"
        fn.add(ind, f"if {wrong}:")
        self.fail(fn, ind + 1, var, shape, path, f"be of type {kind}")
        write = getattr(self, f"w_{kind}", None)
        if write is None:
            return
        fn.add(ind, "else:")
        if kind in _CONTAINERS and (shape.name in stack or ind > MAX_INDENT):
            name = self.module.shape_function(
                shape_key(shape), "check_", lambda name: self.function(name, shape))
            fn.add(ind + 1, f"{name}({var}, {path.expr()}, {query.expr()}, missing, "
                            f"violations)")
            return
        before = len(fn.lines)
        write(fn, ind + 1, shape, var, path, query, stack)
        if len(fn.lines) == before:
            fn.add(ind + 1, "pass")

    def function(self, name: str, shape: Shape) -> None:
        fn = self.module.function(f"def {name}(value, path, query, missing, violations):")
        dynamic = Path((Var("path", text=True),))
        dynamic_query = Path((Var("query", text=True),))
        getattr(self, f"w_{shape.type_name}")(fn, 1, shape, "value", dynamic, dynamic_query,
                                              (shape.name,))
        fn.add(1, "return")

    def w_structure(self, fn: Function, ind: int, shape: StructureShape, var: str,
                    path: Path, query: Path, stack: tuple[str, ...]) -> None:
        items = {}
        for name in shape.members:
            items[name] = self.module.fresh("v")
            fn.add(ind, f"{items[name]} = {var}.get({name!r})")
        for name in shape.required_members:
            member = shape.members[name]
            fn.add(ind, f"if {items[name]} is None:")
            if self.missing_is_violation:
                self.fail(fn, ind + 1, "None", None, path.join(validation.camel(name)),
                          "not be null")
            else:
                fn.add(ind + 1, f"missing.append({query.join(wire_name(member, name)).expr()})")
        if shape.is_tagged_union:
            fn.add(ind, f"if len([x for x in {var}.values() if x is not None]) != 1:")
            self.fail(fn, ind + 1, var, shape, Path(("input",)) if path.empty else path,
                      "have exactly one member set")
        inner = (*stack, shape.name)
        for name, member in shape.members.items():
            fn.add(ind, f"if {items[name]} is not None:")
            before = len(fn.lines)
            self.value(fn, ind + 1, member, items[name], path.join(validation.camel(name)),
                       query.join(wire_name(member, name)), inner)
            if len(fn.lines) == before:
                fn.add(ind + 1, "pass")

    def w_list(self, fn: Function, ind: int, shape: ListShape, var: str, path: Path,
               query: Path, stack: tuple[str, ...]) -> None:
        self.sized(fn, ind, shape, var, f"len({var})", path)
        index, item = self.module.fresh("i"), self.module.fresh("v")
        item_name = shape.member.serialization.get("name", "member")
        item_path = path.plus(".", Var(index), ".member")
        fn.add(ind, f"for {index}, {item} in enumerate({var}, 1):")
        fn.add(ind + 1, f"if {item} is None:")
        self.fail(fn, ind + 2, "None", None, item_path, "not be null")
        fn.add(ind + 1, "else:")
        before = len(fn.lines)
        self.value(fn, ind + 2, shape.member, item, item_path,
                   query.plus(f".{item_name}.", Var(index)), (*stack, shape.name))
        if len(fn.lines) == before:
            fn.add(ind + 2, "pass")

    def w_map(self, fn: Function, ind: int, shape: MapShape, var: str, path: Path,
              query: Path, stack: tuple[str, ...]) -> None:
        self.sized(fn, ind, shape, var, f"len({var})", path)
        index, key, item = (self.module.fresh(p) for p in ("i", "k", "v"))
        entry = query.plus(".entry.", Var(index))
        inner = (*stack, shape.name)
        fn.add(ind, f"for {index}, ({key}, {item}) in enumerate({var}.items(), 1):")
        before = len(fn.lines)
        self.value(fn, ind + 1, shape.key, key, path.plus(".", Var(index), ".key"),
                   entry.plus(".key"), inner)
        self.value(fn, ind + 1, shape.value, item, path.plus(".", Var(index), ".value"),
                   entry.plus(".value"), inner)
        if len(fn.lines) == before:
            fn.add(ind + 1, "pass")

    def w_string(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
                 query: Path, stack: tuple[str, ...]) -> None:
        enum = shape.metadata.get("enum")
        if enum:
            fn.add(ind, f"if {var} not in {self.module.constant(frozenset(enum), 'E')}:")
            self.fail(fn, ind + 1, var, shape, path,
                      f"satisfy enum value set: [{', '.join(enum)}]")
        if self.bounds(shape) != (None, None):
            length = self.module.fresh("n")
            fn.add(ind, f"{length} = len({var}) if {var}.isascii() else _utf16_length({var})")
            self.sized(fn, ind, shape, var, length, path)
        pattern = shape.metadata.get("pattern")
        if pattern:
            if patterns.uses_categories(pattern):  # costly to compile: on first use
                compiled = f"_compiled({self.module.constant(pattern, 'P')})"
            else:
                compiled = self.module.constant(patterns.compiled(pattern), "P")
            fn.add(ind, f"if {compiled}.fullmatch({var}) is None:")
            self.fail(fn, ind + 1, var, shape, path,
                      f"satisfy regular expression pattern: {pattern}")

    def w_integer(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
                  query: Path, stack: tuple[str, ...]) -> None:
        low, high = INT_RANGES[shape.type_name]
        fn.add(ind, f"if not {low} <= {var} <= {high}:")
        self.fail(fn, ind + 1, var, shape, path, f"fit in an {shape.type_name}")
        if self.bounds(shape) != (None, None):
            fn.add(ind, "else:")
            self.minmax(fn, ind + 1, shape, var, path)

    w_long = w_integer

    def w_double(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
                 query: Path, stack: tuple[str, ...]) -> None:
        self.minmax(fn, ind, shape, var, path)

    w_float = w_double

    def w_blob(self, fn: Function, ind: int, shape: Shape, var: str, path: Path,
               query: Path, stack: tuple[str, ...]) -> None:
        self.sized(fn, ind, shape, var, f"len({var})", path)

    @staticmethod
    def bounds(shape: Shape) -> tuple[Any, Any]:
        return shape.metadata.get("min"), shape.metadata.get("max")

    def sized(self, fn: Function, ind: int, shape: Shape, var: str, size: str,
              path: Path) -> None:
        low, high = self.bounds(shape)
        if low is not None:
            fn.add(ind, f"if {size} < {self.module.constant(low, 'B')}:")
            self.fail(fn, ind + 1, var, shape, path,
                      f"have length greater than or equal to {low}")
        if high is not None:
            fn.add(ind, f"if {size} > {self.module.constant(high, 'B')}:")
            self.fail(fn, ind + 1, var, shape, path, f"have length less than or equal to {high}")

    def minmax(self, fn: Function, ind: int, shape: Shape, var: str, path: Path) -> None:
        low, high = self.bounds(shape)
        if low is not None:
            fn.add(ind, f"if {var} < {self.module.constant(low, 'B')}:")
            self.fail(fn, ind + 1, var, shape, path,
                      f"have value greater than or equal to {low}")
        if high is not None:
            fn.add(ind, f"if {var} > {self.module.constant(high, 'B')}:")
            self.fail(fn, ind + 1, var, shape, path, f"have value less than or equal to {high}")
