"""Cron recurrences: parsing, refusals and next firings across time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import cron

T0 = datetime(2026, 11, 29, 12, 0, 30, tzinfo=UTC)  # a Sunday


def nxt(expr: str, after: datetime = T0, tz: str = "UTC") -> datetime | None:
    return cron.next_after(cron.parse(expr), after, cron.zone(tz))


@pytest.mark.parametrize("expr, expected", [
    ("* * * * *", datetime(2026, 11, 29, 12, 1, tzinfo=UTC)),
    ("*/15 * * * *", datetime(2026, 11, 29, 12, 15, tzinfo=UTC)),
    ("0 9 * * *", datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
    ("30 18 * * MON-FRI", datetime(2026, 11, 30, 18, 30, tzinfo=UTC)),
    ("0 0 1 JAN *", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
    ("0 12 * * 0", datetime(2026, 12, 6, 12, 0, tzinfo=UTC)),   # 12:00 today has passed
    ("0 12 * * 7", datetime(2026, 12, 6, 12, 0, tzinfo=UTC)),   # 7 is Sunday too
    ("0 0 29 2 *", datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
    # Both day fields restricted: either matches (the 1st, or a Friday).
    ("0 0 1 * FRI", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
    ("5,10-12/2 3 * * *", datetime(2026, 11, 30, 3, 5, tzinfo=UTC)),
])
def test_next_firing(expr, expected):
    assert nxt(expr) == expected


def test_time_zones_and_daylight_saving():
    # 12:00 UTC is 07:00 in New York: 09:00 there is 14:00 UTC the same day.
    assert nxt("0 9 * * *", tz="America/New_York") == datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
    # 2027-03-14 02:30 does not exist in New York: that day is skipped.
    before = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
    assert nxt("30 2 * * *", before, "America/New_York") == datetime(
        2027, 3, 15, 6, 30, tzinfo=UTC)
    # 2027-11-07 01:30 happens twice: it fires at the first (05:30 UTC, still EDT).
    before = datetime(2027, 11, 7, 0, 0, tzinfo=UTC)
    assert nxt("30 1 * * *", before, "America/New_York") == datetime(
        2027, 11, 7, 5, 30, tzinfo=UTC)


def test_never_fires():
    assert nxt("0 0 31 2 *") is None


@pytest.mark.parametrize("expr, message", [
    ("* * * *", "five fields"),
    ("60 * * * *", "outside 0-59"),
    ("* 24 * * *", "outside 0-23"),
    ("* * 0 * *", "outside 1-31"),
    ("* * * FOO *", "not a valid month"),
    ("*/0 * * * *", "not a valid step"),
    ("5-1 * * * *", "runs backwards"),
    ("1,,2 * * * *", "empty item"),
])
def test_refusals(expr, message):
    with pytest.raises(cron.InvalidCron, match=message):
        cron.parse(expr)


def test_unknown_zone():
    with pytest.raises(cron.InvalidCron, match="unknown time zone"):
        cron.zone("Mars/Olympus")


@given(minute=st.integers(0, 59), hour=st.integers(0, 23),
       after=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                          timezones=st.just(UTC)))
def test_daily_firing_is_within_a_day_and_matches(minute, hour, after):
    fired = nxt(f"{minute} {hour} * * *", after)
    assert fired is not None and after < fired and (fired - after).total_seconds() <= 86400
    assert (fired.hour, fired.minute, fired.second) == (hour, minute, 0)
