"""Which instances a scale-in terminates: AZ balance, termination policies, protection.

Facts from the Amazon EC2 Auto Scaling user guide, "Configure termination policies":

- Instances protected from scale in are never chosen.
- Zone balance comes before any policy: the candidates are the unprotected instances of
  the Availability Zone(s) that hold the most instances and at least one unprotected
  instance (all such zones when several tie: the policy then applies across them).
- The group's termination policies then narrow the candidates, in the order listed:
  ``OldestInstance`` / ``NewestInstance`` (launch time), ``OldestLaunchConfiguration``
  (the launch configuration created first; an instance without one, attached to the
  group, counts as oldest), ``ClosestToNextInstanceHour`` (the least time left to its next
  full hour of running), and ``Default``, which is ``OldestLaunchConfiguration`` then
  ``ClosestToNextInstanceHour``.  ``OldestLaunchTemplate`` and ``AllocationStrategy``
  select nothing among instances of launch configurations (groups here have no launch
  templates or instance mixes).
- A tie left after every policy is broken at random.

Instances are chosen one at a time, so that each choice sees the zones as the previous
choices left them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

DEFAULT = "Default"
OLDEST_INSTANCE = "OldestInstance"
NEWEST_INSTANCE = "NewestInstance"
OLDEST_LAUNCH_CONFIGURATION = "OldestLaunchConfiguration"
OLDEST_LAUNCH_TEMPLATE = "OldestLaunchTemplate"
CLOSEST_TO_NEXT_INSTANCE_HOUR = "ClosestToNextInstanceHour"
ALLOCATION_STRATEGY = "AllocationStrategy"
POLICIES = (DEFAULT, OLDEST_INSTANCE, NEWEST_INSTANCE, OLDEST_LAUNCH_CONFIGURATION,
            OLDEST_LAUNCH_TEMPLATE, CLOSEST_TO_NEXT_INSTANCE_HOUR, ALLOCATION_STRATEGY)

HOUR_SECONDS = 3600


@dataclass(frozen=True)
class Member:
    """An instance of the group as termination sees it."""

    instance_id: str
    zone: str
    launched_at: datetime
    #: When its launch configuration was created; None without one.
    launch_configuration_created_at: datetime | None
    protected: bool = False


Narrow = Callable[[list[Member], datetime], list[Member]]


def _keep_min(key: Callable[[Member], object]) -> Narrow:
    def narrow(candidates: list[Member], now: datetime) -> list[Member]:
        best = min(key(m) for m in candidates)  # type: ignore[type-var]
        return [m for m in candidates if key(m) == best]
    return narrow


def _seconds_to_next_hour(now: datetime) -> Callable[[Member], float]:
    def left(member: Member) -> float:
        running = (now - member.launched_at).total_seconds()
        return HOUR_SECONDS - running % HOUR_SECONDS
    return left


def _closest_to_next_hour(candidates: list[Member], now: datetime) -> list[Member]:
    return _keep_min(_seconds_to_next_hour(now))(candidates, now)


def _nothing(candidates: list[Member], now: datetime) -> list[Member]:
    return candidates


_oldest_launch_configuration = _keep_min(
    lambda m: (m.launch_configuration_created_at is not None,
               m.launch_configuration_created_at or m.launched_at))

_NARROW: dict[str, list[Narrow]] = {
    OLDEST_INSTANCE: [_keep_min(lambda m: m.launched_at)],
    NEWEST_INSTANCE: [_keep_min(lambda m: -m.launched_at.timestamp())],
    OLDEST_LAUNCH_CONFIGURATION: [_oldest_launch_configuration],
    CLOSEST_TO_NEXT_INSTANCE_HOUR: [_closest_to_next_hour],
    DEFAULT: [_oldest_launch_configuration, _closest_to_next_hour],
    OLDEST_LAUNCH_TEMPLATE: [_nothing],
    ALLOCATION_STRATEGY: [_nothing],
}


def balanced_candidates(members: Sequence[Member]) -> list[Member]:
    """The unprotected instances of the zone(s) with the most instances that have an
    unprotected one."""
    counts = Counter(m.zone for m in members)
    eligible = {m.zone for m in members if not m.protected}
    if not eligible:
        return []
    most = max(counts[zone] for zone in eligible)
    return [m for m in members if not m.protected and counts[m.zone] == most]


def choose(members: Sequence[Member], count: int, policies: Sequence[str], now: datetime,
           rng: random.Random) -> list[str]:
    """The ids of up to ``count`` instances to terminate, in order (fewer when not enough
    instances are unprotected)."""
    for policy in policies:
        if policy not in _NARROW:
            raise ValueError(f"unknown termination policy {policy!r}")
    remaining = list(members)
    chosen: list[str] = []
    for _ in range(count):
        candidates = balanced_candidates(remaining)
        if not candidates:
            break
        for policy in policies or (DEFAULT,):
            for narrow in _NARROW[policy]:
                candidates = narrow(candidates, now)
        victim = rng.choice(sorted(candidates, key=lambda m: m.instance_id))
        chosen.append(victim.instance_id)
        remaining.remove(victim)
    return chosen
