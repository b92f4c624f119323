"""The wall clock, in one place: aware UTC datetimes (tests replace the callers' copy)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
