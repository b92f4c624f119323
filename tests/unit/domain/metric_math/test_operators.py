"""Operators over scalars, series and arrays: AWS's rules for missing points, division by
zero, comparisons and logic, which operand kinds combine; checked against a reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfn_gateway.domain.metric_math import ARITHMETIC_ERROR, MathError, Series, render
from cfn_gateway.domain.metric_math.nodes import Binary, Number, Reference, Unary
from tests.unit.domain.metric_math.support import listed, minutes, run, series

# AWS's example (user guide, "Comparison and logical operators"):
# metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -].
ENV = {"metric1": series([30, 20, 0, 0], label="one", series_id="metric1"),
       "metric2": series([20, None, 20, None], label="two", series_id="metric2")}


@pytest.mark.parametrize(("text", "expected"), [
    ("metric1 < metric2", [0, 0, 1, 0, None]),
    ("metric1 >= 30", [1, 0, 0, 0, None]),
    ("metric1 > 15 AND metric2 > 15", [1, 0, 0, 0, None]),
    ("metric1 > 15 && metric2 > 15", [1, 0, 0, 0, None]),
    ("metric1 > 15 OR metric2 > 15", [1, 1, 1, 0, None]),
    ("metric1 > 15 || metric2 > 15", [1, 1, 1, 0, None]),
    ("metric1 == metric2", [0, 0, 0, 1, None]),
    ("metric1 != metric2", [1, 1, 1, 0, None]),
    ("metric1 <= 20", [0, 1, 1, 1, None]),
    ("metric1 > metric2", [1, 1, 0, 0, None]),
    ("metric2 < 25", [1, None, 1, None, None]),
    ("NOT metric1", [0, 0, 1, 1, None]),
    ("NOT metric2 > 20", [1, None, 1, None, None]),
    ("metric1 AND metric2", [1, 0, 0, 0, None]),
    ("metric1 OR -3", [1, 1, 1, 1, None]),
    # Arithmetic: "Missing values in a time series are treated as 0."
    ("metric1 + metric2", [50, 20, 20, 0, None]),
    ("metric1 - metric2", [10, 20, -20, 0, None]),
    ("metric2 - metric1", [-10, -20, 20, 0, None]),
    ("metric1 * metric2", [600, 0, 0, 0, None]),
    ("metric2 ^ 2", [400, None, 400, None, None]),
    ("2 ^ metric2 / 2 ^ 19", [2, None, 2, None, None]),
    ("metric1 * 2 + 1", [61, 41, 1, 1, None]),
    ("-metric1", [-30, -20, 0, 0, None]),
    ("--metric2", [20, None, 20, None, None]),
    ("100 - metric2", [80, None, 80, None, None]),
    # "If the value of a data point causes a function to attempt to divide by zero, the
    # data point is dropped."
    ("metric1 / metric2", [1.5, None, 0, None, None]),
    ("metric2 / metric1", [20 / 30, 0, None, None, None]),
    ("metric1 / 0", [None] * 5),
    ("metric1 / (metric1 - 20)", [3, None, 0, 0, None]),
    ("(metric1 / metric2) + metric2", [21.5, None, 20, None, None]),
    ("metric1 ^ -1", [1 / 30, 1 / 20, None, None, None]),
    ("(metric1 - 25) ^ 0.5", [math.sqrt(5), None, None, None, None]),
    ("metric1 * 1e308 * 10", [None, None, 0, 0, None]),
    ("metric1 + 1 / 0", [None] * 5),
])
def test_series_operators(text, expected):
    result = run(text, ENV)
    assert listed(result) == pytest.approx(expected)
    assert all(math.isfinite(v) for v in result.values)


@pytest.mark.parametrize(("text", "dropped"), [
    ("metric1 / metric2", True),
    ("metric1 / 0", True),
    ("metric1 + 1 / 0", True),
    ("(metric1 - 25) ^ 0.5", True),
    ("metric1 + metric2", False),
    ("metric2 / 2", False),
    # Every part is computed in full: the division drops points before IF picks.
    ("IF(metric2 > 0, metric1 / metric2, 0)", True),
    ("TIME_SERIES(1) + metric2 / metric2", False),
    ("TIME_SERIES(1) + metric1 / metric2", True),
])
def test_arithmetic_error_message_when_points_are_dropped(text, dropped):
    result = run(text, ENV)
    assert (result.messages == (ARITHMETIC_ERROR,)) is dropped
    if not dropped:
        assert result.messages == ()


def test_arithmetic_error_text_is_aws():
    assert ARITHMETIC_ERROR.code == "ArithmeticError"
    assert ARITHMETIC_ERROR.value == ("One or more data-points have been dropped due to "
                                      "non-numeric values (NaN, -Infinite, +Infinite)")


def test_scalar_arithmetic_inside_series_expressions():
    assert listed(run("metric2 * (2 + 3) ^ 2 - 10 / 4", ENV)) == [497.5, None, 497.5, None, None]
    assert listed(run("metric2 * (1 < 2) + (3 AND 0)", ENV)) == [20, None, 20, None, None]
    assert listed(run("metric2 * (NOT 0)", ENV)) == [20, None, 20, None, None]


# --- Arrays -------------------------------------------------------------------------------


def test_array_with_scalar_and_series_element_by_element():
    result = run("METRICS() * 100", ENV)
    assert [listed(s) for s in result] == [[3000, 2000, 0, 0, None],
                                           [2000, None, 2000, None, None]]
    assert [s.label for s in result] == ["one", "two"]
    assert [listed(s) for s in run("100 / METRICS()", ENV)] == [
        [100 / 30, 5, None, None, None], [5, None, 5, None, None]]
    assert [listed(s) for s in run("METRICS() - metric2", ENV)] == [
        [10, 20, -20, 0, None], [0, None, 0, None, None]]
    assert [listed(s) for s in run("metric2 - [metric1, metric2]", ENV)] == [
        [-10, -20, 20, 0, None], [0, None, 0, None, None]]
    assert [listed(s) for s in run("-[metric1, metric2]", ENV)] == [
        [-30, -20, 0, 0, None], [-20, None, -20, None, None]]
    assert [listed(s) for s in run("METRICS() > 15", ENV)] == [
        [1, 1, 0, 0, None], [1, None, 1, None, None]]


def test_array_literals_flatten():
    result = run("[metric1, METRICS('2'), [metric2]]", ENV)
    assert [s.id for s in result] == ["metric1", "metric2", "metric2"]


@pytest.mark.parametrize(("text", "detail"), [
    ("METRICS() + METRICS()", "the operator + does not accept (TS[], TS[])"),
    ("[metric1] * [metric2]", "the operator * does not accept (TS[], TS[])"),
    ("metric1 + 'x'", "the operator + does not accept (TS, String)"),
    ("metric1 + REPEAT", "the operator + does not accept (TS, REPEAT)"),
    ("-'x'", "the operator - does not accept (String)"),
    ("NOT DESC", "the operator NOT does not accept (DESC)"),
    ("[metric1, 5]", "an array lists time series (TS or TS[]), not S"),
    ("[AVG(metric1)]", "an array lists time series (TS or TS[]), not S"),
])
def test_operand_kinds_refused(text, detail):
    with pytest.raises(MathError) as caught:
        run(text, ENV)
    assert caught.value.detail == detail
    assert caught.value.per_result  # found while evaluating


# --- Property: + - * / over random series against a plain reference ------------------------

VALUES = st.sampled_from([0.0, 1.0, -1.0, 2.5, 3.0, -7.0, 0.1, 1e300])
SERIES = st.dictionaries(st.integers(0, 7), VALUES, max_size=8)
IDS = ("m1", "m2", "m3")

leaf = st.one_of(st.sampled_from(IDS).map(Reference), VALUES.map(lambda v: Number(abs(v))))
expressions = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.builds(Binary, st.sampled_from("+-*/"), children, children),
        st.builds(Unary, st.just("-"), children)),
    max_leaves=12)


class _Reference:
    """Per-timestamp dict arithmetic: the rules of the user guide, written plainly."""

    def __init__(self, env: dict[str, dict[int, float]]) -> None:
        self.env = env
        self.dropped = False

    def op(self, op: str, x: float, y: float) -> float:
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        return x / y if y != 0 else math.nan

    def keep_finite(self, points: dict[int, float]) -> dict[int, float]:
        kept = {t: v for t, v in points.items() if math.isfinite(v)}
        self.dropped |= len(kept) != len(points)
        return kept

    def value(self, node):
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Reference):
            return self.env[node.id]
        if isinstance(node, Unary):
            inner = self.value(node.operand)
            return {t: -v for t, v in inner.items()} if isinstance(inner, dict) else -inner
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(left, dict) and isinstance(right, dict):
            return self.keep_finite({t: self.op(node.op, left.get(t, 0.0), right.get(t, 0.0))
                                     for t in left.keys() | right.keys()})
        if isinstance(left, dict):
            return self.keep_finite({t: self.op(node.op, v, right) for t, v in left.items()})
        if isinstance(right, dict):
            return self.keep_finite({t: self.op(node.op, left, v) for t, v in right.items()})
        return self.op(node.op, left, right)


@settings(max_examples=400, deadline=None)
@given(expressions, SERIES, SERIES, SERIES)
def test_arithmetic_matches_reference(tree, s1, s2, s3):
    points = {"m1": s1, "m2": s2, "m3": s3}
    env = {name: series(values, series_id=name) for name, values in points.items()}
    reference = _Reference(points)
    expected = reference.value(tree)
    text = render(tree)
    if not isinstance(expected, dict):
        with pytest.raises(MathError, match="not a scalar"):
            run(text, env)
        return
    result = run(text, env)
    assert isinstance(result, Series)
    assert minutes(result) == pytest.approx({float(t): v for t, v in expected.items()},
                                            rel=1e-12, abs=0)
    assert (ARITHMETIC_ERROR in result.messages) is reference.dropped
    assert all(math.isfinite(v) for v in result.values)
    assert list(result.timestamps) == sorted(result.timestamps)
