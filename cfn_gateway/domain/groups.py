"""Auto Scaling groups, their instances and scaling activities: value types and rules.

The types the group store, the scaling engine and the API views share.  Rules here:

- Which instances count toward a group's capacity: those launching or in service
  (``Pending`` and its lifecycle-hook states, ``InService``); instances in standby,
  detaching, terminating or terminated do not (AWS's "actual capacity").
- Instance ids look like EC2's: ``i-`` and 17 lower-case hex digits.
- ``group_to_json`` / ``group_from_json``: the stored text of a group's definition
  (snake_case keys, every field present, tuples as arrays, times in epoch milliseconds,
  format version ``"v": 1``), as ``domain.launch_configurations`` stores configurations.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from cfn_gateway.domain.lifecycle_hooks import LifecycleHook, LifecycleWait
from cfn_gateway.domain.periods import from_millis, to_millis

FORMAT_VERSION = 1

DEFAULT_COOLDOWN = 300
DEFAULT_HEALTH_CHECK_TYPE = "EC2"
DEFAULT_TERMINATION_POLICIES = ("Default",)
STATUS_DELETING = "Delete in progress"

# Lifecycle states (the model's LifecycleState) the gateway's instances go through.
PENDING = "Pending"
PENDING_WAIT = "Pending:Wait"
PENDING_PROCEED = "Pending:Proceed"
IN_SERVICE = "InService"
TERMINATING = "Terminating"
TERMINATING_WAIT = "Terminating:Wait"
TERMINATING_PROCEED = "Terminating:Proceed"
TERMINATED = "Terminated"
DETACHING = "Detaching"
DETACHED = "Detached"
ENTERING_STANDBY = "EnteringStandby"
STANDBY = "Standby"

#: States that count toward the group's actual capacity.
CAPACITY_STATES = frozenset({PENDING, PENDING_WAIT, PENDING_PROCEED, IN_SERVICE})

HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"

# Activity status codes (the model's ScalingActivityStatusCode) the gateway uses.
ACTIVITY_IN_PROGRESS = "InProgress"
ACTIVITY_MID_LIFECYCLE_ACTION = "MidLifecycleAction"
ACTIVITY_SUCCESSFUL = "Successful"
ACTIVITY_FAILED = "Failed"
ACTIVITY_CANCELLED = "Cancelled"


@dataclass(frozen=True)
class GroupTag:
    key: str
    value: str = ""
    propagate_at_launch: bool = False


@dataclass(frozen=True)
class Group:
    """An Auto Scaling group's definition and desired capacity (instances apart)."""

    name: str
    arn: str
    launch_configuration_name: str
    min_size: int
    max_size: int
    desired_capacity: int
    created_at: datetime
    default_cooldown: int = DEFAULT_COOLDOWN
    availability_zones: tuple[str, ...] = ()
    vpc_zone_identifier: str | None = None
    health_check_type: str = DEFAULT_HEALTH_CHECK_TYPE
    health_check_grace_period: int = 0
    termination_policies: tuple[str, ...] = DEFAULT_TERMINATION_POLICIES
    new_instances_protected_from_scale_in: bool = False
    tags: tuple[GroupTag, ...] = ()
    suspended_processes: tuple[str, ...] = ()
    #: (process, AWS's SuspensionReason) of each suspended process.
    suspension_reasons: tuple[tuple[str, str], ...] = ()
    enabled_metrics: tuple[str, ...] = ()
    max_instance_lifetime: int | None = None
    default_instance_warmup: int | None = None
    #: ``STATUS_DELETING`` while a deletion runs; None otherwise.
    status: str | None = None
    lifecycle_hooks: tuple[LifecycleHook, ...] = ()
    #: (topic, notification types) of each notification configuration.
    notification_configurations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: When the group's latest scaling activity ended: cooldowns count from it.
    scaling_finished_at: datetime | None = None
    #: Launches that failed in a row, and when the next launch may be tried (back-off).
    launch_failures: int = 0
    launch_retry_at: datetime | None = None
    #: The clause of what last changed the desired capacity, for the activities of the
    #: scaling engine's next step (it clears it).
    pending_cause: str | None = None
    #: The minute whose group metrics were published last (metrics collection).
    metrics_published_at: datetime | None = None

    @property
    def group_id(self) -> str:
        """The UUID in the group's ARN: new for every group created."""
        return self.arn.split(":")[6]


@dataclass(frozen=True)
class Instance:
    instance_id: str
    group_name: str
    availability_zone: str
    lifecycle_state: str
    launch_configuration_name: str | None
    instance_type: str | None
    launched_at: datetime
    health_status: str = HEALTHY
    protected_from_scale_in: bool = False
    #: The activity under way for this instance (its launch or termination), if any.
    activity_id: str | None = None
    #: Its lifecycle actions while in Pending:Wait or Terminating:Wait.
    waits: tuple[LifecycleWait, ...] = ()
    #: The cloud's own id of an instance that ran before it joined the group
    #: (AttachInstances): the driver adopts it rather than launching one.
    cloud_id: str | None = None


@dataclass(frozen=True)
class DetachedInstance:
    """An instance detached from a group (DetachInstances): it runs on outside any group,
    and AttachInstances can add it to one.  ``cloud_id``: the cloud's own id of it."""

    instance_id: str
    availability_zone: str
    launch_configuration_name: str | None
    instance_type: str | None
    launched_at: datetime
    cloud_id: str
    detached_from: str


@dataclass(frozen=True)
class Activity:
    activity_id: str
    group_name: str
    description: str
    cause: str
    start_time: datetime
    status_code: str
    progress: int = 0
    end_time: datetime | None = None
    status_message: str | None = None
    #: AWS's Details: JSON text such as {"Availability Zone": "nova"}.
    details: str = field(default="{}")


@dataclass(frozen=True)
class GroupChanges:
    """One step of the scaling engine, written at once: the group's new definition, the
    instances added or changed, the ids of those gone, the activities started or moved
    on, and whether the group is now ``settled`` (nothing under way, capacity as desired:
    the engine need not look at it until something changes)."""

    group: Group
    put_instances: tuple[Instance, ...] = ()
    removed_instances: tuple[str, ...] = ()
    activities: tuple[Activity, ...] = ()
    settled: bool = False
    #: (topic, message) of the notifications to deliver (``domain.group_notifications``).
    notifications: tuple[tuple[str, str], ...] = ()
    #: Instances that left the group running (their detachment ended).
    detached: tuple[DetachedInstance, ...] = ()
    #: Ids of detached instances this change attaches: the write fails
    #: (``backends.groups.InstanceNotDetached``) unless each is still detached.
    attached: tuple[str, ...] = ()


def waits_to_json(waits: tuple[LifecycleWait, ...]) -> str | None:
    """An instance's lifecycle actions as stored text (None without any)."""
    if not waits:
        return None
    return json.dumps([{**asdict(w), "started_at": to_millis(w.started_at),
                        "deadline": to_millis(w.deadline)} for w in waits],
                      separators=(",", ":"))


def waits_from_json(text: str | None) -> tuple[LifecycleWait, ...]:
    if not text:
        return ()
    return tuple(LifecycleWait(**{**w, "started_at": from_millis(w["started_at"]),
                                  "deadline": from_millis(w["deadline"])})
                 for w in json.loads(text))


def new_instance_id() -> str:
    return "i-" + secrets.token_hex(9)[:17]


def actual_capacity(instances: Iterable[Instance]) -> int:
    """How many of ``instances`` count toward the group's capacity."""
    return sum(1 for instance in instances if instance.lifecycle_state in CAPACITY_STATES)


_OPTIONAL_TIMES = ("scaling_finished_at", "launch_retry_at", "metrics_published_at")


def group_to_json(group: Group) -> str:
    data: dict[str, Any] = asdict(group)
    data["created_at"] = to_millis(group.created_at)
    for name in _OPTIONAL_TIMES:
        if data[name] is not None:
            data[name] = to_millis(data[name])
    data["v"] = FORMAT_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def group_from_json(text: str) -> Group:
    try:
        data = json.loads(text)
        if data.pop("v") != FORMAT_VERSION:
            raise ValueError("unknown group format")
        data["created_at"] = from_millis(data["created_at"])
        for name in _OPTIONAL_TIMES:
            if data.get(name) is not None:
                data[name] = from_millis(data[name])
        for name in ("availability_zones", "termination_policies", "suspended_processes",
                     "enabled_metrics"):
            data[name] = tuple(data[name])
        data["tags"] = tuple(GroupTag(**tag) for tag in data["tags"])
        data["notification_configurations"] = tuple(
            (topic, tuple(types)) for topic, types in data.get("notification_configurations", ()))
        data["lifecycle_hooks"] = tuple(
            LifecycleHook(**hook) for hook in data.get("lifecycle_hooks", ()))
        data["suspension_reasons"] = tuple(
            (name, reason) for name, reason in data.get("suspension_reasons", ()))
        return Group(**data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed group: {exc!r}") from exc
