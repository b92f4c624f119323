"""A real SQLiteMetricStore on a file in the test's temporary folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cfn_gateway.backends.sqlite.metrics import SQLiteMetricStore


@pytest.fixture
def store_path(tmp_path) -> str:
    return str(tmp_path / "data" / "store.sqlite3")


@pytest.fixture
def store(store_path) -> Iterator[SQLiteMetricStore]:
    opened = SQLiteMetricStore(store_path)
    yield opened
    opened.close()
