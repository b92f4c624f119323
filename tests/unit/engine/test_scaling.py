"""GroupScaler on a real store file and the store-file no-cloud driver: steps, races."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.groups import InstanceNotDetached, StaleGroup
from cfn_gateway.backends.instances import MembersRefused
from cfn_gateway.backends.sqlite.groups import SQLiteGroupStore
from cfn_gateway.backends.sqlite.launch_configurations import SQLiteLaunchConfigurationStore
from cfn_gateway.backends.sqlite.nocloud_instances import SQLiteNoCloudInstances
from cfn_gateway.domain import groups as g
from cfn_gateway.domain import instance_requests as ir
from cfn_gateway.domain.launch_configurations import LaunchConfiguration
from cfn_gateway.domain.scheduled_actions import ScheduledAction
from cfn_gateway.engine.scaling import GroupScaler
from cfn_gateway.engine.schedules import ScheduleRunner

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ARN = "arn:aws:autoscaling:r:p1:autoScalingGroup:7f9c2ba4-e88f-4a1e-9c2f-0c4f5f1e9a11:" \
      "autoScalingGroupName/web"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(tmp_path):
    path = str(tmp_path / "store.sqlite3")
    clock = Clock()
    configurations = SQLiteLaunchConfigurationStore(path)
    configurations.create("p1", LaunchConfiguration(name="lc", arn="arn:lc", created_at=T0,
                                                    image_id="img",
                                                    instance_type="m1.tiny"), 10)
    opened = []

    def scaler(boot_seconds: float = 0.0) -> GroupScaler:
        groups = SQLiteGroupStore(path)
        driver = SQLiteNoCloudInstances(path, clock, boot_seconds)
        opened.extend([groups, driver])
        return GroupScaler(groups, configurations, driver, clock)

    yield clock, scaler
    for store in opened:
        store.close()
    configurations.close()


def create(scaler: GroupScaler, desired: int) -> None:
    scaler.groups.create("p1", g.Group(
        name="web", arn=ARN, launch_configuration_name="lc", min_size=0, max_size=20,
        desired_capacity=desired, created_at=T0, availability_zones=("a", "b")), 10)


def states(scaler: GroupScaler) -> list[str]:
    return sorted(i.lifecycle_state for i in scaler.groups.instances("p1", "web"))


def test_steps_carry_instances_through_boot(world):
    clock, make = world
    scaler = make(boot_seconds=30)
    create(scaler, 2)
    scaler.step("p1", "web")
    assert states(scaler) == [g.PENDING, g.PENDING]
    group_id = scaler.groups.get("p1", "web").group.group_id
    assert set(scaler.driver.observe("p1", group_id).values()) == {"booting"}
    assert scaler.groups.unsettled(10) == [("p1", "web")]
    clock.now += timedelta(seconds=31)
    assert scaler.run(clock.now) == 1
    assert states(scaler) == [g.IN_SERVICE, g.IN_SERVICE]
    assert scaler.groups.unsettled(10) == []
    assert scaler.groups.get("p1", "web").group.scaling_finished_at == clock.now


def test_failed_instance_is_replaced_by_the_health_pass(world):
    clock, make = world
    scaler = make()
    create(scaler, 1)
    scaler.step("p1", "web")
    scaler.step("p1", "web")
    (first,) = scaler.groups.instances("p1", "web")
    assert scaler.driver.fail("p1", first.instance_id)
    scaler.run(clock.now)  # the first pass looks at every group
    scaler.run(clock.now)
    (second,) = scaler.groups.instances("p1", "web")
    assert second.instance_id != first.instance_id and second.lifecycle_state == g.IN_SERVICE


def test_deletion_ends_with_the_last_instance(world):
    _, make = world
    scaler = make()
    create(scaler, 2)
    scaler.step("p1", "web")
    stored = scaler.groups.get("p1", "web")
    scaler.groups.update("p1", replace(stored.group, status=g.STATUS_DELETING, min_size=0,
                                       max_size=0, desired_capacity=0), stored.version)
    scaler.step("p1", "web")
    assert states(scaler) == [g.TERMINATING, g.TERMINATING]
    assert scaler.step("p1", "web") is None
    assert scaler.groups.get("p1", "web") is None
    assert scaler.driver.observe("p1", stored.group.group_id) == {}


def test_racing_scalers_agree_with_the_cloud(world):
    """Eight scalers (each its own connections) step one group while its desired
    capacity changes: the group ends with exactly its desired instances, and the driver
    runs exactly those."""
    _, make = world
    scalers = [make() for _ in range(8)]
    create(scalers[0], 5)
    errors: list[BaseException] = []

    def work(scaler: GroupScaler, rounds: int) -> None:
        try:
            for n in range(rounds):
                if n % 5 == 0:
                    stored = scaler.groups.get("p1", "web")
                    with contextlib.suppress(StaleGroup):
                        scaler.groups.update("p1", replace(stored.group,
                                                           desired_capacity=3 + n % 7),
                                             stored.version)
                scaler.step("p1", "web")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, 20)) for s in scalers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for _ in range(3):
        scalers[0].step("p1", "web")
    stored = scalers[0].groups.get("p1", "web")
    instances = scalers[0].groups.instances("p1", "web")
    assert [i.lifecycle_state for i in instances] == \
        [g.IN_SERVICE] * stored.group.desired_capacity
    running = scalers[0].driver.observe("p1", stored.group.group_id)
    assert set(running) == {i.instance_id for i in instances}


def test_a_due_scheduled_action_runs_once_among_engines(world):
    clock, make = world
    scalers = [make(), make()]
    create(scalers[0], 0)
    action = ScheduledAction(name="nine", arn="arn:s", group_name="web",
                             recurrence="0 9 * * *", desired_capacity=3)
    first = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    scalers[0].groups.put_scheduled_action("p1", action, first, 10)
    runners = [ScheduleRunner(s, clock) for s in scalers]
    clock.now = first + timedelta(seconds=2)
    assert [r.run(clock.now) for r in runners] == [1, 0]
    stored = scalers[0].groups.get("p1", "web").group
    assert stored.desired_capacity == 3
    ((_, following),) = scalers[0].groups.describe_scheduled_actions("p1", "web", [], 10).items
    assert following == first + timedelta(days=1)
    # Suspended: it moves on without running.
    scalers[0].groups.update("p1", replace(stored, suspended_processes=("ScheduledActions",),
                                           desired_capacity=0),
                             scalers[0].groups.get("p1", "web").version)
    clock.now = following + timedelta(seconds=1)
    assert runners[1].run(clock.now) == 0
    assert scalers[0].groups.get("p1", "web").group.desired_capacity == 0
    assert scalers[0].groups.due_scheduled_actions(clock.now, 10) == []


class LaggingCloud:
    """A driver that, like Heat, takes its time: what ``apply`` removes stays observed
    until ``settle`` is called; it counts what it was told."""

    def __init__(self) -> None:
        self.running: dict[str, str] = {}
        self.wanted: set[str] = set()
        self.applies = 0
        self.forgets = 0

    def apply(self, project_id, group_id, members) -> None:
        self.applies += 1
        self.wanted = {m.instance_id for m in members}
        for instance_id in self.wanted:
            self.running.setdefault(instance_id, "running")

    def observe(self, project_id, group_id) -> dict[str, str]:
        return dict(self.running)

    def forget(self, project_id, group_id) -> None:
        self.forgets += 1
        self.wanted = set()

    def settle(self) -> None:
        self.running = {i: s for i, s in self.running.items() if i in self.wanted}


def test_a_slow_removal_is_not_told_again_every_pass(world):
    clock, make = world
    scaler = make()
    cloud = LaggingCloud()
    scaler.driver = cloud
    create(scaler, 3)
    for _ in range(2):
        scaler.step("p1", "web")
    stored = scaler.groups.get("p1", "web")
    scaler.groups.update("p1", replace(stored.group, desired_capacity=2), stored.version)
    told = cloud.applies
    for _ in range(10):  # the removed instance is still there: passes wait for it
        clock.now += timedelta(seconds=2)
        scaler.step("p1", "web")
    assert cloud.applies == told + 1
    clock.now += timedelta(seconds=61)  # still there a minute later: told once more
    scaler.step("p1", "web")
    assert cloud.applies == told + 2
    cloud.settle()
    scaler.step("p1", "web")
    assert states(scaler) == [g.IN_SERVICE, g.IN_SERVICE]

    # Deletion deletes everything at once, and once.
    stored = scaler.groups.get("p1", "web")
    scaler.groups.update("p1", replace(stored.group, status=g.STATUS_DELETING, min_size=0,
                                       max_size=0, desired_capacity=0), stored.version)
    for _ in range(5):
        clock.now += timedelta(seconds=2)
        scaler.step("p1", "web")
    assert cloud.forgets == 1
    cloud.settle()
    assert scaler.step("p1", "web") is None and scaler.groups.get("p1", "web") is None


def test_an_instance_detached_runs_on_and_can_join_another_group(world):
    """Detach, then attach elsewhere, on a real store file and the store-file driver: the
    instance keeps running between groups, is adopted (not launched again), and goes with
    a later scale-in like any other."""
    _, make = world
    scaler = make()
    create(scaler, 2)
    scaler.step("p1", "web")
    scaler.step("p1", "web")
    web_id = scaler.groups.get("p1", "web").group.group_id
    leaving = scaler.groups.instances("p1", "web")[0].instance_id
    scaler.change("p1", "web", lambda group, instances, now: ir.detach_instances(
        group, instances, [leaving], True, now))
    scaler.step("p1", "web")  # tells the driver to keep it
    assert scaler.driver.kept("p1", web_id) == {leaving: leaving}
    scaler.step("p1", "web")  # kept: it leaves the group
    assert [i.instance_id for i in scaler.groups.instances("p1", "web")] != [leaving]
    assert len(scaler.groups.instances("p1", "web")) == 1
    (free,) = scaler.groups.detached_instances("p1", [leaving])
    assert (free.cloud_id, free.detached_from) == (leaving, "web")
    assert scaler.driver.outside("p1") == {leaving}
    assert leaving not in scaler.driver.observe("p1", web_id)

    other = replace(scaler.groups.get("p1", "web").group, name="api",
                    arn=ARN.replace("7f9c2ba4", "8f9c2ba4").replace("/web", "/api"),
                    desired_capacity=0)
    scaler.groups.create("p1", other, 10)
    scaler.change("p1", "api", lambda group, instances, now: ir.attach_instances(
        group, instances, [free], ("a", "b"), now))
    assert scaler.groups.detached_instances("p1", [leaving]) == []
    with pytest.raises(InstanceNotDetached):  # claimed once only
        scaler.change("p1", "web", lambda group, instances, now: ir.attach_instances(
            group, instances, [free], ("a", "b"), now))
    scaler.step("p1", "api")  # tells the driver to adopt it
    assert scaler.driver.outside("p1") == set()
    scaler.step("p1", "api")  # the driver reports it running
    (adopted,) = scaler.groups.instances("p1", "api")
    assert (adopted.instance_id, adopted.lifecycle_state) == (leaving, g.IN_SERVICE)
    assert scaler.driver.observe("p1", other.group_id) == {leaving: "running"}

    stored = scaler.groups.get("p1", "api")
    scaler.groups.update("p1", replace(stored.group, desired_capacity=0), stored.version)
    scaler.step("p1", "api")
    scaler.step("p1", "api")
    assert scaler.groups.instances("p1", "api") == []
    assert scaler.driver.outside("p1") == set()  # deleted, not let go


class RefusingCloud(SQLiteNoCloudInstances):
    """The store-file driver, refusing every telling while ``refusing``."""

    refusing = True

    def apply(self, project_id, group_id, members):
        if self.refusing:
            raise MembersRefused("Error validating value 'bad': No image matching bad.")
        super().apply(project_id, group_id, members)


def test_launches_the_cloud_refuses_fail_and_are_tried_again(world, tmp_path):
    clock, make = world
    scaler = make()
    scaler.driver = RefusingCloud(str(tmp_path / "store.sqlite3"), clock)
    create(scaler, 2)
    scaler.step("p1", "web")
    assert scaler.groups.instances("p1", "web") == []
    stored = scaler.groups.get("p1", "web")
    assert stored.group.launch_failures == 1 and not stored.settled
    failed = scaler.groups.activities("p1", ["web"], 10).items
    assert [(a.status_code, a.status_message) for a in failed] == [
        (g.ACTIVITY_FAILED, "Error validating value 'bad': No image matching bad. "
                            "Launching EC2 instance failed.")] * 2
    scaler.step("p1", "web")  # backing off: nothing launched
    assert scaler.groups.instances("p1", "web") == []
    scaler.driver.refusing = False
    clock.now += timedelta(seconds=11)
    scaler.step("p1", "web")
    scaler.step("p1", "web")
    assert states(scaler) == [g.IN_SERVICE, g.IN_SERVICE]
    scaler.driver.close()
