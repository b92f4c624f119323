"""Dashboard names, ListDashboards prefixes and the size of a body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cfn_gateway.domain.dashboards import Dashboard, body_size, name_problem, prefix_problem


@pytest.mark.parametrize(("name", "problem"), [
    ("web", None), ("A-z_0-9", None), ("x" * 255, None), ("-", None),
    ("", "length"), ("x" * 256, "length"),
    ("my dashboard", "characters"), ("a/b", "characters"), ("a.b", "characters"),
    ("caf\u00e9", "characters"), ("\u0661", "characters"), ("a\n", "characters"),
])
def test_names(name, problem):
    assert name_problem(name) == problem


@pytest.mark.parametrize(("prefix", "problem"), [
    ("", None), ("web.", None), ("A-z_.0", None), ("x" * 255, None),
    ("x" * 256, "length"), ("a b", "characters"), ("a*", "characters"),
])
def test_prefixes(prefix, problem):
    assert prefix_problem(prefix) == problem


def test_size_counts_utf8_bytes():
    assert body_size('{"widgets":[]}') == 14
    assert body_size('{"m":"\u00e9\u20ac\U0001f600"}') == 8 + 2 + 3 + 4
    dashboard = Dashboard(name="d", body='{"m":"\u00e9"}', last_modified=datetime.now(UTC))
    assert dashboard.size == 10
