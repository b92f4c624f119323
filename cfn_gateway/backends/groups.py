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
from typing import Protocol

from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.groups import Activity, Group, Instance


class GroupExists(ValueError):
    """A group of that name exists in the project."""


class GroupLimitExceeded(ValueError):
    """Creating one more group would exceed the project's quota."""


class StaleGroup(RuntimeError):
    """The group changed (or was deleted) since the version the caller read."""


@dataclass(frozen=True)
class StoredGroup:
    project_id: str
    group: Group
    version: int


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

    def update(self, project_id: str, group: Group, expected_version: int) -> StoredGroup:
        """Replace the group's definition if it is still at ``expected_version``; raises
        ``StaleGroup`` otherwise."""
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

    def put_instance(self, project_id: str, instance: Instance) -> None:
        """Add an instance, or replace the one with its id."""
        ...

    def remove_instance(self, project_id: str, instance_id: str) -> bool:
        ...

    def put_activity(self, project_id: str, activity: Activity) -> None:
        """Record an activity, or replace the one with its id (progress, end)."""
        ...

    def activities(self, project_id: str, group_names: Sequence[str], limit: int,
                   next_token: str | None = None) -> Page:
        """Activities of the named groups (all when empty), newest first;
        ``Page.items`` holds ``Activity``s."""
        ...
