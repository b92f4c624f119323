"""Parsing metric math: grammar, precedence, names, limits, every error, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfn_gateway.domain.metric_math import (
    FUNCTIONS,
    KEYWORDS,
    MAX_DEPTH,
    MAX_LENGTH,
    REFUSED,
    MathError,
    parse,
    references,
    render,
    uses_metrics_function,
)
from cfn_gateway.domain.metric_math.nodes import (
    ArrayLiteral,
    Binary,
    Call,
    Keyword,
    Number,
    Reference,
    String,
    Unary,
)

a, b, c, d = (Reference(name) for name in "abcd")


def num(value: float) -> Number:
    return Number(float(value))


# --- Trees --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tree"), [
    ("m1", Reference("m1")),
    ("5", num(5)),
    ("-5", Unary("-", num(5))),
    ("'x'", String("x")),
    ("a + b * c", Binary("+", a, Binary("*", b, c))),
    ("a * b + c", Binary("+", Binary("*", a, b), c)),
    ("a - b - c", Binary("-", Binary("-", a, b), c)),
    ("a / b / c", Binary("/", Binary("/", a, b), c)),
    ("a / b * c", Binary("*", Binary("/", a, b), c)),
    ("a ^ b ^ c", Binary("^", a, Binary("^", b, c))),
    ("-a ^ b", Unary("-", Binary("^", a, b))),
    ("a ^ -b", Binary("^", a, Unary("-", b))),
    ("a * b ^ c", Binary("*", a, Binary("^", b, c))),
    ("-a * b", Binary("*", Unary("-", a), b)),
    ("- -a", Unary("-", Unary("-", a))),
    ("--a", Unary("-", Unary("-", a))),
    ("a - -b", Binary("-", a, Unary("-", b))),
    ("a + b < c", Binary("<", Binary("+", a, b), c)),
    ("a < b == c", Binary("==", Binary("<", a, b), c)),
    ("a < b AND c > d", Binary("AND", Binary("<", a, b), Binary(">", c, d))),
    ("a OR b AND c", Binary("OR", a, Binary("AND", b, c))),
    ("a AND b OR c", Binary("OR", Binary("AND", a, b), c)),
    ("a && b || c", Binary("OR", Binary("AND", a, b), c)),
    ("a AND b AND c", Binary("AND", Binary("AND", a, b), c)),
    ("NOT a AND b", Binary("AND", Unary("NOT", a), b)),
    ("NOT a < b", Unary("NOT", Binary("<", a, b))),
    ("NOT NOT a", Unary("NOT", Unary("NOT", a))),
    ("(a + b) * c", Binary("*", Binary("+", a, b), c)),
    ("((a))", a),
    ("SUM(METRICS())", Call("SUM", (Call("METRICS", ()),))),
    ('METRICS("errors")', Call("METRICS", (String("errors"),))),
    ("FILL(m1, REPEAT)", Call("FILL", (Reference("m1"), Keyword("REPEAT")))),
    ("SORT(METRICS(), AVG, DESC, 10)",
     Call("SORT", (Call("METRICS", ()), Keyword("AVG"), Keyword("DESC"), num(10)))),
    ("SUM(-[m1, m2])", Call("SUM", (Unary("-", ArrayLiteral((Reference("m1"),
                                                            Reference("m2")))),))),
    ("[a]", ArrayLiteral((a,))),
    ("IF(a > 1, b)", Call("IF", (Binary(">", a, num(1)), b))),
    ("1e3 + .5", Binary("+", num(1000), num(0.5))),
])
def test_trees(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(("text", "same_as"), [
    ("m1+m2*m3-m4/m5", "(m1 + (m2 * m3)) - (m4 / m5)"),
    ("-5*m1", "(-5) * m1"),
    ("e1-MIN(e1)", "e1 - (MIN(e1))"),
    ("metric1 > 15 AND metric2 > 15", "(metric1 > 15) AND (metric2 > 15)"),
    ("2^3^2", "2^(3^2)"),
    ("-2^2", "-(2^2)"),
    ("a == b != c", "(a == b) != c"),
    ("a<=b>=c", "(a <= b) >= c"),
    ("a + b > c * d OR NOT a == b", "((a + b) > (c * d)) OR (NOT (a == b))"),
])
def test_precedence(text, same_as):
    assert parse(text) == parse(same_as)


def test_positions_point_at_the_operator_or_first_character():
    tree = parse("  m1 + SUM(x)")
    assert (tree.position, tree.left.position, tree.right.position) == (6, 3, 8)
    assert tree.right.args[0].position == 12


# --- Names --------------------------------------------------------------------------------


def test_lower_case_names_are_ids_upper_case_bare_words_are_keywords():
    assert parse("errorRate_2") == Reference("errorRate_2")
    for keyword in KEYWORDS:
        assert parse(keyword) == Keyword(keyword)
    assert {"REPEAT", "LINEAR", "AVG", "MIN", "MAX", "SUM", "ASC", "DESC"} == KEYWORDS


def test_every_function_parses_as_a_call():
    for name in FUNCTIONS:
        assert parse(f"{name}(m1)") == Call(name, (Reference("m1"),))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_functions_are_refused_clearly(name):
    with pytest.raises(MathError) as caught:
        parse(f"  {name}('x', 'y')", query_id="e1")
    error = caught.value
    assert error.unsupported and not error.per_result
    assert error.position == 3
    assert error.detail.startswith(f"the function {name} is not supported by this gateway: ")
    assert str(error).startswith(f"Error in expression e1 at position 3: the function {name}")


def test_a_search_expression_is_refused_as_a_whole():
    text = "SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average', 300)"
    with pytest.raises(MathError, match="SEARCH is not supported"):
        parse(text)


# --- Errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "position", "detail"), [
    ("", None, "the expression is empty"),
    ("   ", None, "the expression is empty"),
    ("m1 +", 5, "unexpected end of expression: expected a number, an id, a function, "
                "'(' or '['"),
    ("m1 m2", 4, "unexpected 'm2': expected an operator or end of expression"),
    ("m1 )", 4, "unexpected ')': it closes nothing"),
    ("m1 ]", 4, "unexpected ']': it closes nothing"),
    ("(m1 + m2", 9, "unexpected end of expression: expected ')' to close the '(' at "
                    "position 1"),
    ("SUM(m1", 7, "unexpected end of expression: expected ',' or ')' to close the '(' at "
                  "position 4"),
    ("SUM(m1,)", 8, "unexpected ')': expected a number, an id, a function, '(' or '['"),
    ("SUM(,m1)", 5, "unexpected ',': expected a number, an id, a function, '(' or '['"),
    ("[m1, m2", 8, "unexpected end of expression: expected ',' or ']' to close the '[' at "
                   "position 1"),
    ("[]", 2, "unexpected ']': expected a number, an id, a function, '(' or '['"),
    ("()", 2, "unexpected ')': expected a number, an id, a function, '(' or '['"),
    ("m1 * * m2", 6, "unexpected '*': expected a number, an id, a function, '(' or '['"),
    ("+m1", 1, "unexpected '+': expected a number, an id, a function, '(' or '['"),
    ("a / NOT b", 5, "unexpected 'NOT': expected a number, an id, a function, '(' or '['"),
    ("AND m1", 1, "unexpected 'AND': expected a number, an id, a function, '(' or '['"),
    ("m1 AND", 7, "unexpected end of expression: expected a number, an id, a function, "
                  "'(' or '['"),
    ("FOO(m1)", 1, "unknown function 'FOO'"),
    ("sum(m1)", 1, "unknown function 'sum': function names are upper case (SUM)"),
    ("m1(2)", 1, "unknown function 'm1'"),
    ("M1 + 1", 1, "unknown name 'M1': query ids start with a lower-case letter"),
    ("m1 + FOO", 6, "unknown name 'FOO': query ids start with a lower-case letter"),
    ("ABS + 1", 4, "expected '(' after the function ABS"),
    ("m1 + SEARCH", 12, "expected '(' after the function SEARCH"),
    ("1e999", 1, "the number 1e999 is too large"),
    ("m1 == = 2", 7, "'=' is not an operator (compare with '==')"),
    ("m1 ; m2", 4, "unexpected character ';'"),
    ("METRICS('x)", 9, "the string started here is not closed: expected '"),
])
def test_errors(text, position, detail):
    with pytest.raises(MathError) as caught:
        parse(text)
    error = caught.value
    assert (error.position, error.detail) == (position, detail)
    assert error.code == "ValidationError"
    assert not (error.per_result or error.unsupported)


def test_error_message_names_the_query():
    with pytest.raises(MathError) as caught:
        parse("m1 +", query_id="errorRate")
    assert str(caught.value) == ("Error in expression errorRate at position 5: unexpected "
                                 "end of expression: expected a number, an id, a function, "
                                 "'(' or '['.")
    assert caught.value.query_id == "errorRate"


def test_length_limit():
    longest = "m1" + "+1" * ((MAX_LENGTH - 2) // 2)
    assert len(longest) == MAX_LENGTH
    parse(longest)
    with pytest.raises(MathError, match=f"has {MAX_LENGTH + 2} characters; at most"):
        parse(longest + "+1")


@pytest.mark.parametrize(("opening", "closing"), [("(", ")"), ("SUM(", ")"), ("[", "]"),
                                                  ("-", ""), ("NOT ", ""), ("2^", "")])
def test_depth_limit(opening, closing):
    parse(opening * MAX_DEPTH + "m1" + closing * MAX_DEPTH)
    with pytest.raises(MathError, match=f"nests more than {MAX_DEPTH} levels"):
        parse(opening * (MAX_DEPTH + 1) + "m1" + closing * (MAX_DEPTH + 1))


# --- References ---------------------------------------------------------------------------


def test_references_and_metrics_function():
    expr = parse("SUM([m1, METRICS('x')]) / e2 + FILL(m1, REPEAT)")
    assert references(expr) == {"m1", "e2"}
    assert uses_metrics_function(expr)
    assert references(parse("5")) == set()
    assert not uses_metrics_function(parse("SUM([m1, m2])"))


# --- Writing back -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "rendered"), [
    ("m1+m2*m3", "m1 + m2 * m3"),
    ("(m1+m2)*m3", "(m1 + m2) * m3"),
    ("a-(b-c)", "a - (b - c)"),
    ("(a-b)-c", "a - b - c"),
    ("(a^b)^c", "(a ^ b) ^ c"),
    ("a^(b^c)", "a ^ b ^ c"),
    ("(-a)^b", "(-a) ^ b"),
    ("-(a*b)", "-(a * b)"),
    ("a && b || !c == 1".replace("!c == 1", "NOT c == 1"), "a AND b OR NOT c == 1"),
    ("(NOT a) + b", "(NOT a) + b"),
    ("SUM(METRICS('a\"b'))", "SUM(METRICS('a\"b'))"),
    ("FILL(m1,0.5)", "FILL(m1, 0.5)"),
    ("1e20", "1e+20"),
    ("100000", "100000"),
    ("[m1,m2]", "[m1, m2]"),
])
def test_render(text, rendered):
    assert render(parse(text)) == rendered


# --- Round trips (property-based) ---------------------------------------------------------

ids = st.from_regex(r"[a-z][a-zA-Z0-9_]{0,4}", fullmatch=True)
strings = st.text(st.characters(blacklist_characters='"', blacklist_categories=("Cs",)),
                  max_size=6)
leaves = st.one_of(
    st.floats(min_value=0, max_value=1e30, allow_nan=False, allow_infinity=False).map(Number),
    ids.map(Reference),
    st.sampled_from(sorted(KEYWORDS)).map(Keyword),
    strings.map(String),
)


def _grow(children):
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "NOT"]), children),
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/", "^", "==", "!=", "<", "<=",
                                           ">", ">=", "AND", "OR"]), children, children),
        st.builds(Call, st.sampled_from(sorted(FUNCTIONS)),
                  st.lists(children, max_size=3).map(tuple)),
        st.builds(ArrayLiteral, st.lists(children, min_size=1, max_size=3).map(tuple)),
    )


trees = st.recursive(leaves, _grow, max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_render_then_parse_gives_the_same_tree(tree):
    text = render(tree)
    assert parse(text) == tree
    assert render(parse(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab1 +-*/^()<>=!&|,[]NOTANDOR", max_size=20))
def test_parse_accepts_or_refuses_but_never_crashes(text):
    try:
        tree = parse(text)
    except MathError as error:
        assert error.position is None or 1 <= error.position <= len(text) + 1
    else:
        assert parse(render(tree)) == tree
