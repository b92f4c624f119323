"""Extended statistics: names, AWS's examples worked by hand, the per-period series, and
every statistic against a plain reference (every value listed as often as it was sent)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import extended_statistics as xs
from cfn_gateway.domain import percentiles as pct
from cfn_gateway.domain.alarm_evaluation import statistic_key
from cfn_gateway.domain.alarm_inputs import extended_datapoints
from cfn_gateway.domain.metrics import BucketSamples, StatisticSet
from cfn_gateway.domain.statistics import STATISTIC_PATTERN, repeated, single

S = xs.ExtendedStatistic


# --- names --------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "parsed"), [
    ("p99", S("p", None, 99.0, True)),
    ("p0.0", S("p", None, 0.0, True)),
    ("tm90", S("TM", None, 90.0, True)),
    ("tm99.5", S("TM", None, 99.5, True)),
    ("wm98", S("WM", None, 98.0, True)),
    ("tc90", S("TC", None, 90.0, True)),
    ("ts90", S("TS", None, 90.0, True)),
    ("tm0", S("TM", None, 0.0, True)),
    ("tm100", S("TM", None, 100.0, True)),
    ("tm100.0", S("TM", None, 100.0, True)),
    ("tm1.0123456789", S("TM", None, 1.0123456789, True)),
    ("IQM", S("TM", 25.0, 75.0, True)),
    ("TM(2%:98%)", S("TM", 2.0, 98.0, True)),
    ("TM(:95%)", S("TM", None, 95.0, True)),
    ("TM(10%:)", S("TM", 10.0, None, True)),
    ("TM(0%:100%)", S("TM", 0.0, 100.0, True)),
    ("TM(150:1000)", S("TM", 150.0, 1000.0, False)),
    ("TM(-5:5.5)", S("TM", -5.0, 5.5, False)),
    ("TM(5:5)", S("TM", 5.0, 5.0, False)),
    ("WM(10%:90%)", S("WM", 10.0, 90.0, True)),
    ("TC(:0.5)", S("TC", None, 0.5, False)),
    ("TC(0.005:0.030)", S("TC", 0.005, 0.03, False)),
    ("TS(80%:)", S("TS", 80.0, None, True)),
    ("PR(:300)", S("PR", None, 300.0, False)),
    ("PR(100:2000)", S("PR", 100.0, 2000.0, False)),
    ("PR(100:)", S("PR", 100.0, None, False)),
    ("TM(12345678901.0123456789:)", S("TM", 12345678901.0123456789, None, False)),
])
def test_names(name, parsed):
    assert xs.parse(name) == parsed
    assert re.fullmatch(STATISTIC_PATTERN, name, re.ASCII)  # dashboards accept it too
    assert statistic_key(name) == "extendedStatistic"


@pytest.mark.parametrize("name", [
    "", "Average", "tm", "tm101", "tm100.5", "tm-1", "tm1.01234567890", "TM90", "Tm90",
    "tm(10%:90%)", "ts(1%:99%)", "pr(:300)", "pr90", "iqm", "IQM()", "TM()", "TM(:)",
    "TM(10%:200)", "TM(10:90%)", "TM(101%:)", "TM(:100.5%)", "TM(-5%:)", "TM(90%:10%)",
    "TM(200:100)", "PR(10%:20%)", "PR(:90%)", "TM(1.12345678901%:)", "TM(:1.12345678901)",
    "TM(10%:90%", "TM(10%;90%)", "TM(10%:90%:)", "TM( 10%:90%)", "TM(1e3:)", "TM(+1:)",
    "TM(.5:)", "TM(5.:)", "XX(1:2)", "tm\u0669\u0660", "TM(" + "9" * 400 + ":)", "p101",
])
def test_bad_names(name):
    assert xs.parse(name) is None


@pytest.mark.parametrize(("name", "accepted"), [
    ("p90", True), ("p99.9", True), ("tm90", True), ("tm99", True), ("wm98", True),
    ("tc5", True), ("ts90", True), ("IQM", True), ("PR(10:20)", True), ("PR(:1000)", True),
    ("TM(10%:90%)", True), ("TC(10%:90%)", True), ("TS(25%:75%)", True),
    ("WM(10%:90%)", True), ("TM(:90%)", True), ("TM(10%:)", True),
    ("TM(150:1000)", True), ("TM(9%:90%)", False), ("TM(10%:91%)", False),
    ("WM(5%:95%)", False), ("TM(:95%)", False), ("TS(0%:)", False), ("TM(10%:90.5%)", False),
    ("tm100", True), ("TM(:)", False), ("nonsense", False),
])
def test_alarm_limits(name, accepted):
    assert xs.alarm_accepts(name) is accepted


def names() -> st.SearchStrategy[str]:
    """Names from the parser's grammar (valid or not: bounds may be mixed or reversed)."""
    percent = st.one_of(
        st.integers(0, 99).map(str), st.just("100"), st.just("100.0"),
        st.tuples(st.integers(0, 99), st.integers(0, 10 ** 10 - 1)).map(
            lambda t: f"{t[0]}.{t[1]}"))
    absolute = st.one_of(
        st.integers(-10 ** 6, 10 ** 12).map(str),
        st.tuples(st.integers(-1000, 10 ** 6), st.integers(0, 10 ** 6)).map(
            lambda t: f"{t[0]}.{t[1]}"))
    bound = st.one_of(st.just(""), absolute, percent.map(lambda p: p + "%"))
    short = st.tuples(st.sampled_from(["tm", "wm", "tc", "ts", "p"]), percent).map("".join)
    ranged = st.tuples(st.sampled_from(["TM", "WM", "TC", "TS", "PR"]), bound, bound).map(
        lambda t: f"{t[0]}({t[1]}:{t[2]})")
    return st.one_of(short, ranged, st.just("IQM"))


@given(names())
def test_every_computed_name_is_one_dashboards_accept(name):
    if xs.parse(name) is not None:
        assert re.fullmatch(STATISTIC_PATTERN, name, re.ASCII)
        assert statistic_key(name) == "extendedStatistic"


# --- AWS's examples, by hand -------------------------------------------------------------

ONE_TO_TEN = [float(v) for v in range(1, 11)]
ONE_TO_HUNDRED = [float(v) for v in range(1, 101)]


def of(values: list[float], counts: list[float] | None = None) -> list[pct.Weighted]:
    sets = [repeated(v, c) for v, c in zip(values, counts or [1.0] * len(values),
                                           strict=True)]
    found = pct.values_of(sets)
    assert found is not None
    return found


@pytest.mark.parametrize(("values", "name", "expected"), [
    # Trimmed mean: tm90 drops the highest 10 %; TM(2%:98%) the lowest and highest 2 %.
    (ONE_TO_TEN, "tm90", 5.0),                       # ranks 1..9
    (ONE_TO_TEN, "TM(:90%)", 5.0),
    (ONE_TO_TEN, "TM(10%:90%)", 5.5),                # ranks 2..9
    (ONE_TO_TEN, "TM(2%:98%)", 5.0),                 # 0.2 < k <= 9.8: ranks 1..9
    (ONE_TO_HUNDRED, "TM(2%:98%)", 50.5),            # ranks 3..98
    (ONE_TO_HUNDRED, "tm95", 48.0),                  # ranks 1..95, not 95.00000000000001
    (ONE_TO_TEN, "TM(10%:)", 6.0),                   # ranks 2..10
    (ONE_TO_TEN, "IQM", 5.0),                        # 2.5 < k <= 7.5: ranks 3..7
    (ONE_TO_HUNDRED, "IQM", 50.5),                   # ranks 26..75
    (ONE_TO_TEN, "tm100", 5.5),
    ([100.0, 150.0, 151.0, 500.0, 1000.0, 1001.0], "TM(150:1000)", 1651.0 / 3),
    ([0.1, 0.5, 0.6], "TM(:0.5)", 0.3),
    # Winsorized mean: the dropped values count as the edges of the range.
    (ONE_TO_HUNDRED, "wm98", (sum(range(1, 99)) + 2 * 98) / 100),
    (ONE_TO_TEN, "WM(10%:90%)", 5.5),                # 2, 2..9, 9
    (ONE_TO_TEN, "WM(30%:)", (3 * 4 + sum(range(4, 11))) / 10),
    ([100.0, 150.0, 151.0, 500.0, 1000.0, 1001.0], "WM(150:1000)",
     (151 * 3 + 500 + 1000 * 2) / 6),
    # Trimmed count and sum.
    (ONE_TO_TEN, "tc90", 9.0),
    (ONE_TO_TEN, "ts90", 45.0),
    (ONE_TO_TEN, "TS(80%:)", 19.0),                  # ranks 9 and 10
    (ONE_TO_TEN, "TC(80%:)", 2.0),
    ([0.1, 0.5, 0.6], "TC(:0.5)", 2.0),
    ([0.005, 0.01, 0.03, 0.031], "TC(0.005:0.030)", 2.0),
    ([0.005, 0.01, 0.03, 0.031], "TS(0.005:0.030)", 0.04),
    # Percentile rank: lower bound exclusive, upper inclusive.
    ([100.0, 200.0, 300.0, 400.0], "PR(:300)", 75.0),
    ([100.0, 200.0, 2000.0, 2001.0], "PR(100:2000)", 50.0),
    ([100.0, 200.0], "PR(1000:)", 0.0),
    # Percentiles stay nearest-rank.
    (ONE_TO_HUNDRED, "p99", 99.0),
    (ONE_TO_TEN, "p0.0", 1.0),
])
def test_aws_examples(values, name, expected):
    statistic = xs.parse(name)
    assert statistic is not None
    assert xs.compute(of(values), statistic) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("name", "expected"), [
    # Values 1, 2, 3 sent 2, 5 and 3 times: ranks 1-2 are 1, 3-7 are 2, 8-10 are 3.
    ("TM(20%:70%)", 2.0),                 # ranks 3..7
    ("TC(20%:70%)", 5.0),
    ("TM(10%:50%)", (1 + 2 * 3) / 4),     # ranks 2..5: both pairs split by rank
    ("TC(10%:50%)", 4.0),
    ("TS(10%:50%)", 7.0),
    ("WM(10%:50%)", (1 * 2 + 2 * 8) / 10),  # rank 1 -> 1; ranks 6..10 -> 2
    ("tm80", (2 + 10 + 3) / 8),
    ("IQM", 2.0),                         # ranks 3..7
    ("PR(1:2)", 50.0),
    ("p75", 3.0),
])
def test_counts_weigh_values(name, expected):
    statistic = xs.parse(name)
    assert statistic is not None
    assert xs.compute(of([1.0, 2.0, 3.0], [2.0, 5.0, 3.0]), statistic) == pytest.approx(
        expected, rel=1e-12)


@pytest.mark.parametrize(("name", "expected"), [
    ("TM(50%:50%)", None), ("WM(50%:50%)", None), ("TC(50%:50%)", 0.0),
    ("TS(50%:50%)", 0.0), ("TM(1000:)", None), ("WM(1000:)", None), ("TC(1000:)", 0.0),
    ("TS(1000:)", 0.0), ("PR(1000:)", 0.0), ("tm0", None), ("tc0", 0.0), ("ts5", 0.0),
    ("TM(5:5)", None), ("TC(5:5)", 0.0),
])
def test_nothing_kept(name, expected):
    statistic = xs.parse(name)
    assert statistic is not None
    assert xs.compute(of(ONE_TO_TEN), statistic) == expected


def test_no_values_no_statistic():
    for name in ("tm90", "TC(:5)", "PR(:5)", "p50", "WM(10%:90%)"):
        statistic = xs.parse(name)
        assert statistic is not None
        assert xs.compute([], statistic) is None


@pytest.mark.parametrize(("values", "counts", "name", "expected"), [
    # A count covers the ranks it spans; a part of it has the (whole) rank it ends in.
    ([1.0, 2.0], [1.5, 1.5], "TM(:50%)", 1.0),       # cut at 1: one unit of the 1s
    ([1.0, 2.0], [1.5, 1.5], "TC(:50%)", 1.0),
    ([1.0, 2.0], [1.5, 1.5], "TC(:60%)", 1.0),       # 1.8: still rank 1
    ([1.0, 2.0], [1.5, 1.5], "TC(:70%)", 2.0),       # 2.1: ranks up to 2
    ([1.0, 2.0], [1.5, 1.5], "TM(:70%)", (1.5 + 0.5 * 2) / 2),
    ([1.0, 2.0], [1.5, 1.5], "TC(40%:)", 2.0),       # 1.2: kept after rank 1
    # A bound at the end keeps everything, whatever the counts.
    ([1.0, 2.0], [0.5, 1.0], "tm100", 2.5 / 1.5),
    ([1.0, 2.0], [0.5, 1.0], "tc100", 1.5),
    ([1.0, 2.0], [0.1, 0.2], "TM(0%:100%)", 0.5 / 0.3),
    ([1.0, 2.0], [0.5, 1.0], "TC(:50%)", 0.0),       # 0.75: nothing up to rank 0
    ([1.0, 2.0], [0.5, 1.0], "PR(1:)", 100.0 / 1.5),
])
def test_fractional_counts(values, counts, name, expected):
    statistic = xs.parse(name)
    assert statistic is not None
    assert xs.compute(of(values, counts), statistic) == pytest.approx(expected, rel=1e-12)


# --- per period ---------------------------------------------------------------------------

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_by_period_joins_units_and_skips_unavailable_periods():
    later, latest, last = (T0 + timedelta(minutes=n) for n in (1, 2, 3))
    buckets = [
        BucketSamples(T0, "Count", tuple(single(float(v)) for v in range(1, 10))),
        BucketSamples(T0, "Seconds", (single(10.0),)),             # units of a period join
        BucketSamples(later, "Count", (StatisticSet(2.0, 3.0, 1.0, 2.0),)),  # no values
        BucketSamples(latest, "Count", (single(1.0), single(-1.0))),  # a negative value
        BucketSamples(last, "Count", (repeated(5.0, 4.0),)),
    ]
    tm90 = xs.parse("tm90")
    assert tm90 is not None
    assert xs.by_period(buckets, tm90) == [(T0, 5.0, 10.0), (last, 5.0, 4.0)]
    nothing = xs.parse("TC(100:)")
    assert nothing is not None
    assert xs.by_period(buckets, nothing) == [(T0, 0.0, 10.0), (last, 0.0, 4.0)]
    (point, _) = extended_datapoints(buckets, "TS(80%:)")
    assert (point.timestamp, point.value, point.sample_count) == (T0, 19.0, 10.0)
    with pytest.raises(ValueError):
        extended_datapoints(buckets, "Average")


# --- against a plain reference ------------------------------------------------------------

def reference(listed: list[float], statistic: xs.ExtendedStatistic) -> float | None:
    """The statistic of a flat list, straight from the definitions (ranks 1..N)."""
    ordered = sorted(listed)
    n = len(ordered)
    lower, upper = statistic.lower, statistic.upper
    if statistic.percent:
        low = 0.0 if lower is None else round(lower * n / 100.0, 9)
        high = math.inf if upper is None else round(upper * n / 100.0, 9)
        kept = [v for k, v in enumerate(ordered, 1) if low < k <= high]
        below = sum(1 for k in range(1, n + 1) if k <= low)
        above = sum(1 for k in range(1, n + 1) if k > high)
    else:
        low = -math.inf if lower is None else lower
        high = math.inf if upper is None else upper
        kept = [v for v in ordered if low < v <= high]
        below = sum(1 for v in ordered if v <= low)
        above = sum(1 for v in ordered if v > high)
    kind = statistic.kind
    if kind == xs.TRIMMED_COUNT:
        return float(len(kept))
    if kind == xs.TRIMMED_SUM:
        return math.fsum(kept)
    if kind == xs.PERCENTILE_RANK:
        return 100.0 * len(kept) / n
    if not kept:
        return None
    if kind == xs.TRIMMED_MEAN:
        return math.fsum(kept) / len(kept)
    assert kind == xs.WINSORIZED_MEAN
    return math.fsum([kept[0]] * below + kept + [kept[-1]] * above) / n


def statistics() -> st.SearchStrategy[xs.ExtendedStatistic]:
    percent = st.integers(0, 10_000).map(lambda n: n / 100.0)
    absolute = st.integers(-5, 1005).map(float)

    def bounds(bound: st.SearchStrategy[float]) -> st.SearchStrategy[tuple]:
        return st.tuples(st.none() | bound, st.none() | bound).filter(
            lambda b: b != (None, None)).map(
            lambda b: b if None in b or b[0] <= b[1] else (b[1], b[0]))

    ranged = st.tuples(st.sampled_from(["TM", "WM", "TC", "TS"]), st.booleans(),
                       bounds(percent), bounds(absolute)).map(
        lambda t: S(t[0], *(t[2] if t[1] else t[3]), t[1]))
    rank = bounds(absolute).map(lambda b: S("PR", *b, False))
    return st.one_of(ranged, rank)


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 5)), min_size=1,
                max_size=40),
       statistics())
def test_matches_the_plain_reference(pairs, statistic):
    sets = [repeated(float(value), float(count)) for value, count in pairs]
    listed = [float(value) for value, count in pairs for _ in range(count)]
    values = pct.values_of(sets)
    assert values is not None
    assert xs.compute(values, statistic) == reference(listed, statistic)


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 5)), min_size=1,
                max_size=40),
       st.integers(0, 100))
def test_short_names_are_their_long_forms(pairs, number):
    values = pct.values_of([repeated(float(v), float(c)) for v, c in pairs])
    assert values is not None
    for short, long in (("tm", "TM"), ("wm", "WM"), ("tc", "TC"), ("ts", "TS")):
        a, b = xs.parse(f"{short}{number}"), xs.parse(f"{long}(:{number}%)")
        assert a is not None and a == b
    iqm, tm = xs.parse("IQM"), xs.parse("TM(25%:75%)")
    assert iqm is not None and iqm == tm


@given(st.lists(st.tuples(st.integers(0, 1000),
                          st.integers(1, 400).map(lambda n: n / 8.0)), min_size=1,
                max_size=20),
       statistics())
def test_fractional_counts_stay_consistent(pairs, statistic):
    """With fractional counts: TS is TM x TC, TC at most N, means within the values; and a
    pair split in two (same value, counts adding up) changes nothing."""
    values = pct.values_of([repeated(float(v), c) for v, c in pairs])
    assert values is not None
    total = math.fsum(c for _, c in values)

    def of_kind(kind: str) -> float | None:
        return xs.compute(values, S(kind, statistic.lower, statistic.upper,
                                    statistic.percent))

    count, summed, mean = of_kind("TC"), of_kind("TS"), of_kind("TM")
    assert count is not None and summed is not None
    assert 0.0 <= count <= total
    if mean is None:
        assert count == 0.0 and summed == 0.0
    else:
        assert values[0][0] <= mean <= values[-1][0]
        assert summed == pytest.approx(mean * count, rel=1e-9, abs=1e-9)
    halves = pct.values_of([repeated(float(v), part) for v, c in pairs
                            for part in (c / 2.0, c / 2.0)])
    assert halves is not None
    again = xs.compute(halves, statistic)
    first = xs.compute(values, statistic)
    assert (again is None) == (first is None)
    if first is not None:
        assert again == pytest.approx(first, rel=1e-9, abs=1e-9)
