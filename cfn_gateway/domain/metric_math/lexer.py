"""Tokens of a metric math expression.

- numbers: ``5``, ``50.25``, ``.5``, ``1e-3`` (never signed: ``-`` is an operator);
- strings: ``"..."`` or ``'...'``, no escapes (the other quote may appear inside);
- names: letters, digits and ``_``, starting with a letter or ``_`` (the parser decides
  whether one is a query Id, a function, a keyword or ``AND``/``OR``/``NOT``);
- operators ``+ - * / ^ == != <= >= < > && ||``, and ``( ) [ ] ,``;
- blanks (spaces, tabs, line breaks) separate tokens and are otherwise ignored.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cfn_gateway.domain.metric_math.errors import MathError

NUMBER = "number"
STRING = "string"
NAME = "name"
OPERATOR = "operator"
PUNCTUATION = "punctuation"
END = "end"

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "^", "<", ">")
_PUNCTUATION = "()[],"
_DIGITS = "0123456789"
_DIGITS_NONEMPTY = tuple(_DIGITS)
_HINTS = {
    "=": "'=' is not an operator (compare with '==')",
    "!": "'!' is not an operator (use '!=' or NOT)",
    "&": "'&' is not an operator (use '&&' or AND)",
    "|": "'|' is not an operator (use '||' or OR)",
    "%": "'%' is not an operator",
}


class Token(NamedTuple):
    kind: str
    text: str  # for strings: the content, without quotes
    position: int  # 1-based

    def describe(self) -> str:
        if self.kind == END:
            return "end of expression"
        if self.kind == STRING:
            return f"string '{self.text}'"
        return f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``END`` token."""
    tokens: list[Token] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
            continue
        position = index + 1
        if char in _DIGITS or (char == "." and text[index + 1:index + 2] in _DIGITS_NONEMPTY):
            match = _NUMBER.match(text, index)
            assert match is not None
            tokens.append(Token(NUMBER, match.group(), position))
            index = match.end()
        elif char in "\"'":
            close = text.find(char, index + 1)
            if close < 0:
                raise MathError(f"the string started here is not closed: expected {char}",
                                position=position)
            tokens.append(Token(STRING, text[index + 1:close], position))
            index = close + 1
        elif char.isascii() and (char.isalpha() or char == "_"):
            match = _NAME.match(text, index)
            assert match is not None
            tokens.append(Token(NAME, match.group(), position))
            index = match.end()
        elif char in _PUNCTUATION:
            tokens.append(Token(PUNCTUATION, char, position))
            index += 1
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
            if operator is None:
                raise MathError(_HINTS.get(char, f"unexpected character '{char}'"),
                                position=position)
            tokens.append(Token(OPERATOR, operator, position))
            index += len(operator)
    tokens.append(Token(END, "", length + 1))
    return tokens
