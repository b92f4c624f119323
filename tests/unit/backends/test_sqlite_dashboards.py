"""SQLiteDashboardStore on a real file: put/replace, pages by prefix, all-or-nothing delete,
tags, and projects kept apart."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cfn_gateway.backends.alarms import InvalidNextToken
from cfn_gateway.backends.sqlite.dashboards import SQLiteDashboardStore
from cfn_gateway.domain.dashboards import Dashboard, DashboardSummary
from tests.tokens import forged

T0 = datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=UTC)
BODY = '{"widgets": [],\n  "start": "-PT3H", "note": "caf\u00e9"}'


def dashboard(name: str, body: str = BODY, at: datetime = T0) -> Dashboard:
    return Dashboard(name=name, body=body, last_modified=at)


@pytest.fixture
def store(store_path) -> Iterator[SQLiteDashboardStore]:
    opened = SQLiteDashboardStore(store_path)
    yield opened
    opened.close()


def listing(store, project, prefix="", limit=1000):
    names, token = [], None
    while True:
        page = store.list(project, prefix, limit, token)
        assert len(page.items) <= limit
        names += [item.name for item in page.items]
        token = page.next_token
        if token is None:
            return names


def test_put_get_and_replace(store, store_path):
    assert store.get("p1", "ops") is None
    assert store.put("p1", dashboard("ops"), [("team", "a")]) is True
    assert store.get("p1", "ops") == dashboard("ops")
    (summary,) = store.list("p1", "", 10).items
    assert summary == DashboardSummary(name="ops", last_modified=T0, size=len(BODY) + 1)

    later = T0 + timedelta(minutes=5)
    assert store.put("p1", dashboard("ops", '{"widgets":[]}', later), [("team", "b")]) is False
    assert store.get("p1", "ops") == dashboard("ops", '{"widgets":[]}', later)
    assert store.list("p1", "", 10).items == [DashboardSummary("ops", later, 14)]
    assert store.tags("p1", "ops") == [("team", "a")]  # replacing keeps the tags

    reopened = SQLiteDashboardStore(store_path)  # another process on the same file
    try:
        assert reopened.get("p1", "ops").body == '{"widgets":[]}'
    finally:
        reopened.close()


def test_projects_are_apart(store):
    store.put("p1", dashboard("ops"), [])
    assert store.get("p2", "ops") is None
    assert store.list("p2", "", 10).items == []
    assert store.delete("p2", ["ops"]) == ["ops"]
    assert store.tags("p2", "ops") is None and not store.tag("p2", "ops", [("k", "v")])
    store.put("p2", dashboard("ops", '{"widgets":[1]}'), [])
    assert store.get("p1", "ops").body == BODY
    assert store.delete("p2", ["ops"]) == [] and store.get("p1", "ops") is not None


def test_pages_by_name_and_prefix(store):
    names = ["a", "a-1", "aB", "a_2", "ab", "ab-x", "b", "web-1", "web-2", "web_3", "webx"]
    for name in reversed(names):
        store.put("p1", dashboard(name), [])
    store.put("p2", dashboard("web-0"), [])
    assert listing(store, "p1") == names  # bytewise: "-" < "B" < "_" < "b"
    assert listing(store, "p1", limit=2) == names
    assert listing(store, "p1", limit=len(names)) == names
    assert listing(store, "p1", "web", limit=2) == ["web-1", "web-2", "web_3", "webx"]
    assert listing(store, "p1", "web-", limit=1) == ["web-1", "web-2"]
    assert listing(store, "p1", "ab") == ["ab", "ab-x"]
    assert listing(store, "p1", "a.") == []
    assert listing(store, "p1", "zzz") == []
    first = store.list("p1", "", 3)
    assert [d.name for d in first.items] == names[:3] and first.next_token
    last = store.list("p1", "", len(names))
    assert last.next_token is None


def test_tokens_are_bound_to_project_and_prefix(store):
    for name in ("a1", "a2", "a3"):
        store.put("p1", dashboard(name), [])
        store.put("p2", dashboard(name), [])
    token = store.list("p1", "a", 1).next_token
    assert [d.name for d in store.list("p1", "a", 1, token).items] == ["a2"]
    for project, prefix, bad in (("p2", "a", token), ("p1", "", token), ("p1", "a2", token),
                                 ("p1", "a", "nope"), ("p1", "a", forged(token))):
        with pytest.raises(InvalidNextToken):
            store.list(project, prefix, 1, bad)


def test_delete_is_all_or_nothing(store):
    for name in ("a", "b", "c"):
        store.put("p1", dashboard(name), [("k", name)])
    assert store.delete("p1", ["a", "nope", "b", "gone"]) == ["nope", "gone"]
    assert listing(store, "p1") == ["a", "b", "c"]
    assert store.delete("p1", ["a", "b", "a"]) == []
    assert listing(store, "p1") == ["c"]
    assert store.tags("p1", "a") is None
    assert store.delete("p1", []) == []
    store.put("p1", dashboard("a"), [])
    assert store.tags("p1", "a") == []  # a new dashboard does not inherit old tags


def test_tags(store, store_path):
    assert not store.tag("p1", "ops", [("k", "v")]) and not store.untag("p1", "ops", ["k"])
    store.put("p1", dashboard("ops"), [("b", "2"), ("a", "1")])
    assert store.tags("p1", "ops") == [("a", "1"), ("b", "2")]
    assert store.tag("p1", "ops", [("a", "one"), ("c", "3")])
    assert store.untag("p1", "ops", ["b", "absent"])
    assert store.tags("p1", "ops") == [("a", "one"), ("c", "3")]
    store.delete("p1", ["ops"])
    with sqlite3.connect(store_path) as conn:
        assert conn.execute("SELECT count(*) FROM dashboard_tags").fetchone() == (0,)
