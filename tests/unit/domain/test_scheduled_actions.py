"""Scheduled action definitions: validation, next runs, the stored form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.domain import scheduled_actions as s

NOW = datetime(2026, 11, 29, 12, 0, 30, tzinfo=UTC)


def action(**kw) -> s.ScheduledAction:
    return s.ScheduledAction(name="a", arn="arn:a", group_name="web", **kw)


@pytest.mark.parametrize("kw, message", [
    ({"start_time": NOW + timedelta(hours=1)}, "At least one of MinSize"),
    ({"start_time": NOW - timedelta(seconds=1), "min_size": 1}, "in the past"),
    ({"min_size": 1}, "Either StartTime or Recurrence"),
    ({"start_time": NOW + timedelta(hours=1), "end_time": NOW + timedelta(hours=2),
      "min_size": 1}, "EndTime is only supported with a Recurrence"),
    ({"recurrence": "0 * * * *", "start_time": NOW + timedelta(hours=2),
      "end_time": NOW + timedelta(hours=1), "min_size": 1}, "greater than or equal"),
    ({"recurrence": "0 0 31 2 *", "min_size": 1}, "never fires"),
    ({"recurrence": "0 * * *", "min_size": 1}, "Invalid recurrence"),
    ({"recurrence": "0 * * * *", "time_zone": "Nowhere/Else", "min_size": 1},
     "unknown time zone"),
])
def test_refusals(kw, message):
    with pytest.raises(s.InvalidScheduledAction, match=message):
        s.validate(action(**kw), NOW)


def test_an_update_may_keep_a_past_start():
    s.validate(action(recurrence="0 * * * *", start_time=NOW - timedelta(days=1),
                      min_size=1), NOW, new_start=False)


def test_runs():
    once = action(start_time=NOW + timedelta(minutes=5), desired_capacity=2)
    assert s.first_run(once, NOW) == NOW + timedelta(minutes=5)
    assert s.next_run(once, NOW + timedelta(minutes=5)) is None  # it ran: it goes
    hourly = action(recurrence="0 * * * *", desired_capacity=2,
                    end_time=datetime(2026, 11, 29, 14, 30, tzinfo=UTC))
    assert s.first_run(hourly, NOW) == datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
    assert s.next_run(hourly, datetime(2026, 11, 29, 13, 0, tzinfo=UTC)) == datetime(
        2026, 11, 29, 14, 0, tzinfo=UTC)
    assert s.next_run(hourly, datetime(2026, 11, 29, 14, 0, tzinfo=UTC)) is None  # ended
    # A start time on a firing minute fires at it.
    starting = action(recurrence="0 * * * *", desired_capacity=1,
                      start_time=datetime(2026, 11, 29, 15, 0, tzinfo=UTC))
    assert s.first_run(starting, NOW) == datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


def test_round_trip():
    full = action(start_time=NOW, end_time=NOW + timedelta(days=1), recurrence="0 9 * * *",
                  time_zone="Europe/Paris", min_size=1, max_size=3, desired_capacity=2)
    assert s.from_json(s.to_json(full)) == full
    assert s.from_json(s.to_json(action(min_size=0))) == action(min_size=0)
    with pytest.raises(ValueError):
        s.from_json('{"v": 2}')
