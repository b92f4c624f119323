"""Timestamps on the wire: ISO 8601 text (Query) and epoch seconds (JSON, CBOR).

Parsing accepts what real clients send: ISO 8601 with or without fractional seconds,
with ``Z``, an offset, or no zone at all (UTC; boto2 sends ``2024-01-01T00:00:00`` and
``2024-01-01T00:00:00.123456``), a bare date, and epoch seconds.  Everything parsed is a
tz-aware UTC ``datetime`` with microsecond precision (extra digits are truncated).

Rendering writes ``YYYY-MM-DDTHH:MM:SSZ`` when the value has no fraction (boto2 parses
only that and ``.%fZ``), ``.mmmZ`` when it is whole milliseconds and ``.ffffffZ`` else.
"""

from __future__ import annotations

import datetime as dt
import math
import re

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Epoch seconds a day inside datetime's range (years 1 to 9999): between these, a number
#: converts with ``EPOCH + timedelta`` without any range check (``compiled_document`` and
#: ``fast_json`` do so).
INLINE_EPOCH_LOW = -62135596800 + 86400
INLINE_EPOCH_HIGH = 253402300799 - 86400

_ISO = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,32}))?)?)?"
    r"(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_EPOCH_TEXT = re.compile(r"[+-]?(?:\d{1,15}(?:\.\d{0,32})?|\.\d{1,32})")


def parse_text(text: str) -> dt.datetime | None:
    """An ISO 8601 or epoch-seconds string as UTC, or None when it is neither."""
    text = text.strip()
    match = _ISO.fullmatch(text)
    if match:
        return _from_iso(match)
    if _EPOCH_TEXT.fullmatch(text):
        return from_epoch(float(text)) if "." in text else from_epoch(int(text))
    return None


def _from_iso(match: re.Match[str]) -> dt.datetime | None:
    parts = match.groupdict()
    fraction = (parts["fraction"] or "").ljust(6, "0")[:6]
    try:
        value = dt.datetime(
            int(parts["year"]), int(parts["month"]), int(parts["day"]),
            int(parts["hour"] or 0), int(parts["minute"] or 0), int(parts["second"] or 0),
            int(fraction), tzinfo=dt.UTC,
        )
    except ValueError:
        return None
    zone = parts["zone"]
    if zone and zone not in "Zz":
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        offset = dt.timedelta(hours=hours, minutes=minutes)
        try:
            value = value - offset if zone[0] == "+" else value + offset
        except OverflowError:
            return None
    return value


def from_epoch(seconds: int | float) -> dt.datetime | None:
    """Epoch seconds as UTC with microsecond precision; None when out of range."""
    if isinstance(seconds, float) and not math.isfinite(seconds):
        return None
    try:
        if isinstance(seconds, int):
            return EPOCH + dt.timedelta(seconds=seconds)
        return EPOCH + dt.timedelta(microseconds=round(seconds * 1_000_000))
    except OverflowError:
        return None


def as_utc(value: dt.datetime) -> dt.datetime:
    """A datetime in UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def in_utc(value: dt.datetime) -> dt.datetime | None:
    """``as_utc`` for a datetime a client sent with its own offset: None when the UTC time
    falls outside years 1-9999 (``9999-12-31T23:00:00-02:00``)."""
    try:
        return as_utc(value)
    except OverflowError:
        return None


def to_epoch(value: dt.datetime) -> int | float:
    """Epoch seconds: an int when the value has no fraction, a float otherwise."""
    delta = as_utc(value) - EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if micros % 1_000_000 == 0:
        return micros // 1_000_000
    return micros / 1_000_000


def to_iso(value: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, with ``.mmm`` or ``.ffffff`` only when there is a fraction."""
    value = as_utc(value)
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value:%H:%M:%S}"
    if value.microsecond == 0:
        return text + "Z"
    if value.microsecond % 1000 == 0:
        return f"{text}.{value.microsecond // 1000:03d}Z"
    return f"{text}.{value.microsecond:06d}Z"
