"""Scheduled actions: their definition, AWS's validation, and when they run.

Facts from the Amazon EC2 Auto Scaling API reference (PutScheduledUpdateGroupAction) and
user guide ("Scheduled scaling"):

- An action sets any of MinSize, MaxSize and DesiredCapacity (at least one) at its time:
  once at ``StartTime`` (or the older ``Time``), or at every firing of its ``Recurrence``
  (Unix cron, in ``TimeZone``, UTC by default: ``domain.cron``) from ``StartTime`` until
  ``EndTime``.  A one-time action is deleted once it ran; a recurring one whose
  ``EndTime`` has passed too.
- ``StartTime`` in the past and ``EndTime`` not after ``StartTime`` are refused; a
  recurring action's ``StartTime`` is the first time its recurrence may fire, and
  DescribeScheduledActions reports the next firing as its ``StartTime``.
- When it runs, the new bounds apply as UpdateAutoScalingGroup applies them (a desired
  capacity left out is moved inside the new bounds), and the activity's cause reads "At
  T a scheduled action update of AutoScalingGroup constraints to min: M, max: X,
  desired: D changing the desired capacity from A to B."
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from cfn_gateway.domain import cron
from cfn_gateway.domain.periods import from_millis, to_millis

FORMAT_VERSION = 1
#: A recurrence may fire at its start time itself: look from just before it.
_JUST_BEFORE = timedelta(seconds=1)


class InvalidScheduledAction(ValueError):
    """A definition AWS would refuse (the message says why)."""


@dataclass(frozen=True)
class ScheduledAction:
    name: str
    arn: str
    group_name: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    recurrence: str | None = None
    time_zone: str | None = None
    min_size: int | None = None
    max_size: int | None = None
    desired_capacity: int | None = None


def validate(action: ScheduledAction, now: datetime, new_start: bool = True) -> None:
    """``new_start``: whether the call gives the start time (an update that leaves it out
    keeps the old one, past or not)."""
    if action.min_size is None and action.max_size is None and \
            action.desired_capacity is None:
        raise InvalidScheduledAction(
            "At least one of MinSize, MaxSize or DesiredCapacity must be specified.")
    if new_start and action.start_time is not None and action.start_time < now:
        raise InvalidScheduledAction("Given start time is in the past")
    if action.end_time is not None:
        if action.recurrence is None:
            raise InvalidScheduledAction("EndTime is only supported with a Recurrence.")
        if action.end_time <= max(action.start_time or now, now):
            raise InvalidScheduledAction("Start time cannot be greater than or equal to end "
                                         "time")
    if action.recurrence is None and action.start_time is None:
        raise InvalidScheduledAction("Either StartTime or Recurrence must be specified.")
    if action.recurrence is not None:
        try:
            schedule = cron.parse(action.recurrence)
            zone = cron.zone(action.time_zone)
        except cron.InvalidCron as exc:
            raise InvalidScheduledAction(f"Invalid recurrence: {exc}") from None
        if cron.next_after(schedule, action.start_time or now, zone) is None:
            raise InvalidScheduledAction(f"The recurrence {action.recurrence} never fires.")
    elif action.time_zone is not None:
        try:
            cron.zone(action.time_zone)
        except cron.InvalidCron as exc:
            raise InvalidScheduledAction(str(exc)) from None


def next_run(action: ScheduledAction, after: datetime) -> datetime | None:
    """When the action runs next after ``after`` (None: never again, so it goes)."""
    if action.recurrence is None:
        start = action.start_time
        return start if start is not None and start > after else None
    begin = after if action.start_time is None or action.start_time <= after else \
        action.start_time - _JUST_BEFORE
    fired = cron.next_after(cron.parse(action.recurrence), begin,
                            cron.zone(action.time_zone))
    if fired is None or (action.end_time is not None and fired > action.end_time):
        return None
    return fired


def first_run(action: ScheduledAction, now: datetime) -> datetime | None:
    """When a newly put action runs first: at its start time (one-time, or a recurrence
    firing at that very minute), else at the recurrence's first firing from then."""
    if action.recurrence is None:
        return action.start_time
    return next_run(action, now)


def to_json(action: ScheduledAction) -> str:
    data: dict[str, Any] = asdict(action)
    for name in ("start_time", "end_time"):
        if data[name] is not None:
            data[name] = to_millis(data[name])
    data["v"] = FORMAT_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> ScheduledAction:
    try:
        data = json.loads(text)
        if data.pop("v") != FORMAT_VERSION:
            raise ValueError("unknown scheduled action format")
        for name in ("start_time", "end_time"):
            if data[name] is not None:
                data[name] = from_millis(data[name])
        return ScheduledAction(**data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed scheduled action: {exc!r}") from exc
