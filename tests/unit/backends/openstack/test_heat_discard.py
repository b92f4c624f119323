"""HeatInstances deleting stacks that are not the group's, against a fake Heat API.

A refused deletion of a duplicate is left to the next apply (the caller's request does
not fail for it); a vanished stack is no error; Heat being unavailable still is.  The real
race (several callers deleting one duplicate while Heat creates it) runs on the test bed:
tests/openstack/test_heat_instances.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cfn_gateway import errors
from cfn_gateway.backends.openstack.heat_api import HeatNotFound, HeatRefused
from cfn_gateway.backends.openstack.heat_instances import HeatInstances
from cfn_gateway.backends.openstack.heat_template import StackState

NAME = "cfngw-asg-g"
GROUPS = StackState("s-group", "CREATE_COMPLETE", created="2026-11-29T12:00:00")


class FakeHeat:
    """Answers every DELETE with ``answer`` (raised when an exception), noting the path."""

    def __init__(self, answer: BaseException | None) -> None:
        self.answer = answer
        self.deleted: list[str] = []

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        assert method == "DELETE"
        self.deleted.append(path)
        if self.answer is not None:
            if isinstance(self.answer, HeatRefused | HeatNotFound):
                assert type(self.answer) in kwargs["handled"]
            raise self.answer
        return None


def duplicates() -> list[StackState]:
    return [GROUPS, StackState("s-dup", "CREATE_IN_PROGRESS"),
            StackState("s-gone", "DELETE_IN_PROGRESS"),
            StackState("s-failed", "DELETE_FAILED")]


@pytest.mark.parametrize("answer", [
    None, HeatNotFound(404, "EntityNotFound", "no such stack"),
    HeatRefused(400, "AttributeError", "The server could not comply with the request")])
def test_every_other_live_stack_is_deleted_and_a_refusal_does_not_fail_the_apply(
        answer, caplog):
    heat = FakeHeat(answer)
    HeatInstances()._delete_duplicates(heat, NAME, duplicates(), GROUPS)
    assert heat.deleted == [f"stacks/{NAME}/s-dup", f"stacks/{NAME}/s-failed"]
    refused = [r.getMessage() for r in caplog.records
               if r.levelno == logging.WARNING and "refused" in r.getMessage()]
    assert len(refused) == (2 if isinstance(answer, HeatRefused) else 0)


def test_heat_unavailable_while_deleting_a_duplicate_still_fails_the_apply():
    heat = FakeHeat(errors.ServiceUnavailable("The orchestration service is unavailable."))
    with pytest.raises(errors.ServiceUnavailable):
        HeatInstances()._delete_duplicates(heat, NAME, duplicates(), GROUPS)
