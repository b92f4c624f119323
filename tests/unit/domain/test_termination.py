"""Termination choice: zone balance first, policies in order, protection, random ties."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain.termination import (
    CLOSEST_TO_NEXT_INSTANCE_HOUR,
    DEFAULT,
    NEWEST_INSTANCE,
    OLDEST_INSTANCE,
    OLDEST_LAUNCH_CONFIGURATION,
    POLICIES,
    Member,
    balanced_candidates,
    choose,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LC_OLD, LC_NEW = NOW - timedelta(days=30), NOW - timedelta(days=1)


def member(iid: str, zone: str = "a", age_minutes: int = 60, lc=LC_NEW,
           protected: bool = False) -> Member:
    return Member(iid, zone, NOW - timedelta(minutes=age_minutes), lc, protected)


def pick(members, policies=(DEFAULT,), count=1, seed=0):
    return choose(members, count, list(policies), NOW, random.Random(seed))


def test_the_fuller_zone_loses_an_instance_first():
    members = [member("a1", "a"), member("a2", "a"), member("b1", "b", lc=LC_OLD)]
    # b1 has the oldest launch configuration, but zone a holds more instances.
    assert pick(members) in (["a1"], ["a2"])


def test_balanced_zones_let_the_policy_choose_across_them():
    members = [member("a1", "a"), member("b1", "b", lc=LC_OLD)]
    assert pick(members) == ["b1"]


def test_default_prefers_the_oldest_launch_configuration_then_the_next_hour():
    members = [member("i1", age_minutes=30), member("i2", age_minutes=55),
               member("i3", age_minutes=10, lc=LC_OLD)]
    assert pick(members) == ["i3"]
    # Same launch configuration: the one with the least time left to a full hour (55 min).
    assert pick(members[:2]) == ["i2"]


def test_an_instance_without_launch_configuration_counts_as_oldest():
    members = [member("i1", lc=LC_OLD), member("attached", lc=None)]
    assert pick(members, [OLDEST_LAUNCH_CONFIGURATION]) == ["attached"]


@pytest.mark.parametrize(("policies", "expected"), [
    ([OLDEST_INSTANCE], "old"),
    ([NEWEST_INSTANCE], "new"),
    ([CLOSEST_TO_NEXT_INSTANCE_HOUR], "almost"),    # 119 min: 1 min to its next hour
    ([OLDEST_INSTANCE, NEWEST_INSTANCE], "old"),    # in order: the first one decides
])
def test_each_policy(policies, expected):
    members = [member("old", age_minutes=600), member("new", age_minutes=5),
               member("almost", age_minutes=119)]
    assert pick(members, policies) == [expected]


def test_protected_instances_are_never_chosen():
    members = [member("p1", "a", protected=True), member("p2", "a", protected=True),
               member("b1", "b")]
    # Zone a holds more, but only protected ones: zone b's instance goes.
    assert pick(members, count=3) == ["b1"]


def test_several_at_once_keep_the_zones_balanced():
    members = [member(f"{zone}{i}", zone) for zone in "abc" for i in range(4)]
    chosen = pick(members, count=6)
    assert len(set(chosen)) == 6
    assert Counter(c[0] for c in chosen) == {"a": 2, "b": 2, "c": 2}


def test_ties_are_broken_at_random():
    members = [member(f"i{i}") for i in range(5)]
    assert len({pick(members, seed=seed)[0] for seed in range(50)}) > 1


def test_unknown_policy():
    with pytest.raises(ValueError):
        pick([member("i1")], ["Whatever"])


members_strategy = st.lists(
    st.builds(member, iid=st.uuids().map(str), zone=st.sampled_from("abc"),
              age_minutes=st.integers(0, 5000), lc=st.sampled_from([LC_OLD, LC_NEW, None]),
              protected=st.booleans()),
    max_size=12, unique_by=lambda m: m.instance_id)


@given(members=members_strategy, count=st.integers(0, 15),
       policies=st.lists(st.sampled_from(POLICIES), max_size=3), seed=st.integers(0, 9))
def test_properties(members, count, policies, seed):
    chosen = pick(members, policies, count, seed)
    unprotected = {m.instance_id for m in members if not m.protected}
    assert len(chosen) == min(count, len(unprotected)) == len(set(chosen))
    assert set(chosen) <= unprotected
    # Each choice came from a zone holding the most instances among eligible zones.
    remaining = list(members)
    for iid in chosen:
        assert iid in {m.instance_id for m in balanced_candidates(remaining)}
        remaining = [m for m in remaining if m.instance_id != iid]
