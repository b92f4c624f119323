"""Unix cron expressions, as scheduled actions' ``Recurrence`` takes them, and when they fire.

Auto Scaling's ``Recurrence`` is the five-field Unix form ``minute hour day-of-month month
day-of-week``, evaluated in the action's ``TimeZone`` (an IANA name; UTC by default).
Fields take ``*``, numbers, ranges ``a-b``, steps ``*/n`` and ``a-b/n``, and lists
``x,y``; months may be named ``JAN``-``DEC`` and weekdays ``SUN``-``SAT`` (0 and 7 are both
Sunday), case-insensitive.  As in Unix cron, when both day-of-month and day-of-week are
restricted (neither starts with ``*``), a day matches when either does.

``next_after(schedule, after, zone)`` is the first minute strictly after ``after`` that the
schedule matches, in ``zone``'s wall-clock time: a wall-clock minute that does not exist
(skipped by a daylight-saving change) is not fired; one that happens twice (the clock
going back) fires at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {name: n for n, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    start=1)}
_DAYS = {name: n for n, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
#: (name, lowest, highest, names) of the five fields.
_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day-of-month", 1, 31, {}),
           ("month", 1, 12, _MONTHS), ("day-of-week", 0, 7, _DAYS))
#: How far ahead to look before deciding a schedule never fires (Feb 29 on a Monday
#: recurs within 28 years).
_HORIZON_DAYS = 366 * 29


class InvalidCron(ValueError):
    """Not a cron expression this module reads (the message says why)."""


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday


def _value(text: str, low: int, high: int, names: dict[str, int], field: str) -> int:
    number = names.get(text.upper()) if names else None
    if number is None:
        if not text.isdigit():
            raise InvalidCron(f"{text!r} is not a valid {field} value")
        number = int(text)
    if not low <= number <= high:
        raise InvalidCron(f"{field} value {number} is outside {low}-{high}")
    return number


def _field(text: str, low: int, high: int, names: dict[str, int], field: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise InvalidCron(f"empty item in the {field} field")
        spec, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise InvalidCron(f"{step_text!r} is not a valid step in the {field} field")
            step = int(step_text)
        if spec == "*":
            first, last = low, high
        elif "-" in spec:
            a, _, b = spec.partition("-")
            first, last = (_value(a, low, high, names, field),
                           _value(b, low, high, names, field))
            if first > last:
                raise InvalidCron(f"range {spec} of the {field} field runs backwards")
        else:
            first = _value(spec, low, high, names, field)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return values


def parse(expression: str) -> Schedule:
    parts = expression.split()
    if len(parts) != 5:
        raise InvalidCron("a recurrence has five fields: minute hour day-of-month month "
                          "day-of-week")
    sets = [_field(text, low, high, names, field)
            for text, (field, low, high, names) in zip(parts, _FIELDS, strict=True)]
    weekdays = {0 if d == 7 else d for d in sets[4]}
    return Schedule(frozenset(sets[0]), frozenset(sets[1]), frozenset(sets[2]),
                    frozenset(sets[3]), frozenset(weekdays), any_day=parts[2].startswith("*"),
                    any_weekday=parts[4].startswith("*"))


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone ``name`` (UTC when None); ``InvalidCron`` when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise InvalidCron(f"unknown time zone {name!r}") from exc


def _exists(local: datetime, tz: ZoneInfo) -> bool:
    """Whether a naive wall-clock time exists in ``tz`` (not skipped by a DST change)."""
    aware = local.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def next_after(schedule: Schedule, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first firing strictly after ``after`` (an aware time), in UTC; None when the
    schedule never fires (say, 31 February)."""
    start = (after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
             + timedelta(minutes=1))
    day = start.date()
    for _ in range(_HORIZON_DAYS):
        if schedule.matches_day(day):
            for hour in sorted(schedule.hours):
                for minute in sorted(schedule.minutes):
                    local = datetime(day.year, day.month, day.day, hour, minute)
                    if local < start or not _exists(local, tz):
                        continue
                    # fold=0: the first of two equal wall-clock times.
                    fired = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
                    if fired > after:
                        return fired
        day += timedelta(days=1)
    return None
