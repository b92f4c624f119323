"""CloudWatch dashboards: the value types and the rules for names.

A dashboard is a name and a body (a JSON text the caller wrote, kept byte for byte; its
structure is checked by ``dashboard_body``), the time it was last written and its size:
the body's length in UTF-8 bytes.  Listings carry ``DashboardSummary`` (no body).

Names (AWS API reference, PutDashboard): 1 to 255 characters of A-Z, a-z, 0-9, ``-`` and
``_``.  ListDashboards prefixes (ListDashboards): up to 255 characters of those and ``.``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

MAX_NAME_LENGTH = 255
#: DeleteDashboards: "You can specify up to 100 dashboards to delete."
MAX_DELETE = 100
#: ListDashboards: "returns up to 1000 results on one page".
LIST_PAGE = 1000

_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)
_PREFIX_CHARACTERS = re.compile(r"[A-Za-z0-9._-]*", re.ASCII)


@dataclass(frozen=True)
class Dashboard:
    name: str
    body: str
    last_modified: datetime

    @property
    def size(self) -> int:
        """The body's size in bytes."""
        return body_size(self.body)


@dataclass(frozen=True)
class DashboardSummary:
    """What ListDashboards shows of a dashboard."""

    name: str
    last_modified: datetime
    size: int


def body_size(body: str) -> int:
    return len(body.encode("utf-8"))


def name_problem(name: str) -> str | None:
    """What is wrong with a dashboard name (None: nothing): ``"length"`` or
    ``"characters"``."""
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        return "length"
    if not _NAME_CHARACTERS.fullmatch(name):
        return "characters"
    return None


def prefix_problem(prefix: str) -> str | None:
    """The same for a ListDashboards prefix (which may be empty and may hold ``.``)."""
    if len(prefix) > MAX_NAME_LENGTH:
        return "length"
    if not _PREFIX_CHARACTERS.fullmatch(prefix):
        return "characters"
    return None
