"""``AodhAlarmStore.named_by_tags``: the project's live CloudWatch alarms with every tag
asked for, from one listing (an API stand-in answers what Aodh answers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.backends.openstack.aodh_alarms import AodhAlarmStore

from .test_aodh_mapping import PROJECT, T0, as_aodh, metric_alarm

STACK = [("heat-stack-user-project", "sup-1"), ("heat-logical-id", "Web")]


class ListingOnly:
    """Answers ``GET v2/alarms`` with the bodies given, and counts the calls."""

    def __init__(self, bodies: list[dict[str, Any]]) -> None:
        self.bodies = bodies
        self.calls: list[tuple[str, str]] = []

    def call(self, method: str, path: str, **_: Any) -> Any:
        self.calls.append((method, path))
        assert (method, path) == ("GET", "v2/alarms")
        return self.bodies


def body(name: str, tags, deleted: bool = False, project: str = PROJECT) -> dict[str, Any]:
    alarm = metric_alarm(name=name)
    rule = mapping.rule_body(alarm, tags, None, deleted_at=T0 if deleted else None)
    return {**as_aodh(mapping.alarm_body(alarm, rule)), "project_id": project}


@pytest.fixture
def store_with():
    def make(bodies: list[dict[str, Any]]) -> tuple[AodhAlarmStore, ListingOnly]:
        api = ListingOnly(bodies)
        store = AodhAlarmStore(lambda project: None, {}, lambda: b"secret",
                               timedelta(days=3650), "http://127.0.0.1:9/actions",
                               clock=lambda: T0)
        store._api = lambda project_id: api  # type: ignore[method-assign]
        return store, api
    return make


def test_only_live_alarms_of_the_project_with_every_tag(store_with):
    store, api = store_with([
        body("s-Web-2", [*STACK, ("heat-stack-id", "s")]),
        body("s-Web-1", STACK),
        body("s-Db-1", [STACK[0], ("heat-logical-id", "Db")]),
        body("deleted", STACK, deleted=True),
        body("elsewhere", STACK, project="another-project"),
        {**body("aodh-own", STACK), "type": "gnocchi_resources_threshold"},
    ])
    assert store.named_by_tags(PROJECT, STACK) == ["s-Web-1", "s-Web-2"]
    assert store.named_by_tags(PROJECT, [("heat-logical-id", "Db")]) == ["s-Db-1"]
    assert store.named_by_tags(PROJECT, [("heat-logical-id", "Nope")]) == []
    assert api.calls == [("GET", "v2/alarms")] * 3
    with pytest.raises(ValueError):
        store.named_by_tags(PROJECT, [])
