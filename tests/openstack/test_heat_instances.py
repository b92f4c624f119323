"""HeatInstances on the real test bed: one Heat stack per group, one server per member.

Heat 27 with convergence (``tools/testbed/up.sh``) runs the stacks; its members are the
test bed's fake ``OS::Nova::Server`` (``tools/testbed/heat-plugins``), which fails its
create when the server metadata (the group's propagated tags) says
``cfngw-testbed-fail=create`` and boots for ``cfngw-testbed-boot-seconds``.  A running
member is made to fail with Heat's own mark-unhealthy API.  Everything is read back through
the driver (``observe``, ``observe_members``, ``stack``) and, for what the driver does not
show (the stored template, the tags), through Heat's API with the same session.  Every
group is new (its own group id) and forgotten at the end.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from cfn_gateway.backends.instances import BOOTING, FAILED, RUNNING, Member
from cfn_gateway.common import openstack_session
from cfn_gateway.domain.launch_configurations import LaunchConfiguration
from tests import testbed as testbed_facts

TESTBED = testbed_facts.load_testbed()
if TESTBED is None:
    _reason = (f"OpenStack test bed not running ({testbed_facts.testbed_dir()}/testbed.json "
               "missing): start it with tools/testbed/up.sh")
    if os.environ.get("CFN_REQUIRE_TESTBED") == "1":
        pytest.fail(_reason, pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from cfn_gateway.backends.openstack import heat_template  # noqa: E402
from cfn_gateway.backends.openstack.heat_api import HeatAPI  # noqa: E402
from cfn_gateway.backends.openstack.heat_instances import HeatInstances  # noqa: E402

WAIT = 30.0
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LC = LaunchConfiguration(name="small", arn="arn:lc:small", created_at=T0, image_id="cirros",
                         instance_type="m1.small")
FAIL_ON_CREATE = (("cfngw-testbed-fail", "create"),)


def boot_for(seconds: int) -> tuple[tuple[str, str], ...]:
    return (("cfngw-testbed-boot-seconds", str(seconds)),)


@pytest.fixture(scope="module")
def configured() -> Iterator[dict[str, Any]]:
    """CONF for the gateway's service user of the test bed."""
    assert TESTBED is not None
    with testbed_facts.service_user_conf(TESTBED) as testbed:
        yield testbed


@pytest.fixture(scope="module")
def project(configured) -> str:
    return configured["tenants"][0]["project_id"]


@pytest.fixture(scope="module")
def driver(configured) -> HeatInstances:
    return HeatInstances()


@pytest.fixture(scope="module")
def heat(project) -> HeatAPI:
    """Heat's API as the driver reaches it, for what the driver does not show."""
    return HeatAPI(openstack_session.project_session(project),
                   openstack_session.endpoint_filter("orchestration"), 30.0)


@pytest.fixture
def new_group(driver, project) -> Iterator[Callable[[], str]]:
    """A fresh group id per call; every group's stack is deleted afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(str(uuid.uuid4()))
        return made[-1]

    yield make
    for group_id in made:
        driver.forget(project, group_id)


def instance_id() -> str:
    return "i-" + secrets.token_hex(9)[:17]


def members(count: int, lc: LaunchConfiguration = LC,
            tags: tuple[tuple[str, str], ...] = ()) -> list[Member]:
    return [Member(instance_id(), "nova", lc, tags) for _ in range(count)]


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def settle(driver: HeatInstances, project: str, group_id: str,
           expected: dict[str, str]) -> dict[str, str]:
    """Wait until Heat is done with the stack and the driver observes ``expected``."""
    def done() -> tuple[dict[str, str]] | None:
        stack = driver.stack(project, group_id)
        if stack is None or stack.in_progress:
            return None
        observed = driver.observe(project, group_id)
        return (observed,) if observed == expected else None

    try:
        return wait_for(f"group {group_id} to settle at {expected}", done)[0]
    except AssertionError:
        raise AssertionError(f"stack {driver.stack(project, group_id)}, observed "
                             f"{driver.observe_members(project, group_id)}") from None


def running(group: list[Member]) -> dict[str, str]:
    return {m.instance_id: RUNNING for m in group}


def physical_ids(driver: HeatInstances, project: str, group_id: str) -> dict[str, str | None]:
    return {i: s.physical_id for i, s in driver.observe_members(project, group_id).items()}


def stack_body(heat: HeatAPI, group_id: str, suffix: str = "") -> Any:
    return heat.call("GET", f"stacks/{heat_template.stack_name(group_id)}{suffix}")


def test_apply_creates_members_that_boot_then_run(driver, project, heat, new_group):
    group_id = new_group()
    assert driver.observe(project, group_id) == {}
    assert driver.stack(project, group_id) is None
    group = members(3, tags=boot_for(2))
    driver.apply(project, group_id, group)
    ids = {m.instance_id for m in group}
    listed = wait_for("the members listed", lambda: (
        seen if set(seen := driver.observe(project, group_id)) == ids else None))
    assert set(listed.values()) == {BOOTING}
    settle(driver, project, group_id, running(group))
    stack = stack_body(heat, group_id)["stack"]
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert stack["stack_name"] == f"cfngw-asg-{group_id}"
    assert stack["tags"] == ["cfn-gateway", f"cfngw-group-id={group_id}"]
    assert stack["disable_rollback"] is True
    assert all(s.physical_id for s in driver.observe_members(project, group_id).values())


def test_removing_one_member_deletes_exactly_it(driver, project, new_group):
    group_id = new_group()
    group = members(4)
    driver.apply(project, group_id, group)
    settle(driver, project, group_id, running(group))
    before = physical_ids(driver, project, group_id)
    gone = group.pop(1)
    driver.apply(project, group_id, group)
    settle(driver, project, group_id, running(group))
    after = physical_ids(driver, project, group_id)
    assert gone.instance_id not in after
    assert after == {i: p for i, p in before.items() if i != gone.instance_id}
    # The group's propagated tags change: the servers' metadata is updated in place.
    retagged = [replace(m, tags=(("team", "web"),)) for m in group]
    driver.apply(project, group_id, retagged)
    settle(driver, project, group_id, running(group))
    assert physical_ids(driver, project, group_id) == after
    # No members at all: every server goes, the (empty) stack stays until forgotten.
    driver.apply(project, group_id, [])
    settle(driver, project, group_id, {})
    assert driver.stack(project, group_id).status == "UPDATE_COMPLETE"


def test_each_member_gets_its_own_launch_configuration(driver, project, heat, new_group):
    big = replace(LC, name="big", instance_type="m1.large", image_id="fedora", key_name="ops",
                  security_groups=("web",),
                  user_data=base64.b64encode(b"#!/bin/sh\necho big\n").decode())
    small, large = members(2), members(1, big, (("Name", "frontend"),))
    group_id = new_group()
    driver.apply(project, group_id, small + large)
    settle(driver, project, group_id, running(small + large))
    stored = stack_body(heat, group_id, "/template")["resources"]
    for member in small:
        assert stored[member.instance_id]["properties"] == {
            "name": member.instance_id, "image": "cirros", "flavor": "m1.small",
            "user_data_format": "RAW", "availability_zone": "nova"}
    assert stored[large[0].instance_id]["properties"] == {
        "name": large[0].instance_id, "image": "fedora", "flavor": "m1.large",
        "key_name": "ops", "security_groups": ["web"], "user_data_format": "RAW",
        "user_data": "#!/bin/sh\necho big\n", "availability_zone": "nova",
        "metadata": {"Name": "frontend"}}
    assert stored[large[0].instance_id]["type"] == "OS::Nova::Server"


def test_second_apply_while_an_update_runs_wins(driver, project, new_group):
    group_id = new_group()
    first = members(2)
    driver.apply(project, group_id, first)
    settle(driver, project, group_id, running(first))
    slow = first + members(3, tags=boot_for(3))
    driver.apply(project, group_id, slow)
    assert driver.stack(project, group_id).in_progress
    latest = [first[0], *members(2)]
    driver.apply(project, group_id, latest)
    settle(driver, project, group_id, running(latest))


def test_concurrent_applies_converge_on_the_last(driver, project, heat, new_group, caplog):
    """Four callers at once on a group with no stack yet, then one more: the stack ends
    as the last one says.  Heat may make two stacks of the name at once (it checks, then
    inserts): the one the driver does not take as the group's is deleted."""
    caplog.set_level(logging.INFO, logger="cfn_gateway.backends.openstack.heat_instances")
    group_id = new_group()
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def call(group: list[Member]) -> None:
        try:
            barrier.wait()
            driver.apply(project, group_id, group)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(members(2),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    created = sum("created with" in r.getMessage() for r in caplog.records)
    twice = sum("made twice" in r.getMessage() for r in caplog.records)
    assert created + twice >= 1
    last = members(3)
    driver.apply(project, group_id, last)
    settle(driver, project, group_id, running(last))
    name = heat_template.stack_name(group_id)
    wait_for("one stack of the group's name", lambda: len(
        heat.call("GET", "stacks", params={"name": name})["stacks"]) == 1)


def test_callers_deleting_one_stack_at_once_while_it_is_created_all_go_on(
        driver, project, heat, new_group):
    """What concurrent applies do to a duplicate stack (above), made certain: four callers
    delete one stack at the same instant while Heat still creates it.  Heat may refuse
    some of them (a 400 it names ``AttributeError``); no caller fails for it, and the
    stack goes."""
    group_id = new_group()
    driver.apply(project, group_id, members(2, tags=boot_for(5)))
    stack = driver.stack(project, group_id)
    assert stack.status == "CREATE_IN_PROGRESS"
    name = heat_template.stack_name(group_id)
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def discard() -> None:
        try:
            barrier.wait()
            driver._discard(heat, name, stack.stack_id)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=discard) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    wait_for("the stack deleted", lambda: driver.stack(project, group_id) is None)


def test_create_failure_is_failed_and_a_later_apply_converges(driver, project, new_group):
    group_id = new_group()
    healthy, failing = members(2), members(1, tags=FAIL_ON_CREATE)
    driver.apply(project, group_id, healthy + failing)
    settle(driver, project, group_id, {**running(healthy), failing[0].instance_id: FAILED})
    assert driver.stack(project, group_id).status == "CREATE_FAILED"
    failed = driver.observe_members(project, group_id)[failing[0].instance_id]
    assert "cfngw-testbed-fail" in failed.reason
    # The failed instance is replaced by a healthy one: the stack converges.
    replacement = healthy + members(1)
    driver.apply(project, group_id, replacement)
    settle(driver, project, group_id, running(replacement))
    assert driver.stack(project, group_id).status == "UPDATE_COMPLETE"


def test_marked_unhealthy_is_failed_until_replaced(driver, project, heat, new_group):
    group_id = new_group()
    group = members(3)
    driver.apply(project, group_id, group)
    settle(driver, project, group_id, running(group))
    sick = group[2].instance_id
    stack = driver.stack(project, group_id)
    heat.call("PATCH", f"stacks/{heat_template.stack_name(group_id)}/{stack.stack_id}/"
                       f"resources/{sick}",
              json={"mark_unhealthy": True, "resource_status_reason": "it stopped answering"})
    observed = driver.observe_members(project, group_id)
    assert observed[sick].state == FAILED
    assert observed[sick].reason == "it stopped answering"
    assert {i: s.state for i, s in observed.items() if i != sick} == running(group[:2])
    healed = [*group[:2], *members(1)]
    driver.apply(project, group_id, healed)
    settle(driver, project, group_id, running(healed))


def test_forget_deletes_the_stack(driver, project, new_group):
    group_id = new_group()
    group = members(3)
    driver.apply(project, group_id, group)
    settle(driver, project, group_id, running(group))
    driver.forget(project, group_id)
    driver.forget(project, group_id)  # while it is being deleted
    wait_for("the stack to be gone", lambda: driver.stack(project, group_id) is None)
    assert driver.observe(project, group_id) == {}
    driver.forget(project, group_id)  # gone already
    driver.forget(project, new_group())  # never was


def test_apply_after_forget_waits_for_the_deletion(driver, project, new_group):
    group_id = new_group()
    old = members(3)
    driver.apply(project, group_id, old)
    settle(driver, project, group_id, running(old))
    first_stack = driver.stack(project, group_id).stack_id
    driver.forget(project, group_id)
    new = members(2)
    driver.apply(project, group_id, new)  # returns once the old stack is gone
    settle(driver, project, group_id, running(new))
    assert driver.stack(project, group_id).stack_id != first_stack


def deleted_in_heat_log(physical_id: str) -> bool:
    """Whether heat-engine deleted the test bed's fake server ``physical_id`` (its plugin
    logs each deletion: tools/testbed/heat-plugins)."""
    log = testbed_facts.testbed_dir() / "logs" / "heat-engine.log"
    return f"cfngw-testbed: fake server deleted: {physical_id}" in log.read_text(
        errors="replace")


def test_a_kept_member_leaves_running_and_another_group_adopts_it(driver, project, heat,
                                                                   new_group):
    source, target = new_group(), new_group()
    group = members(2)
    driver.apply(project, source, group)
    settle(driver, project, source, running(group))
    server = physical_ids(driver, project, source)[group[1].instance_id]
    assert driver.kept(project, source) == {}
    # Marked to keep: Heat says so once its update is done.
    leaving = replace(group[1], keep=True)
    driver.apply(project, source, [group[0], leaving])
    wait_for("the member kept", lambda: driver.kept(project, source) == {
        leaving.instance_id: server})
    stored = stack_body(heat, source, "/template")["resources"]
    assert stored[leaving.instance_id]["deletion_policy"] == "Retain"
    # Dropped: out of the stack, its server not deleted.
    driver.apply(project, source, group[:1])
    settle(driver, project, source, running(group[:1]))
    assert not deleted_in_heat_log(server)

    # Adopted by another group: the same server, not a new one.
    adopted = replace(group[1], cloud_id=server)
    driver.apply(project, target, [adopted])
    settle(driver, project, target, running([adopted]))
    assert physical_ids(driver, project, target) == {adopted.instance_id: server}
    stored = stack_body(heat, target, "/template")["resources"]
    assert stored[adopted.instance_id]["external_id"] == server
    # Dropped without keeping it: Heat lets an adopted server go, so the driver deletes it
    # through Nova; the test bed has no Nova (nothing runs behind its fake servers), so
    # the driver leaves it at that and the stack update goes on.
    driver.apply(project, target, [])
    settle(driver, project, target, {})
    assert not deleted_in_heat_log(server)
    # Members that were not adopted are deleted as ever.
    first = physical_ids(driver, project, source)[group[0].instance_id]
    driver.apply(project, source, [])
    settle(driver, project, source, {})
    wait_for("the fake server deleted", lambda: deleted_in_heat_log(first))


def test_a_member_whose_launch_configuration_is_gone_is_left_as_it_is(driver, project, heat,
                                                                       new_group):
    """The launch configuration of running instances is deleted (the group moved to a
    new one): the next update keeps them, the same servers with the same properties."""
    group_id = new_group()
    old = members(2, replace(LC, name="old", instance_type="m1.large"))
    driver.apply(project, group_id, old)
    settle(driver, project, group_id, running(old))
    before = physical_ids(driver, project, group_id)
    stored = stack_body(heat, group_id, "/template")["resources"]
    orphans = [replace(m, launch_configuration=None) for m in old]
    new = members(1)
    driver.apply(project, group_id, orphans + new)
    settle(driver, project, group_id, running(old + new))
    after = physical_ids(driver, project, group_id)
    assert {i: after[i] for i in before} == before
    now = stack_body(heat, group_id, "/template")["resources"]
    assert all(now[m.instance_id] == stored[m.instance_id] for m in old)
