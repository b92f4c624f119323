"""The dashboard store interface: CloudWatch dashboards and their tags.

Driver: ``sqlite/dashboards.py``, in both modes (OpenStack has no place for dashboards,
so the gateway keeps them in its own store file, as it keeps launch configurations).
Every call is scoped by ``project_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cfn_gateway.backends.alarms import Tag
from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.dashboards import Dashboard


class DashboardStore(Protocol):
    def put(self, project_id: str, dashboard: Dashboard, tags: Sequence[Tag]) -> bool:
        """Create the dashboard or replace the one of that name; ``tags`` are given to a
        new dashboard only (replacing keeps the tags it has).  True when it was created."""
        ...

    def get(self, project_id: str, name: str) -> Dashboard | None:
        ...

    def list(self, project_id: str, prefix: str, limit: int,
             next_token: str | None = None) -> Page:
        """Those whose name starts with ``prefix``, ordered by name, ``limit`` at a time;
        ``Page.items`` holds ``DashboardSummary``s.  A token this store did not issue for
        this project and prefix raises ``backends.alarms.InvalidNextToken``."""
        ...

    def delete(self, project_id: str, names: Sequence[str]) -> list[str]:
        """Delete all the named dashboards, or none: the names that do not exist (in the
        order given), empty when all were deleted."""
        ...

    def tags(self, project_id: str, name: str) -> list[Tag] | None:
        """The dashboard's tags ordered by key, or None when there is no such dashboard."""
        ...

    def tag(self, project_id: str, name: str, tags: Sequence[Tag]) -> bool:
        """Add or overwrite these tags; False when there is no such dashboard."""
        ...

    def untag(self, project_id: str, name: str, keys: Sequence[str]) -> bool:
        """Remove the tags of these keys (absent keys are ignored); False when there is no
        such dashboard."""
        ...
