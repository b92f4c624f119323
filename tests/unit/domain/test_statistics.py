"""Statistic sets: building, merging, reading; value ranges; percentile names."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import StatisticSet
from cfn_gateway.domain.units import NO_UNIT, stored_unit

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
counts = st.floats(min_value=0.5, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_single_and_repeated():
    assert stats.single(2.5) == StatisticSet(1.0, 2.5, 2.5, 2.5)
    assert stats.repeated(10.0, 4) == StatisticSet(4, 40.0, 10.0, 10.0)


def test_values_with_default_and_zero_counts():
    assert stats.from_values([1.0, 10.0], None) == [stats.single(1.0), stats.single(10.0)]
    assert stats.from_values([1.0, 10.0, 3.0], [2, 4, 0]) == [
        stats.repeated(1.0, 2), stats.repeated(10.0, 4)]


def test_values_and_counts_as_aws_computes_them():
    # AWS (recorded): Values [1, 10] with Counts [2, 4] -> SampleCount 6, Sum 42, Maximum 10.
    merged = stats.merge_all(stats.from_values([1.0, 10.0], [2, 4]))
    assert merged == StatisticSet(6.0, 42.0, 1.0, 10.0)
    assert stats.average(merged) == 7.0


def test_merge_of_statistic_sets_is_not_an_average_of_averages():
    a = StatisticSet(sample_count=1, sum=10.0, minimum=10.0, maximum=10.0)
    b = StatisticSet(sample_count=3, sum=6.0, minimum=1.0, maximum=3.0)
    merged = stats.merge(a, b)
    assert merged == StatisticSet(4, 16.0, 1.0, 10.0)
    assert stats.statistic(merged, "average") == 4.0  # not (10 + 2) / 2


def test_merge_all_of_nothing():
    assert stats.merge_all([]) is None


def test_statistic_names():
    s = StatisticSet(4, 16.0, 1.0, 10.0)
    assert [stats.statistic(s, n) for n in stats.STATISTICS] == [4.0, 4.0, 16.0, 1.0, 10.0]
    with pytest.raises(ValueError):
        stats.statistic(s, "p99")


@pytest.mark.parametrize("values", [StatisticSet(4, 16, 1, 10),
                                    StatisticSet(3.0, 16.5, -1.0, 10.25)])
def test_readers_read_as_statistic_does(values):
    for name in stats.STATISTICS:
        assert repr(stats.reader(name)(values)) == repr(stats.statistic(values, name))
    with pytest.raises(ValueError, match="unknown statistic 'p99'"):
        stats.reader("p99")


@given(st.lists(finite, min_size=1, max_size=50))
def test_merging_singles_equals_direct_statistics(values):
    merged = stats.merge_all(stats.single(v) for v in values)
    assert merged.sample_count == len(values)
    assert merged.sum == math.fsum(values)
    assert merged.minimum == min(values)
    assert merged.maximum == max(values)
    slack = 1e-9 * max(1.0, *(abs(v) for v in values))
    assert min(values) - slack <= stats.average(merged) <= max(values) + slack


@given(st.lists(st.tuples(finite, counts), min_size=1, max_size=20), st.randoms())
def test_merge_order_does_not_matter(pairs, rnd):
    sets = [stats.repeated(v, c) for v, c in pairs]
    shuffled = list(sets)
    rnd.shuffle(shuffled)
    assert stats.merge_all(sets) == stats.merge_all(shuffled)


@given(st.lists(st.tuples(finite, counts), min_size=2, max_size=20))
def test_pairwise_merge_agrees_with_merge_all(pairs):
    sets = [stats.repeated(v, c) for v, c in pairs]
    folded = sets[0]
    for s in sets[1:]:
        folded = stats.merge(folded, s)
    merged = stats.merge_all(sets)
    assert (folded.minimum, folded.maximum) == (merged.minimum, merged.maximum)
    assert math.isclose(folded.sample_count, merged.sample_count, rel_tol=1e-9)
    assert math.isclose(folded.sum, merged.sum, rel_tol=1e-6, abs_tol=1e-3)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0.0, True), (-0.0, True), (1.0, True), (-42.5, True),
        (8.515920e-109, True), (-8.515920e-109, True), (1.174271e108, True),
        (-1.174271e108, True), (8.5e-109, False), (1e-200, False), (1.2e108, False),
        (-1e300, False), (math.nan, False), (math.inf, False), (-math.inf, False),
    ],
)
def test_acceptable_values(value, ok):
    assert stats.acceptable_value(value) is ok


def test_raw_value_sets():
    assert stats.holds_raw_values(stats.single(3.0))
    assert stats.holds_raw_values(stats.repeated(3.0, 5))
    assert not stats.holds_raw_values(StatisticSet(2, 4.0, 1.0, 3.0))
    assert not stats.holds_raw_values(StatisticSet(2, 5.0, 2.0, 2.0))


@pytest.mark.parametrize(
    ("name", "percentile"),
    [("p0", 0.0), ("p0.0", 0.0), ("p99", 99.0), ("p99.9", 99.9), ("p99.99", 99.99),
     ("p100", 100.0), ("p100.0", 100.0), ("p101", None), ("p100.1", None), ("99", None),
     ("p", None), ("p-1", None), ("p.5", None), ("p5.", None), ("P50", None), ("pNaN", None),
     ("p1e2", None), ("p\u0661", None), ("tm99", None)],
)
def test_percentile_names(name, percentile):
    assert stats.parse_percentile(name) == percentile


def test_units():
    assert stored_unit(None) == NO_UNIT == "None"
    assert stored_unit("") == "None"
    assert stored_unit("Count") == "Count"
    assert stored_unit("Counter") == "Counter"  # stored as given, never converted
