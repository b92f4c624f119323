"""The Auto Scaling group store interface: groups, their instances and activities.

Drivers: ``sqlite/groups.py`` (both modes: in OpenStack mode a group's members run in a
Heat stack, but which instance ids, zones, launch configurations and protection they
have, and the activity history, are the gateway's to keep).

Concurrency: ``update`` is a compare-and-set on ``StoredGroup.version`` (``StaleGroup``
when the group changed since it was read), so the API and any number of scaling engines
can change a group without losing each other's changes.  Every call is scoped by
``project_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cfn_gateway.domain.activity_filters import ActivityFilter
from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.groups import (
    Activity,
    DetachedInstance,
    Group,
    GroupChanges,
    Instance,
)
from cfn_gateway.domain.policies import ScalingPolicy
from cfn_gateway.domain.scheduled_actions import ScheduledAction
from cfn_gateway.domain.tag_filters import Filter


class GroupExists(ValueError):
    """A group of that name exists in the project."""


class GroupLimitExceeded(ValueError):
    """Creating one more group would exceed the project's quota."""


class GroupGone(LookupError):
    """The group does not exist (any more)."""


class PolicyLimitExceeded(ValueError):
    """One more policy would exceed the group's quota."""


class ScheduledActionLimitExceeded(ValueError):
    """One more scheduled action would exceed the group's quota."""


class InstanceNotDetached(LookupError):
    """An instance a change attaches is no longer detached (another group took it)."""


class StaleGroup(RuntimeError):
    """The group changed (or was deleted) since the version the caller read."""


@dataclass(frozen=True)
class StoredGroup:
    project_id: str
    group: Group
    version: int
    #: Whether the scaling engine found nothing under way at its last step.
    settled: bool = False


@dataclass(frozen=True)
class QueuedNotification:
    id: int
    project_id: str
    group_name: str
    topic: str
    message: str


class GroupStore(Protocol):
    def create(self, project_id: str, group: Group, max_groups: int) -> StoredGroup:
        """Store a new group; raises ``GroupExists`` or ``GroupLimitExceeded``."""
        ...

    def get(self, project_id: str, name: str) -> StoredGroup | None:
        ...

    def describe(self, project_id: str, names: Sequence[str], limit: int,
                 next_token: str | None = None) -> Page:
        """The named groups (all when ``names`` is empty) by name; ``Page.items`` holds
        ``StoredGroup``s.  A foreign token raises ``backends.alarms.InvalidNextToken``."""
        ...

    def describe_matching(self, project_id: str, names: Sequence[str],
                          filters: Sequence[Filter], limit: int,
                          next_token: str | None = None) -> Page:
        """``describe`` of the groups whose tags match every filter
        (``domain.tag_filters.group_matches``)."""
        ...

    def describe_tags(self, project_id: str, filters: Sequence[Filter], limit: int,
                      next_token: str | None = None) -> Page:
        """The tags of the project's groups that match every filter, by group and key;
        ``Page.items`` holds (group name, ``GroupTag``)."""
        ...

    def update(self, project_id: str, group: Group, expected_version: int) -> StoredGroup:
        """Replace the group's definition if it is still at ``expected_version`` (and mark
        it unsettled); raises ``StaleGroup`` otherwise."""
        ...

    def put_policy(self, project_id: str, policy: ScalingPolicy, max_policies: int) -> None:
        """Store a policy, or replace the group's policy of its name; raises ``GroupGone``
        or ``PolicyLimitExceeded``."""
        ...

    def get_policy(self, project_id: str, group_name: str | None,
                   name_or_arn: str) -> ScalingPolicy | None:
        """The policy of that name (of the group) or ARN."""
        ...

    def delete_policy(self, project_id: str, group_name: str, name: str) -> bool:
        ...

    def describe_policies(self, project_id: str, group_name: str | None,
                          names: Sequence[str], policy_types: Sequence[str], limit: int,
                          next_token: str | None = None) -> Page:
        """Policies by group and name, optionally only those named (names or ARNs) and of
        the given types; ``Page.items`` holds ``ScalingPolicy``s."""
        ...

    def put_scheduled_action(self, project_id: str, action: ScheduledAction,
                             next_run: datetime | None, max_per_group: int) -> None:
        """Store a scheduled action (or replace the group's one of its name) with when it
        runs next; raises ``GroupGone`` or ``ScheduledActionLimitExceeded``."""
        ...

    def get_scheduled_action(self, project_id: str, group_name: str,
                             name: str) -> ScheduledAction | None:
        ...

    def delete_scheduled_action(self, project_id: str, group_name: str, name: str) -> bool:
        ...

    def describe_scheduled_actions(self, project_id: str, group_name: str | None,
                                   names: Sequence[str], limit: int,
                                   next_token: str | None = None) -> Page:
        """By group and name; ``Page.items`` holds (``ScheduledAction``, next run)."""
        ...

    def due_scheduled_actions(self, now: datetime, limit: int
                              ) -> list[tuple[str, ScheduledAction, datetime]]:
        """(project id, action, its next run) of actions of every project due at ``now``,
        earliest first."""
        ...

    def advance_scheduled_action(self, project_id: str, group_name: str, name: str,
                                 expected: datetime, following: datetime | None) -> bool:
        """Claim a due action: move its next run from ``expected`` to ``following`` (or
        delete it when None); False when another caller did first."""
        ...

    def save(self, project_id: str, changes: GroupChanges,
             expected_version: int) -> StoredGroup:
        """Write ``changes`` at once if the group is still at ``expected_version``; raises
        ``StaleGroup`` otherwise, and ``InstanceNotDetached`` when an instance it attaches
        is no longer detached (either way it writes nothing).  Instances it detaches go to
        the detached instances."""
        ...

    def queue_notifications(self, project_id: str, group_name: str,
                            notifications: Sequence[tuple[str, str]]) -> None:
        """Queue (topic, message) notifications (``save`` queues a step's own)."""
        ...

    def claim_notifications(self, now: datetime, limit: int,
                            lease_seconds: float) -> list[QueuedNotification]:
        """Lease up to ``limit`` queued notifications not in flight, oldest first."""
        ...

    def finish_notification(self, notification_id: int) -> None:
        ...

    def unsettled(self, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` (project id, group name) of groups not settled, of every
        project: the scaling engine's work."""
        ...

    def all_groups(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str]]:
        """(project id, group name) of every group, in order, after ``after``: the
        engine's health pass."""
        ...

    def delete(self, project_id: str, name: str) -> bool:
        """Delete the group with its instances (activities stay); False when none."""
        ...

    def count(self, project_id: str) -> int:
        ...

    def uses_launch_configuration(self, project_id: str, name: str) -> bool:
        """Whether a group of the project uses the launch configuration ``name``."""
        ...

    def instances(self, project_id: str, group_name: str) -> list[Instance]:
        """The group's instances, by instance id."""
        ...

    def describe_instances(self, project_id: str, instance_ids: Sequence[str], limit: int,
                           next_token: str | None = None) -> Page:
        """The project's instances (only ``instance_ids`` when given) by id;
        ``Page.items`` holds ``Instance``s."""
        ...

    def find_instance(self, project_id: str, instance_id: str) -> Instance | None:
        ...

    def put_instance(self, project_id: str, instance: Instance) -> None:
        """Add an instance, or replace the one with its id."""
        ...

    def remove_instance(self, project_id: str, instance_id: str) -> bool:
        ...

    def detached_instances(self, project_id: str,
                           instance_ids: Sequence[str]) -> list[DetachedInstance]:
        """Those of ``instance_ids`` that are detached from their group (running outside
        any group), by id."""
        ...

    def put_activity(self, project_id: str, activity: Activity) -> None:
        """Record an activity, or replace the one with its id (progress, end)."""
        ...

    def open_activities(self, project_id: str, group_name: str) -> list[Activity]:
        """The group's activities that have not ended, oldest first."""
        ...

    def activities_by_id(self, project_id: str, activity_ids: Sequence[str]) -> list[Activity]:
        ...

    def purge_activities(self, started_before: datetime) -> int:
        """Delete the ended activities (of every project) that started before
        ``started_before``; returns how many."""
        ...

    def activities(self, project_id: str, group_names: Sequence[str], limit: int,
                   next_token: str | None = None,
                   only: ActivityFilter | None = None) -> Page:
        """Activities of the named groups (all when empty) that match ``only``, newest
        first; ``Page.items`` holds ``Activity``s."""
        ...
