"""Generating Python source at run time: indented functions, bound constants, lazy paths.

The shape compilers (``compiled_document``, ``compiled_validation``) write one module of
source per operation with this and ``exec`` it once.  Values the source cannot spell as
literals (shapes, compiled patterns, sets) are bound by name in the module's namespace.
The module is registered with ``linecache`` so tracebacks through it show its lines.

Paths for error messages (``MetricData.member.3.Value``) are built only where an error is
raised: a ``Path`` is a list of literal text and variable names (list indexes, map keys,
a path passed into a function) that becomes a Python expression on demand.
"""

from __future__ import annotations

import itertools
import linecache
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def finite(var: str) -> str:
    """The expression testing that the float in ``var`` is finite (NaN compares false)."""
    return f"{-sys.float_info.max!r} <= {var} <= {sys.float_info.max!r}"


#: Beyond this many levels of indentation a container shape gets a function of its own
#: (Python refuses more than 20 nested loops in one function).
MAX_INDENT = 12


@dataclass(frozen=True)
class Var:
    """A variable in a path: ``text`` when it holds a ``str``, else it goes through str()."""

    name: str
    text: bool = False


@dataclass(frozen=True)
class Path:
    parts: tuple[str | Var, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.parts

    def plus(self, *parts: str | Var) -> Path:
        merged = list(self.parts)
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif part != "":
                merged.append(part)
        return Path(tuple(merged))

    def join(self, name: str) -> Path:
        """``f"{path}.{name}" if path else name`` (a dynamic path is never empty)."""
        return Path((name,)) if self.empty else self.plus("." + name)

    def expr(self) -> str:
        if not self.parts:
            return "''"
        return " + ".join(
            repr(part) if isinstance(part, str)
            else part.name if part.text else f"str({part.name})"
            for part in self.parts
        )


PATH_PARAMETER = Path((Var("path", text=True),))


class Function:
    """The lines of one generated function."""

    def __init__(self, header: str) -> None:
        self.lines = [header]

    def add(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)


class Module:
    """Source of one generated module: its functions, constants and fresh names."""

    def __init__(self, title: str, namespace: dict[str, Any]) -> None:
        self.title = title
        self.namespace = dict(namespace)
        self.functions: list[Function] = []
        self._counter = itertools.count(1)
        self._constants: dict[Any, str] = {}
        #: key -> name of a function generated for one shape (see ``shape_function``).
        self.shape_functions: dict[Any, str] = {}

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    def constant(self, value: Any, prefix: str = "K") -> str:
        """A name bound to ``value`` (equal text and numbers share one name)."""
        if isinstance(value, (str, int, float)):
            key: Any = (type(value), repr(value))
        else:
            key = ("id", id(value))
        name = self._constants.get(key)
        if name is None:
            name = self._constants[key] = self.fresh(prefix)
            self.namespace[name] = value
        return name

    def function(self, header: str) -> Function:
        function = Function(header)
        self.functions.append(function)
        return function

    def shape_function(self, key: Any, prefix: str,
                       write: Callable[[str], None]) -> str:
        """The name of the function for one shape; ``write(name)`` generates it the first
        time (the name is known before, so the function may call itself)."""
        name = self.shape_functions.get(key)
        if name is None:
            name = self.shape_functions[key] = self.fresh(prefix)
            write(name)
        return name

    @property
    def source(self) -> str:
        return "\n\n".join("\n".join(function.lines) for function in self.functions) + "\n"

    def build(self, entry: str) -> Callable[..., Any]:
        """Compile and run the source; the function named ``entry``."""
        source = self.source
        filename = f"<compiled {self.title}>"
        code = compile(source, filename, "exec")
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = dict(self.namespace)
        exec(code, namespace)  # our own generated source
        return namespace[entry]


def shape_key(shape: Any) -> tuple[str, str, str]:
    """What makes two resolved shapes of one name generate the same code."""
    return (shape.name, repr(sorted(shape.metadata.items())),
            repr(sorted(shape.serialization.items())))
