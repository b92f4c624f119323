"""The instance driver interface: where a group's instances really run.

The scaling engine decides which instances a group has (ids, zones, launch
configurations: ``domain.capacity``, ``domain.termination``); a driver makes the cloud
match and reports what runs.  The interface is declarative because Heat is: the OpenStack
driver turns the wanted members into one flat stack template and updates the stack (a
member that is no longer wanted is deleted with it), and the standalone driver, which
needs no cloud, keeps them in memory.  Drivers:

- ``NoCloudInstances`` (below): a wanted member is running at once, or after
  ``boot_seconds``; a member may be marked as failing, to test health replacement.  It
  keeps its instances in the memory of one process (unit tests); standalone mode keeps
  them in the store file (``sqlite/nocloud_instances.py``).
- the Heat driver (OpenStack mode: ``openstack/heat_instances.py``).

A group is named to a driver by its ``group_id``: the UUID in its ARN, new for every group
created (a group deleted and created again under its name is another group), and safe in
any cloud resource name.  Calls for one group may come from any process at any time; the
latest ``apply`` wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cfn_gateway.domain.launch_configurations import LaunchConfiguration

#: What a driver reports of a member.
BOOTING = "booting"
RUNNING = "running"
FAILED = "failed"


@dataclass(frozen=True)
class Member:
    """One instance a group wants: its id, zone, the configuration it launches from and
    the group's tags that propagate at launch (key, value)."""

    instance_id: str
    availability_zone: str
    launch_configuration: LaunchConfiguration
    tags: tuple[tuple[str, str], ...] = ()


class InstanceDriver(Protocol):
    def apply(self, project_id: str, group_id: str, members: Sequence[Member]) -> None:
        """Make the group's instances exactly ``members``: launch the new ones, delete
        the ones not listed.  May return before they run (``observe`` tells)."""
        ...

    def observe(self, project_id: str, group_id: str) -> dict[str, str]:
        """The group's instances that exist, by id: ``BOOTING``, ``RUNNING`` or
        ``FAILED``.  An instance that was deleted is absent."""
        ...

    def forget(self, project_id: str, group_id: str) -> None:
        """Delete everything the group had (its deletion)."""
        ...


class NoCloudInstances:
    """Instances that exist only in this process: for standalone mode and tests."""

    def __init__(self, clock: Callable[[], datetime], boot_seconds: float = 0.0) -> None:
        self._clock = clock
        self._boot = timedelta(seconds=boot_seconds)
        self._lock = threading.Lock()
        # (project, group) -> instance id -> (launched at, failed)
        self._groups: dict[tuple[str, str], dict[str, tuple[datetime, bool]]] = {}

    def apply(self, project_id: str, group_id: str, members: Sequence[Member]) -> None:
        now = self._clock()
        with self._lock:
            old = self._groups.get((project_id, group_id), {})
            self._groups[(project_id, group_id)] = {
                m.instance_id: old.get(m.instance_id, (now, False)) for m in members}

    def observe(self, project_id: str, group_id: str) -> dict[str, str]:
        now = self._clock()
        with self._lock:
            instances = dict(self._groups.get((project_id, group_id), {}))
        return {instance_id: FAILED if failed else RUNNING if now - since >= self._boot
                else BOOTING for instance_id, (since, failed) in instances.items()}

    def forget(self, project_id: str, group_id: str) -> None:
        with self._lock:
            self._groups.pop((project_id, group_id), None)

    def fail(self, project_id: str, group_id: str, instance_id: str) -> None:
        """Make a running instance fail (what a test does to see it replaced)."""
        with self._lock:
            instances = self._groups[(project_id, group_id)]
            since, _ = instances[instance_id]
            instances[instance_id] = (since, True)
