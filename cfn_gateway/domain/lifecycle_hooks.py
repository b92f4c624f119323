"""Lifecycle hooks: their definition, and the waits they put instances in.

Facts from the Amazon EC2 Auto Scaling user guide ("Amazon EC2 Auto Scaling lifecycle
hooks") and API reference (PutLifecycleHook, CompleteLifecycleAction):

- A hook of transition ``autoscaling:EC2_INSTANCE_LAUNCHING`` holds every instance the
  group launches in ``Pending:Wait``; one of ``autoscaling:EC2_INSTANCE_TERMINATING``
  holds every instance it terminates in ``Terminating:Wait``.  Each hook gives each
  instance one lifecycle action, with a token (a UUID).
- An action ends when CompleteLifecycleAction gives its result (``CONTINUE`` or
  ``ABANDON``), or when its heartbeat timeout (30 to 7200 s, 3600 by default) passes
  since it began or since its last RecordLifecycleActionHeartbeat: it then ends with the
  hook's ``DefaultResult`` (``ABANDON`` by default).  However many heartbeats, it ends
  at its global timeout: 100 times the heartbeat timeout, or 48 hours, whichever is
  smaller.
- Once every action of an instance ended: a launching instance goes in service when all
  of them say CONTINUE, and is terminated when any says ABANDON; a terminating instance
  is terminated either way.

``outcome`` says how an instance's waits ended (None while one is open); the planner
(``domain.scaling_plan``) moves the instance on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
TRANSITIONS = (LAUNCHING, TERMINATING)
CONTINUE = "CONTINUE"
ABANDON = "ABANDON"
RESULTS = (CONTINUE, ABANDON)
DEFAULT_HEARTBEAT = 3600
MIN_HEARTBEAT, MAX_HEARTBEAT = 30, 7200
LONGEST_GLOBAL_TIMEOUT = timedelta(hours=48)
MAX_PER_GROUP = 50


def _global_timeout(heartbeat_seconds: int) -> timedelta:
    return min(timedelta(seconds=100 * heartbeat_seconds), LONGEST_GLOBAL_TIMEOUT)


class InvalidHook(ValueError):
    """A hook AWS would refuse (the message says why)."""


@dataclass(frozen=True)
class LifecycleHook:
    name: str
    transition: str
    heartbeat_timeout: int = DEFAULT_HEARTBEAT
    default_result: str = ABANDON
    notification_metadata: str | None = None
    notification_target_arn: str | None = None
    role_arn: str | None = None

    @property
    def global_timeout(self) -> int:
        return int(_global_timeout(self.heartbeat_timeout).total_seconds())


@dataclass(frozen=True)
class LifecycleWait:
    """One hook's lifecycle action on one instance."""

    hook_name: str
    token: str
    started_at: datetime
    #: When it ends without a result (the heartbeat timeout from the last heartbeat).
    deadline: datetime
    #: The hook's default result, given when the deadline passes.
    default_result: str
    #: CONTINUE or ABANDON once completed.
    result: str | None = None


def validate(hook: LifecycleHook) -> None:
    if hook.transition not in TRANSITIONS:
        raise InvalidHook(f"Invalid Lifecycle Transition: {hook.transition}")
    if not MIN_HEARTBEAT <= hook.heartbeat_timeout <= MAX_HEARTBEAT:
        raise InvalidHook(f"Heartbeat timeout must be between {MIN_HEARTBEAT} and "
                          f"{MAX_HEARTBEAT} seconds.")
    if hook.default_result not in RESULTS:
        raise InvalidHook(f"Invalid default result: {hook.default_result}")


def start_waits(hooks: Sequence[LifecycleHook], transition: str,
                now: datetime) -> tuple[LifecycleWait, ...]:
    """The waits an instance enters for ``transition`` (none without such hooks)."""
    return tuple(LifecycleWait(hook.name, str(uuid.uuid4()), now,
                               now + timedelta(seconds=hook.heartbeat_timeout),
                               hook.default_result)
                 for hook in hooks if hook.transition == transition)


def heartbeat(wait: LifecycleWait, hooks: Sequence[LifecycleHook],
              now: datetime) -> LifecycleWait:
    """The wait after a heartbeat: its deadline moves on, up to its global timeout."""
    hook = next((h for h in hooks if h.name == wait.hook_name), None)
    seconds = DEFAULT_HEARTBEAT if hook is None else hook.heartbeat_timeout
    limit = wait.started_at + _global_timeout(seconds)
    return replace(wait, deadline=min(now + timedelta(seconds=seconds), limit))


def outcome(waits: Sequence[LifecycleWait], now: datetime) -> str | None:
    """CONTINUE or ABANDON once every wait ended (by its result or its deadline); None
    while one is open."""
    results = []
    for wait in waits:
        if wait.result is not None:
            results.append(wait.result)
        elif now >= wait.deadline:
            results.append(wait.default_result)
        else:
            return None
    return ABANDON if ABANDON in results else CONTINUE


def next_deadline(waits: Sequence[LifecycleWait]) -> datetime | None:
    open_deadlines = [w.deadline for w in waits if w.result is None]
    return min(open_deadlines, default=None)
