"""Timestamp text and epoch helpers, and Java patterns in Python."""

from __future__ import annotations

import datetime as dt

import pytest

from cfn_gateway.protocol import patterns, timestamps

UTC = dt.UTC


@pytest.mark.parametrize(("value", "text"), [
    (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 1000, tzinfo=UTC), "2024-01-02T03:04:05.001Z"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=UTC), "2024-01-02T03:04:05.000001Z"),
    (dt.datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
])
def test_iso_text(value, text):
    assert timestamps.to_iso(value) == text
    assert timestamps.parse_text(text) == value


@pytest.mark.parametrize(("value", "epoch"), [
    (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), 1704164645),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), 1704164645.123456),
    (dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC), -0.5),
])
def test_epoch(value, epoch):
    assert timestamps.to_epoch(value) == epoch
    assert type(timestamps.to_epoch(value)) is type(epoch)
    assert timestamps.from_epoch(epoch) == value


@pytest.mark.parametrize("seconds", [10**20, -(10**20), float("inf"), float("nan"), 1e300])
def test_epoch_out_of_range(seconds):
    assert timestamps.from_epoch(seconds) is None


@pytest.mark.parametrize(("pattern", "good", "bad"), [
    ("[^:].*", "system/linux", "a\rb"),
    ("^ami-[a-z0-9]{1,17}$", "ami-0abc", "ami-"),
    ("[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Zs}]+", "Équipe ✓ 1", "a\u2028b"),
    ("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*", "a😀\n", "\x07"),
    ("[0-9A-Za-z][\\-\\.\\_0-9A-Za-z]{0,126}[0-9A-Za-z]", "a_b.c-d", "_ab"),
    ("[\\P{L}]+", "123", "abc"),
])
def test_java_patterns(pattern, good, bad):
    assert patterns.matches(pattern, good)
    assert not patterns.matches(pattern, bad)


def test_patterns_match_the_whole_value():
    assert not patterns.matches("[a-z]+", "abc1")
