"""The launch configuration store interface.

Drivers: ``sqlite/launch_configurations.py`` (both modes for now: OpenStack has no place
for launch configurations, so the gateway keeps them itself, in its data folder).  Every
call is scoped by ``project_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cfn_gateway.domain.alarms import Page
from cfn_gateway.domain.launch_configurations import LaunchConfiguration


class LaunchConfigurationExists(ValueError):
    """A launch configuration of that name exists in the project."""


class LaunchConfigurationLimitExceeded(ValueError):
    """Creating one more would exceed the project's quota."""


class LaunchConfigurationInUse(ValueError):
    """An Auto Scaling group uses it."""


class LaunchConfigurationStore(Protocol):
    def create(self, project_id: str, config: LaunchConfiguration, max_count: int) -> None:
        """Store a new launch configuration; raises ``LaunchConfigurationExists`` or
        ``LaunchConfigurationLimitExceeded``."""
        ...

    def describe(self, project_id: str, names: Sequence[str], limit: int,
                 next_token: str | None = None) -> Page:
        """The named ones (all when ``names`` is empty) ordered by name;
        ``Page.items`` holds ``LaunchConfiguration``s.  A token this store did not issue
        for this query raises ``backends.alarms.InvalidNextToken``."""
        ...

    def count(self, project_id: str) -> int:
        ...

    def delete(self, project_id: str, name: str) -> bool:
        """Delete it; False when there is none of that name.  Raises
        ``LaunchConfigurationInUse`` when a group uses it."""
        ...
