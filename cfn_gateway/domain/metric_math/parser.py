"""Parse metric math expressions into syntax trees, and write trees back as text.

Grammar (recursive descent, lowest precedence first)::

    expression := or
    or         := and (("OR" | "||") and)*
    and        := not (("AND" | "&&") not)*
    not        := "NOT" not | comparison
    comparison := additive (("==" | "!=" | "<=" | ">=" | "<" | ">") additive)*
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | power
    power      := primary ("^" unary)?
    primary    := number | string | id | KEYWORD | FUNCTION "(" [expression ("," expression)*] ")"
                | "[" expression ("," expression)* "]" | "(" expression ")"

So ``^`` binds tightest and to the right (``2^3^2`` is ``2^(3^2)``, ``-2^2`` is ``-(2^2)``,
``2^-1`` is allowed); ``* /`` and ``+ -`` and the comparisons are left-associative; then
``NOT``, ``AND``, ``OR``.  AWS documents the operators but not their precedence; this is
the usual order of arithmetic and logic, which AWS's examples (``metric1 > 15 AND
metric2 > 15``, ``-5*m1``, ``SUM(-[m1, m2])``) agree with.  ``NOT`` is not in AWS's list of
logical operators (which names ``AND``/``&&`` and ``OR``/``||``); it is accepted here.

Names (user guide: "All functions must be written in uppercase letters ..., and the Id
field for all metrics and math expressions must start with a lowercase letter"):
a name starting with a lower-case letter is a query Id; an upper-case name followed by
``(`` is a function (unknown ones are refused, as are functions this gateway cannot run,
see ``functions.REFUSED``); other upper-case names are the keywords functions take
(``REPEAT``, ``LINEAR``, ``AVG``, ``MIN``, ``MAX``, ``SUM``, ``ASC``, ``DESC``).

Limits: at most ``MAX_LENGTH`` characters (the ``Expression`` length constraint of
``MetricDataQuery``) and ``MAX_DEPTH`` levels of nesting (parentheses, brackets, calls,
``-``, ``NOT`` and ``^``, each one level: the gateway's own limit, it keeps the parser's
recursion bounded; AWS documents none).  Chains of left-associative operators are not
nesting (``m1+m2+...`` may be as long as the length allows); trees are walked without
recursion (``nodes.fold``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cfn_gateway.domain.metric_math import lexer
from cfn_gateway.domain.metric_math.errors import MathError
from cfn_gateway.domain.metric_math.functions import FUNCTIONS, KEYWORDS, REFUSED
from cfn_gateway.domain.metric_math.lexer import Token
from cfn_gateway.domain.metric_math.nodes import (
    ArrayLiteral,
    Binary,
    Call,
    Expression,
    Keyword,
    Number,
    Reference,
    String,
    Unary,
    fold,
    walk,
)

MAX_LENGTH = 2048
MAX_DEPTH = 64

COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
_WORD_OPERATORS = ("AND", "OR", "NOT")

# Binding strength of each kind of node, for writing trees back with few parentheses.
_OR, _AND, _NOT, _COMPARISON, _ADDITIVE, _TERM, _NEGATION, _POWER, _PRIMARY = range(1, 10)
_BINARY_LEVEL = {"OR": _OR, "AND": _AND, "+": _ADDITIVE, "-": _ADDITIVE, "*": _TERM,
                 "/": _TERM, "^": _POWER, **{op: _COMPARISON for op in COMPARISONS}}


def parse(expression: str, *, query_id: str = "") -> Expression:
    """The syntax tree of ``expression``; MathError if it is not valid metric math.

    This checks syntax and names only (GetMetricData checks every expression before it
    fetches any data); whether the operands fit the operators and functions depends on
    the other queries of the request, see ``evaluation.check``.
    """
    try:
        if not expression.strip():
            raise MathError("the expression is empty")
        if len(expression) > MAX_LENGTH:
            raise MathError(f"the expression has {len(expression)} characters; "
                            f"at most {MAX_LENGTH} are allowed")
        return _Parser(lexer.tokenize(expression)).parse()
    except MathError as error:
        raise error.for_query(query_id) from None


def references(expr: Expression) -> set[str]:
    """The query Ids ``expr`` names (``METRICS()`` names none: see
    ``uses_metrics_function``)."""
    return {node.id for node in walk(expr) if isinstance(node, Reference)}


def uses_metrics_function(expr: Expression) -> bool:
    """Whether ``expr`` calls ``METRICS()`` (which reads every metric of the request)."""
    return any(isinstance(node, Call) and node.name == "METRICS" for node in walk(expr))


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    # -- scanning

    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _is(self, token: Token, *texts: str) -> bool:
        return token.kind in (lexer.OPERATOR, lexer.PUNCTUATION, lexer.NAME) \
            and token.text in texts

    def _expect(self, text: str, context: str) -> Token:
        token = self._next()
        if not self._is(token, text):
            raise _unexpected(token, f"expected '{text}' {context}")
        return token

    def _enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathError(f"the expression nests more than {MAX_DEPTH} levels",
                            position=token.position)

    # -- grammar

    def parse(self) -> Expression:
        node = self._or()
        token = self._peek()
        if token.kind != lexer.END:
            if self._is(token, ")", "]"):
                raise _unexpected(token, "it closes nothing")
            raise _unexpected(token, "expected an operator or end of expression")
        return node

    def _or(self) -> Expression:
        node = self._and()
        while self._is(token := self._peek(), "OR", "||"):
            self._next()
            node = Binary("OR", node, self._and(), token.position)
        return node

    def _and(self) -> Expression:
        node = self._not()
        while self._is(token := self._peek(), "AND", "&&"):
            self._next()
            node = Binary("AND", node, self._not(), token.position)
        return node

    def _not(self) -> Expression:
        token = self._peek()
        if self._is(token, "NOT"):
            self._next()
            self._enter(token)
            node = Unary("NOT", self._not(), token.position)
            self.depth -= 1
            return node
        return self._comparison()

    def _comparison(self) -> Expression:
        node = self._additive()
        while self._is(token := self._peek(), *COMPARISONS):
            self._next()
            node = Binary(token.text, node, self._additive(), token.position)
        return node

    def _additive(self) -> Expression:
        node = self._term()
        while self._is(token := self._peek(), "+", "-"):
            self._next()
            node = Binary(token.text, node, self._term(), token.position)
        return node

    def _term(self) -> Expression:
        node = self._unary()
        while self._is(token := self._peek(), "*", "/"):
            self._next()
            node = Binary(token.text, node, self._unary(), token.position)
        return node

    def _unary(self) -> Expression:
        token = self._peek()
        if self._is(token, "-"):
            self._next()
            self._enter(token)
            node = Unary("-", self._unary(), token.position)
            self.depth -= 1
            return node
        return self._power()

    def _power(self) -> Expression:
        node = self._primary()
        if self._is(token := self._peek(), "^"):
            self._next()
            self._enter(token)
            node = Binary("^", node, self._unary(), token.position)
            self.depth -= 1
        return node

    def _primary(self) -> Expression:
        token = self._next()
        if token.kind == lexer.NUMBER:
            value = float(token.text)
            if not math.isfinite(value):
                raise MathError(f"the number {token.text} is too large", position=token.position)
            return Number(value, token.position)
        if token.kind == lexer.STRING:
            return String(token.text, token.position)
        if token.kind == lexer.NAME and token.text not in _WORD_OPERATORS:
            return self._name(token)
        if self._is(token, "("):
            self._enter(token)
            node = self._or()
            self._expect(")", f"to close the '(' at position {token.position}")
            self.depth -= 1
            return node
        if self._is(token, "["):
            self._enter(token)
            items = self._list("]", token)
            self.depth -= 1
            return ArrayLiteral(items, token.position)
        raise _unexpected(token, "expected a number, an id, a function, '(' or '['")

    def _name(self, token: Token) -> Expression:
        name = token.text
        calls = self._is(self._peek(), "(")
        if calls:
            if name in REFUSED:
                raise MathError(f"the function {name} is not supported by this gateway: "
                                f"{REFUSED[name]}", position=token.position, unsupported=True)
            if name not in FUNCTIONS:
                if name[0].islower() and name.upper() in FUNCTIONS:
                    raise MathError(f"unknown function '{name}': function names are upper "
                                    f"case ({name.upper()})", position=token.position)
                raise MathError(f"unknown function '{name}'", position=token.position)
            opening = self._next()
            self._enter(opening)
            args = () if self._is(self._peek(), ")") else self._list(")", opening)
            if not args:
                self._next()
            self.depth -= 1
            return Call(name, args, token.position)
        if name[0].islower():
            return Reference(name, token.position)
        if name in KEYWORDS:
            return Keyword(name, token.position)
        if name in FUNCTIONS or name in REFUSED:
            raise MathError(f"expected '(' after the function {name}",
                            position=token.position + len(name))
        raise MathError(f"unknown name '{name}': query ids start with a lower-case letter",
                        position=token.position)

    def _list(self, closing: str, opening: Token) -> tuple[Expression, ...]:
        items = [self._or()]
        while True:
            token = self._next()
            if self._is(token, ","):
                items.append(self._or())
            elif self._is(token, closing):
                return tuple(items)
            else:
                raise _unexpected(token, f"expected ',' or '{closing}' to close the "
                                         f"'{opening.text}' at position {opening.position}")


def _unexpected(token: Token, detail: str) -> MathError:
    return MathError(f"unexpected {token.describe()}: {detail}", position=token.position)


# --- Writing trees back ---------------------------------------------------------------


def render(expr: Expression) -> str:
    """``expr`` as text that parses back to an equal tree, with as few parentheses as
    the grammar allows."""
    return _render(expr)


def _level(node: Expression) -> int:
    if isinstance(node, Binary):
        return _BINARY_LEVEL[node.op]
    if isinstance(node, Unary):
        return _NOT if node.op == "NOT" else _NEGATION
    return _PRIMARY


def _render(expr: Expression) -> str:
    def combine(node: Expression, below: Sequence[str]) -> str:
        if isinstance(node, Number):
            value = node.value
            return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
        if isinstance(node, String):
            quote = "'" if '"' in node.value else '"'
            return f"{quote}{node.value}{quote}"
        if isinstance(node, Reference):
            return node.id
        if isinstance(node, Keyword):
            return node.name
        if isinstance(node, Call):
            return f"{node.name}({', '.join(below)})"
        if isinstance(node, ArrayLiteral):
            return f"[{', '.join(below)}]"
        if isinstance(node, Unary):
            operand = _wrapped(below[0], _level(node.operand) < _level(node))
            return f"NOT {operand}" if node.op == "NOT" else f"-{operand}"
        assert isinstance(node, Binary)
        if node.op == "^":
            # primary "^" unary: the base is a primary, the exponent may be negated.
            left = _wrapped(below[0], _level(node.left) < _PRIMARY)
            right = _wrapped(below[1], _level(node.right) < _NEGATION)
            return f"{left} ^ {right}"
        level = _BINARY_LEVEL[node.op]
        left = _wrapped(below[0], _level(node.left) < level)
        right = _wrapped(below[1], _level(node.right) <= level)
        return f"{left} {node.op} {right}"
    return fold(expr, combine)


def _wrapped(text: str, parens: bool) -> str:
    return f"({text})" if parens else text
