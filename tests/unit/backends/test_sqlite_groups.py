"""SQLiteGroupStore on a real file: groups with compare-and-set, instances, activities."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.groups import GroupExists, GroupLimitExceeded, StaleGroup
from cfn_gateway.backends.sqlite.groups import SQLiteGroupStore
from cfn_gateway.domain import groups as g
from cfn_gateway.domain.activity_filters import ActivityFilter

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def group(name: str, lc: str = "lc", desired: int = 1) -> g.Group:
    return g.Group(name=name, arn=f"arn:{name}", launch_configuration_name=lc, min_size=0,
                   max_size=5, desired_capacity=desired, created_at=NOW,
                   availability_zones=("nova",))


@pytest.fixture
def store(tmp_path) -> Iterator[SQLiteGroupStore]:
    opened = SQLiteGroupStore(str(tmp_path / "store.sqlite3"))
    yield opened
    opened.close()


def test_create_get_update_delete(store):
    created = store.create("p1", group("web"), 10)
    assert created.version == 1 and store.get("p1", "web") == created
    assert store.get("p2", "web") is None
    with pytest.raises(GroupExists):
        store.create("p1", group("web"), 10)
    updated = store.update("p1", replace(created.group, desired_capacity=3), 1)
    assert updated.version == 2 and store.get("p1", "web").group.desired_capacity == 3
    with pytest.raises(StaleGroup):
        store.update("p1", replace(created.group, desired_capacity=4), 1)
    assert store.uses_launch_configuration("p1", "lc")
    assert not store.uses_launch_configuration("p1", "other")
    assert not store.uses_launch_configuration("p2", "lc")
    assert store.delete("p1", "web") and not store.delete("p1", "web")
    with pytest.raises(StaleGroup):
        store.update("p1", created.group, 2)


def test_quota_and_pages(store):
    for i in range(5):
        store.create("p1", group(f"g{i}"), 5)
    with pytest.raises(GroupLimitExceeded):
        store.create("p1", group("g5"), 5)
    assert store.count("p1") == 5 and store.count("p2") == 0
    seen, token = [], None
    while True:
        page = store.describe("p1", [], 2, token)
        seen += [s.group.name for s in page.items]
        token = page.next_token
        if token is None:
            break
    assert seen == [f"g{i}" for i in range(5)]
    assert [s.group.name for s in store.describe("p1", ["g3", "g1", "x"], 10).items] == [
        "g1", "g3"]
    token = store.describe("p1", [], 2).next_token
    for bad in ("junk", token):
        with pytest.raises(InvalidNextToken):
            store.describe("p2" if bad == token else "p1", [], 2, bad)


def test_instances(store):
    store.create("p1", group("web"), 10)
    first = g.Instance("i-1", "web", "nova", g.PENDING, "lc", "m1.small", NOW)
    store.put_instance("p1", first)
    store.put_instance("p1", g.Instance("i-2", "web", "nova", g.IN_SERVICE, None, None, NOW,
                                        protected_from_scale_in=True))
    store.put_instance("p1", replace(first, lifecycle_state=g.IN_SERVICE))
    assert [(i.instance_id, i.lifecycle_state, i.protected_from_scale_in)
            for i in store.instances("p1", "web")] == [
        ("i-1", g.IN_SERVICE, False), ("i-2", g.IN_SERVICE, True)]
    assert store.instances("p2", "web") == []
    assert store.remove_instance("p1", "i-2") and not store.remove_instance("p1", "i-2")
    store.delete("p1", "web")
    assert store.instances("p1", "web") == []


def test_activities_newest_first_and_outliving_the_group(store):
    store.create("p1", group("web"), 10)
    for i in range(5):
        store.put_activity("p1", g.Activity(f"a{i}", "web" if i % 2 == 0 else "db",
                                            f"d{i}", f"c{i}", NOW + timedelta(minutes=i),
                                            g.ACTIVITY_IN_PROGRESS))
    finished = g.Activity("a0", "web", "d0", "c0", NOW, g.ACTIVITY_SUCCESSFUL, 100,
                          NOW + timedelta(seconds=30))
    store.put_activity("p1", finished)
    store.delete("p1", "web")
    seen, token = [], None
    while True:
        page = store.activities("p1", [], 2, token)
        seen += page.items
        token = page.next_token
        if token is None:
            break
    assert [a.activity_id for a in seen] == ["a4", "a3", "a2", "a1", "a0"]
    assert seen[-1] == finished
    assert [a.activity_id for a in store.activities("p1", ["web"], 10).items] == [
        "a4", "a2", "a0"]
    assert store.activities("p2", [], 10).items == []
    # Filtered, and pages bound to their filter.
    only = ActivityFilter(started_from=NOW + timedelta(minutes=1),
                          statuses=(g.ACTIVITY_IN_PROGRESS,))
    first = store.activities("p1", [], 2, None, only)
    assert [a.activity_id for a in first.items] == ["a4", "a3"]
    assert [a.activity_id for a in store.activities(
        "p1", [], 2, first.next_token, only).items] == ["a2", "a1"]
    with pytest.raises(InvalidNextToken):
        store.activities("p1", [], 2, first.next_token)
    # Ended activities go once older than the cut; those under way stay.
    assert store.purge_activities(NOW + timedelta(minutes=10)) == 1
    assert [a.activity_id for a in store.activities("p1", [], 10).items] == [
        "a4", "a3", "a2", "a1"]


def test_a_store_file_from_before_attach_gets_the_cloud_id_column(tmp_path):
    """A store file whose ``as_instances`` predates ``cloud_id`` (as the gateway made it
    before AttachInstances) is opened, its instances read, and the column added."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE as_instances (project_id TEXT NOT NULL, instance_id TEXT NOT NULL,
            group_name TEXT NOT NULL, availability_zone TEXT NOT NULL,
            lifecycle_state TEXT NOT NULL, launch_configuration_name TEXT,
            instance_type TEXT, launched_ms INTEGER NOT NULL, health_status TEXT NOT NULL,
            protected_from_scale_in INTEGER NOT NULL, activity_id TEXT, waits TEXT,
            PRIMARY KEY (project_id, instance_id));
        INSERT INTO as_instances VALUES ('p1', 'i-0123456789abcdef0', 'web', 'nova',
            'InService', 'lc', 'm1.small', 1796040000000, 'Healthy', 0, NULL, NULL);
    """)
    conn.close()
    opened = SQLiteGroupStore(str(path))
    try:
        (old,) = opened.instances("p1", "web")
        assert (old.instance_id, old.cloud_id) == ("i-0123456789abcdef0", None)
        opened.put_instance("p1", replace(old, cloud_id="srv-1"))
        assert opened.find_instance("p1", old.instance_id).cloud_id == "srv-1"
    finally:
        opened.close()
    SQLiteGroupStore(str(path)).close()  # opened again: the column is there already
