"""The alarm store interface: definitions, states, tags and history of CloudWatch alarms.

Drivers: ``sqlite/alarms.py`` (standalone; the gateway's own engine evaluates) and, in
OpenStack mode, Aodh alarms of the ``cloudwatch`` rule type that our Aodh plugin evaluates.

Concurrency rules every driver keeps:
- ``put`` never touches the state of an alarm that exists (updating an alarm keeps its
  state, as AWS does) and writes the ConfigurationUpdate history item in the same
  transaction.
- ``set_state`` is a compare-and-set on ``StoredAlarm.version``: an evaluation made on a
  definition or state that changed meanwhile is refused (``StaleAlarm``), never applied.
- ``claim_due`` hands each due alarm to one caller only, so any number of engines can share
  a store without evaluating an alarm twice.

Every call is scoped by ``project_id``.  History outlives a deleted alarm (AWS keeps it for
two weeks); ``purge_history`` drops older items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cfn_gateway.domain import pagination
from cfn_gateway.domain.alarms import (
    Alarm,
    AlarmFilter,
    AlarmState,
    HistoryFilter,
    HistoryItem,
    Page,
)
from cfn_gateway.domain.metrics import MetricKey

Tag = tuple[str, str]


class InvalidNextToken(ValueError):
    """A token this store did not issue (or issued for another query)."""


def token_position(secret: bytes, token: str, project_id: str, query_digest: str) -> Any:
    """Where the page a listing's token asks for starts (``pagination.position``);
    ``InvalidNextToken`` for a token not signed for this project and query."""
    try:
        return pagination.position(secret, token, project_id, query_digest)
    except ValueError as exc:
        raise InvalidNextToken(str(exc)) from None


class AlarmNotFound(LookupError):
    """No alarm of that name in the project."""


class AlarmLimitExceeded(ValueError):
    """Creating the alarm would exceed the project's alarm quota."""


class StaleAlarm(RuntimeError):
    """The alarm changed (or was deleted) since the version the caller read."""


@dataclass(frozen=True)
class StoredAlarm:
    """An alarm as the store holds it, with what concurrency control needs."""

    project_id: str
    alarm: Alarm
    version: int
    #: When Auto Scaling actions last ran for the current state (they repeat every period
    #: while the alarm stays in that state); None when they have not run in this state.
    actions_repeated_at: datetime | None = None


@dataclass(frozen=True)
class QueuedActions:
    """Actions to run for one state change (or one repetition of Auto Scaling actions)."""

    alarm_name: str
    alarm_type: str
    actions: tuple[str, ...]
    state_value: str
    state_updated_at: datetime
    #: The notification JSON text (``domain.alarm_notifications``) the actions deliver.
    message: str


@dataclass(frozen=True)
class PendingAction:
    """One queued action, claimed by one engine for a lease."""

    id: int
    project_id: str
    alarm_name: str
    alarm_type: str
    action: str
    state_value: str
    state_updated_at: datetime
    message: str
    attempts: int


#: Builds the ConfigurationUpdate history item of a put from (old alarm or None, new alarm).
DescribeChange = Callable[[Alarm | None, Alarm], HistoryItem]


class AlarmStore(Protocol):
    def put(
        self,
        project_id: str,
        alarm: Alarm,
        tags: Sequence[Tag],
        describe_change: DescribeChange,
        max_alarms: int,
    ) -> Alarm:
        """Create ``alarm``, or update the definition of the alarm of that name.

        An update keeps the stored state (``alarm.state`` is used only on create) and
        ignores ``tags``: they apply only when the alarm is created, as on AWS
        (TagResource changes tags).  Returns the alarm as
        stored.  Raises ``AlarmLimitExceeded`` when creating would exceed
        ``max_alarms`` alarms in the project.
        """
        ...

    def get(self, project_id: str, name: str) -> StoredAlarm | None:
        ...

    def get_many(self, project_id: str, names: Sequence[str]) -> dict[str, StoredAlarm]:
        """The named alarms that exist, by name."""
        ...

    def describe(
        self,
        project_id: str,
        query: AlarmFilter,
        limit: int,
        next_token: str | None = None,
    ) -> Page:
        """Alarms matching ``query`` ordered by name; ``Page.items`` holds ``Alarm``s."""
        ...

    def for_metric(self, project_id: str, key: MetricKey) -> list[Alarm]:
        """Metric alarms on exactly this metric (namespace, name, dimension set)."""
        ...

    def delete(self, project_id: str, names: Sequence[str],
               describe_delete: Callable[[Alarm], HistoryItem]) -> list[str]:
        """Delete the named alarms and their tags (one transaction); history stays.
        Returns the names that existed."""
        ...

    def set_state(
        self,
        project_id: str,
        name: str,
        expected_version: int,
        state: AlarmState,
        history: Sequence[HistoryItem],
        actions_repeated_at: datetime | None = None,
        actions: QueuedActions | None = None,
    ) -> StoredAlarm:
        """Store a new state (and its StateUpdate history) if the alarm is still at
        ``expected_version``; raises ``StaleAlarm`` otherwise.  ``actions`` are queued in
        the same transaction, so a stored change never loses its actions."""
        ...

    def set_actions_enabled(self, project_id: str, names: Sequence[str], enabled: bool,
                            describe_change: DescribeChange) -> None:
        """Enable/DisableAlarmActions: names that do not exist are skipped."""
        ...

    def note_actions_repeated(self, project_id: str, name: str, expected_version: int,
                              at: datetime, actions: QueuedActions | None = None) -> None:
        """Record that Auto Scaling actions run again for the unchanged state and queue
        them, in one transaction; raises ``StaleAlarm`` when the alarm is no longer at
        ``expected_version``.  The version does not change."""
        ...

    def claim_actions(self, now: datetime, limit: int, lease_seconds: float) -> list[
            PendingAction]:
        """Queued actions not claimed by anyone (or whose lease ran out), each handed to
        this caller only until ``now + lease_seconds``; ``attempts`` counts the claims."""
        ...

    def finish_action(self, action_id: int, history: HistoryItem, project_id: str) -> None:
        """Remove a delivered (or finally failed) action and record its Action item; an
        action already removed records nothing (one Action item per queued action)."""
        ...

    def make_due(self, project_id: str, names: Sequence[str], now: datetime) -> None:
        """Evaluate these alarms at the next engine pass (a child of a composite changed)."""
        ...

    def add_history(self, project_id: str, items: Sequence[HistoryItem]) -> None:
        ...

    def history(
        self,
        project_id: str,
        query: HistoryFilter,
        limit: int,
        next_token: str | None = None,
    ) -> Page:
        """History items matching ``query``; ``Page.items`` holds ``HistoryItem``s."""
        ...

    def purge_history(self, older_than: datetime) -> int:
        ...

    def tags(self, project_id: str, name: str) -> list[Tag] | None:
        """The alarm's tags, or None when there is no such alarm."""
        ...

    def named_by_tags(self, project_id: str, tags: Sequence[Tag]) -> list[str]:
        """Names (ordered) of the project's alarms that carry every one of ``tags`` (at
        least one); for rare lookups (Heat stack users' logical alarm names), not per
        datum."""
        ...

    def tag(self, project_id: str, name: str, tags: Sequence[Tag]) -> bool:
        """Add or overwrite tags; False when there is no such alarm."""
        ...

    def untag(self, project_id: str, name: str, keys: Sequence[str]) -> bool:
        ...

    def claim_due(self, now: datetime, limit: int) -> list[StoredAlarm]:
        """Alarms (of every project) whose next evaluation is due at ``now``, each handed
        to this caller only: their next evaluation moves to the next tick (every 60 s, or
        every 10 s for periods under a minute) in the same transaction."""
        ...

    def children_states(self, project_id: str, names: Sequence[str]) -> dict[str, str]:
        """State values of the named alarms that exist (composite rule evaluation)."""
        ...

    def parents_of(self, project_id: str, name: str) -> list[str]:
        """Names of the composite alarms whose rule names ``name``."""
        ...

    def callback_token(self, project_id: str, name: str) -> str | None:
        """The token with which the alarm's actions may call the gateway back
        (``api/alarm_actions.py``); None where actions never call back (standalone
        engines run them in-process)."""
        ...
