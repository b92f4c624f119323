"""Metric math tokens: numbers, strings, names, operators, and what is not a token."""

from __future__ import annotations

import pytest

from cfn_gateway.domain.metric_math import MathError
from cfn_gateway.domain.metric_math.lexer import (
    END,
    NAME,
    NUMBER,
    OPERATOR,
    PUNCTUATION,
    STRING,
    Token,
    tokenize,
)


def kinds_texts(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)]


@pytest.mark.parametrize(("text", "tokens"), [
    ("5", [(NUMBER, "5")]),
    ("50.25", [(NUMBER, "50.25")]),
    (".5", [(NUMBER, ".5")]),
    ("5.", [(NUMBER, "5.")]),
    ("1e-3", [(NUMBER, "1e-3")]),
    ("1E+20", [(NUMBER, "1E+20")]),
    ("2e", [(NUMBER, "2"), (NAME, "e")]),
    ("5m1", [(NUMBER, "5"), (NAME, "m1")]),
    ('"errors"', [(STRING, "errors")]),
    ("'errors'", [(STRING, "errors")]),
    ("'say \"hi\"'", [(STRING, 'say "hi"')]),
    ('""', [(STRING, "")]),
    ("m1", [(NAME, "m1")]),
    ("_x", [(NAME, "_x")]),
    ("METRICS", [(NAME, "METRICS")]),
    ("a_B9", [(NAME, "a_B9")]),
    ("==!=<=>=<>", [(OPERATOR, "=="), (OPERATOR, "!="), (OPERATOR, "<="),
                    (OPERATOR, ">="), (OPERATOR, "<"), (OPERATOR, ">")]),
    ("&&||+-*/^", [(OPERATOR, "&&"), (OPERATOR, "||"), (OPERATOR, "+"), (OPERATOR, "-"),
                   (OPERATOR, "*"), (OPERATOR, "/"), (OPERATOR, "^")]),
    ("--", [(OPERATOR, "-"), (OPERATOR, "-")]),
    ("()[],", [(PUNCTUATION, c) for c in "()[],"]),
    (" \t\n m1 \r\n", [(NAME, "m1")]),
    ("", []),
])
def test_tokens(text, tokens):
    assert kinds_texts(text) == [*tokens, (END, "")]


def test_positions_are_one_based_and_end_is_after_the_text():
    assert tokenize(" m1 +  'x'") == [Token(NAME, "m1", 2), Token(OPERATOR, "+", 5),
                                      Token(STRING, "x", 8), Token(END, "", 11)]


@pytest.mark.parametrize(("text", "position", "detail"), [
    ("m1 = 2", 4, "'=' is not an operator (compare with '==')"),
    ("!m1", 1, "'!' is not an operator (use '!=' or NOT)"),
    ("a & b", 3, "'&' is not an operator (use '&&' or AND)"),
    ("a | b", 3, "'|' is not an operator (use '||' or OR)"),
    ("a % b", 3, "'%' is not an operator"),
    ("m1 ; m2", 4, "unexpected character ';'"),
    ("m1 + \u00b2", 6, "unexpected character '\u00b2'"),
    ("m1 + \u0661", 6, "unexpected character '\u0661'"),  # an Arabic-Indic digit
    ("METRICS('abc", 9, "the string started here is not closed: expected '"),
    ('METRICS("abc)', 9, 'the string started here is not closed: expected "'),
    ("{m1}", 1, "unexpected character '{'"),
])
def test_errors(text, position, detail):
    with pytest.raises(MathError) as caught:
        tokenize(text)
    assert caught.value.position == position
    assert caught.value.detail == detail
    assert str(caught.value) == f"Error in expression at position {position}: {detail}."
