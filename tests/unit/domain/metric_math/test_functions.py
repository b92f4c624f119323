"""Every metric math function: normal cases, edge cases, and the arguments it refuses."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from cfn_gateway.domain.metric_math import ARITHMETIC_ERROR, MathError, Series
from tests.unit.domain.metric_math.support import END, T0, at, listed, minutes, run, series

M1 = series([30, 20, 0, 0, None], label="CPU", series_id="m1")
M2 = series([20, None, 20, None, None], label="Mem", series_id="m2")
M3 = series([None, 5, None, None, 10], label="Disk", series_id="m3")
ENV = {"m1": M1, "m2": M2, "m3": M3}


def values(text: str, env=ENV, **options) -> list[float | None]:
    result = run(text, env, **options)
    assert isinstance(result, Series)
    return listed(result)


def arrays(text: str, env=ENV, **options) -> list[list[float | None]]:
    result = run(text, env, **options)
    assert isinstance(result, tuple)
    return [listed(s) for s in result]


def refused(text: str, env=ENV, **options) -> MathError:
    with pytest.raises(MathError) as caught:
        run(text, env, **options)
    return caught.value


# --- Point by point -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("ABS(m1 - 25)", [5, 5, 25, 25, None]),
    ("CEIL(m1 / 8)", [4, 3, 0, 0, None]),
    ("CEIL(-m1 / 8)", [-3, -2, 0, 0, None]),
    ("FLOOR(m1 / 8)", [3, 2, 0, 0, None]),
    ("FLOOR(-m1 / 8)", [-4, -3, 0, 0, None]),
    ("LOG(m2)", [math.log(20), None, math.log(20), None, None]),
    ("LOG10(m1 * 10)", [math.log10(300), math.log10(200), None, None, None]),
    ("LOG(m1 - 25)", [math.log(5), None, None, None, None]),
])
def test_pointwise_functions(text, expected):
    assert values(text) == pytest.approx(expected)


def test_pointwise_functions_on_arrays_keep_each_series():
    result = run("ABS(-METRICS())", ENV)
    assert [s.label for s in result] == ["CPU", "Mem", "Disk"]
    assert [listed(s) for s in result] == [listed(M1), listed(M2), listed(M3)]


def test_log_of_zero_or_negative_drops_points_with_a_message():
    result = run("LOG(m1)", ENV)
    assert listed(result) == pytest.approx([math.log(30), math.log(20), None, None, None])
    assert result.messages == (ARITHMETIC_ERROR,)
    assert run("LOG(m2)", ENV).messages == ()


# --- Aggregates ---------------------------------------------------------------------------

STDDEV_M1 = math.sqrt(((30 - 12.5) ** 2 + (20 - 12.5) ** 2 + 2 * 12.5 ** 2) / 4)


@pytest.mark.parametrize(("function", "scalar"), [
    ("SUM", 50), ("AVG", 12.5), ("MIN", 0), ("MAX", 30), ("STDDEV", STDDEV_M1),
    ("DATAPOINT_COUNT", 4),
])
def test_aggregate_of_a_series_is_a_scalar(function, scalar):
    assert values(f"m1 * 0 + {function}(m1)") == pytest.approx([scalar] * 4 + [None])
    assert values(f"TIME_SERIES({function}(m1))") == pytest.approx([scalar] * 5)


@pytest.mark.parametrize(("text", "expected"), [
    # Per timestamp across the series; a missing point counts as 0.
    ("SUM([m1, m2])", [50, 20, 20, 0, None]),
    ("AVG([m1, m2])", [25, 10, 10, 0, None]),
    ("MIN([m1, m2])", [20, 0, 0, 0, None]),
    ("MAX([m1, m2])", [30, 20, 20, 0, None]),
    ("STDDEV([m1, m2])", [5, 10, 10, 0, None]),
    ("DATAPOINT_COUNT([m1, m2])", [2, 1, 2, 1, None]),
    ("DATAPOINT_COUNT(METRICS())", [2, 2, 2, 1, 1]),
    ("SUM(METRICS())", [50, 25, 20, 0, 10]),
    ("AVG([m2, m3])", [10, 2.5, 10, None, 5]),
    ("SUM(100/[m1, m2])", [100 / 30 + 5, 5, 5, None, None]),
    ("AVG([m1,m2]/m3)", [None, 2, None, None, 0]),
])
def test_aggregate_of_an_array_is_a_series(text, expected):
    assert values(text) == pytest.approx(expected)


def test_aggregates_of_no_points():
    env = {"m1": M1, "none": series({}, series_id="none")}
    for function in ("AVG", "MIN", "MAX", "STDDEV"):
        result = run(f"TIME_SERIES({function}(none))", env)
        assert listed(result) == [None] * 5
        assert result.messages == (ARITHMETIC_ERROR,)
    assert values("TIME_SERIES(SUM(none))", env) == [0] * 5
    assert values("TIME_SERIES(DATAPOINT_COUNT(none))", env) == [0] * 5
    assert values("SUM(REMOVE_EMPTY([none]))", env) == [None] * 5


def test_examples_of_the_user_guide():
    assert values("m1 - AVG(m1)") == [17.5, 7.5, -12.5, -12.5, None]
    assert values("SUM([m1,m2])/AVG(m2)") == [2.5, 1, 1, 0, None]
    assert values("MAX(m1)/m1") == [1, 1.5, None, None, None]
    # A scalar is refused as a final result; as part of a series it works.
    assert refused("SUM(m1) / DATAPOINT_COUNT(m1)").detail.endswith("not a scalar")
    assert values("m2 * 0 + SUM(m1) / DATAPOINT_COUNT(m1)") == [12.5, None, 12.5, None, None]


# --- Differences, rates, running sums -----------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("DIFF(m1)", [None, -10, -20, 0, None]),
    ("DIFF(m3)", [None, None, None, None, 5]),
    ("DIFF_TIME(m1)", [None, 60, 60, 60, None]),
    ("DIFF_TIME(m3)", [None, None, None, None, 180]),
    ("RATE(m1)", [None, -10 / 60, -20 / 60, 0, None]),
    ("RATE(m3)", [None, None, None, None, 5 / 180]),
    ("RUNNING_SUM(m1)", [30, 50, 50, 50, None]),
    ("RUNNING_SUM(m3)", [None, 5, None, None, 15]),
])
def test_differences(text, expected):
    assert values(text) == pytest.approx(expected)


def test_differences_of_arrays_and_of_single_points():
    assert arrays("RUNNING_SUM([m1,m2])") == [[30, 50, 50, 50, None],
                                              [20, None, 40, None, None]]
    assert arrays("DIFF(METRICS())") == [[None, -10, -20, 0, None],
                                         [None, None, 0, None, None],
                                         [None, None, None, None, 5]]
    one = {"m1": series({2: 7})}
    assert values("DIFF(m1)", one) == [None] * 5
    assert values("RATE(m1)", one) == [None] * 5
    assert values("RUNNING_SUM(m1)", one) == [None, None, 7, None, None]


# --- FILL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("FILL(m2, 0)", [20, 0, 20, 0, 0]),
    ("FILL(m2, -1.5)", [20, -1.5, 20, -1.5, -1.5]),
    ("FILL(m2, MIN(m1))", [20, 0, 20, 0, 0]),
    ("FILL(m2, REPEAT)", [20, 20, 20, 20, 20]),
    ("FILL(m3, REPEAT)", [None, 5, 5, 5, 10]),
    ("FILL(m3, LINEAR)", [None, 5, 5 + 5 / 3, 5 + 10 / 3, 10]),
    ("FILL(m2, LINEAR)", [20, 20, 20, None, None]),
    ("FILL(m3, m1)", [30, 5, 0, 0, 10]),
    ("FILL(m1, m3)", [30, 20, 0, 0, 10]),
    ("FILL(m2, m3)", [20, 5, 20, None, 10]),
])
def test_fill(text, expected):
    assert values(text) == pytest.approx(expected)


def test_fill_arrays():
    assert arrays("FILL(METRICS(), 0)") == [[30, 20, 0, 0, 0], [20, 0, 20, 0, 0],
                                            [0, 5, 0, 0, 10]]
    assert arrays("FILL(METRICS(), m1)") == [[30, 20, 0, 0, None], [20, 20, 20, 0, None],
                                             [30, 5, 0, 0, 10]]
    assert arrays("FILL(METRICS(), LINEAR)")[2] == pytest.approx([None, 5, 5 + 5 / 3,
                                                                  5 + 10 / 3, 10])


def test_fill_a_series_with_no_points():
    env = {"none": series({}, series_id="none")}
    assert values("FILL(none, 7)", env) == [7] * 5
    assert values("FILL(none, REPEAT)", env) == [None] * 5
    assert values("FILL(none, LINEAR)", env) == [None] * 5


def test_fill_with_a_non_numeric_scalar_fills_nothing_and_says_so():
    env = {"m2": M2, "none": series({}, series_id="none")}
    result = run("FILL(m2, AVG(none))", env)
    assert listed(result) == [20, None, 20, None, None]
    assert result.messages == (ARITHMETIC_ERROR,)


def test_fill_uses_the_series_period_and_its_own_alignment():
    five = Series("", (T0 + timedelta(seconds=30),), (1.0,), 120, "m1")
    result = run("FILL(m1, 0)", {"m1": five})
    assert [(t - T0).total_seconds() for t in result.timestamps] == [30, 150, 270]
    assert result.values == (1.0, 0.0, 0.0)
    # A series without a period takes the request's.
    result = run("FILL(m1, 0)", {"m1": Series("", (), (), 0, "m1")})
    assert len(result.timestamps) == 5


def test_fill_refuses_what_it_cannot_fill_with():
    assert refused("FILL(m1, ASC)").detail == (
        "FILL does not accept (TS, ASC); it accepts (TS, S|TS|LINEAR|REPEAT) or "
        "(TS[], S|TS|LINEAR|REPEAT)")
    assert refused("FILL(m1)").detail.startswith("FILL does not accept (TS); it accepts")
    assert refused("FILL(m1, METRICS())").detail.startswith("FILL does not accept (TS, TS[])")
    assert refused("FILL(5, 0)").detail.startswith("FILL does not accept (S, S)")


# --- Arrays -------------------------------------------------------------------------------


def test_first_last_metric_count_remove_empty():
    env = {**ENV, "none": series({}, label="None", series_id="none")}
    assert values("FIRST(METRICS())", env) == listed(M1)
    assert values("LAST(METRICS())", env) == [None] * 5
    assert values("LAST(REMOVE_EMPTY(METRICS()))", env) == listed(M3)
    assert [s.label for s in run("REMOVE_EMPTY(METRICS())", env)] == ["CPU", "Mem", "Disk"]
    assert values("TIME_SERIES(METRIC_COUNT(METRICS()))", env) == [4] * 5
    assert values("TIME_SERIES(METRIC_COUNT(REMOVE_EMPTY(METRICS())))", env) == [3] * 5
    assert values("FIRST(METRICS('nothing'))", env) == [None] * 5
    assert run("REMOVE_EMPTY(METRICS('nothing'))", env) == ()


def labels(text: str, env=ENV) -> list[str]:
    return [s.label for s in run(text, env)]


@pytest.mark.parametrize(("text", "expected"), [
    ("SORT(METRICS(), AVG, DESC)", ["Mem", "CPU", "Disk"]),  # 20, 12.5, 7.5
    ("SORT(METRICS(), AVG, ASC)", ["Disk", "CPU", "Mem"]),
    ("SORT(METRICS(), MAX, DESC)", ["CPU", "Mem", "Disk"]),  # 30, 20, 10
    ("SORT(METRICS(), MIN, ASC)", ["CPU", "Disk", "Mem"]),  # 0, 5, 20
    ("SORT(METRICS(), SUM, DESC)", ["CPU", "Mem", "Disk"]),  # 50, 40, 15
    ("SORT(METRICS(), SUM, DESC, 2)", ["CPU", "Mem"]),
    ("SORT(METRICS(), SUM, DESC, 0)", []),
    ("SORT(METRICS(), SUM, DESC, 10)", ["CPU", "Mem", "Disk"]),
    ("SLICE(SORT(METRICS(), SUM, DESC), 0, 2)", ["CPU", "Mem"]),
    ("SLICE(METRICS(), 1)", ["Mem", "Disk"]),
    ("SLICE(METRICS(), 2, 10)", ["Disk"]),
    ("SLICE(METRICS(), 5)", []),
    ("SLICE(METRICS(), 2, 1)", []),
])
def test_sort_and_slice(text, expected):
    assert labels(text) == expected


def test_sort_keeps_ties_in_order_and_puts_empty_series_last():
    env = {"a": series({0: 1}, label="a"), "none": series({}, label="none"),
           "b": series({0: 1}, label="b"), "c": series({0: 2}, label="c")}
    assert labels("SORT(METRICS(), AVG, DESC)", env) == ["c", "a", "b", "none"]
    assert labels("SORT(METRICS(), AVG, ASC)", env) == ["a", "b", "c", "none"]


def test_slice_of_one_is_a_series():
    result = run("SLICE(SORT(METRICS(), AVG, DESC), 0, 1)", ENV)
    assert isinstance(result, Series) and listed(result) == listed(M2)
    assert listed(run("IF(SLICE(METRICS(), 2, 3) > 6, 1, 0)", ENV)) == [None, 0, None, None, 1]
    assert listed(run("SLICE(METRICS(), 7, 8)", ENV)) == [None] * 5
    assert isinstance(run("SLICE(METRICS(), 1, 1 + 1)", ENV), Series)
    assert isinstance(run("SLICE(METRICS(), 1, 3)", ENV), tuple)


@pytest.mark.parametrize(("text", "detail"), [
    ("SLICE(METRICS(), 0.5)", "the start of SLICE must be a whole number of 0 or more, not 0.5"),
    ("SLICE(METRICS(), -1)", "the start of SLICE must be a whole number of 0 or more, not -1"),
    ("SLICE(METRICS(), 0, AVG(m1))",
     "the end of SLICE must be a whole number of 0 or more, not 12.5"),
    ("SORT(METRICS(), SUM, DESC, -2)",
     "the limit of SORT must be a whole number of 0 or more, not -2"),
    ("SORT(METRICS(), SUM, DESC, 1/0)",
     "the limit of SORT must be a whole number of 0 or more, not nan"),
])
def test_bounds_must_be_whole_numbers(text, detail):
    error = refused(text)
    assert error.detail == detail and error.per_result


@pytest.mark.parametrize(("text", "detail"), [
    ("SORT(METRICS(), DESC, AVG)", "SORT does not accept (TS[], DESC, AVG); it accepts "
                                   "(TS[], AVG|MAX|MIN|SUM, ASC|DESC) or "
                                   "(TS[], AVG|MAX|MIN|SUM, ASC|DESC, S)"),
    ("SORT(m1, AVG, DESC)", "SORT does not accept (TS, AVG, DESC); it accepts "
                            "(TS[], AVG|MAX|MIN|SUM, ASC|DESC) or "
                            "(TS[], AVG|MAX|MIN|SUM, ASC|DESC, S)"),
    ("SORT(METRICS(), LINEAR, ASC)", "SORT does not accept (TS[], LINEAR, ASC); it accepts "
                                     "(TS[], AVG|MAX|MIN|SUM, ASC|DESC) or "
                                     "(TS[], AVG|MAX|MIN|SUM, ASC|DESC, S)"),
    ("SLICE(METRICS())", "SLICE does not accept (TS[]); it accepts (TS[], S) or "
                         "(TS[], S, S)"),
    ("FIRST(m1)", "FIRST does not accept (TS); it accepts (TS[])"),
    ("METRIC_COUNT(m1)", "METRIC_COUNT does not accept (TS); it accepts (TS[])"),
    ("REMOVE_EMPTY(m1)", "REMOVE_EMPTY does not accept (TS); it accepts (TS[])"),
    ("ABS(5)", "ABS does not accept (S); it accepts (TS) or (TS[])"),
    ("ABS(m1, m2)", "ABS does not accept (TS, TS); it accepts (TS) or (TS[])"),
    ("SUM()", "SUM does not accept (); it accepts (TS) or (TS[])"),
    ("SUM('x')", "SUM does not accept (String); it accepts (TS) or (TS[])"),
    ("METRICS(5)", "METRICS does not accept (S); it accepts () or (String)"),
    ("METRICS(m1)", "METRICS does not accept (TS); it accepts () or (String)"),
    ("TIME_SERIES(m1)", "TIME_SERIES does not accept (TS); it accepts (S)"),
    ("MINUTE(METRICS())", "MINUTE does not accept (TS[]); it accepts (TS)"),
    ("PERIOD(METRICS())", "PERIOD does not accept (TS[]); it accepts (TS)"),
])
def test_signatures_refused(text, detail):
    error = refused(text)
    assert error.detail == detail
    assert error.code == "ValidationError"


# --- METRICS() ----------------------------------------------------------------------------


def test_metrics_are_the_request_metrics_in_order_not_expressions():
    env = {**ENV, "e0": series([1, 1, 1, 1, 1], label="expression")}
    result = run("METRICS()", env, metric_ids=["m3", "m1", "m2"])
    assert [s.label for s in result] == ["Disk", "CPU", "Mem"]
    assert [s.id for s in result] == ["m3", "m1", "m2"]
    # Without metric_ids: every single series of env, in env order.
    assert [s.label for s in run("METRICS()", env)] == ["CPU", "Mem", "Disk", "expression"]


def test_metrics_with_a_string_keeps_ids_containing_it():
    env = {"errors_4xx": series({0: 1}, label="4xx"), "errors_5xx": series({0: 2}, label="5xx"),
           "requests": series({0: 100}, label="requests")}
    assert [s.label for s in run("METRICS('errors')", env)] == ["4xx", "5xx"]
    assert [s.label for s in run('METRICS("5xx")', env)] == ["5xx"]
    assert [s.label for s in run("METRICS('Errors')", env)] == []  # case-sensitive
    assert [s.label for s in run("METRICS('')", env)] == ["4xx", "5xx", "requests"]
    assert values("SUM(METRICS('errors'))/SUM(METRICS('requests'))*100", env)[0] == 3
    assert values("SUM([METRICS('4xx'), METRICS('5xx')])", env)[0] == 3


def test_metrics_include_arrays_of_a_query_and_name_series_by_their_id():
    env = {"q1": (series({0: 1}, label="a"), series({0: 2}, label="b")),
           "m1": Series("plain", (T0,), (3.0,), 60)}
    result = run("METRICS()", env, metric_ids=["q1", "m1"])
    assert [s.label for s in result] == ["a", "b", "plain"]
    assert result[2].id == "m1"


# --- Time functions, PERIOD, TIME_SERIES --------------------------------------------------


@pytest.mark.parametrize(("function", "expected"), [
    ("MINUTE", [0, 1, 2, 3, 4]),
    ("HOUR", [10] * 5),
    ("DAY", [1] * 5),  # 2026-03-02 is a Monday (1; Sunday is 7)
    ("DATE", [2] * 5),
    ("MONTH", [3] * 5),
    ("YEAR", [2026] * 5),
    ("EPOCH", [T0.timestamp() + 60 * i for i in range(5)]),
])
def test_time_functions_are_not_sparse(function, expected):
    assert values(f"{function}(m3)") == expected
    assert values(f"{function}(m2)") == expected


def test_time_functions_across_days_and_in_if():
    sunday = T0 - timedelta(days=1)
    env = {"m1": Series("", (sunday, T0), (5.0, 6.0), 86400, "m1")}
    result = run("DAY(m1)", env)
    assert (result.timestamps, result.values) == ((T0,), (1.0,))  # the grid within range
    # DAY() has a point at every minute, so where m1 has none IF gives 0 (AWS's rule for
    # a true condition and a missing value).
    assert values("IF(DAY(m1) < 6, m1)") == [30, 20, 0, 0, 0]
    assert values("IF(m1 AND DAY(m1) < 6, m1)") == [30, 20, None, None, None]
    assert values("IF(MONTH(m1) == 4, m1)") == [None] * 5


def test_period():
    env = {"m1": M1, "m5": series({0: 10}, period=300), "e1": M2}
    assert values("m1 / PERIOD(m1)", env) == [0.5, 1 / 3, 0, 0, None]
    assert values("TIME_SERIES(PERIOD(m5) / 60)", env) == [5] * 5
    error = refused("TIME_SERIES(PERIOD(e1))", env, metric_ids=["m1", "m5"])
    assert error.detail == "PERIOD takes the Id of a metric, not an expression or its result"
    assert refused("TIME_SERIES(PERIOD(m1 * 2))", env).detail.startswith("PERIOD takes the Id")


@pytest.mark.parametrize(("text", "expected"), [
    ("TIME_SERIES(10)", [10] * 5),
    ("TIME_SERIES(MAX(m1))", [30] * 5),
    ("TIME_SERIES(5*AVG(m1))", [62.5] * 5),
    ("TIME_SERIES(-1) + m2", [19, -1, 19, -1, -1]),
])
def test_time_series(text, expected):
    assert values(text) == expected


def test_time_series_covers_the_request_range_on_its_period():
    result = run("TIME_SERIES(1)", ENV, period=120)
    assert [(t - T0).total_seconds() for t in result.timestamps] == [0, 120, 240]
    assert result.period == 120
    result = run("TIME_SERIES(1)", ENV, end=END + timedelta(seconds=1))
    assert len(result.timestamps) == 6


# --- IF (user guide, "Using IF expressions") ----------------------------------------------

IF_ENV = {"metric1": series([1, 1, 0, 0, None]), "metric2": series([30, None, 0, 0, 30]),
          "metric3": series([0, 0, 20, None, 20])}


@pytest.mark.parametrize(("text", "expected"), [
    ("IF(metric1, metric2, metric3)", [30, 0, 20, 0, None]),
    ("IF(metric1, 5, metric3)", [5, 5, 20, None, None]),
    ("IF(metric1, metric2, 5)", [30, 0, 5, 5, None]),
    ("IF(metric1, 5, 7)", [5, 5, 7, 7, None]),
    ("IF(metric1, metric2)", [30, 0, None, None, None]),
    ("IF(metric1, 5)", [5, 5, None, None, None]),
    ("IF(metric3 > 10, metric2, metric1)", [1, 1, 0, None, 30]),
    ("IF(metric3 < 400, 10, 2)", [10, 10, 10, None, 10]),
    ("IF(metric2 - 30, 1, 0)", [0, None, 1, 1, 0]),
    ("IF(1, metric2, metric3)", [30, None, 0, 0, 30]),
    ("IF(0, metric2, metric3)", [0, 0, 20, None, 20]),
    ("IF(-2, metric2)", [30, None, 0, 0, 30]),
    ("IF(0, metric2)", [None] * 5),
    ("IF(AVG(metric1) > 0.4, metric2, metric3)", [30, None, 0, 0, 30]),
    ("IF(AVG(metric1) > 0.5, metric2, metric3)", [0, 0, 20, None, 20]),
])
def test_if(text, expected):
    assert values(text, IF_ENV) == expected


def test_if_refusals():
    assert refused("IF(1, 2, 3)", IF_ENV).detail == (
        "the result of an expression must be a time series or an array of time series, "
        "not a scalar")
    assert refused("IF(METRICS(), 1, 0)", IF_ENV).detail.startswith(
        "IF does not accept (TS[], S, S); it accepts (S, TS) or (S, TS, TS) or (S, S, S) or "
        "(TS, S|TS) or (TS, S|TS, S|TS)")
    assert refused("IF(1, 2)", IF_ENV).detail.startswith("IF does not accept (S, S)")
    assert refused("IF(metric1)", IF_ENV).detail.startswith("IF does not accept (TS)")
    assert refused("IF(1, metric1, 2)", IF_ENV).detail.startswith("IF does not accept (S, TS, S)")


def test_if_with_a_non_numeric_scalar_condition_gives_nothing():
    env = {**IF_ENV, "none": series({})}
    result = run("IF(AVG(none), metric2, metric3)", env)
    assert listed(result) == [None] * 5
    assert result.messages == (ARITHMETIC_ERROR,)


def test_results_keep_their_points_in_time_order():
    result = run("FILL(m3, REPEAT) + IF(m1, m2, 1)", ENV)
    assert list(result.timestamps) == sorted(result.timestamps)
    assert minutes(result) == {0: 20, 1: 5, 2: 6, 3: 6, 4: 10}
    assert at(0) in result.timestamps


def test_grids_longer_than_a_request_can_return_are_refused():
    long_end = END + timedelta(days=2)
    error = refused("TIME_SERIES(1)", period=1, end=long_end)
    assert error.per_result
    assert error.detail == "a grid of 173100 points is longer than 100800"
    assert refused("FILL(m1, 0)", {"m1": series({}, period=1)}, end=long_end).per_result
    assert len(run("TIME_SERIES(1)", ENV, period=1, end=END + timedelta(days=1)).values) \
        == 86400 + 300
