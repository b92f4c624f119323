"""The scaling step: what the cloud did, unhealthy replacement, capacity against desired."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import groups as g
from cfn_gateway.domain import instance_requests as ir
from cfn_gateway.domain import lifecycle_hooks as hooks
from cfn_gateway.domain import scaling_plan as sp

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LAUNCH = sp.LaunchSpec("lc", "m1.small", NOW - timedelta(days=1))
GROUP = g.Group(name="web", arn="arn:aws:autoscaling:r:p:autoScalingGroup:uuid-1:"
                "autoScalingGroupName/web", launch_configuration_name="lc", min_size=0,
                max_size=10, desired_capacity=0, created_at=NOW - timedelta(hours=1))


def instance(iid: str, state: str = g.IN_SERVICE, zone: str = "nova", **kw) -> g.Instance:
    return g.Instance(iid, "web", zone, state, "lc", "m1.small",
                      kw.pop("launched_at", NOW - timedelta(minutes=30)), **kw)


def step(group: g.Group, instances=(), observed=None, activities=None, zones=("nova",),
         cause=None, kept=None) -> sp.Step:
    if observed is None:
        observed = {i.instance_id: sp.RUNNING for i in instances
                    if i.lifecycle_state not in (g.TERMINATING,)}
    return sp.plan_step(group, list(instances), activities or {}, observed, LAUNCH,
                        {"lc": LAUNCH.created_at}, zones, NOW, random.Random(7), cause,
                        kept)


def test_launches_spread_over_zones_with_one_activity_each():
    result = step(replace(GROUP, desired_capacity=3), zones=("a", "b"),
                  cause="At 2026-11-29T12:00:00Z a user request did it.")
    new = result.changes.put_instances
    assert [i.lifecycle_state for i in new] == [g.PENDING] * 3
    assert sorted(i.availability_zone for i in new) == ["a", "a", "b"]
    assert len(result.changes.activities) == 3
    activity = result.changes.activities[0]
    assert activity.status_code == g.ACTIVITY_IN_PROGRESS
    assert activity.cause == (
        "At 2026-11-29T12:00:00Z a user request did it.  At 2026-11-29T12:00:00Z an instance "
        "was started in response to a difference between desired and actual capacity, "
        "increasing the capacity from 0 to 3.")
    assert {i.activity_id for i in new} == {a.activity_id for a in result.changes.activities}
    assert result.membership_changed and not result.changes.settled


def test_running_launch_goes_in_service_and_ends_its_activity():
    first = step(replace(GROUP, desired_capacity=1))
    (launched,) = first.changes.put_instances
    activities = {a.activity_id: a for a in first.changes.activities}
    second = sp.plan_step(replace(GROUP, desired_capacity=1), [launched], activities,
                          {launched.instance_id: sp.RUNNING}, LAUNCH, {}, ("nova",), NOW,
                          random.Random(1))
    (now_in_service,) = second.changes.put_instances
    assert now_in_service.lifecycle_state == g.IN_SERVICE
    (ended,) = second.changes.activities
    assert (ended.status_code, ended.progress, ended.end_time) == (
        g.ACTIVITY_SUCCESSFUL, 100, NOW)
    assert second.changes.settled and second.changes.group.scaling_finished_at == NOW
    assert not second.membership_changed


def test_booting_launch_waits():
    pending = instance("i-1", g.PENDING)
    result = step(replace(GROUP, desired_capacity=1), [pending],
                  observed={"i-1": sp.BOOTING})
    assert not result.changes.put_instances and not result.changes.settled


def test_failed_launch_fails_its_activity_and_backs_off():
    activity = g.Activity("a-1", "web", "Launching", "c", NOW, g.ACTIVITY_IN_PROGRESS)
    pending = instance("i-1", g.PENDING, activity_id="a-1")
    group = replace(GROUP, desired_capacity=1)
    result = step(group, [pending], observed={"i-1": sp.FAILED}, activities={"a-1": activity})
    assert result.changes.removed_instances == ("i-1",)
    assert result.changes.put_instances == ()  # no relaunch while backing off
    (failed,) = result.changes.activities
    assert failed.status_code == g.ACTIVITY_FAILED
    assert result.changes.group.launch_failures == 1
    assert result.changes.group.launch_retry_at == NOW + timedelta(seconds=10)
    # The back-off doubles, up to five minutes.
    later = replace(result.changes.group, launch_failures=6)
    again = step(later, [replace(pending, activity_id=None)], observed={"i-1": sp.FAILED})
    assert again.changes.group.launch_retry_at == NOW + timedelta(minutes=5)


def test_terminating_instance_gone_is_terminated():
    activity = g.Activity("a-1", "web", "Terminating", "c", NOW, g.ACTIVITY_IN_PROGRESS)
    going = instance("i-1", g.TERMINATING, activity_id="a-1")
    result = step(GROUP, [going], observed={}, activities={"a-1": activity})
    assert result.changes.removed_instances == ("i-1",)
    assert result.changes.activities[0].status_code == g.ACTIVITY_SUCCESSFUL
    assert result.changes.settled


def test_vanished_instance_is_replaced():
    group = replace(GROUP, desired_capacity=1)
    result = step(group, [instance("i-1")], observed={})
    states = {i.instance_id: (i.lifecycle_state, i.health_status)
              for i in result.changes.put_instances}
    assert states.pop("i-1") == (g.TERMINATING, g.UNHEALTHY)
    assert [s for s, _ in states.values()] == [g.PENDING]
    causes = sorted(a.cause for a in result.changes.activities)
    assert any("EC2 health check indicating it has been terminated or stopped" in c
               for c in causes)


def test_replace_unhealthy_suspended_keeps_the_instance():
    group = replace(GROUP, desired_capacity=1, suspended_processes=("ReplaceUnhealthy",))
    result = step(group, [instance("i-1")], observed={"i-1": sp.FAILED})
    (marked,) = result.changes.put_instances
    assert (marked.lifecycle_state, marked.health_status) == (g.IN_SERVICE, g.UNHEALTHY)


@pytest.mark.parametrize("process", ["Launch", "Terminate"])
def test_suspended_processes_hold_capacity(process):
    desired = 3 if process == "Launch" else 0
    group = replace(GROUP, desired_capacity=desired, suspended_processes=(process,))
    result = step(group, [instance("i-1")])
    assert not result.changes.activities and result.changes.settled


def test_scale_in_keeps_protected_and_balances_zones():
    members = [instance("i-a1", zone="a"), instance("i-a2", zone="a"),
               instance("i-b1", zone="b", protected_from_scale_in=True)]
    result = step(replace(GROUP, desired_capacity=1), members, zones=("a", "b"))
    gone = {i.instance_id for i in result.changes.put_instances
            if i.lifecycle_state == g.TERMINATING}
    assert gone == {"i-a1", "i-a2"}
    assert {i.instance_id for i in result.members} == {"i-b1"}
    cause = result.changes.activities[0].cause
    assert "shrinking the capacity from 3 to 1." in cause
    assert "was selected for termination." in cause


def test_deletion_terminates_everything_even_protected():
    members = [instance("i-1", protected_from_scale_in=True), instance("i-2", g.PENDING)]
    group = replace(GROUP, status=g.STATUS_DELETING)
    result = step(group, members)
    assert {i.lifecycle_state for i in result.changes.put_instances} == {g.TERMINATING}
    assert result.members == () and not result.changes.settled


def test_terminate_instance_request():
    members = [instance("i-1"), instance("i-2")]
    group = replace(GROUP, min_size=1, desired_capacity=2)
    changes = ir.terminate_instance(group, members, "i-2", True, NOW)
    assert changes.group.desired_capacity == 1
    (activity,) = changes.activities
    assert activity.cause == ("At 2026-11-29T12:00:00Z instance i-2 was taken out of service "
                              "in response to a user request, shrinking the capacity from "
                              "2 to 1.")
    with pytest.raises(ir.RequestRefused, match="desiredSize equals minSize"):
        ir.terminate_instance(replace(group, desired_capacity=1), members, "i-2", True, NOW)
    with pytest.raises(ir.RequestRefused, match="No managed instance found"):
        ir.terminate_instance(group, members, "i-9", False, NOW)


@given(desired=st.integers(0, 12), have=st.integers(0, 12), zones=st.integers(1, 3))
def test_a_step_always_reaches_desired_capacity(desired, have, zones):
    names = tuple(f"z{i}" for i in range(zones))
    members = [instance(f"i-{n}", zone=names[n % zones]) for n in range(have)]
    result = step(replace(GROUP, desired_capacity=desired), members, zones=names)
    assert g.actual_capacity(result.instances) == desired
    counts = [sum(1 for i in result.instances if i.availability_zone == z
                  and i.lifecycle_state in g.CAPACITY_STATES) for z in names]
    assert max(counts) - min(counts) <= 1  # zones stay balanced


HOOKED = replace(GROUP, desired_capacity=1, lifecycle_hooks=(
    hooks.LifecycleHook("setup", hooks.LAUNCHING, 60, hooks.ABANDON),
    hooks.LifecycleHook("drain", hooks.TERMINATING, 60, hooks.CONTINUE)))


def test_launching_hook_holds_until_its_result():
    pending = instance("i-1", g.PENDING)
    waiting = step(HOOKED, [pending], observed={"i-1": sp.RUNNING})
    (held,) = waiting.changes.put_instances
    assert held.lifecycle_state == g.PENDING_WAIT
    (wait,) = held.waits
    assert (wait.hook_name, wait.deadline) == ("setup", NOW + timedelta(seconds=60))
    assert not waiting.changes.settled
    # Still open: nothing moves.
    assert step(HOOKED, [held]).changes.put_instances == ()
    done = replace(held, waits=(replace(wait, result=hooks.CONTINUE),))
    (in_service,) = step(HOOKED, [done]).changes.put_instances
    assert in_service.lifecycle_state == g.IN_SERVICE and in_service.waits == ()


def test_launch_abandoned_by_timeout_is_terminated_and_relaunched():
    pending = instance("i-1", g.PENDING)
    (held,) = step(HOOKED, [pending], observed={"i-1": sp.RUNNING}).changes.put_instances
    late = sp.plan_step(HOOKED, [held], {}, {"i-1": sp.RUNNING}, LAUNCH, {}, ("nova",),
                        NOW + timedelta(seconds=61), random.Random(1))
    (gone,) = late.changes.put_instances
    assert gone.lifecycle_state == g.TERMINATING
    assert late.changes.group.launch_retry_at is not None  # back-off before a relaunch


def test_terminating_hook_holds_the_instance_in_the_cloud():
    result = step(replace(HOOKED, desired_capacity=0), [instance("i-1")])
    (held,) = result.changes.put_instances
    assert held.lifecycle_state == g.TERMINATING_WAIT
    assert [m.instance_id for m in result.members] == ["i-1"]  # still running
    assert result.changes.activities[0].status_code == g.ACTIVITY_MID_LIFECYCLE_ACTION
    # Its default result (CONTINUE) at the deadline: out of the cloud.
    late = sp.plan_step(replace(HOOKED, desired_capacity=0), [held], {}, {"i-1": sp.RUNNING},
                        LAUNCH, {}, ("nova",), NOW + timedelta(minutes=2), random.Random(1))
    assert late.changes.put_instances[0].lifecycle_state == g.TERMINATING
    assert late.members == ()


def test_heartbeats_stop_at_the_global_timeout():
    hook = hooks.LifecycleHook("h", hooks.LAUNCHING, 30)
    (wait,) = hooks.start_waits([hook], hooks.LAUNCHING, NOW)
    later = hooks.heartbeat(wait, [hook], NOW + timedelta(seconds=2990))
    assert later.deadline == NOW + timedelta(seconds=3000)  # 100 x 30 s
    assert hooks.outcome([later], NOW + timedelta(seconds=3000)) == hooks.ABANDON


def test_standby_round_trip():
    members = [instance("i-1"), instance("i-2")]
    group = replace(GROUP, min_size=1, desired_capacity=2)
    entered = ir.enter_standby(group, members, ["i-2"], True, NOW)
    assert entered.group.desired_capacity == 1
    (resting,) = entered.put_instances
    assert resting.lifecycle_state == g.STANDBY
    assert entered.activities[0].status_code == g.ACTIVITY_SUCCESSFUL
    with pytest.raises(ir.RequestRefused, match="min-size=1"):
        ir.enter_standby(entered.group, [members[0], resting], ["i-1"], True, NOW)
    with pytest.raises(ir.RequestRefused, match="not in InService"):
        ir.enter_standby(group, [members[0], resting], ["i-2"], False, NOW)
    back = ir.exit_standby(entered.group, [members[0], resting], ["i-2"], NOW)
    assert back.group.desired_capacity == 2
    assert back.put_instances[0].lifecycle_state == g.PENDING
    # The next step sees it running and puts it in service.
    result = step(back.group, [members[0], back.put_instances[0]],
                  activities={a.activity_id: a for a in back.activities})
    assert {i.lifecycle_state for i in result.instances} == {g.IN_SERVICE}


def test_detach_keeps_the_instance_running_until_the_cloud_lets_it_go():
    members = [instance("i-1"), instance("i-2"), instance("i-3", g.STANDBY)]
    group = replace(GROUP, min_size=1, desired_capacity=2)
    change = ir.detach_instances(group, members, ["i-2", "i-3", "i-2"], True, NOW)
    assert change.group.desired_capacity == 1  # the standby one did not count
    assert [(i.instance_id, i.lifecycle_state) for i in change.put_instances] == [
        ("i-2", g.DETACHING), ("i-3", g.DETACHING)]
    assert [a.description for a in change.activities] == [
        "Detaching EC2 instance: i-2", "Detaching EC2 instance: i-3"]
    assert change.activities[0].cause == (
        "At 2026-11-29T12:00:00Z instance i-2 was detached in response to a user request, "
        "shrinking the capacity from 2 to 1.")
    assert change.activities[1].cause.endswith("was detached in response to a user request.")
    instances = [members[0], *change.put_instances]
    opened = {a.activity_id: a for a in change.activities}
    # Until the driver keeps them they stay members, to be kept.
    waiting = step(change.group, instances, activities=opened)
    assert sp.membership(waiting.members) == {("i-1", False), ("i-2", True), ("i-3", True)}
    assert not waiting.changes.settled
    assert not waiting.changes.detached
    # Kept: they leave the group, as detached instances with the cloud's ids.
    done = step(change.group, instances, activities=opened,
                kept={"i-2": "srv-2", "i-3": "srv-3"})
    assert [m.instance_id for m in done.members] == ["i-1"]
    assert sorted(done.changes.removed_instances) == ["i-2", "i-3"]
    assert [(d.instance_id, d.cloud_id, d.detached_from) for d in done.changes.detached] == [
        ("i-2", "srv-2", "web"), ("i-3", "srv-3", "web")]
    assert {a.status_code for a in done.changes.activities} == {g.ACTIVITY_SUCCESSFUL}
    assert done.changes.settled


def test_detach_without_decrement_launches_a_replacement():
    members = [instance("i-1"), instance("i-2")]
    change = ir.detach_instances(replace(GROUP, desired_capacity=2), members, ["i-1"], False,
                                 NOW)
    assert change.group.desired_capacity == 2
    result = step(change.group, [change.put_instances[0], members[1]])
    launched = [i for i in result.instances if i.lifecycle_state == g.PENDING]
    assert len(launched) == 1 and launched[0].instance_id not in ("i-1", "i-2")


def test_detach_refusals():
    members = [instance("i-1"), instance("i-2", g.PENDING)]
    group = replace(GROUP, min_size=1, desired_capacity=1)
    with pytest.raises(ir.RequestRefused, match="not part of Auto Scaling group web"):
        ir.detach_instances(group, members, ["i-9"], False, NOW)
    with pytest.raises(ir.RequestRefused, match=r"The instance i-2 is not in InService or "
                                                 r"Standby\."):
        ir.detach_instances(group, members, ["i-2"], False, NOW)
    with pytest.raises(ir.RequestRefused, match=r"desired-size=1\. To detach 1 instance, "):
        ir.detach_instances(group, members, ["i-1"], True, NOW)


def test_a_detaching_instance_is_never_chosen_for_termination():
    detaching = instance("i-1", g.DETACHING, launched_at=NOW - timedelta(days=9))
    result = step(replace(GROUP, desired_capacity=1, termination_policies=("OldestInstance",)),
                  [detaching, instance("i-2"), instance("i-3")])
    (out,) = [i for i in result.instances if i.lifecycle_state == g.TERMINATING]
    assert out.instance_id in ("i-2", "i-3")
    with pytest.raises(ir.RequestRefused, match="No managed instance"):
        ir.terminate_instance(GROUP, [detaching], "i-1", False, NOW)


def detached(iid: str, zone: str = "nova") -> g.DetachedInstance:
    return g.DetachedInstance(iid, zone, "old-lc", "m1.large", NOW - timedelta(days=2),
                              "srv-" + iid, "other")


def test_attach_adopts_running_instances():
    group = replace(GROUP, max_size=3, desired_capacity=1,
                    new_instances_protected_from_scale_in=True)
    change = ir.attach_instances(group, [instance("i-1")], [detached("i-7"), detached("i-8")],
                                 ("nova",), NOW)
    assert change.group.desired_capacity == 3
    assert change.attached == ("i-7", "i-8")
    first = change.put_instances[0]
    assert (first.lifecycle_state, first.cloud_id, first.launch_configuration_name,
            first.instance_type, first.launched_at, first.protected_from_scale_in) == (
        g.PENDING, "srv-i-7", "old-lc", "m1.large", NOW - timedelta(days=2), True)
    assert [a.description for a in change.activities] == [
        "Attaching an existing EC2 instance: i-7", "Attaching an existing EC2 instance: i-8"]
    assert change.activities[1].cause.endswith(
        "instance i-8 was attached in response to a user request, increasing the capacity "
        "from 2 to 3.")
    instances = [instance("i-1"), *change.put_instances]
    result = step(change.group, instances,
                  activities={a.activity_id: a for a in change.activities})
    assert {i.lifecycle_state for i in result.instances} == {g.IN_SERVICE}
    assert {a.status_code for a in result.changes.activities} == {g.ACTIVITY_SUCCESSFUL}
    assert not [i for i in result.instances if i.instance_id not in ("i-1", "i-7", "i-8")]


def test_attach_refusals():
    group = replace(GROUP, max_size=2, desired_capacity=2)
    with pytest.raises(ir.RequestRefused, match=r"max-size=2, and desired-size=2\. To attach "
                                                 r"1 instance, please update"):
        ir.attach_instances(group, [], [detached("i-7")], ("nova",), NOW)
    with pytest.raises(ir.RequestRefused, match="Availability Zone elsewhere"):
        ir.attach_instances(replace(group, max_size=3), [], [detached("i-7", "elsewhere")],
                            ("nova",), NOW)


def test_terminating_a_launching_instance_cancels_its_launch():
    launch = g.Activity("a-1", "web", "Launching a new EC2 instance: i-1", "c", NOW,
                        g.ACTIVITY_IN_PROGRESS)
    pending = instance("i-1", g.PENDING, activity_id="a-1")
    change = ir.terminate_instance(replace(GROUP, min_size=0, desired_capacity=1), [pending],
                                   "i-1", True, NOW, {"a-1": launch})
    assert [(a.activity_id == "a-1", a.status_code) for a in change.activities] == [
        (True, g.ACTIVITY_CANCELLED), (False, g.ACTIVITY_IN_PROGRESS)]
    assert change.activities[-1].description == "Terminating EC2 instance: i-1"
    assert change.put_instances[0].activity_id == change.activities[-1].activity_id


def test_refused_launches_fail_and_back_off():
    launch = g.Activity("a-1", "web", "Launching a new EC2 instance: i-2", "c", NOW,
                        g.ACTIVITY_IN_PROGRESS)
    running, refused = instance("i-1"), instance("i-2", g.PENDING, activity_id="a-1")
    booting = instance("i-3", g.PENDING)
    group = replace(GROUP, desired_capacity=3)
    change = sp.refuse_launches(group, [running, refused, booting], {"a-1": launch},
                                {"i-1": sp.RUNNING, "i-3": sp.BOOTING},
                                "Error validating value 'x': No image matching x", NOW)
    assert change.removed_instances == ("i-2",)
    (failed,) = change.activities
    assert (failed.status_code, failed.status_message) == (
        g.ACTIVITY_FAILED,
        "Error validating value 'x': No image matching x. Launching EC2 instance failed.")
    assert change.group.launch_failures == 1
    assert change.group.launch_retry_at == NOW + sp.FIRST_RETRY
    assert sp.refuse_launches(group, [running, booting], {}, {"i-1": sp.RUNNING,
                                                              "i-3": sp.BOOTING},
                              "no", NOW) is None
