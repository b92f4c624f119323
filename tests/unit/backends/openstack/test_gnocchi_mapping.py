"""CloudWatch identity and data -> Gnocchi resources, metric names, measures and searches."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfn_gateway import errors
from cfn_gateway.backends.openstack import gnocchi_mapping as mapping
from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.domain import dimensions, periods
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, DimensionFilter, MetricFilter, MetricKey
from tests.unit.backends.openstack.gnocchi_filters import matches

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOST = MetricKey.of("ns", "CPU", [("InstanceId", "i-1")])
HOST_DISK = MetricKey.of("ns", "CPU", [("InstanceId", "i-1"), ("Disk", "vda")])


def datum(key=HOST, value=1.0, at=NOW - timedelta(minutes=1), unit="Percent", resolution=60,
          samples=None) -> Datum:
    return Datum(key, at, unit, resolution, samples or (stats.single(value),))


# --- identity -----------------------------------------------------------------------------

def test_resource_id_is_per_project_and_exact_dimension_set():
    rid = mapping.resource_id("p1", HOST)
    assert rid == mapping.resource_id("p1", MetricKey.of("ns", "CPU", [("InstanceId", "i-1")]))
    assert len({rid, mapping.resource_id("p2", HOST), mapping.resource_id("p1", HOST_DISK),
                mapping.resource_id("p1", MetricKey.of("ns", "CPU"))}) == 4
    reordered = MetricKey.of("ns", "CPU", [("Disk", "vda"), ("InstanceId", "i-1")])
    assert mapping.resource_id("p1", reordered) == mapping.resource_id("p1", HOST_DISK)
    # no way to make two identities collide by moving text between fields
    assert (mapping.resource_id("p", MetricKey.of("a,b", "c"))
            != mapping.resource_id("p", MetricKey.of("a", "b,c")))


def test_resource_body_fits_the_resource_type_and_round_trips():
    long_value = "v" * 1024
    key = MetricKey.of("ns", "M", [(f"D{i:02d}", long_value if i == 7 else f"x{i}")
                                   for i in range(dimensions.MAX_DIMENSIONS)])
    body = mapping.resource_body("p1", key, NOW)
    attributes = schema.resource_type()["attributes"]
    for name, value in body.items():
        if name in ("id", "project_id"):
            continue
        assert name in attributes
        assert value is None or len(value) <= schema.CHUNK
    assert body["project_id"] == "p1" and body["id"] == mapping.resource_id("p1", key)
    assert mapping.key_from_resource(body) == key


@pytest.mark.parametrize("length", [1, 255, 256, 257, 512, 513, 1023, 1024])
def test_dimension_values_at_chunk_boundaries(length):
    key = MetricKey.of("ns", "M", [("A", "é" * length)])
    body = mapping.resource_body("p1", key, NOW)
    assert mapping.key_from_resource(body) == key
    chunks = [body.get(a) for a in schema.dimension_slot(0)[1]]
    used = -(-length // schema.CHUNK)
    assert all(c for c in chunks[:used]) and all(c is None for c in chunks[used:])


def test_dimension_value_longer_than_aws_allows_is_refused():
    with pytest.raises(errors.InvalidParameterValue):
        mapping.resource_body("p1", MetricKey.of("ns", "M", [("A", "v" * 1025)]), NOW)


# --- metric names -------------------------------------------------------------------------

@pytest.mark.parametrize("unit", ["Percent", "Bytes/Second", "None", "counter", "a.b c%/é"])
def test_metric_names_round_trip_and_are_valid_for_gnocchi(unit):
    for resolution in schema.RESOLUTIONS:
        for late in (False, True):
            series = mapping.Series(resolution, late, unit)
            for statistic in mapping.STATISTICS:
                name = series.metric_name(statistic)
                assert "/" not in name and len(name) <= mapping.MAX_METRIC_NAME
                assert mapping.parse_metric_name(name) == (series, statistic)
                method = schema.STATISTIC_METHODS[statistic]
                assert series.policy(statistic) == schema.policy_name(resolution, late, method)


@pytest.mark.parametrize("name", ["cpu", "60s.avg.Percent", "5s.sum.Percent", "xs.sum.P",
                                  "60s.sum"])
def test_foreign_metric_names_are_ignored(name):
    assert mapping.parse_metric_name(name) is None


def test_units_too_long_for_a_metric_name_are_refused():
    mapping.check_unit("u" * 240)
    with pytest.raises(errors.InvalidParameterValue):
        mapping.check_unit("u" * 241)
    with pytest.raises(errors.InvalidParameterValue):
        mapping.build_measures("p1", [datum(unit="/" * 100)], NOW)


# --- time ---------------------------------------------------------------------------------

def test_nanosecond_timestamps_as_gnocchi_parses_them():
    assert mapping.format_time(datetime(2025, 3, 1, 12, 0, 5, 250, tzinfo=UTC)) == (
        "2025-03-01T12:00:05.000250000")
    assert mapping.format_ns(mapping.to_ns(NOW) + 59_999_999_999) == (
        "2025-03-01T12:00:59.999999999")


def test_late_routing_keeps_every_measure_inside_some_back_window():
    # The newest point a main metric may hold, and what Gnocchi then still keeps.
    newest = NOW + periods.MAX_FUTURE + timedelta(minutes=1) + schema.CLOCK_SKEW
    kept_from = newest - schema.MAIN_BACK_WINDOW * schema.BLOCK
    assert not mapping.is_late(kept_from, NOW)
    assert mapping.is_late(kept_from - timedelta(microseconds=1), NOW)
    assert not mapping.is_late(NOW - timedelta(hours=3), NOW)
    assert mapping.is_late(NOW - timedelta(hours=4), NOW)
    # late metrics keep two weeks back from a point two hours (and skew) in the future
    assert newest - schema.LATE_BACK_WINDOW * schema.BLOCK < NOW - periods.MAX_PAST


# --- PutMetricData ------------------------------------------------------------------------

def test_one_measure_per_statistic_with_the_matching_policy():
    body, keys = mapping.build_measures("p1", [datum(value=4.0)], NOW, random.Random(0))
    rid = mapping.resource_id("p1", HOST)
    assert keys == {rid: HOST}
    metrics = body[rid]
    assert sorted(metrics) == sorted(f"60s.{s}.Percent" for s in mapping.STATISTICS)
    for statistic, value in (("sum", 4.0), ("count", 1.0), ("min", 4.0), ("max", 4.0)):
        entry = metrics[f"60s.{statistic}.Percent"]
        assert entry["archive_policy_name"] == schema.policy_name(
            60, False, schema.STATISTIC_METHODS[statistic])
        assert [m["value"] for m in entry["measures"]] == [value]


def test_samples_of_one_slot_are_merged_exactly_and_stamped_inside_the_slot():
    at = NOW - timedelta(minutes=2)
    data = [datum(value=1.0, at=at), datum(value=9.0, at=at),
            datum(at=at, samples=(stats.repeated(3.0, 4), stats.repeated(5.0, 2))),
            datum(at=at, samples=(stats.StatisticSet(10, 100.0, 0.5, 20.0),)),
            datum(value=7.0, at=at + timedelta(minutes=1))]
    body, _ = mapping.build_measures("p1", data, NOW, random.Random(1))
    metrics = body[mapping.resource_id("p1", HOST)]
    values = {s: [m["value"] for m in metrics[f"60s.{s}.Percent"]["measures"]]
              for s in mapping.STATISTICS}
    assert values == {"sum": [132.0, 7.0], "count": [18.0, 1.0], "min": [0.5, 7.0],
                      "max": [20.0, 7.0]}
    stamps = [m["timestamp"] for m in metrics["60s.sum.Percent"]["measures"]]
    assert stamps[0].startswith("2025-03-01T11:58:") and stamps[1].startswith("2025-03-01T11:59:")
    # the four statistics of one statistic set share their time
    assert all(metrics[f"60s.{s}.Percent"]["measures"][0]["timestamp"] == stamps[0]
               for s in mapping.STATISTICS)


def test_units_resolutions_and_tiers_are_separate_metrics():
    data = [datum(unit="Count"), datum(unit="Seconds"), datum(resolution=1),
            datum(at=NOW - timedelta(days=3))]
    body, _ = mapping.build_measures("p1", data, NOW, random.Random(2))
    names = {n.rsplit(".", 2)[0] + "." + n.rsplit(".", 1)[1]
             for n in body[mapping.resource_id("p1", HOST)]}
    assert names == {"60s.Count", "60s.Seconds", "1s.Percent", "60s-late.Percent"}


def test_high_resolution_stamps_stay_in_their_second():
    at = NOW - timedelta(seconds=7)
    body, _ = mapping.build_measures("p1", [datum(resolution=1, at=at)], NOW)
    (measure,) = body[mapping.resource_id("p1", HOST)]["1s.sum.Percent"]["measures"]
    assert re.fullmatch(r"2025-03-01T11:59:53\.\d{9}", measure["timestamp"])


def test_a_metric_without_samples_still_exists():
    empty = Datum(HOST, NOW - timedelta(minutes=1), "Percent", 60, ())
    body, keys = mapping.build_measures("p1", [empty], NOW)
    assert body == {} and keys == {mapping.resource_id("p1", HOST): HOST}


# --- ListMetrics searches -----------------------------------------------------------------

names = st.sampled_from(["A", "B", "InstanceId", "a%", "_"])
values = st.one_of(st.sampled_from(["1", "2", "x" * 256, "x" * 257, "x" * 300]),
                   st.text(min_size=1, max_size=3))
keys = st.builds(
    lambda ns, name, dims: MetricKey.of(ns, name, list(dims.items())),
    st.sampled_from(["ns", "other"]), st.sampled_from(["CPU", "Mem"]),
    st.dictionaries(names, values, max_size=4))
filters = st.builds(
    MetricFilter,
    namespace=st.one_of(st.none(), st.sampled_from(["ns", "other"])),
    name=st.one_of(st.none(), st.sampled_from(["CPU", "Mem"])),
    dimensions=st.lists(st.builds(DimensionFilter, names, st.one_of(st.none(), values)),
                        max_size=3).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(key=keys, query=filters, age=st.integers(0, 20))
def test_search_filter_selects_exactly_what_list_metrics_means(key, query, age):
    resource = mapping.resource_body("p1", key, NOW - timedelta(days=age))
    resource["created_by_project_id"] = "p1"
    since = NOW - timedelta(days=14)
    wanted = dimensions.metric_matches(key, query) and age <= 14
    assert matches(mapping.search_filter("p1", query, since), resource) == wanted


def test_search_filter_confines_to_the_project_and_what_the_gateway_created():
    resource = mapping.resource_body("p1", HOST, NOW)
    query, since = MetricFilter(), NOW - timedelta(hours=3)
    assert matches(mapping.search_filter("p1", query, since),
                   dict(resource, created_by_project_id="p1"))
    assert not matches(mapping.search_filter("p2", query, since),
                       dict(resource, created_by_project_id="p1"))
    # a resource someone in another project made with our project's id
    assert not matches(mapping.search_filter("p1", query, since),
                       dict(resource, created_by_project_id="p2"))


def test_search_filter_pages_after_an_id():
    resource = dict(mapping.resource_body("p1", HOST, NOW), created_by_project_id="p1")
    since = NOW - timedelta(hours=3)
    before = mapping.search_filter("p1", MetricFilter(), since, after="0" * 8)
    after = mapping.search_filter("p1", MetricFilter(), since, after=resource["id"])
    assert matches(before, resource) and not matches(after, resource)
