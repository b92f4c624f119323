"""Time rules of CloudWatch metrics: accepted timestamps, periods, start-time rounding.

Sources (AWS CloudWatch API reference, 2010-08-01):
- PutMetricData: time stamps may be "as much as two weeks before the current date, and as
  much as 2 hours after the current day and time"; StorageResolution 1 stores to the
  second, 60 (the default) "at 1-minute resolution".
- GetMetricStatistics, Period: "1, 5, 10, 20, 30, 60, or any multiple of 60"; for a
  StartTime more than 3 hours ago the period must be a multiple of 60 (up to 15 days ago),
  300 (15 to 63 days) or 3600 (older) "or no data points in that time range is returned".
- GetMetricStatistics, StartTime: rounded down to the minute (less than 15 days ago), to 5
  minutes (15 to 63 days ago), to the hour (older); with a Period of 5, 10, 20 or 30 to that
  many seconds.  Datapoints are then ``[start + k*period, start + (k+1)*period)``.
- At most 1,440 datapoints per call; the count is (EndTime - StartTime) / Period.
- ListMetrics omits metrics that "haven't reported data in the past two weeks"; with
  RecentlyActive=PT3H only those with data "published in the past three hours".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)

MAX_PAST = timedelta(weeks=2)
MAX_FUTURE = timedelta(hours=2)

HIGH_RESOLUTION = 1
STANDARD_RESOLUTION = 60
STORAGE_RESOLUTIONS = (HIGH_RESOLUTION, STANDARD_RESOLUTION)

HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
MAX_DATAPOINTS = 1440

HIGH_RESOLUTION_RETENTION = timedelta(hours=3)
ONE_MINUTE_RETENTION = timedelta(days=15)
FIVE_MINUTE_RETENTION = timedelta(days=63)

LIST_ACTIVE_WINDOW = timedelta(weeks=2)
RECENTLY_ACTIVE_WINDOW = timedelta(hours=3)


def to_millis(moment: datetime) -> int:
    """Milliseconds since the epoch (sub-millisecond parts are dropped)."""
    return (moment - EPOCH) // MILLISECOND


def from_millis(millis: int) -> datetime:
    return EPOCH + timedelta(milliseconds=millis)


def iso_millis(moment: datetime) -> str:
    """A time as CloudWatch writes it in reason data and notifications:
    ``2026-11-29T10:05:08.826+0000`` (UTC, milliseconds)."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+0000"


def floor_to(moment: datetime, seconds: int) -> datetime:
    """``moment`` rounded down to a whole multiple of ``seconds`` since the epoch."""
    step = timedelta(seconds=seconds)
    return EPOCH + ((moment - EPOCH) // step) * step


def timestamp_acceptable(timestamp: datetime, now: datetime) -> bool:
    """Whether PutMetricData accepts a datum with this time stamp."""
    return now - MAX_PAST <= timestamp <= now + MAX_FUTURE


def truncate_to_resolution(timestamp: datetime, storage_resolution: int) -> datetime:
    """The time stamp a datum is stored under: to the second (high) or minute (standard)."""
    return floor_to(timestamp, 1 if storage_resolution == HIGH_RESOLUTION else 60)


def valid_period(period: int) -> bool:
    return period > 0 and (period in HIGH_RESOLUTION_PERIODS or period % 60 == 0)


def align_start(start: datetime, period: int, now: datetime) -> datetime:
    """GetMetricStatistics' rounding of StartTime, relative to the time of the request."""
    if period < 60:
        return floor_to(start, period)
    age = now - start
    if age < ONE_MINUTE_RETENTION:
        return floor_to(start, 60)
    if age <= FIVE_MINUTE_RETENTION:
        return floor_to(start, 300)
    return floor_to(start, 3600)


def period_serves_start(period: int, start: datetime, now: datetime) -> bool:
    """Whether data that old is still kept at a resolution ``period`` can be built from."""
    age = now - start
    if age <= HIGH_RESOLUTION_RETENTION:
        return True
    if age <= ONE_MINUTE_RETENTION:
        return period % 60 == 0
    if age <= FIVE_MINUTE_RETENTION:
        return period % 300 == 0
    return period % 3600 == 0


def requested_datapoints(start: datetime, end: datetime, period: int) -> int:
    """How many datapoints a request asks for "up to", as AWS counts them (unrounded)."""
    return (end - start) // timedelta(seconds=period)


def active_since(now: datetime, recently_active: bool) -> datetime:
    """The oldest last-publication time of a metric ListMetrics still returns."""
    return now - (RECENTLY_ACTIVE_WINDOW if recently_active else LIST_ACTIVE_WINDOW)
