"""Metric alarm evaluation: window, datapoints, AWS's missing-data tables, reasons, JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import alarm_evaluation as ev
from cfn_gateway.domain.alarm_evaluation import Datapoint
from cfn_gateway.domain.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    TREAT_MISSING_DATA,
    MetricAlarmRule,
    MetricQuery,
    MetricStat,
)
from cfn_gateway.domain.metrics import BucketStats, MetricKey, StatisticSet

NOW = datetime(2026, 11, 29, 10, 5, 8, 826000, tzinfo=UTC)
END = datetime(2026, 11, 29, 10, 5, tzinfo=UTC)
KEY = MetricKey.of("App", "Load", [("Host", "a")])
KEEP = None

BELOW, ABOVE = 1.0, 5.0


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rule(n: int = 3, m: int = 3, treat: str = "missing", period: int = 60,
         comparison: str = "GreaterThanThreshold", threshold: float = 4.0,
         statistic: str = "Average", unit: str | None = None,
         low_sample: str | None = None) -> MetricAlarmRule:
    return MetricAlarmRule(
        comparison=comparison, evaluation_periods=n, datapoints_to_alarm=m,
        threshold=threshold, metric=MetricStat(KEY, period, statistic, unit),
        treat_missing_data=treat, evaluate_low_sample_count_percentile=low_sample)


def slot_time(j: int, period: int = 60, end: datetime = END) -> datetime:
    return end - timedelta(seconds=(j + 1) * period)


def pattern_points(pattern: str, period: int = 60, end: datetime = END) -> list[Datapoint]:
    """AWS's table notation, most recent on the right: 0 not breaching, X breaching, - none."""
    cells = pattern.split()
    points = []
    for index, cell in enumerate(cells):
        j = len(cells) - 1 - index
        if cell != "-":
            value = ABOVE if cell == "X" else BELOW
            points.append(Datapoint(slot_time(j, period, end), value, 1.0))
    return points


# --- the user guide's tables ------------------------------------------------------------------

MODES = ("missing", "ignore", "breaching", "notBreaching")

# (DatapointsToAlarm, datapoints, MISSING, IGNORE, BREACHING, NOT BREACHING), R = 5, N = 3.
AWS_TABLES = [
    (3, "0 - X - X", OK, OK, OK, OK),
    (3, "0 - - - -", OK, OK, OK, OK),
    (3, "- - - - -", INSUFFICIENT_DATA, KEEP, ALARM, OK),
    (3, "0 X X - X", ALARM, ALARM, ALARM, ALARM),
    (3, "- - X - -", ALARM, KEEP, ALARM, OK),
    # "Avoiding premature transitions to alarm state".
    (3, "- - - - X", INSUFFICIENT_DATA, KEEP, ALARM, OK),
    (3, "- - - X -", INSUFFICIENT_DATA, KEEP, ALARM, OK),
    (2, "0 - X - X", ALARM, ALARM, ALARM, ALARM),
    (2, "0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    (2, "0 - X - -", OK, OK, ALARM, OK),
    (2, "- - - - 0", OK, OK, ALARM, OK),
    (2, "- - - X -", ALARM, KEEP, ALARM, OK),
]


@pytest.mark.parametrize(
    ("m", "pattern", "mode", "expected"),
    [(row[0], row[1], mode, row[2 + i]) for row in AWS_TABLES for i, mode in enumerate(MODES)],
)
def test_aws_missing_data_tables(m, pattern, mode, expected):
    for current in (OK, ALARM, INSUFFICIENT_DATA):
        result = ev.evaluate(rule(3, m, mode), pattern_points(pattern), NOW, current)
        assert result.state == expected, (pattern, mode, current, result.reason)
        assert len(result.evaluated) == 3


def test_tables_hold_for_other_periods_and_operators():
    # Same tables with 5-minute periods and a "less than" alarm (breaching = low values).
    for m, pattern, *expected in AWS_TABLES:
        points = [replace(p, value=-p.value) for p in pattern_points(pattern, 300)]
        for mode, state in zip(MODES, expected, strict=True):
            r = rule(3, m, mode, period=300, comparison="LessThanThreshold", threshold=-4.0)
            assert ev.evaluate(r, points, NOW, OK).state == state, (pattern, mode)


# --- window -----------------------------------------------------------------------------------


def test_evaluation_interval_and_range():
    assert [ev.evaluation_interval(p) for p in (1, 10, 30, 59, 60, 300, 3600)] == [
        10, 10, 10, 10, 60, 60, 60]
    assert ev.range_size(3) == 5
    assert ev.range_size(1) == 3


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        (10, "2026-11-29T10:05:08.826", "2026-11-29T10:04:10", "2026-11-29T10:05:00"),
        (10, "2026-11-29T10:05:19.999", "2026-11-29T10:04:20", "2026-11-29T10:05:10"),
        (30, "2026-11-29T10:05:18", "2026-11-29T10:02:40", "2026-11-29T10:05:10"),
        (60, "2026-11-29T10:05:08.826", "2026-11-29T10:00:00", "2026-11-29T10:05:00"),
        (60, "2026-11-29T10:05:00", "2026-11-29T10:00:00", "2026-11-29T10:05:00"),
        (300, "2026-11-29T10:07:59", "2026-11-29T09:42:00", "2026-11-29T10:07:00"),
    ],
)
def test_window_alignment(period, now, start, end):
    # N = 3: R = 5 periods ending at now floored to 10 s (high resolution) or 60 s.
    assert ev.evaluation_window(rule(period=period), at(now)) == (at(start), at(end))


def test_slots_slide_with_the_end_of_the_window():
    # A 300 s alarm at 10:07: slot 0 is [10:02, 10:07), not the 5-minute-aligned [10:05, 10:10).
    start, end = ev.evaluation_window(rule(period=300), at("2026-11-29T10:07:30"))
    assert ev.slot_of(at("2026-11-29T10:02:00"), end, 300) == 0
    assert ev.slot_of(at("2026-11-29T10:01:59"), end, 300) == 1
    assert ev.slot_start(4, end, 300) == start


def test_points_outside_the_window_and_incomplete_periods_are_ignored():
    r = rule(1, 1, "missing")
    start, end = ev.evaluation_window(r, NOW)
    inside = Datapoint(slot_time(0), BELOW, 1.0)
    outside = [
        Datapoint(start - timedelta(seconds=60), ABOVE, 1.0),   # before the window
        Datapoint(end, ABOVE, 1.0),                              # the current period
        Datapoint(end - timedelta(seconds=30), ABOVE, 1.0),      # ends after `end`
        Datapoint(end + timedelta(hours=1), ABOVE, 1.0),
    ]
    result = ev.evaluate(r, [*outside, inside], NOW, ALARM)
    assert result.state == OK
    assert json.loads(result.reason_data)["recentDatapoints"] == [BELOW]
    assert ev.evaluate(r, outside, NOW, ALARM).state == INSUFFICIENT_DATA


def test_high_resolution_window():
    r = rule(2, 2, "missing", period=10)
    now = at("2026-11-29T10:05:08")  # end 10:05:00, slots of 10 s
    points = [Datapoint(at("2026-11-29T10:04:50"), ABOVE, 1.0),
              Datapoint(at("2026-11-29T10:04:40"), ABOVE, 1.0),
              Datapoint(at("2026-11-29T10:05:00"), BELOW, 1.0)]  # still running
    assert ev.evaluate(r, points, now, OK).state == ALARM


def test_n_most_recent_real_datapoints_reach_back_past_missing_slots():
    # 1 of the newest 3 slots has data but the range has 3 real points: all 3 are evaluated.
    result = ev.evaluate(rule(3, 3, "notBreaching"), pattern_points("X X - - X"), NOW, OK)
    assert result.state == ALARM
    assert [e.timestamp for e in result.evaluated] == [slot_time(0), slot_time(3), slot_time(4)]
    assert all(e.datapoint is not None for e in result.evaluated)


def test_filled_datapoints_take_the_newest_free_slots():
    result = ev.evaluate(rule(3, 2, "breaching"), pattern_points("- - 0 - -"), NOW, OK)
    assert [(e.timestamp, e.datapoint is None, e.breaching) for e in result.evaluated] == [
        (slot_time(0), True, True), (slot_time(1), True, True), (slot_time(2), False, False)]


def test_duplicate_timestamps_count_once():
    points = [Datapoint(slot_time(0), ABOVE, 1.0), Datapoint(slot_time(0), BELOW, 1.0)]
    result = ev.evaluate(rule(1, 1), points, NOW, ALARM)
    assert result.state == OK  # the later one given wins


# --- datapoints from buckets --------------------------------------------------------------------


def test_datapoints_merge_units_per_bucket():
    t0, t1 = slot_time(1), slot_time(0)
    buckets = [
        BucketStats(t1, "Percent", StatisticSet(2, 10.0, 4.0, 6.0)),
        BucketStats(t0, "Percent", StatisticSet(1, 3.0, 3.0, 3.0)),
        BucketStats(t1, "None", StatisticSet(2, 2.0, 1.0, 1.0)),
    ]
    assert ev.datapoints(buckets, "Average") == [Datapoint(t0, 3.0, 1.0), Datapoint(t1, 3.0, 4.0)]
    assert [p.value for p in ev.datapoints(buckets, "Sum")] == [3.0, 12.0]
    assert [p.value for p in ev.datapoints(buckets, "Minimum")] == [3.0, 1.0]
    assert [p.value for p in ev.datapoints(buckets, "Maximum")] == [3.0, 6.0]
    assert [p.value for p in ev.datapoints(buckets, "SampleCount")] == [1.0, 4.0]
    assert ev.datapoints([], "Average") == []


@pytest.mark.parametrize("name", ["p99", "p50", "average", "tm99", ""])
def test_datapoints_refuse_percentiles_and_unknown_names(name):
    with pytest.raises(ValueError):
        ev.datapoints([BucketStats(END, "None", StatisticSet(1, 1.0, 1.0, 1.0))], name)


# --- comparisons ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comparison", "results"),
    [("GreaterThanOrEqualToThreshold", (False, True, True)),
     ("GreaterThanThreshold", (False, False, True)),
     ("LessThanThreshold", (True, False, False)),
     ("LessThanOrEqualToThreshold", (True, True, False))],
)
def test_breaches(comparison, results):
    assert tuple(ev.breaches(comparison, v, 4.0) for v in (3.0, 4.0, 5.0)) == results


def test_band_comparisons_are_not_threshold_comparisons():
    with pytest.raises(ValueError):
        ev.breaches("LessThanLowerOrGreaterThanUpperThreshold", 1.0, 2.0)
    r = replace(rule(), comparison="GreaterThanUpperThreshold")
    with pytest.raises(ValueError):
        ev.evaluate(r, [], NOW, OK)
    with pytest.raises(ValueError):
        ev.evaluate(replace(rule(), threshold=None), [], NOW, OK)
    with pytest.raises(ValueError):
        ev.evaluate(rule(treat="sometimes"), [], NOW, OK)


# --- reasons ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(5.0, "5.0"), (0.5, "0.5"), (-2.0, "-2.0"), (0.0, "0.0"), (-0.0, "-0.0"),
     (1e7, "1.0E7"), (9999999.0, "9999999.0"), (1234567.5, "1234567.5"),
     (12345678.9, "1.23456789E7"), (0.001, "0.001"), (0.00015, "1.5E-4"),
     (1e-4, "1.0E-4"), (1.174271e108, "1.174271E108"), (-3.5e-9, "-3.5E-9"),
     (100.0, "100.0"), (0.1 + 0.2, "0.30000000000000004"), (1e16, "1.0E16"),
     (float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity")],
)
def test_format_value_prints_like_java(value, text):
    assert ev.format_value(value) == text


def test_time_formats():
    assert ev.format_time(at("2026-11-29T10:04:00")) == "29/11/26 10:04:00"
    assert ev.format_timestamp(NOW) == "2026-11-29T10:05:08.826+0000"
    assert ev.format_timestamp(at("2026-01-02T03:04:05")) == "2026-01-02T03:04:05.000+0000"


def test_reason_one_datapoint_alarm():
    r = rule(1, 1, comparison="GreaterThanOrEqualToThreshold")
    result = ev.evaluate(r, [Datapoint(slot_time(0), 5.0, 1.0)], NOW, OK)
    assert result.state == ALARM
    assert result.reason == ("Threshold Crossed: 1 datapoint [5.0 (29/11/26 10:04:00)] was "
                             "greater than or equal to the threshold (4.0).")


def test_reason_one_datapoint_ok():
    r = rule(1, 1, comparison="GreaterThanOrEqualToThreshold")
    result = ev.evaluate(r, [Datapoint(slot_time(0), 3.5, 1.0)], NOW, ALARM)
    assert result.state == OK
    assert result.reason == ("Threshold Crossed: 1 datapoint [3.5 (29/11/26 10:04:00)] was "
                             "not greater than or equal to the threshold (4.0).")


def test_reason_all_of_n_datapoints():
    points = [Datapoint(slot_time(j), v, 1.0) for j, v in enumerate((5.0, 6.0, 5.0))]
    result = ev.evaluate(rule(3, 3), points, NOW, OK)
    assert result.reason == (
        "Threshold Crossed: 3 datapoints [5.0 (29/11/26 10:04:00), 6.0 (29/11/26 10:03:00), "
        "5.0 (29/11/26 10:02:00)] were greater than the threshold (4.0).")
    below = [Datapoint(slot_time(j), v, 1.0) for j, v in enumerate((1.0, 2.0, 3.0))]
    result = ev.evaluate(rule(3, 3, comparison="LessThanThreshold", threshold=0.5), below,
                         NOW, ALARM)
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 3 datapoints [1.0 (29/11/26 10:04:00), 2.0 (29/11/26 10:03:00), "
        "3.0 (29/11/26 10:02:00)] were not less than the threshold (0.5).")


def test_reason_m_out_of_n_alarm():
    points = [Datapoint(slot_time(j), v, 1.0) for j, v in enumerate((5.0, 1.0, 5.0))]
    result = ev.evaluate(rule(3, 2), points, NOW, OK)
    assert result.state == ALARM
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (29/11/26 10:04:00), "
        "5.0 (29/11/26 10:02:00)] were greater than the threshold (4.0) (minimum 2 "
        "datapoints for OK -> ALARM transition).")


def test_reason_m_out_of_n_ok():
    points = [Datapoint(slot_time(j), v, 1.0) for j, v in enumerate((1.0, 5.0, 2.0, 1.0))]
    result = ev.evaluate(rule(4, 2, comparison="GreaterThanOrEqualToThreshold"), points,
                         NOW, ALARM)
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 3 out of the last 4 datapoints [1.0 (29/11/26 10:04:00), "
        "2.0 (29/11/26 10:02:00), 1.0 (29/11/26 10:01:00)] were not greater than or equal "
        "to the threshold (4.0) (minimum 3 datapoints for ALARM -> OK transition).")


def test_reason_ok_decided_by_fewer_than_n_datapoints():
    points = [Datapoint(slot_time(j), v, 1.0) for j, v in enumerate((5.0, 1.0, 5.0))]
    result = ev.evaluate(rule(3, 3, comparison="LessThanOrEqualToThreshold", threshold=2.0),
                         points, NOW, ALARM)
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (29/11/26 10:04:00), "
        "5.0 (29/11/26 10:02:00)] were not less than or equal to the threshold (2.0) "
        "(minimum 1 datapoint for ALARM -> OK transition).")


def test_reason_single_breach_in_m_out_of_n_uses_singular():
    # missing data, premature rule: 1 breaching datapoint 2 periods old, M = 2.
    result = ev.evaluate(rule(3, 2, "missing"), pattern_points("- - - X -"), NOW,
                         INSUFFICIENT_DATA)
    assert result.state == ALARM
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 3 datapoints [5.0 (29/11/26 10:03:00)] was "
        "greater than the threshold (4.0) and 2 missing datapoints were treated as [Missing] "
        "(minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition).")


def test_reason_premature_alarm_when_m_equals_n():
    result = ev.evaluate(rule(3, 3, "missing"), pattern_points("- - X - -"), NOW, OK)
    assert result.reason == (
        "Threshold Crossed: 1 datapoint [5.0 (29/11/26 10:02:00)] was greater than the "
        "threshold (4.0) and 2 missing datapoints were treated as [Missing].")


def test_reason_no_datapoints_treated_as_breaching():
    result = ev.evaluate(rule(3, 3, "breaching"), [], NOW, OK)
    assert result.state == ALARM
    assert result.reason == ("Threshold Crossed: no datapoints were received for 3 periods "
                             "and 3 missing datapoints were treated as [Breaching].")
    result = ev.evaluate(rule(3, 2, "breaching"), [], NOW, OK)
    assert result.reason == ("Threshold Crossed: no datapoints were received for 3 periods "
                             "and 3 missing datapoints were treated as [Breaching].")


def test_reason_no_datapoints_treated_as_not_breaching():
    result = ev.evaluate(rule(1, 1, "notBreaching"), [], NOW, ALARM)
    assert result.state == OK
    assert result.reason == ("Threshold Crossed: no datapoints were received for 1 period "
                             "and 1 missing datapoint was treated as [NonBreaching].")


def test_reason_real_and_filled_datapoints():
    result = ev.evaluate(rule(3, 2, "breaching"), pattern_points("- - X - -"), NOW, OK)
    assert result.state == ALARM
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 3 datapoints [5.0 (29/11/26 10:02:00)] was "
        "greater than the threshold (4.0) and 2 missing datapoints were treated as "
        "[Breaching] (minimum 2 datapoints for OK -> ALARM transition).")
    result = ev.evaluate(rule(3, 3, "breaching"), pattern_points("- - - X X"), NOW, OK)
    assert result.reason == (
        "Threshold Crossed: 2 datapoints [5.0 (29/11/26 10:04:00), 5.0 (29/11/26 10:03:00)] "
        "were greater than the threshold (4.0) and 1 missing datapoint was treated as "
        "[Breaching].")
    result = ev.evaluate(rule(3, 2, "notBreaching"), pattern_points("- - - 0 -"), NOW, ALARM)
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 3 datapoints [1.0 (29/11/26 10:03:00)] was not "
        "greater than the threshold (4.0) and 2 missing datapoints were treated as "
        "[NonBreaching] (minimum 2 datapoints for ALARM -> OK transition).")


def test_reason_only_filled_datapoints_decide_despite_real_ones():
    # M=2 "- - - - 0" breaching: the real datapoint is on the OK side.
    result = ev.evaluate(rule(3, 2, "breaching"), pattern_points("- - - - 0"), NOW, OK)
    assert result.state == ALARM
    assert result.reason == ("Threshold Crossed: no datapoints were received for 2 periods "
                             "and 2 missing datapoints were treated as [Breaching].")


def test_reason_filled_datapoints_not_mentioned_when_they_did_not_decide():
    # M=3 "0 - - - -" breaching -> OK: the two filled (breaching) datapoints are not the cause.
    result = ev.evaluate(rule(3, 3, "breaching"), pattern_points("0 - - - -"), NOW, ALARM)
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 3 datapoints [1.0 (29/11/26 10:00:00)] was not "
        "greater than the threshold (4.0) (minimum 1 datapoint for ALARM -> OK transition).")


def test_reason_insufficient_data():
    result = ev.evaluate(rule(3, 3, "missing"), [], NOW, OK)
    assert result.reason == "Insufficient Data: 3 datapoints were unknown."
    result = ev.evaluate(rule(1, 1, "missing"), [], NOW, OK)
    assert result.reason == "Insufficient Data: 1 datapoint was unknown."
    result = ev.evaluate(rule(3, 3, "missing"), pattern_points("- - - - X"), NOW, OK)
    assert result.state == INSUFFICIENT_DATA
    assert result.reason == "Insufficient Data: 2 datapoints were unknown."


def test_reason_when_ignoring_missing_data():
    result = ev.evaluate(rule(3, 3, "ignore"), [], NOW, ALARM)
    assert result.state is None
    assert result.reason == "Unchanged: 3 datapoints were unknown and TreatMissingData is ignore."


def test_large_and_small_values_in_reasons():
    r = rule(1, 1, threshold=1e7)
    result = ev.evaluate(r, [Datapoint(slot_time(0), 12345678.9, 1.0)], NOW, OK)
    assert result.reason == ("Threshold Crossed: 1 datapoint [1.23456789E7 (29/11/26 10:04:00)]"
                             " was greater than the threshold (1.0E7).")


# --- reason data ------------------------------------------------------------------------------


def test_reason_data_exact_text():
    points = [Datapoint(slot_time(j), v, 1.0) for j, v in enumerate((5.0, 6.0, 5.0, 1.0))]
    result = ev.evaluate(rule(3, 3, unit="Percent"), points, NOW, OK)
    assert result.reason_data == (
        '{"version":"1.0","queryDate":"2026-11-29T10:05:08.826+0000",'
        '"startDate":"2026-11-29T10:00:00.000+0000","unit":"Percent","statistic":"Average",'
        '"period":60,"recentDatapoints":[1.0,5.0,6.0,5.0],"threshold":4.0,'
        '"evaluatedDatapoints":['
        '{"timestamp":"2026-11-29T10:04:00.000+0000","sampleCount":1.0,"value":5.0},'
        '{"timestamp":"2026-11-29T10:03:00.000+0000","sampleCount":1.0,"value":6.0},'
        '{"timestamp":"2026-11-29T10:02:00.000+0000","sampleCount":1.0,"value":5.0}]}')


def test_reason_data_with_filled_datapoints_and_no_unit():
    result = ev.evaluate(rule(3, 3, "missing"), pattern_points("- X - - -"), NOW, OK)
    assert result.reason_data == (
        '{"version":"1.0","queryDate":"2026-11-29T10:05:08.826+0000",'
        '"startDate":"2026-11-29T10:00:00.000+0000","statistic":"Average",'
        '"period":60,"recentDatapoints":[5.0],"threshold":4.0,'
        '"evaluatedDatapoints":['
        '{"timestamp":"2026-11-29T10:04:00.000+0000"},'
        '{"timestamp":"2026-11-29T10:03:00.000+0000"},'
        '{"timestamp":"2026-11-29T10:01:00.000+0000","sampleCount":1.0,"value":5.0}]}')


def test_reason_data_extended_statistic_and_large_numbers():
    r = rule(1, 1, statistic="p99", threshold=1e7)
    result = ev.evaluate(r, [Datapoint(slot_time(0), 2e7, 1000.0)], NOW, OK)
    assert result.reason_data == (
        '{"version":"1.0","queryDate":"2026-11-29T10:05:08.826+0000",'
        '"startDate":"2026-11-29T10:02:00.000+0000","extendedStatistic":"p99",'
        '"period":60,"recentDatapoints":[2.0E7],"threshold":1.0E7,'
        '"evaluatedDatapoints":['
        '{"timestamp":"2026-11-29T10:04:00.000+0000","sampleCount":1000.0,"value":2.0E7}]}')


def test_metric_math_rule_with_statistic_label():
    math_rule = MetricAlarmRule(
        comparison="GreaterThanThreshold", evaluation_periods=2, datapoints_to_alarm=2,
        threshold=4.0, threshold_metric_id="e1",
        queries=(MetricQuery("m1", MetricStat(KEY, 300, "Sum"), return_data=False),
                 MetricQuery("e1", expression="m1 * 2", label="Doubled")))
    now = at("2026-11-29T10:07:30")  # window [09:47, 10:07), slots of 300 s
    points = [Datapoint(at("2026-11-29T10:02:00"), 6.0, 3.0),
              Datapoint(at("2026-11-29T09:57:00"), 8.0, 3.0)]
    result = ev.evaluate(math_rule, points, now, OK)
    assert result.state == ALARM
    data = result.reason_data
    assert '"unit"' not in data and '"statistic"' not in data
    assert data.startswith('{"version":"1.0","queryDate":"2026-11-29T10:07:30.000+0000",'
                           '"startDate":"2026-11-29T09:47:00.000+0000","period":300,')
    labelled = ev.evaluate(math_rule, points, now, OK, statistic_label="Sum")
    assert '"statistic":"Sum","period":300,' in labelled.reason_data
    labelled = ev.evaluate(math_rule, points, now, OK, statistic_label="p90")
    assert '"extendedStatistic":"p90","period":300,' in labelled.reason_data


def test_labels_that_name_no_statistic_are_left_out():
    result = ev.evaluate(rule(1, 1), [], NOW, OK, statistic_label="m1")
    assert '"statistic"' not in result.reason_data
    assert '"extendedStatistic"' not in result.reason_data


@pytest.mark.parametrize(
    ("label", "key"),
    [("Average", "statistic"), ("SampleCount", "statistic"), ("p99", "extendedStatistic"),
     ("p99.9", "extendedStatistic"), ("tm90", "extendedStatistic"),
     ("TM(10%:90%)", "extendedStatistic"), ("PR(:300)", "extendedStatistic"),
     ("IQM", "extendedStatistic"), ("m1", None), ("Doubled", None), ("average", None)],
)
def test_statistic_key(label, key):
    assert ev.statistic_key(label) == key


def test_statistic_label_overrides_the_metric_statistic():
    result = ev.evaluate(rule(1, 1), [], NOW, OK, statistic_label="Maximum")
    assert json.loads(result.reason_data)["statistic"] == "Maximum"


# --- low sample counts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statistic", "minimum"),
    [("p99", Fraction(1000)), ("p50", Fraction(20)), ("p90", Fraction(100)),
     ("p99.9", Fraction(10000)), ("p10", Fraction(100)), ("p25", Fraction(40)),
     ("p0.1", Fraction(10000)), ("p100", None), ("p0", None), ("Average", None),
     ("tm99", None)],
)
def test_low_sample_minimum(statistic, minimum):
    assert ev.low_sample_minimum(statistic) == minimum


def test_low_sample_percentile_ignored_keeps_the_state():
    r = rule(2, 2, statistic="p95", low_sample="ignore")
    points = [Datapoint(slot_time(0), 5.0, 199.0), Datapoint(slot_time(1), 5.0, 200.0)]
    result = ev.evaluate(r, points, NOW, OK)
    assert result.state is None
    assert result.reason == (
        "Unchanged: 1 datapoint [5.0 (29/11/26 10:04:00)] had fewer than 200.0 samples for p95 "
        "and EvaluateLowSampleCountPercentile is ignore.")
    enough = [replace(p, sample_count=200.0) for p in points]
    assert ev.evaluate(r, enough, NOW, OK).state == ALARM


def test_low_sample_percentile_evaluated():
    points = [Datapoint(slot_time(0), 5.0, 1.0), Datapoint(slot_time(1), 5.0, 1.0)]
    for mode in ("evaluate", None):
        r = rule(2, 2, statistic="p95", low_sample=mode)
        assert ev.evaluate(r, points, NOW, OK).state == ALARM


def test_low_sample_rule_only_looks_at_evaluated_datapoints():
    r = rule(1, 1, statistic="p99", low_sample="ignore")
    points = [Datapoint(slot_time(0), 5.0, 1000.0), Datapoint(slot_time(1), 5.0, 1.0)]
    assert ev.evaluate(r, points, NOW, OK).state == ALARM
    # Not for non-percentile statistics, nor without any real datapoint.
    assert ev.evaluate(rule(1, 1, low_sample="ignore"), points[1:2], NOW, OK).state == ALARM
    assert ev.evaluate(r, [], NOW, OK).state == INSUFFICIENT_DATA


# --- properties -------------------------------------------------------------------------------

cells = st.sampled_from("0X-")


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, n))
    pattern = " ".join(draw(st.lists(cells, min_size=n + 2, max_size=n + 2)))
    return n, m, pattern


def states(n, m, points, now=NOW):
    return {mode: ev.evaluate(rule(n, m, mode), points, now, OK).state
            for mode in TREAT_MISSING_DATA}


@given(scenarios())
def test_enough_real_datapoints_ignore_treat_missing_data(scenario):
    n, m, pattern = scenario
    points = pattern_points(pattern)
    if len(points) >= n:
        assert len(set(states(n, m, points).values())) == 1


@given(scenarios(), st.lists(st.tuples(st.integers(-500, 500), st.booleans()), max_size=6))
def test_points_outside_the_window_do_not_matter(scenario, extra):
    n, m, pattern = scenario
    points = pattern_points(pattern)
    start, end = ev.evaluation_window(rule(n, m), NOW)
    outside = []
    for minutes, above in extra:
        t = (start - timedelta(minutes=1 + abs(minutes)) if minutes < 0
             else end + timedelta(minutes=minutes))
        outside.append(Datapoint(t, ABOVE if above else BELOW, 1.0))
    for mode in TREAT_MISSING_DATA:
        r = rule(n, m, mode)
        assert ev.evaluate(r, points + outside, NOW, OK) == ev.evaluate(r, points, NOW, OK)


@given(scenarios())
def test_breaching_alarms_at_least_as_often_as_any_mode(scenario):
    n, m, pattern = scenario
    result = states(n, m, pattern_points(pattern))
    if ALARM in result.values():
        assert result["breaching"] == ALARM
    if OK in result.values():
        assert result["notBreaching"] == OK
    assert result["breaching"] in (OK, ALARM)
    assert result["notBreaching"] in (OK, ALARM)


@given(scenarios())
def test_ignore_is_missing_without_leaving_the_state(scenario):
    n, m, pattern = scenario
    result = states(n, m, pattern_points(pattern))
    if result["ignore"] is None:
        assert result["missing"] in (INSUFFICIENT_DATA, ALARM)
    else:
        assert result["ignore"] == result["missing"]
        assert result["ignore"] != INSUFFICIENT_DATA


@given(scenarios(), st.sampled_from(TREAT_MISSING_DATA))
def test_always_n_evaluated_datapoints_and_valid_json(scenario, mode):
    n, m, pattern = scenario
    points = pattern_points(pattern)
    result = ev.evaluate(rule(n, m, mode), points, NOW, OK)
    assert len(result.evaluated) == n
    assert [e.timestamp for e in result.evaluated] == sorted(
        (e.timestamp for e in result.evaluated), reverse=True)
    data = json.loads(result.reason_data)
    assert len(data["evaluatedDatapoints"]) == n
    assert len(data["recentDatapoints"]) == len(points)
    assert result.reason.startswith(("Threshold Crossed: ", "Insufficient Data: ", "Unchanged: "))


@given(scenarios(), st.integers(0, 10_000), st.sampled_from([10, 30, 60, 300]))
def test_decision_moves_with_time(scenario, shift, period):
    # Shifting datapoints and `now` together by whole evaluation intervals changes nothing.
    n, m, pattern = scenario
    step = timedelta(seconds=shift * ev.evaluation_interval(period))
    _, end = ev.evaluation_window(rule(n, m, period=period), NOW)
    points = pattern_points(pattern, period, end)
    moved = [replace(p, timestamp=p.timestamp + step) for p in points]
    for mode in TREAT_MISSING_DATA:
        r = rule(n, m, mode, period=period)
        assert (ev.evaluate(r, moved, NOW + step, OK).state
                == ev.evaluate(r, points, NOW, OK).state)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_value_round_trips(value):
    assert float(ev.format_value(value)) == value
