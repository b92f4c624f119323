"""DescribeScalingActivities Filters: parsing, refusals and matching (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.domain import groups as g
from cfn_gateway.domain.activity_filters import ActivityFilter, activity_filter
from cfn_gateway.domain.tag_filters import Filter, InvalidFilter

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def activity(minutes: int, status: str = g.ACTIVITY_SUCCESSFUL) -> g.Activity:
    return g.Activity("a", "web", "d", "c", T0 + timedelta(minutes=minutes), status)


def test_bounds_are_inclusive_and_offsets_count():
    only = activity_filter([Filter("StartTimeLowerBound", ("2026-11-29T12:00:00Z",)),
                            Filter("StartTimeUpperBound", ("2026-11-29T21:10:00+09:00",))],
                           group_named=False)
    assert only == ActivityFilter(T0, T0 + timedelta(minutes=10))
    assert [m for m in (-1, 0, 5, 10, 11) if only.matches(activity(m))] == [0, 5, 10]
    # Without an offset: UTC.
    assert activity_filter([Filter("StartTimeLowerBound", ("2026-11-29T12:00:00",))],
                           False).started_from == T0


def test_status_values_are_ored_and_need_a_group():
    only = activity_filter([Filter("Status", ("Failed", "Cancelled", "Failed"))], True)
    assert only.statuses == ("Failed", "Cancelled")
    assert only.matches(activity(0, "Failed")) and not only.matches(activity(0))
    with pytest.raises(InvalidFilter, match="only be used in combination with the "
                                            "AutoScalingGroupName"):
        activity_filter([Filter("Status", ("Failed",))], False)


@pytest.mark.parametrize("filters, message", [
    ([Filter("status", ("Failed",))], "Filter name status is not valid"),
    ([Filter("Status", ("Done",))], "not Done"),
    ([Filter("Status", ())], "not no value"),
    ([Filter("StartTimeLowerBound", ("yesterday",))], "not an ISO 8601 timestamp"),
    ([Filter("StartTimeLowerBound", ("2026-11-29T12:00:00Z", "2026-11-30T12:00:00Z"))],
     "exactly one value"),
    ([Filter("StartTimeUpperBound", ("2026-11-29T12:00:00Z",))] * 2, "more than once"),
])
def test_refusals(filters, message):
    with pytest.raises(InvalidFilter, match=message):
        activity_filter(filters, True)
