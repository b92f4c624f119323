"""The archive policies and resource type, and their idempotent creation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from gnocchiclient import exceptions as g_exc

from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.backends.openstack import gnocchi_setup
from cfn_gateway.domain import periods

# Facts from gnocchi 4.7.1 (resource_type.py): attribute names and string lengths.
GNOCCHI_INVALID_NAMES = {"id", "type", "metrics", "revision", "revision_start",
                         "revision_end", "started_at", "ended_at", "user_id", "project_id",
                         "created_by_user_id", "created_by_project_id", "get_metric",
                         "creator"}
GNOCCHI_NAME = re.compile("[a-zA-Z0-9][a-zA-Z0-9_]*")


def test_policies_keep_at_least_cloudwatch_retention():
    policies = schema.archive_policies()
    assert len(policies) == len(schema.RESOLUTIONS) * 2 * len(schema.METHODS)
    assert len({p["name"] for p in policies}) == len(policies)
    for policy in policies:
        grid = {d["granularity"]: timedelta(seconds=d["timespan"]) for d in policy["definition"]}
        for granularity, kept in grid.items():
            assert kept >= schema.retention(granularity) + periods.MAX_FUTURE
            assert kept.total_seconds() % granularity == 0
        assert max(grid) * 1 == int(schema.BLOCK.total_seconds())  # block = coarsest
        assert len(policy["aggregation_methods"]) == 1
    high = [p for p in policies if p["name"].startswith("cfn-gateway-1s")]
    assert all(p["definition"][0]["granularity"] == 1 for p in high)


def test_back_windows_cover_what_each_tier_receives():
    late = [p for p in schema.archive_policies() if "-late-" in p["name"]]
    main = [p for p in schema.archive_policies() if "-late-" not in p["name"]]
    assert {p["back_window"] for p in late} == {schema.LATE_BACK_WINDOW}
    assert {p["back_window"] for p in main} == {schema.MAIN_BACK_WINDOW}
    # two weeks back from a newest point two hours (plus slot and skew) in the future
    reach = schema.LATE_BACK_WINDOW * schema.BLOCK
    assert reach >= (periods.MAX_PAST + periods.MAX_FUTURE + timedelta(minutes=1)
                     + schema.CLOCK_SKEW)


def test_resource_type_is_valid_for_gnocchi():
    definition = schema.resource_type()
    assert definition["name"] == schema.RESOURCE_TYPE
    attributes = definition["attributes"]
    assert len(attributes) == 3 + 30 * (1 + schema.VALUE_CHUNKS)
    for name, spec in attributes.items():
        assert GNOCCHI_NAME.fullmatch(name) and len(name) <= 63
        assert name not in GNOCCHI_INVALID_NAMES
        if spec["type"] == "string":
            assert 1 <= spec["max_length"] <= 256
    assert schema.CHUNK * schema.VALUE_CHUNKS == 1024  # CloudWatch's longest value


class FakeSchemaAPI:
    """Archive policies and resource types the way Gnocchi's API keeps them."""

    def __init__(self, policies: dict[str, Any] | None = None,
                 types: dict[str, Any] | None = None, conflict_once: bool = False) -> None:
        self.policies = policies or {}
        self.types = types or {}
        self.conflict_once = conflict_once
        self.calls: list[tuple[str, str]] = []

    def call(self, method: str, path: str, *, json: Any = None, params: Any = None,
             handled: tuple[type, ...] = ()) -> Any:
        self.calls.append((method, path))
        kind, _, name = path.removeprefix("v1/").partition("/")
        store = self.policies if kind == "archive_policy" else self.types
        if method == "GET":
            if name not in store:
                raise g_exc.NotFound(404, f"{kind} {name} does not exist")
            return store[name]
        if self.conflict_once:
            self.conflict_once = False
            store[json["name"]] = dict(json, state="active")
            raise g_exc.Conflict(409, "already exists")
        store[json["name"]] = dict(json, state="active")
        return store[json["name"]]


@pytest.fixture
def fake(monkeypatch):
    holder: dict[str, FakeSchemaAPI] = {}
    monkeypatch.setattr(gnocchi_setup, "GnocchiAPI", lambda *args: holder["api"])
    return holder


def test_creates_what_is_missing_once(fake):
    fake["api"] = api = FakeSchemaAPI()
    gnocchi_setup.ensure_schema(session=None)
    assert len(api.policies) == 12 and schema.RESOURCE_TYPE in api.types
    created = [c for c in api.calls if c[0] == "POST"]
    assert len(created) == 13
    api.calls.clear()
    gnocchi_setup.ensure_schema(session=None)
    assert all(method == "GET" for method, _ in api.calls)


def test_a_concurrent_creation_is_fine(fake):
    fake["api"] = FakeSchemaAPI(conflict_once=True)
    gnocchi_setup.ensure_schema(session=None)


def test_check_only_reports_what_is_missing(fake):
    fake["api"] = FakeSchemaAPI()
    with pytest.raises(gnocchi_setup.SchemaMissing) as caught:
        gnocchi_setup.ensure_schema(session=None, create=False)
    assert caught.value.status == 503


def test_an_unusable_resource_type_is_reported(fake):
    broken = dict(schema.resource_type(), state="creation_error")
    fake["api"] = FakeSchemaAPI(types={schema.RESOURCE_TYPE: broken})
    with pytest.raises(gnocchi_setup.SchemaMissing):
        gnocchi_setup.ensure_schema(session=None)
    partial = dict(schema.resource_type(), state="active", attributes={"namespace": {}})
    fake["api"] = FakeSchemaAPI(types={schema.RESOURCE_TYPE: partial})
    with pytest.raises(gnocchi_setup.SchemaMissing, match="lacks"):
        gnocchi_setup.ensure_schema(session=None)


def test_differing_policies_are_logged_not_changed(fake, caplog):
    rendered = {p["name"]: dict(p, definition=[
        {"granularity": "0:01:00", "timespan": "1 day, 0:00:00", "points": 1440}])
        for p in schema.archive_policies()}
    fake["api"] = FakeSchemaAPI(policies=rendered)
    gnocchi_setup.ensure_schema(session=None)
    assert "differs" in caplog.text


@pytest.mark.parametrize(("text", "seconds"), [
    ("0:01:00", 60.0), ("1:00:00", 3600.0), ("15 days, 3:00:00", 1306800.0),
    ("1 day, 0:00:00", 86400.0), (300, 300.0), (0.5, 0.5)])
def test_rendered_timespans(text, seconds):
    assert gnocchi_setup._seconds(text) == seconds
