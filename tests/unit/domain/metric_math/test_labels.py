"""Labels of expression results and dynamic labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cfn_gateway.domain.metric_math import (
    PLACEHOLDERS,
    Series,
    label_result,
    parse_timezone,
    render_label,
)
from cfn_gateway.domain.metric_math.labels import format_duration, format_number, format_time
from tests.unit.domain.metric_math.support import T0, at, run, series

ERRORS = series([3, 1.5, 7, 2], label="Errors", series_id="m1")  # minutes 0..3
THROTTLES = series({1: 4}, label="Throttles", series_id="m2")
ENV = {"m1": ERRORS, "m2": THROTTLES}


# --- Result labels ------------------------------------------------------------------------


def test_a_single_series_takes_the_query_label_or_else_its_id():
    assert run("m1 * 2", ENV, query_id="e1").label == "e1"
    assert run("m1 * 2", ENV, query_id="e1", label="").label == "e1"
    assert run("m1 * 2", ENV, query_id="e1", label="Doubled").label == "Doubled"
    assert run("m1", ENV, query_id="e1").label == "e1"


def test_an_array_keeps_series_labels_after_the_expression_label():
    result = run("FILL(METRICS(), 0)", ENV, label="Filled With 0:")
    assert [s.label for s in result] == ["Filled With 0: Errors", "Filled With 0: Throttles"]
    assert [s.label for s in run("FILL(METRICS(), 0)", ENV)] == ["Errors", "Throttles"]
    assert [s.label for s in run("METRICS()", ENV, label="")] == ["Errors", "Throttles"]
    result = run("METRICS()", ENV, label="${LABEL} (max ${MAX})")
    assert [s.label for s in result] == ["Errors (max 7)", "Throttles (max 4)"]


def test_an_array_series_without_a_label_takes_the_expression_label_alone():
    result = label_result((Series("", (), (), 60, "m1"),), query_id="e1", label="All")
    assert result[0].label == "All"


def test_a_single_series_label_may_be_dynamic():
    result = run("m1 + m2", ENV, label="${LABEL}: peak ${MAX} at ${MAX_TIME}")
    assert result.label == "e1: peak 7 at 3-2 10:02"


# --- Dynamic labels -----------------------------------------------------------------------


@pytest.mark.parametrize(("template", "text"), [
    ("${AVG}", "3.375"),
    ("${MIN}", "1.5"),
    ("${MAX}", "7"),
    ("${SUM}", "13.5"),
    ("${DATAPOINT_COUNT}", "4"),
    ("${FIRST}", "3"),
    ("${LAST}", "2"),
    ("${FIRST_LAST_RANGE}", "-1"),
    ("${MIN_MAX_RANGE}", "5.5"),
    ("${FIRST_TIME}", "3-2 10:00"),
    ("${LAST_TIME}", "3-2 10:03"),
    ("${MIN_TIME}", "3-2 10:01"),
    ("${MAX_TIME}", "3-2 10:02"),
    ("${FIRST_LAST_TIME_RANGE}", "3m"),
    ("${MIN_MAX_TIME_RANGE}", "1m"),
    ("${FIRST_TIME_RELATIVE}", "1h 10m"),
    ("${LAST_TIME_RELATIVE}", "1h 7m"),
    ("${MIN_TIME_RELATIVE}", "1h 9m"),
    ("${MAX_TIME_RELATIVE}", "1h 8m"),
    ("${LABEL}", "default"),
    ("${PROP('Period')}", "60"),
    ("${PROP('MetricName')}", "Errors"),
    ('${PROP("Dim.InstanceId")}', "i-1"),
    ("${PROP('Region')}", ""),
    ("[max: ${MAX} Errors for Function Name ${LABEL}]",
     "[max: 7 Errors for Function Name default]"),
    ("${UNKNOWN} stays", "${UNKNOWN} stays"),
    ("$MAX {MAX} ${max}", "$MAX {MAX} ${max}"),
    ("no placeholders", "no placeholders"),
])
def test_placeholders(template, text):
    now = at(70)
    props = {"MetricName": "Errors", "Dim.InstanceId": "i-1"}
    assert render_label(template, ERRORS, default_label="default", now=now,
                        props=props) == text


def test_every_documented_placeholder_is_known():
    assert {"AVG", "DATAPOINT_COUNT", "FIRST", "FIRST_LAST_RANGE", "FIRST_LAST_TIME_RANGE",
            "FIRST_TIME", "FIRST_TIME_RELATIVE", "LABEL", "LAST", "LAST_TIME",
            "LAST_TIME_RELATIVE", "MAX", "MAX_TIME", "MAX_TIME_RELATIVE", "MIN",
            "MIN_MAX_RANGE", "MIN_MAX_TIME_RANGE", "MIN_TIME", "MIN_TIME_RELATIVE",
            "SUM"} == PLACEHOLDERS


def test_placeholders_of_a_series_without_points():
    empty = Series("x", (), (), 300)
    text = render_label("${MAX}|${DATAPOINT_COUNT}|${FIRST_TIME}|${PROP('Period')}|${LABEL}",
                        empty, default_label="x")
    assert text == "|0||300|x"


def test_relative_times_need_the_current_time():
    assert render_label("${LAST_TIME_RELATIVE}", ERRORS, default_label="") == ""


def test_times_use_the_label_time_zone():
    text = render_label("${FIRST_TIME}", ERRORS, default_label="",
                        zone=parse_timezone("-0400"))
    assert text == "3-2 06:00"
    result = run("m1", ENV, label="from ${FIRST_TIME}", zone=parse_timezone("+0130"))
    assert result.label == "from 3-2 11:30"


@pytest.mark.parametrize(("text", "offset"), [
    ("+0000", timedelta(0)), ("-0400", timedelta(hours=-4)),
    ("+0130", timedelta(hours=1, minutes=30)), ("-0045", timedelta(minutes=-45)),
    ("+1400", timedelta(hours=14)),
])
def test_parse_timezone(text, offset):
    assert parse_timezone(text) == timezone(offset)


@pytest.mark.parametrize("text", ["0000", "+000", "+00000", "UTC", "+0060", "+01:30", ""])
def test_parse_timezone_refuses(text):
    with pytest.raises(ValueError, match="is not"):
        parse_timezone(text)


@pytest.mark.parametrize(("value", "text"), [
    (7.0, "7"), (-3.0, "-3"), (0.5, "0.5"), (0.1 + 0.2, "0.3"), (1e20, "1e+20"),
    (123456789012.0, "123456789012"), (2 / 3, "0.666666666666667"),
])
def test_format_number(value, text):
    assert format_number(value) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (59, "59s"), (60, "1m"), (3600 + 5, "1h 5s"), (90061, "1d 1h 1m 1s"),
    (-120, "2m"),
])
def test_format_duration(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text


def test_format_time():
    moment = datetime(2018, 1, 22, 17, 5, tzinfo=UTC)
    assert format_time(moment, parse_timezone("-0400")) == "1-22 13:05"
    assert format_time(T0, UTC) == "3-2 10:00"
