"""The Filters of DescribeScalingActivities: which activities a request asks for.

AWS's filters (the model's ``Filter`` documentation):

- ``StartTimeLowerBound``, ``StartTimeUpperBound``: activities that started at or after,
  at or before, an ISO 8601 time (one value; a time without an offset is UTC);
- ``Status``: activities with one of the given status codes; only together with an
  ``AutoScalingGroupName``.

Filters are joined with AND, the values of one filter with OR.  ``activity_filter`` raises
``InvalidFilter`` (a ValidationError at the API) for anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cfn_gateway.domain.groups import Activity
from cfn_gateway.domain.tag_filters import Filter, InvalidFilter

LOWER_BOUND = "StartTimeLowerBound"
UPPER_BOUND = "StartTimeUpperBound"
STATUS = "Status"
NAMES = (LOWER_BOUND, UPPER_BOUND, STATUS)

#: The model's ScalingActivityStatusCode.
STATUS_CODES = frozenset({
    "PendingSpotBidPlacement", "WaitingForSpotInstanceRequestId", "WaitingForSpotInstanceId",
    "WaitingForInstanceId", "PreInService", "InProgress", "WaitingForELBConnectionDraining",
    "MidLifecycleAction", "WaitingForInstanceWarmup", "Successful", "Failed", "Cancelled",
    "WaitingForConnectionDraining", "WaitingForInPlaceUpdateToStart",
    "WaitingForInPlaceUpdateToFinalize", "InPlaceUpdateInProgress"})


@dataclass(frozen=True)
class ActivityFilter:
    """What the filters ask for (None, or empty: anything)."""

    started_from: datetime | None = None
    started_until: datetime | None = None
    statuses: tuple[str, ...] = ()

    def matches(self, activity: Activity) -> bool:
        return ((self.started_from is None or activity.start_time >= self.started_from)
                and (self.started_until is None or activity.start_time <= self.started_until)
                and (not self.statuses or activity.status_code in self.statuses))

    @property
    def key(self) -> list[object]:
        """What a page token is bound to (``domain.pagination.digest``)."""
        return [None if self.started_from is None else self.started_from.isoformat(),
                None if self.started_until is None else self.started_until.isoformat(),
                sorted(self.statuses)]


def _time(name: str, values: Sequence[str]) -> datetime:
    if len(values) != 1:
        raise InvalidFilter(f"The {name} filter takes exactly one value.")
    try:
        moment = datetime.fromisoformat(values[0].strip())
    except ValueError:
        raise InvalidFilter(f"The value {values[0]!r} of the {name} filter is not an ISO 8601 "
                            "timestamp.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def activity_filter(filters: Sequence[Filter], group_named: bool) -> ActivityFilter:
    """The ``ActivityFilter`` of a request's filters; ``group_named``: whether the request
    names an AutoScalingGroupName."""
    seen: set[str] = set()
    found = ActivityFilter()
    for f in filters:
        if f.name not in NAMES:
            raise InvalidFilter(f"Filter name {f.name} is not valid for "
                                f"DescribeScalingActivities (valid: {', '.join(NAMES)}).")
        if f.name in seen:
            raise InvalidFilter(f"The {f.name} filter is given more than once.")
        seen.add(f.name)
        if f.name == LOWER_BOUND:
            found = replace(found, started_from=_time(f.name, f.values))
        elif f.name == UPPER_BOUND:
            found = replace(found, started_until=_time(f.name, f.values))
        else:
            if not group_named:
                raise InvalidFilter("The Status filter can only be used in combination with "
                                    "the AutoScalingGroupName parameter.")
            unknown = [v for v in f.values if v not in STATUS_CODES]
            if unknown or not f.values:
                raise InvalidFilter(f"The Status filter takes status codes "
                                    f"({', '.join(sorted(STATUS_CODES))}); not "
                                    f"{', '.join(unknown) or 'no value'}.")
            found = replace(found, statuses=tuple(dict.fromkeys(f.values)))
    return found
