"""The one scaling path: every change of a group's capacity ends in ``GroupScaler.step``.

SetDesiredCapacity, Create/Update/DeleteAutoScalingGroup, policies run by ExecutePolicy or
by alarms, scheduled actions and requests on instances all write what they change (a
desired capacity with the clause of its cause, a definition, an instance: ``revise``,
``change``), which marks the group unsettled; the engine's next pass (about a second
later) steps it: read it with its instances, open activities and what the instance driver
reports; plan the step (``domain.scaling_plan``); write it as one compare-and-set
(``GroupStore.save``); and, when the group's members changed, tell the driver.  Requests
never wait for the cloud, as on AWS.

Any number of processes may step one group at once: a step planned from a version that
another step has replaced is planned again from the new one, and a process that told the
driver about members that are no longer current tells it again, so the latest members
win whatever order the driver calls land in.  What the cloud shows but was not asked for
(a removed instance not deleted yet, a launch or an adoption not seen, a detaching
instance not kept yet) is told again only once the last telling had ``RETELL_AFTER`` to
land: a Heat update supersedes the one in progress, so telling it every pass would keep a
slow change from ever ending.  A group being deleted has its members deleted at once
(``forget``), not updated to none.

When the cloud refuses the members as a whole (``MembersRefused``: Heat validates the
whole stack, so a launch configuration naming an image it does not have stops every
update), the launches it does not show yet fail with its reason and launches back off;
the group's other members are told again at the next pass.

``GroupScaler.run`` is the engine's pass: it steps every unsettled group (instances
launching or terminating, launches backing off, a deletion under way) and, once a
minute, every group, to see instances that failed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cfn_gateway.backends import Backends
from cfn_gateway.backends.groups import GroupGone, GroupStore, StaleGroup, StoredGroup
from cfn_gateway.backends.instances import InstanceDriver, Member, MembersRefused
from cfn_gateway.backends.launch_configurations import LaunchConfigurationStore
from cfn_gateway.domain import groups as g
from cfn_gateway.domain import scaling_plan
from cfn_gateway.domain.launch_configurations import LaunchConfiguration

LOG = logging.getLogger(__name__)

STEP_ATTEMPTS = 8
APPLY_ATTEMPTS = 4
UNSETTLED_BATCH = 200
HEALTH_BATCH = 500
HEALTH_INTERVAL = timedelta(minutes=1)
#: A launching instance the driver has not reported for this long is asked for again.
UNSEEN_LAUNCH = timedelta(seconds=30)
#: How long a driver is given to carry out what it was told before it is told again.
RETELL_AFTER = timedelta(seconds=60)


Change = Callable[[g.Group, list[g.Instance], datetime], g.GroupChanges]


@dataclass(frozen=True)
class ScalingSettings:
    #: The zone of groups created with subnets (VPCZoneIdentifier) only.
    default_zone: str = "nova"


class GroupScaler:
    @classmethod
    def of(cls, backends: Backends, clock: Callable[[], datetime],
           settings: ScalingSettings) -> GroupScaler:
        """The scaler of the configured backends."""
        return cls(backends.groups, backends.launch_configurations, backends.instances,
                   clock, settings)

    def __init__(self, groups: GroupStore, configurations: LaunchConfigurationStore,
                 driver: InstanceDriver, clock: Callable[[], datetime],
                 settings: ScalingSettings | None = None,
                 rng: random.Random | None = None) -> None:
        self.groups = groups
        self.configurations = configurations
        self.driver = driver
        self.clock = clock
        self.settings = settings or ScalingSettings()
        self.rng = rng or random.Random()
        self._next_health_pass: datetime | None = None
        #: (project, group id) -> (``scaling_plan.membership`` last told to the driver,
        #: when).
        self._told: dict[tuple[str, str],
                         tuple[frozenset[tuple[str, bool]], datetime]] = {}

    def zones(self, group: g.Group) -> tuple[str, ...]:
        return group.availability_zones or (self.settings.default_zone,)

    def _configurations(self, project_id: str, names: set[str]) -> dict[str, LaunchConfiguration]:
        wanted = sorted(n for n in names if n)
        if not wanted:
            return {}
        page = self.configurations.describe(project_id, wanted, len(wanted))
        return {c.name: c for c in page.items}

    def step(self, project_id: str, name: str, cause: str | None = None) -> StoredGroup | None:
        """Move the group one step toward its desired capacity; None once it is gone
        (deleted, or its deletion ended with this step).  ``cause``: the clause of what
        changed its desired capacity, for the activities this step starts."""
        for _ in range(STEP_ATTEMPTS):
            stored = self.groups.get(project_id, name)
            if stored is None:
                return None
            try:
                return self._step(stored, cause)
            except StaleGroup:
                continue
        raise StaleGroup(f"group {name!r} kept changing while it was stepped")

    def revise(self, project_id: str, name: str,
               change: Callable[[g.Group], g.Group | None],
               cause: Callable[[g.Group, g.Group], str | None] | None = None
               ) -> tuple[g.Group, g.Group]:
        """Write ``change(group)`` over the group's definition as a compare-and-set, again
        from a fresh read when another change landed first; returns the group before and
        after (the same object when ``change`` returned None: nothing to write).  Raises
        ``GroupGone``, or ``StaleGroup`` when it kept changing; ``change`` may raise to
        refuse.  ``cause(old, new)``: the clause of what changed the desired capacity,
        kept with the group (``pending_cause``) for the engine's next step, which carries
        the change out (the write marks the group unsettled)."""
        for _ in range(STEP_ATTEMPTS):
            stored = self.groups.get(project_id, name)
            if stored is None:
                raise GroupGone(name)
            changed = change(stored.group)
            if changed is None:
                return stored.group, stored.group
            text = cause(stored.group, changed) if cause else None
            if text:
                changed = replace(changed, pending_cause=text)
            try:
                self.groups.update(project_id, changed, stored.version)
            except StaleGroup:
                continue
            return stored.group, changed
        raise StaleGroup(f"group {name!r} kept changing")

    def change(self, project_id: str, name: str, change: Change) -> g.GroupChanges:
        """Write what ``change`` makes of the group and its instances (a request's own
        change: an instance terminated, marked unhealthy, protected) as one
        compare-and-set, again from a fresh read when another change landed first; the
        engine's next step carries it on.  ``change`` may raise to refuse."""
        for _ in range(STEP_ATTEMPTS):
            stored = self.groups.get(project_id, name)
            if stored is None:
                raise GroupGone(name)
            changes = change(stored.group, self.groups.instances(project_id, name),
                             self.clock())
            try:
                self.groups.save(project_id, replace(changes, settled=False), stored.version)
            except StaleGroup:
                continue
            return changes
        raise StaleGroup(f"group {name!r} kept changing while it was changed")

    def _step(self, stored: StoredGroup, cause: str | None) -> StoredGroup | None:
        project_id, group = stored.project_id, stored.group
        instances = self.groups.instances(project_id, group.name)
        activities = {a.activity_id: a for a in
                      self.groups.open_activities(project_id, group.name)}
        observed = self.driver.observe(project_id, group.group_id)
        configurations = self._configurations(
            project_id, {group.launch_configuration_name,
                         *(i.launch_configuration_name or "" for i in instances)})
        current = configurations.get(group.launch_configuration_name)
        launch = None if current is None else scaling_plan.LaunchSpec(
            current.name, current.instance_type, current.created_at)
        # Asked only while instances detach: it may cost the cloud a few requests.
        kept = (self.driver.kept(project_id, group.group_id)
                if any(i.lifecycle_state == g.DETACHING for i in instances) else {})
        now = self.clock()
        step = scaling_plan.plan_step(
            group, instances, activities, observed, launch,
            {n: c.created_at for n, c in configurations.items()}, self.zones(group), now,
            self.rng, cause, kept)
        changes = step.changes
        deleting = group.status == g.STATUS_DELETING
        if deleting and not step.instances and not observed:
            # The last instance is gone: the deletion ends.
            self.groups.save(project_id, changes, stored.version)
            self.driver.forget(project_id, group.group_id)
            self.groups.delete(project_id, group.name)
            self._told.pop((project_id, group.group_id), None)
            return None
        if _unchanged(changes, group) and changes.settled == stored.settled:
            saved = stored
        else:
            saved = self.groups.save(project_id, changes, stored.version)
        wanted = scaling_plan.membership(step.members)
        key = (project_id, group.group_id)
        told = self._told.get(key)
        # The cloud is told again what it was told already only once that had time to
        # land: a Heat update supersedes the one in progress, so telling it each pass
        # would keep a slow change from ever ending.
        due_again = told is None or told[0] != wanted or now - told[1] >= RETELL_AFTER
        unexplained = bool(set(observed) - {m.instance_id for m in step.members}) or any(
            (i.lifecycle_state == g.PENDING and i.instance_id not in observed
             and (i.cloud_id or now - i.launched_at > UNSEEN_LAUNCH))
            or (i.lifecycle_state == g.DETACHING and i.instance_id not in kept)
            for i in step.members)
        if deleting and not wanted:
            if observed and (step.membership_changed or due_again):
                # Everything goes: delete it all at once rather than update to nothing.
                self.driver.forget(project_id, group.group_id)
                self._told[key] = (wanted, now)
        elif step.membership_changed or (unexplained and due_again):
            try:
                self._apply(saved, step.members, configurations)
            except MembersRefused as exc:
                opened = {**activities, **{a.activity_id: a for a in changes.activities}}
                return self._refused(saved, step.instances, opened, observed, str(exc))
            self._told[key] = (wanted, now)
        return saved

    def _refused(self, saved: StoredGroup, instances: tuple[g.Instance, ...],
                 activities: dict[str, g.Activity], observed: dict[str, str],
                 reason: str) -> StoredGroup:
        """The cloud refused the group's members: the launches it does not show fail
        (``scaling_plan.refuse_launches``); the next pass tells it the others."""
        project_id, group = saved.project_id, saved.group
        LOG.warning("group %r (project %s): the cloud refused its instances: %s",
                    group.name, project_id, reason)
        changes = scaling_plan.refuse_launches(group, instances, activities, observed,
                                               reason, self.clock())
        if changes is None:
            return saved
        try:
            return self.groups.save(project_id, changes, saved.version)
        except StaleGroup:
            return saved  # changed meanwhile: the next pass plans and tells again

    def _apply(self, saved: StoredGroup, members: tuple[g.Instance, ...],
               configurations: dict[str, LaunchConfiguration]) -> None:
        """Tell the driver ``members``; again with the current ones while another step
        changed the group's members meanwhile (its call may have landed before ours)."""
        project_id, group = saved.project_id, saved.group
        version = saved.version
        for _ in range(APPLY_ATTEMPTS):
            self.driver.apply(project_id, group.group_id,
                              self._members(project_id, group, members, configurations))
            latest = self.groups.get(project_id, group.name)
            if latest is None or latest.version == version:
                return
            current = scaling_plan.in_cloud(self.groups.instances(project_id, group.name))
            if scaling_plan.membership(current) == scaling_plan.membership(members):
                return  # changed, but not in its members
            version, group, members = latest.version, latest.group, current
            configurations = self._configurations(
                project_id, {group.launch_configuration_name,
                             *(i.launch_configuration_name or "" for i in members)})

    def _members(self, project_id: str, group: g.Group, members: tuple[g.Instance, ...],
                 configurations: dict[str, LaunchConfiguration]) -> list[Member]:
        tags = tuple((t.key, t.value) for t in group.tags if t.propagate_at_launch)
        out = []
        for instance in members:
            # None once deleted: the driver keeps the instance as it is.
            configuration = configurations.get(instance.launch_configuration_name or "")
            if configuration is None and instance.cloud_id:
                # An adopted instance runs as it is: the configuration only describes it.
                configuration = configurations.get(group.launch_configuration_name)
            out.append(Member(instance.instance_id, instance.availability_zone,
                              configuration, tags,
                              keep=instance.lifecycle_state == g.DETACHING,
                              cloud_id=instance.cloud_id))
        return out

    # --- the engine's pass ----------------------------------------------------------------

    def run(self, now: datetime) -> int:
        """Step every unsettled group, and every group once per ``HEALTH_INTERVAL``;
        returns how many groups were stepped."""
        keys = self.groups.unsettled(UNSETTLED_BATCH)
        if self._next_health_pass is None or now >= self._next_health_pass:
            self._next_health_pass = now + HEALTH_INTERVAL
            keys = list(dict.fromkeys([*keys, *self.every_group()]))
        for project_id, name in keys:
            try:
                self.step(project_id, name)
            except Exception:  # one group's trouble must not stop the others
                LOG.exception("scaling step of group %r (project %s) failed", name,
                              project_id)
        return len(keys)

    def every_group(self) -> list[tuple[str, str]]:
        """(project id, name) of every group of every project."""
        keys: list[tuple[str, str]] = []
        after = None
        while True:
            batch = self.groups.all_groups(after, HEALTH_BATCH)
            keys.extend(batch)
            if len(batch) < HEALTH_BATCH:
                return keys
            after = batch[-1]


def _unchanged(changes: g.GroupChanges, group: g.Group) -> bool:
    return (changes.group == group and not changes.put_instances
            and not changes.removed_instances and not changes.activities)
