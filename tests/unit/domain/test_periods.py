"""Timestamps, periods and start-time alignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import periods

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "ok"),
    [(1, True), (5, True), (10, True), (20, True), (30, True), (60, True), (120, True),
     (3600, True), (86400, True), (0, False), (-60, False), (2, False), (15, False),
     (45, False), (90, False), (61, False)],
)
def test_valid_periods(period, ok):
    assert periods.valid_period(period) is ok


def test_start_rounding_examples_of_the_reference():
    # "12:32:34 is rounded down to 12:32:00" / "12:30:00" / "12:00:00" by the start's age.
    start = at("2026-03-09T12:32:34")
    assert periods.align_start(start, 60, NOW) == at("2026-03-09T12:32:00")
    assert periods.align_start(start, 300, NOW) == at("2026-03-09T12:32:00")
    old = at("2026-02-01T12:32:34")  # 37 days ago
    assert periods.align_start(old, 300, NOW) == at("2026-02-01T12:30:00")
    older = at("2025-12-01T12:32:34")  # 99 days ago
    assert periods.align_start(older, 3600, NOW) == at("2025-12-01T12:00:00")


def test_high_resolution_rounding_examples_of_the_reference():
    # "a query at 01:05:23 for the previous 10-second period ... data from 01:05:10"
    assert periods.align_start(at("2026-03-10T01:05:13"), 10, NOW) == at("2026-03-10T01:05:10")
    # "at 15:07:17 for the previous 5 minutes of data, using a period of 5 seconds, you
    # receive data timestamped between 15:02:15 and 15:07:15"
    assert periods.align_start(at("2026-03-10T15:02:17"), 5, NOW) == at("2026-03-10T15:02:15")
    assert periods.align_start(at("2026-03-10T15:02:17.900"), 1, NOW) == at(
        "2026-03-10T15:02:17")


def test_rounding_age_boundaries():
    fifteen_days = NOW - timedelta(days=15) + timedelta(minutes=3, seconds=3)
    assert periods.align_start(fifteen_days, 60, NOW) == fifteen_days.replace(second=0)
    just_older = NOW - timedelta(days=15, minutes=3)
    assert periods.align_start(just_older - timedelta(seconds=1), 60, NOW).minute % 5 == 0


@given(moments, st.sampled_from([1, 5, 10, 20, 30, 60, 120, 300, 3600]),
       st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_alignment_properties(start, period, age):
    now = start + age
    aligned = periods.align_start(start, period, now)
    granularity = (aligned - periods.EPOCH).total_seconds()
    assert aligned <= start
    assert start - aligned < timedelta(hours=1)
    assert aligned.microsecond == 0
    if period < 60:
        assert granularity % period == 0
        assert start - aligned < timedelta(seconds=period)
    else:
        assert granularity % 60 == 0


def test_requested_datapoints_as_aws_counts_them():
    start = at("2026-03-10T10:11:12.345")
    # AWS (recorded): one day at Period=1 is "up to 86400 datapoints".
    assert periods.requested_datapoints(start, start + timedelta(days=1), 1) == 86400
    assert periods.requested_datapoints(start, start + timedelta(days=1), 60) == 1440
    assert periods.requested_datapoints(start, start + timedelta(seconds=59), 60) == 0


@pytest.mark.parametrize(
    ("age", "period", "ok"),
    [(timedelta(hours=1), 1, True), (timedelta(hours=3), 10, True),
     (timedelta(hours=4), 10, False), (timedelta(hours=4), 60, True),
     (timedelta(days=14), 120, True), (timedelta(days=16), 60, False),
     (timedelta(days=16), 600, True), (timedelta(days=70), 300, False),
     (timedelta(days=70), 7200, True)],
)
def test_period_serves_start(age, period, ok):
    assert periods.period_serves_start(period, NOW - age, NOW) is ok


@pytest.mark.parametrize(
    ("offset", "ok"),
    [(timedelta(0), True), (-timedelta(weeks=2), True),
     (-timedelta(weeks=2, seconds=1), False), (timedelta(hours=2), True),
     (timedelta(hours=2, seconds=1), False)],
)
def test_put_timestamp_window(offset, ok):
    assert periods.timestamp_acceptable(NOW + offset, NOW) is ok


def test_truncate_to_storage_resolution():
    moment = at("2026-03-10T10:11:12.345")
    assert periods.truncate_to_resolution(moment, 1) == at("2026-03-10T10:11:12")
    assert periods.truncate_to_resolution(moment, 60) == at("2026-03-10T10:11:00")


@given(moments)
def test_millis_roundtrip(moment):
    millis = periods.to_millis(moment)
    back = periods.from_millis(millis)
    assert back <= moment < back + timedelta(milliseconds=1)


def test_list_activity_windows():
    assert periods.active_since(NOW, False) == NOW - timedelta(weeks=2)
    assert periods.active_since(NOW, True) == NOW - timedelta(hours=3)
