"""The syntax tree of a metric math expression.

Every node keeps the 1-based position of its first character in the expression text
(``position``, 0 for nodes built rather than parsed); positions never take part in
equality, so a tree parsed from ``m1+1`` equals one parsed from ``m1 + 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Number:
    """A numeric literal (never negative: ``-5`` is ``Unary("-", Number(5))``)."""

    value: float
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class String:
    """A quoted string: ``"errors"`` or ``'errors'`` (no escapes)."""

    value: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Reference:
    """The Id of another query of the request (a metric or an expression): ``m1``."""

    id: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Keyword:
    """A bare upper-case word given to a function: ``REPEAT``, ``LINEAR``, ``AVG``, ``DESC``."""

    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A function call: ``SUM(METRICS())``."""

    name: str
    args: tuple[Expression, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ArrayLiteral:
    """``[m1, m2, METRICS("5xx")]``: the series and arrays listed, as one array."""

    items: tuple[Expression, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    """``-x`` or ``NOT x``."""

    op: str
    operand: Expression
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    """``left op right``; ``op`` is canonical (``&&`` is ``AND``, ``||`` is ``OR``)."""

    op: str
    left: Expression
    right: Expression
    position: int = field(default=0, compare=False)


Expression = Number | String | Reference | Keyword | Call | ArrayLiteral | Unary | Binary


def children(node: Expression) -> tuple[Expression, ...]:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ArrayLiteral):
        return node.items
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    return ()


def walk(node: Expression) -> Iterator[Expression]:
    """``node`` and every node below it, parents first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def fold(node: Expression, combine: Callable[[Expression, Sequence[R]], R]) -> R:
    """``combine(n, results of n's children)`` for every node ``n``, children first (left
    to right), without recursion: a chain like ``m1+1+1+...`` of the longest expression
    allowed is a tree about a thousand levels deep."""
    results: list[R] = []
    stack: list[tuple[Expression, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        below = children(current)
        if expanded or not below:
            count = len(below)
            args = results[len(results) - count:]
            del results[len(results) - count:]
            results.append(combine(current, args))
        else:
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(below))
    return results[0]
