"""ListMetrics pages over an emulated Gnocchi resource search: order, tokens, long values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cfn_gateway.backends.metrics import InvalidNextToken
from cfn_gateway.backends.openstack import gnocchi_mapping as mapping
from cfn_gateway.backends.openstack.gnocchi_listing import (
    LIST_ATTRS,
    RESOURCES,
    SEARCH,
    MetricLister,
    token_secret,
)
from cfn_gateway.domain.metrics import DimensionFilter, MetricFilter, MetricKey
from tests.tokens import forged
from tests.unit.backends.openstack.gnocchi_filters import matches

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(weeks=2)


class SearchAPI:
    """Resource search as Gnocchi answers it: filter, sort by id, limit, attrs."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.resources = {r["id"]: r for r in resources}
        self.calls: list[tuple[str, str]] = []

    def call(self, method: str, path: str, *, json: Any = None, params: Any = None,
             handled: tuple[type, ...] = ()) -> Any:
        self.calls.append((method, path))
        if method == "GET":
            return self.resources[path.rsplit("/", 1)[1]]
        assert (method, path) == ("POST", SEARCH) and params["sort"] == "id:asc"
        found = sorted((r for r in self.resources.values() if matches(json, r)),
                       key=lambda r: r["id"])[:params["limit"]]
        return [{a: r.get(a) for a in params["attrs"]} for r in found]


def resources(project: str, keys: list[MetricKey]) -> list[dict[str, Any]]:
    return [dict(mapping.resource_body(project, k, NOW), created_by_project_id=project)
            for k in keys]


KEYS = [MetricKey.of("ns", "M", [("N", str(i))]) for i in range(23)]


@pytest.fixture
def lister() -> MetricLister:
    return MetricLister(lambda: b"k" * 32)


def all_pages(lister, api, project, query, limit):
    pages, token = [], None
    while True:
        page = lister.list_metrics(api, project, query, SINCE, token, limit)
        pages.append(page.metrics)
        if page.next_token is None:
            return pages
        token = page.next_token


def test_pages_cover_everything_once_in_id_order(lister):
    api = SearchAPI(resources("p1", KEYS) + resources("p2", KEYS[:3]))
    pages = all_pages(lister, api, "p1", MetricFilter(namespace="ns"), 10)
    assert [len(p) for p in pages] == [10, 10, 3]
    listed = [k for p in pages for k in p]
    assert sorted(listed) == sorted(KEYS)
    ids = [mapping.resource_id("p1", k) for k in listed]
    assert ids == sorted(ids)
    exact = all_pages(lister, SearchAPI(resources("p1", KEYS[:10])), "p1", MetricFilter(), 10)
    assert [len(p) for p in exact] == [10]


def test_tokens_are_bound_to_project_query_and_signature(lister):
    api = SearchAPI(resources("p1", KEYS))
    query = MetricFilter(namespace="ns")
    token = lister.list_metrics(api, "p1", query, SINCE, None, 5).next_token
    assert token
    for project, other in (("p2", query), ("p1", MetricFilter(namespace="ns", name="M")),
                           ("p1", MetricFilter(namespace="ns", recently_active=True))):
        with pytest.raises(InvalidNextToken):
            lister.list_metrics(api, project, other, SINCE, token, 5)
    for bad in (forged(token), "x", token + "."):
        with pytest.raises(InvalidNextToken):
            lister.list_metrics(api, "p1", query, SINCE, bad, 5)
    other_key = MetricLister(lambda: b"other" * 8)
    with pytest.raises(InvalidNextToken):
        other_key.list_metrics(api, "p1", query, SINCE, token, 5)


def test_long_values_are_read_whole_only_when_needed(lister):
    long_key = MetricKey.of("ns", "Long", [("A", "a" * 256), ("B", "b" * 700)])
    api = SearchAPI(resources("p1", [long_key, *KEYS[:2]]))
    page = lister.list_metrics(api, "p1", MetricFilter(namespace="ns"), SINCE, None, 10)
    assert sorted(page.metrics) == sorted([long_key, *KEYS[:2]])
    assert [c for c in api.calls if c[0] == "GET"] == [
        ("GET", f"{RESOURCES}/{mapping.resource_id('p1', long_key)}")]
    found = lister.list_metrics(api, "p1", MetricFilter(
        dimensions=(DimensionFilter("B", "b" * 700),)), SINCE, None, 10)
    assert found.metrics == [long_key]


def test_only_names_and_first_chunks_are_read():
    assert len(LIST_ATTRS) == 3 + 2 * 30
    assert all(not a.endswith(("v1", "v2", "v3")) for a in LIST_ATTRS)


def test_secret_from_configuration_or_service_credentials():
    assert token_secret("configured", lambda: None) == b"configured"
    derived = token_secret("", lambda: None)
    assert len(derived) == 32 and derived == token_secret("", lambda: None)
