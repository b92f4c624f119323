"""GetMetricData's series and pages (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cfn_gateway.domain import metric_data as md
from cfn_gateway.domain.metrics import BucketStats, StatisticSet

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def bucket(n: int, unit: str, count: float, total: float, low: float, high: float):
    return BucketStats(minute(n), unit, StatisticSet(count, total, low, high))


def test_units_of_one_period_are_one_value():
    buckets = [bucket(0, "Count", 2, 3, 1, 2), bucket(0, "Seconds", 1, 10, 10, 10),
               bucket(2, "Count", 1, 4, 4, 4)]
    assert md.statistic_points(buckets, "Sum") == md.Points((minute(0), minute(2)),
                                                            (13.0, 4.0))
    assert md.statistic_points(buckets, "Average").values == (13 / 3, 4.0)
    assert md.statistic_points(buckets, "Maximum").values == (10.0, 4.0)
    assert md.statistic_points(buckets, "SampleCount").values == (3.0, 1.0)
    assert md.statistic_points([], "Minimum") == md.Points()


def result(query_id: str, count: int) -> md.Result:
    return md.Result(query_id, query_id.upper(), md.Points(
        tuple(minute(n) for n in range(count)), tuple(float(n) for n in range(count))))


def test_pages_run_across_results_in_scan_order():
    results = [result("a", 3), result("b", 2), result("c", 0)]
    first = md.page(results, md.DESCENDING, 2)
    assert [(r.query_id, r.values, r.status) for r in first.results] == [
        ("a", (2.0, 1.0), md.PARTIAL), ("b", (), md.PARTIAL), ("c", (), md.COMPLETE)]
    assert first.returned == 2
    second = md.page(results, md.DESCENDING, 2, first.returned)
    assert [(r.query_id, r.values) for r in second.results] == [
        ("a", (0.0,)), ("b", (1.0,)), ("c", ())]
    assert second.results[1].status == md.PARTIAL and second.returned == 4
    last = md.page(results, md.DESCENDING, 2, second.returned)
    assert [r.values for r in last.results] == [(), (0.0,), ()]
    assert last.returned is None
    whole = md.page(results, md.ASCENDING, md.DEFAULT_MAX_DATAPOINTS)
    assert whole.returned is None
    assert whole.results[0].timestamps == (minute(0), minute(1), minute(2))
    assert {r.status for r in whole.results} == {md.COMPLETE}
