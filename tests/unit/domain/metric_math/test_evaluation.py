"""Checking a request's expressions before fetching (kinds, order, references) and the
contract of evaluate (errors per result, messages, ids)."""

from __future__ import annotations

import pytest

from cfn_gateway.domain.metric_math import (
    ARITHMETIC_ERROR,
    MAX_LENGTH,
    Kind,
    MathError,
    Series,
    check,
    check_queries,
    evaluation_order,
    parse,
    references,
    render,
)
from tests.unit.domain.metric_math.support import listed, run, series

TS, ARRAY = Kind.SERIES, Kind.ARRAY
KINDS = {"m1": TS, "m2": TS, "q1": ARRAY}


@pytest.mark.parametrize(("text", "kind"), [
    ("m1", TS),
    ("m1 + 1", TS),
    ("m1 * m2 - AVG(m1)", TS),
    ("q1", ARRAY),
    ("q1 / m1", ARRAY),
    ("METRICS()", ARRAY),
    ("SUM(METRICS())", TS),
    ("[m1, q1]", ARRAY),
    ("FIRST(SORT(q1, MAX, DESC))", TS),
    ("SLICE(q1, 2, 3)", TS),
    ("SLICE(q1, 2, 4)", ARRAY),
    ("SLICE(q1, 2)", ARRAY),
    ("SLICE(q1, 1, -1 + 3)", TS),
    ("SLICE(q1, 0, METRIC_COUNT(q1))", ARRAY),
    ("IF(m1 > 1, m2)", TS),
    ("IF(1, m2, m1)", TS),
    ("TIME_SERIES(PERIOD(m1))", TS),
    ("FILL(q1, REPEAT)", ARRAY),
    ("-q1", ARRAY),
])
def test_check_gives_the_result_kind(text, kind):
    assert check(parse(text), KINDS, metric_ids=["m1", "m2"]) is kind


@pytest.mark.parametrize(("text", "position", "detail"), [
    ("m3 + 1", 1, "unknown metric or expression id 'm3'"),
    ("SUM([m1, nothere])", 10, "unknown metric or expression id 'nothere'"),
    ("AVG(m1)", None, "the result of an expression must be a time series or an array of "
                      "time series, not a scalar"),
    ("5", None, "the result of an expression must be a time series or an array of time "
                "series, not a scalar"),
    ("'x'", None, "the result of an expression must be a time series or an array of time "
                  "series, not String"),
    ("REPEAT", None, "the result of an expression must be a time series or an array of time "
                     "series, not keyword"),
    ("q1 + METRICS()", 4, "the operator + does not accept (TS[], TS[])"),
    ("ABS(1) + m1", 1, "ABS does not accept (S); it accepts (TS) or (TS[])"),
    ("m1 + SORT(q1, AVG, DESC, 'x')", 6, "SORT does not accept (TS[], AVG, DESC, String); "
                                         "it accepts (TS[], AVG|MAX|MIN|SUM, ASC|DESC) or "
                                         "(TS[], AVG|MAX|MIN|SUM, ASC|DESC, S)"),
    ("TIME_SERIES(PERIOD(q1))", 13, "PERIOD does not accept (TS[]); it accepts (TS)"),
    ("m1 / PERIOD(e9)", 13, "unknown metric or expression id 'e9'"),
])
def test_check_refuses(text, position, detail):
    with pytest.raises(MathError) as caught:
        check(parse(text), KINDS, metric_ids=["m1", "m2"], query_id="e1")
    error = caught.value
    assert (error.position, error.detail) == (position, detail)
    assert error.query_id == "e1" and not error.per_result
    assert str(error).startswith("Error in expression e1")


def test_period_of_an_expression_is_refused_when_the_metrics_are_known():
    expr = parse("TIME_SERIES(PERIOD(e2))")
    assert check(expr, {"e2": TS}) is TS  # metric ids unknown: accepted
    with pytest.raises(MathError, match="PERIOD takes the Id of a metric"):
        check(expr, {"e2": TS, "m1": TS}, metric_ids=["m1"])


# --- Order of a request's expressions -----------------------------------------------------


def parsed(**texts: str):
    return {query_id: parse(text) for query_id, text in texts.items()}


def test_evaluation_order_puts_dependencies_first():
    expressions = parsed(e1="e2 + m3", e2="m1 * m2", e3="e1 / e2", e4="SUM(METRICS())")
    order = evaluation_order(expressions, ["m1", "m2", "m3"])
    assert order == ["e2", "e1", "e3", "e4"]


@pytest.mark.parametrize(("texts", "query_id", "detail"), [
    ({"e1": "e1 + 1"}, "e1", "circular reference e1 -> e1"),
    ({"e1": "e2 + 1", "e2": "e3 * 2", "e3": "e1"}, "e1", "circular reference e1 -> e2 -> e3 "
                                                         "-> e1"),
    ({"e1": "m1", "e2": "e3", "e3": "e2 + m1"}, "e2", "circular reference e2 -> e3 -> e2"),
    ({"e1": "m1 + m9"}, "e1", "unknown metric or expression id 'm9'"),
    ({"e1": "e2", "e2": "x"}, "e2", "unknown metric or expression id 'x'"),
])
def test_evaluation_order_refuses(texts, query_id, detail):
    with pytest.raises(MathError) as caught:
        evaluation_order(parsed(**texts), ["m1"])
    assert (caught.value.query_id, caught.value.detail) == (query_id, detail)
    assert not caught.value.per_result


def test_check_queries_works_out_every_kind():
    expressions = parsed(e1="e2 * 2", e2="METRICS()", e3="SUM(e2)", e4="q1 + e3")
    kinds = check_queries(expressions, {"m1": TS, "q1": ARRAY})
    assert kinds == {"m1": TS, "q1": ARRAY, "e1": ARRAY, "e2": ARRAY, "e3": TS, "e4": ARRAY}
    with pytest.raises(MathError) as caught:
        check_queries(parsed(e1="e2 + METRICS()", e2="METRICS()"), {"m1": TS})
    assert caught.value.query_id == "e1"
    assert caught.value.detail == "the operator + does not accept (TS[], TS[])"
    with pytest.raises(MathError, match="PERIOD takes the Id of a metric"):
        check_queries(parsed(e1="m1 / PERIOD(e2)", e2="m1"), {"m1": TS})


# --- evaluate -----------------------------------------------------------------------------

ENV = {"m1": series([1, 2, 3], label="one", series_id="m1"),
       "m2": series([0, 1, None], label="two", series_id="m2")}


def test_evaluation_errors_are_reported_per_result():
    with pytest.raises(MathError) as caught:
        run("AVG(m1)", ENV, query_id="avg")
    error = caught.value
    assert error.per_result and error.query_id == "avg" and error.code == "ValidationError"
    assert str(error) == ("Error in expression avg: the result of an expression must be a "
                          "time series or an array of time series, not a scalar.")
    with pytest.raises(MathError) as caught:
        run("m1 + gone", ENV)
    assert caught.value.per_result and caught.value.position == 6


def test_single_results_take_the_query_id_arrays_keep_their_sources():
    result = run("m1 + m2", ENV, query_id="total")
    assert (result.id, result.label, result.period) == ("total", "total", 60)
    assert listed(result, 3) == [1, 3, 3]
    array = run("METRICS() * 2", ENV, query_id="doubled")
    assert [(s.id, s.label) for s in array] == [("m1", "one"), ("m2", "two")]


def test_results_of_other_expressions_can_be_arrays():
    env = {**ENV, "e1": run("METRICS() * 2", ENV)}
    assert listed(run("SUM(e1)", env), 3) == [2, 6, 6]
    assert [listed(s, 3) for s in run("e1 + m1", env)] == [[3, 6, 9], [1, 4, 3]]


def test_the_arithmetic_error_message_belongs_to_the_expression_that_dropped_points():
    env = {**ENV, "e1": run("m1 / m2", ENV)}
    assert env["e1"].messages == (ARITHMETIC_ERROR,)
    assert run("e1 / m2", env).messages == (ARITHMETIC_ERROR,)
    assert run("e1 + 1", env).messages == ()
    assert run("e1", env).messages == ()
    array = run("METRICS() / m2", ENV)
    assert all(s.messages == (ARITHMETIC_ERROR,) for s in array)
    array = run("[e1, m1]", env)
    assert all(s.messages == () for s in array)


def test_evaluate_does_not_change_its_inputs():
    before = dict(ENV)
    run("FILL(METRICS(), REPEAT) / 0", ENV)
    assert before == ENV
    assert isinstance(ENV["m1"], Series) and ENV["m1"].messages == ()


def test_the_longest_chain_of_operators_is_checked_evaluated_and_written_back():
    text = "m1" + "+1" * ((MAX_LENGTH - 2) // 2)
    expr = parse(text)
    assert check(expr, {"m1": TS}) is TS
    assert listed(run(text, ENV), 3) == [1 + 1023, 2 + 1023, 3 + 1023]
    assert render(expr) == text.replace("+", " + ")
    assert references(expr) == {"m1"}
