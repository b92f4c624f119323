"""Metric identity and dimension rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain.metrics import DimensionFilter, MetricFilter, MetricKey


def test_identity_ignores_order_but_not_the_set():
    a_b = MetricKey.of("ns", "m", [("B", "2"), ("A", "1")])
    assert a_b == MetricKey.of("ns", "m", [("A", "1"), ("B", "2")])
    assert a_b != MetricKey.of("ns", "m", [("A", "1")])
    assert MetricKey.of("ns", "m") != MetricKey.of("ns", "m", [("A", "1")])
    assert len({a_b, MetricKey.of("ns", "m", [("A", "1"), ("B", "2")])}) == 1


@pytest.mark.parametrize(
    ("name", "ok"),
    [("InstanceId", True), ("with space", True), ("a:b", True), (":a", False), (" ", False),
     ("\t", False), ("bad\x00", False), ("bad\x7f", False), ("ünïcode", True)],
)
def test_dimension_names(name, ok):
    assert dims.valid_dimension_name(name) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("i-0001", True), (":ok", True), (" x ", True), ("  ", False), ("a\nb", False)],
)
def test_dimension_values(value, ok):
    assert dims.valid_dimension_value(value) is ok


def test_namespaces():
    assert dims.valid_namespace("system/linux")
    assert not dims.valid_namespace("bad\x01")
    assert not dims.valid_namespace(":x")
    assert dims.reserved_namespace("AWS/EC2")
    assert not dims.reserved_namespace("aws/ec2")  # only the exact prefix is AWS's


def test_duplicate_names():
    assert dims.has_duplicate_names([("A", "1"), ("A", "2")])
    assert not dims.has_duplicate_names([("A", "1"), ("B", "1")])


def test_filters_need_the_dimension_not_the_exact_set():
    metric = [("InstanceId", "i-1"), ("Disk", "vda")]
    assert dims.filter_matches(metric, [DimensionFilter("InstanceId")])
    assert dims.filter_matches(metric, [DimensionFilter("InstanceId", "i-1")])
    assert dims.filter_matches(metric, [DimensionFilter("Disk"), DimensionFilter("InstanceId")])
    assert not dims.filter_matches(metric, [DimensionFilter("InstanceId", "i-2")])
    assert not dims.filter_matches(metric, [DimensionFilter("Other")])
    assert dims.filter_matches([], [])


def test_metric_matches():
    key = MetricKey.of("ns", "CPU", [("InstanceId", "i-1")])
    assert dims.metric_matches(key, MetricFilter())
    assert dims.metric_matches(key, MetricFilter(namespace="ns", name="CPU"))
    assert not dims.metric_matches(key, MetricFilter(namespace="other"))
    assert not dims.metric_matches(key, MetricFilter(name="Mem"))


text = st.text(min_size=1, max_size=5)


@given(st.dictionaries(text, text, max_size=8), st.data())
def test_any_subset_filter_matches(held, data):
    names = data.draw(st.lists(st.sampled_from(sorted(held)) if held else st.nothing(),
                               unique=True))
    with_values = data.draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    filters = [DimensionFilter(n, held[n] if v else None) for n, v in zip(names, with_values,
                                                                             strict=True)]
    assert dims.filter_matches(held.items(), filters)
