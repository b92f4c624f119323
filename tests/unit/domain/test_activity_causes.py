"""Activity texts against real AWS activity histories and API reference examples."""

from __future__ import annotations

from datetime import UTC, datetime

from cfn_gateway.domain import activity_causes as causes


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_creation_then_launch():
    assert causes.cause(
        causes.group_created(t("2013-08-19T20:53:25Z"), 1),
        causes.instance_started(t("2013-08-19T20:53:29Z"), 0, 1)) == (
        "At 2013-08-19T20:53:25Z a user request created an AutoScalingGroup changing the "
        "desired capacity from 0 to 1.  At 2013-08-19T20:53:29Z an instance was started in "
        "response to a difference between desired and actual capacity, increasing the "
        "capacity from 0 to 1.")


def test_set_desired_capacity():
    assert causes.desired_capacity_set(t("2015-11-22T15:45:16Z"), 1, 2) == (
        "At 2015-11-22T15:45:16Z a user request explicitly set group desired capacity "
        "changing the desired capacity from 1 to 2.")


def test_alarm_then_termination_then_selection():
    assert causes.cause(
        causes.alarm_triggered(t("2022-12-23T19:12:00Z"), "low", "cpu-tracker", 7, 6),
        causes.instance_taken_out(t("2022-12-23T19:12:09Z"), 7, 6),
        causes.instance_selected(t("2022-12-23T19:12:10Z"), "i-0d1835f80668172d7")) == (
        "At 2022-12-23T19:12:00Z a monitor alarm low in state ALARM triggered policy "
        "cpu-tracker changing the desired capacity from 7 to 6.  At 2022-12-23T19:12:09Z an "
        "instance was taken out of service in response to a difference between desired and "
        "actual capacity, shrinking the capacity from 7 to 6.  At 2022-12-23T19:12:10Z "
        "instance i-0d1835f80668172d7 was selected for termination.")


def test_constraints_update():
    assert causes.constraints_updated(t("2018-05-24T17:44:05Z"), 0, 2, 0, 1) == (
        "At 2018-05-24T17:44:05Z a user request update of AutoScalingGroup constraints to "
        "min: 0, max: 2, desired: 0 changing the desired capacity from 1 to 0.")


def test_policy_executed_by_a_user():
    assert causes.policy_executed(t("2020-01-01T00:00:00Z"), "out", 0, 1) == (
        "At 2020-01-01T00:00:00Z a user request executed policy out changing the desired "
        "capacity from 0 to 1.")


def test_user_requests_on_one_instance():
    at = t("2015-04-12T15:10:23Z")
    assert causes.instance_moved_to_standby(at, "i-93633f9b", (2, 1)) == (
        "At 2015-04-12T15:10:23Z instance i-93633f9b was moved to standby in response to a "
        "user request, shrinking the capacity from 2 to 1.")
    assert causes.instance_terminated_by_user(at, "i-1", (4, 3)) == (
        "At 2015-04-12T15:10:23Z instance i-1 was taken out of service in response to a "
        "user request, shrinking the capacity from 4 to 3.")
    assert causes.instance_terminated_by_user(at, "i-1") == (
        "At 2015-04-12T15:10:23Z instance i-1 was taken out of service in response to a "
        "user request.")
    assert causes.instance_detached(at, "i-5f2e8a0d", (4, 3)).endswith(
        "was detached in response to a user request, shrinking the capacity from 4 to 3.")


def test_descriptions_and_time_zones():
    assert causes.launching("i-1") == "Launching a new EC2 instance: i-1"
    assert causes.terminating("i-1") == "Terminating EC2 instance: i-1"
    assert causes.moving_to_standby("i-1") == "Moving EC2 instance to Standby: i-1"
    assert causes.detaching("i-1") == "Detaching EC2 instance: i-1"
    local = datetime.fromisoformat("2020-01-01T02:00:00.999+02:00")
    assert causes.desired_capacity_set(local, 0, 1).startswith("At 2020-01-01T00:00:00Z ")
