"""The texts of scaling activities: their Cause and Description, as AWS words them.

A Cause is a chain of clauses, each "At <time> ...", joined by two spaces: what changed
the desired capacity, then what the group did about it, for example

    At 2024-12-05T21:27:22Z a monitor alarm cpu-high in state ALARM triggered policy
    scale-out changing the desired capacity from 2 to 3.  At 2024-12-05T21:27:28Z an
    instance was started in response to a difference between desired and actual capacity,
    increasing the capacity from 2 to 3.

Times are UTC to the second with a ``Z``.  The forms below are AWS's, as its API
reference, CLI examples and real activity histories show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

CLAUSE_SEPARATOR = "  "


def _at(moment: datetime) -> str:
    return "At " + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _change(old: int, new: int) -> str:
    return f"changing the desired capacity from {old} to {new}."


def cause(*clauses: str) -> str:
    return CLAUSE_SEPARATOR.join(clauses)


# --- what changed the desired capacity ----------------------------------------------------

def group_created(at: datetime, desired: int) -> str:
    return f"{_at(at)} a user request created an AutoScalingGroup {_change(0, desired)}"


def desired_capacity_set(at: datetime, old: int, new: int) -> str:
    """SetDesiredCapacity."""
    return (f"{_at(at)} a user request explicitly set group desired capacity "
            f"{_change(old, new)}")


def constraints_updated(at: datetime, min_size: int, max_size: int, desired: int,
                        old: int) -> str:
    """UpdateAutoScalingGroup (the new bounds and desired capacity)."""
    return (f"{_at(at)} a user request update of AutoScalingGroup constraints to min: "
            f"{min_size}, max: {max_size}, desired: {desired} {_change(old, desired)}")


def scheduled_update(at: datetime, min_size: int, max_size: int, desired: int,
                     old: int) -> str:
    """A scheduled action ran."""
    return (f"{_at(at)} a scheduled action update of AutoScalingGroup constraints to min: "
            f"{min_size}, max: {max_size}, desired: {desired} {_change(old, desired)}")


def policy_executed(at: datetime, policy: str, old: int, new: int) -> str:
    """ExecutePolicy."""
    return f"{_at(at)} a user request executed policy {policy} {_change(old, new)}"


def alarm_triggered(at: datetime, alarm: str, policy: str, old: int, new: int) -> str:
    """An alarm action ran a scaling policy."""
    return (f"{_at(at)} a monitor alarm {alarm} in state ALARM triggered policy {policy} "
            f"{_change(old, new)}")


# --- what the group did ---------------------------------------------------------------------

def instance_started(at: datetime, old: int, new: int) -> str:
    return (f"{_at(at)} an instance was started in response to a difference between desired "
            f"and actual capacity, increasing the capacity from {old} to {new}.")


def instance_taken_out(at: datetime, old: int, new: int) -> str:
    return (f"{_at(at)} an instance was taken out of service in response to a difference "
            f"between desired and actual capacity, shrinking the capacity from {old} to "
            f"{new}.")


def instance_unhealthy(at: datetime) -> str:
    """The cloud reported the instance failed or gone (EC2 health check)."""
    return (f"{_at(at)} an instance was taken out of service in response to an EC2 health "
            "check indicating it has been terminated or stopped.")


def instance_user_unhealthy(at: datetime) -> str:
    """SetInstanceHealth marked the instance Unhealthy."""
    return f"{_at(at)} an instance was taken out of service in response to a user health-check."


def group_deleting(at: datetime, old: int) -> str:
    """DeleteAutoScalingGroup with ForceDelete (the gateway's wording: AWS's is not
    documented)."""
    return (f"{_at(at)} a user request deleted the AutoScalingGroup {_change(old, 0)}")


def instance_selected(at: datetime, instance_id: str) -> str:
    return f"{_at(at)} instance {instance_id} was selected for termination."


def _user_request(at: datetime, instance_id: str, what: str,
                  shrinking: Sequence[int] | None) -> str:
    text = f"{_at(at)} instance {instance_id} was {what} in response to a user request"
    if shrinking is None:
        return text + "."
    old, new = shrinking
    return text + f", shrinking the capacity from {old} to {new}."


def instance_terminated_by_user(at: datetime, instance_id: str,
                                shrinking: Sequence[int] | None = None) -> str:
    """TerminateInstanceInAutoScalingGroup (``shrinking``: (old, new) when it decrements
    the desired capacity)."""
    return _user_request(at, instance_id, "taken out of service", shrinking)


def instance_moved_to_standby(at: datetime, instance_id: str,
                              shrinking: Sequence[int] | None = None) -> str:
    return _user_request(at, instance_id, "moved to standby", shrinking)


def instance_moved_out_of_standby(at: datetime, instance_id: str, old: int, new: int) -> str:
    return (f"{_at(at)} instance {instance_id} was moved out of standby in response to a "
            f"user request, increasing the capacity from {old} to {new}.")


def instance_detached(at: datetime, instance_id: str,
                      shrinking: Sequence[int] | None = None) -> str:
    return _user_request(at, instance_id, "detached", shrinking)


def instance_attached(at: datetime, instance_id: str, old: int, new: int) -> str:
    """AttachInstances (the gateway's wording, after the standby clauses: AWS's is not
    documented)."""
    return (f"{_at(at)} instance {instance_id} was attached in response to a user request, "
            f"increasing the capacity from {old} to {new}.")


# --- descriptions ---------------------------------------------------------------------------

def launching(instance_id: str) -> str:
    return f"Launching a new EC2 instance: {instance_id}"


def terminating(instance_id: str) -> str:
    return f"Terminating EC2 instance: {instance_id}"


def moving_to_standby(instance_id: str) -> str:
    return f"Moving EC2 instance to Standby: {instance_id}"


def moving_out_of_standby(instance_id: str) -> str:
    return f"Moving EC2 instance out of Standby: {instance_id}"


def detaching(instance_id: str) -> str:
    return f"Detaching EC2 instance: {instance_id}"


def attaching(instance_id: str) -> str:
    return f"Attaching an existing EC2 instance: {instance_id}"
