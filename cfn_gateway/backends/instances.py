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

Instances can leave a group running and join another (DetachInstances, AttachInstances):
a member marked ``keep`` runs on once it is no longer listed, when the driver has said so
(``kept``, with the cloud's own id of it); a member with a ``cloud_id`` is that running
instance, adopted rather than launched.  An adopted member that is later dropped without
``keep`` is deleted like any other.

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


class MembersRefused(Exception):
    """The cloud refused the members it was told, as a whole (a launch configuration
    naming an image, flavor or key pair it does not have, ...): ``str()`` says why, in
    the cloud's words.  Nothing of that ``apply`` was carried out."""


@dataclass(frozen=True)
class Member:
    """One instance a group wants: its id, zone, the configuration it launches from (None
    once that was deleted: the instance stays as it is) and the group's tags that
    propagate at launch (key, value); ``keep``: it is leaving the group and must run on
    once it is no longer listed; ``cloud_id``: the running instance to adopt (one that
    left a group with ``keep``) instead of launching one."""

    instance_id: str
    availability_zone: str
    launch_configuration: LaunchConfiguration | None
    tags: tuple[tuple[str, str], ...] = ()
    keep: bool = False
    cloud_id: str | None = None


class InstanceDriver(Protocol):
    def apply(self, project_id: str, group_id: str, members: Sequence[Member]) -> None:
        """Make the group's instances exactly ``members``: launch the new ones, delete
        the ones not listed.  May return before they run (``observe`` tells).  Raises
        ``MembersRefused`` when the cloud will not take them."""
        ...

    def observe(self, project_id: str, group_id: str) -> dict[str, str]:
        """The group's instances that exist, by id: ``BOOTING``, ``RUNNING`` or
        ``FAILED``.  An instance that was deleted is absent."""
        ...

    def kept(self, project_id: str, group_id: str) -> dict[str, str]:
        """The members told ``keep`` that the cloud will keep running once they are no
        longer listed (told, and landed), with the cloud's own id of each (what a later
        ``Member.cloud_id`` adopts)."""
        ...

    def forget(self, project_id: str, group_id: str) -> None:
        """Delete everything the group had (its deletion), except members it keeps."""
        ...


class NoCloudInstances:
    """Instances that exist only in this process: for standalone mode and tests."""

    def __init__(self, clock: Callable[[], datetime], boot_seconds: float = 0.0) -> None:
        self._clock = clock
        self._boot = timedelta(seconds=boot_seconds)
        self._lock = threading.Lock()
        # (project, group) -> instance id -> (launched at, failed)
        self._groups: dict[tuple[str, str], dict[str, tuple[datetime, bool]]] = {}
        # (project, group) -> the members told to keep
        self._keep: dict[tuple[str, str], set[str]] = {}
        # project -> instance id -> launched at: instances that left a group running
        self._outside: dict[str, dict[str, datetime]] = {}

    def apply(self, project_id: str, group_id: str, members: Sequence[Member]) -> None:
        now = self._clock()
        key = (project_id, group_id)
        with self._lock:
            old = self._groups.get(key, {})
            outside = self._outside.setdefault(project_id, {})
            for instance_id in set(old) - {m.instance_id for m in members}:
                if instance_id in self._keep.get(key, ()):
                    outside[instance_id] = old[instance_id][0]
            self._groups[key] = {
                m.instance_id: old.get(m.instance_id) or (
                    outside.pop(m.cloud_id, now) if m.cloud_id else now, False)
                for m in members}
            self._keep[key] = {m.instance_id for m in members if m.keep}

    def kept(self, project_id: str, group_id: str) -> dict[str, str]:
        with self._lock:
            return {i: i for i in self._keep.get((project_id, group_id), ())}

    def observe(self, project_id: str, group_id: str) -> dict[str, str]:
        now = self._clock()
        with self._lock:
            instances = dict(self._groups.get((project_id, group_id), {}))
        return {instance_id: FAILED if failed else RUNNING if now - since >= self._boot
                else BOOTING for instance_id, (since, failed) in instances.items()}

    def forget(self, project_id: str, group_id: str) -> None:
        with self._lock:
            old = self._groups.pop((project_id, group_id), {})
            for instance_id in self._keep.pop((project_id, group_id), ()):
                if instance_id in old:
                    self._outside.setdefault(project_id, {})[instance_id] = \
                        old[instance_id][0]

    def outside(self, project_id: str) -> set[str]:
        """The ids of the project's instances that run outside any group."""
        with self._lock:
            return set(self._outside.get(project_id, ()))

    def fail(self, project_id: str, group_id: str, instance_id: str) -> None:
        """Make a running instance fail (what a test does to see it replaced)."""
        with self._lock:
            instances = self._groups[(project_id, group_id)]
            since, _ = instances[instance_id]
            instances[instance_id] = (since, True)
