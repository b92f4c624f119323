"""ExpiringCache: each entry until its own deadline, the least recently used dropped first
when full."""

from __future__ import annotations

import pytest

from cfn_gateway.common.expiring_cache import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_until_their_own_deadline():
    clock = Clock()
    cache: ExpiringCache[str] = ExpiringCache(10, clock)
    cache.put("short", "s", 1.0)
    cache.put("long", "l", 5.0)
    clock.now += 0.999
    assert (cache.get("short"), cache.get("long")) == ("s", "l")
    clock.now += 0.001
    assert (cache.get("short"), cache.get("long")) == (None, "l")
    assert len(cache) == 1  # met past its deadline, dropped
    clock.now += 4.0
    assert cache.get("long") is None


def test_a_full_cache_drops_the_entry_put_longest_ago():
    cache: ExpiringCache[int] = ExpiringCache(2, Clock())
    cache.put("a", 1, 60)
    cache.put("b", 2, 60)
    cache.put("a", 3, 60)  # put again: now the newest
    cache.put("c", 4, 60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (3, None, 4)


def test_a_full_cache_keeps_the_entry_found_most_recently():
    cache: ExpiringCache[int] = ExpiringCache(2, Clock())
    cache.put("a", 1, 60)
    cache.put("b", 2, 60)
    assert cache.get("a") == 1  # used: now the newest
    cache.put("c", 3, 60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_no_lifetime_keeps_nothing_and_discard_forgets():
    cache: ExpiringCache[int] = ExpiringCache(2, Clock())
    cache.put("a", 1, 60)
    cache.put("a", 2, 0)
    assert cache.get("a") is None
    cache.put("b", 1, 60)
    cache.discard("b")
    cache.discard("never there")
    assert len(cache) == 0
    with pytest.raises(ValueError):
        ExpiringCache(0)
