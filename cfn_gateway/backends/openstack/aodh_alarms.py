"""``AlarmStore`` on Aodh: CloudWatch alarms as Aodh alarms of the plugin's rule types.

Layout in Aodh: ``aodh_mapping``.  Evaluation and actions happen inside Aodh (the plugin's
evaluators and notifier), so the engine-side calls of the interface (claiming due alarms
and queued actions) are not offered here; ``cfn-gateway engine`` is for standalone mode.

Calls are made with the gateway's service user scoped to the caller's project, so Aodh
itself confines them to that project.  Deleted alarms stay as tombstones for the history
retention time (Aodh deletes an alarm's history with the alarm; see ``aodh_mapping``).
What Aodh cannot do and the store does instead:

- Listing: Aodh has no name-prefix or action filters; a project's CloudWatch alarms are
  read in one call and filtered, sorted and paged here (signed tokens, as in standalone).
- History: read from Aodh's alarm history (``/v2/query/alarms/history``) of the project,
  which outlives deleted alarms; every write the gateway makes carries its AWS item in the
  rule (``history_item``), so Aodh's own "creation" / "rule change" entries hold it.
- Compare-and-set: Aodh has none.  The plugin's update hook keeps the state an alarm has
  at the moment of an update, so a PutMetricAlarm never undoes an evaluator's change;
  two callers updating one alarm at the same instant are ordered by Aodh, last one wins.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.backends.alarms import (
    AlarmLimitExceeded,
    DescribeChange,
    InvalidNextToken,
    QueuedActions,
    StaleAlarm,
    StoredAlarm,
    Tag,
    token_position,
)
from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.backends.openstack.aodh_api import AodhAPI, AodhConflict, AodhNotFound
from cfn_gateway.common.clock import utcnow
from cfn_gateway.domain import composite_rules, pagination
from cfn_gateway.domain.alarms import (
    Alarm,
    AlarmFilter,
    AlarmState,
    HistoryFilter,
    HistoryItem,
    Page,
)
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.periods import to_millis

ALARMS = "v2/alarms"
HISTORY_QUERY = "v2/query/alarms/history"
#: History entries one DescribeAlarmHistory reads from Aodh at most.
HISTORY_SCAN = 10_000


def matches(alarm: Alarm, query: AlarmFilter) -> bool:
    """Whether DescribeAlarms' filter selects ``alarm``."""
    if query.names and alarm.name not in query.names:
        return False
    if query.name_prefix and not alarm.name.startswith(query.name_prefix):
        return False
    if query.alarm_types and alarm.alarm_type not in query.alarm_types:
        return False
    if query.state_value is not None and alarm.state.value != query.state_value:
        return False
    if query.action_prefix:
        actions = (*alarm.ok_actions, *alarm.alarm_actions, *alarm.insufficient_data_actions)
        if not any(action.startswith(query.action_prefix) for action in actions):
            return False
    return True


def history_matches(item: HistoryItem, query: HistoryFilter) -> bool:
    return ((query.alarm_name is None or item.alarm_name == query.alarm_name)
            and (not query.alarm_types or item.alarm_type in query.alarm_types)
            and (query.item_type is None or item.item_type == query.item_type)
            and (query.start is None or item.timestamp >= query.start)
            and (query.end is None or item.timestamp <= query.end))


class AodhAlarmStore:
    def __init__(self, session_for: Callable[[str], ks_session.Session],
                 endpoint_filter: dict[str, Any], secret: Callable[[], bytes],
                 history_retention: timedelta, action_url: str,
                 timeout: float | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._session_for = session_for
        self._endpoint = endpoint_filter
        self._secret = secret
        self._history_retention = history_retention
        self._action_url = action_url
        self._timeout = timeout
        self._clock = clock

    def _api(self, project_id: str) -> AodhAPI:
        return AodhAPI(self._session_for(project_id), self._endpoint, self._timeout)

    # --- reads ----------------------------------------------------------------------------

    def _body(self, project_id: str, name: str,
              tombstone: bool = False) -> dict[str, Any] | None:
        """The alarm's Aodh body; a deleted alarm's tombstone only when asked for."""
        try:
            body = self._api(project_id).call(
                "GET", f"{ALARMS}/{mapping.alarm_id(project_id, name)}",
                handled=(AodhNotFound,))
        except AodhNotFound:
            return None
        if body.get("project_id") != project_id or body.get("type") not in mapping.TYPES:
            return None
        if mapping.deleted_at(body) is not None and not tombstone:
            return None
        return body

    def _all(self, project_id: str) -> list[dict[str, Any]]:
        """The project's live alarms (tombstones past the history retention are purged)."""
        api = self._api(project_id)
        bodies = api.call("GET", ALARMS) or []
        expired = self._clock() - self._history_retention
        live = []
        for body in bodies:
            if body.get("project_id") != project_id or body.get("type") not in mapping.TYPES:
                continue
            deleted = mapping.deleted_at(body)
            if deleted is None:
                live.append(body)
            elif deleted < expired:
                with contextlib.suppress(AodhNotFound):
                    api.call("DELETE", f"{ALARMS}/{body['alarm_id']}", handled=(AodhNotFound,))
        return live

    @staticmethod
    def _stored(project_id: str, body: dict[str, Any]) -> StoredAlarm:
        return StoredAlarm(project_id, mapping.alarm_from_aodh(body), version=0)

    def get(self, project_id: str, name: str) -> StoredAlarm | None:
        body = self._body(project_id, name)
        return None if body is None else self._stored(project_id, body)

    def get_many(self, project_id: str, names: Sequence[str]) -> dict[str, StoredAlarm]:
        wanted = set(names)
        if len(wanted) <= 3:
            found = (self.get(project_id, name) for name in wanted)
            return {s.alarm.name: s for s in found if s is not None}
        return {alarm.name: StoredAlarm(project_id, alarm, 0)
                for alarm in self._alarms(project_id) if alarm.name in wanted}

    def _alarms(self, project_id: str) -> list[Alarm]:
        return sorted((mapping.alarm_from_aodh(body) for body in self._all(project_id)),
                      key=lambda alarm: alarm.name)

    def describe(self, project_id: str, query: AlarmFilter, limit: int,
                 next_token: str | None = None) -> Page:
        digest = pagination.digest("alarms", sorted(set(query.names)), query.name_prefix,
                                   sorted(set(query.alarm_types)), query.state_value,
                                   query.action_prefix)
        after = (token_position(self._secret(), next_token, project_id, digest)
                 if next_token else None)
        selected = [alarm for alarm in self._alarms(project_id)
                    if matches(alarm, query) and (after is None or alarm.name > after)]
        page = Page(items=selected[:limit])
        if len(selected) > limit:
            page.next_token = pagination.page_token(self._secret(), project_id, digest,
                                                    page.items[-1].name)
        return page

    def for_metric(self, project_id: str, key: MetricKey) -> list[Alarm]:
        return [alarm for alarm in self._alarms(project_id)
                if alarm.metric_rule is not None and alarm.metric_rule.metric is not None
                and alarm.metric_rule.metric.key == key]

    def parents_of(self, project_id: str, name: str) -> list[str]:
        return [alarm.name for alarm in self._alarms(project_id)
                if alarm.composite_rule is not None
                and name in composite_rules.parse(alarm.composite_rule.expression).children]

    def children_states(self, project_id: str, names: Sequence[str]) -> dict[str, str]:
        return {name: s.alarm.state.value
                for name, s in self.get_many(project_id, names).items()}

    def callback_token(self, project_id: str, name: str) -> str | None:
        body = self._body(project_id, name)
        return None if body is None else mapping.rule_of(body).get("action_token") or None

    def _callback(self, body: dict[str, Any] | None) -> tuple[str, str]:
        """The alarm's callback: this gateway's URL, and its token (a new one for a new
        alarm; the token stays for the alarm's life)."""
        token = mapping.rule_of(body).get("action_token") if body else None
        return self._action_url, token or secrets.token_urlsafe(24)

    def tags(self, project_id: str, name: str) -> list[Tag] | None:
        body = self._body(project_id, name)
        return None if body is None else mapping.tags_of(body)

    # --- writes ---------------------------------------------------------------------------

    def put(self, project_id: str, alarm: Alarm, tags: Sequence[Tag],
            describe_change: DescribeChange, max_alarms: int) -> Alarm:
        api = self._api(project_id)
        for _ in range(3):
            body = self._body(project_id, alarm.name, tombstone=True)
            if body is None or mapping.deleted_at(body) is not None:
                if len(self._all(project_id)) >= max_alarms:
                    raise AlarmLimitExceeded(f"the project has {max_alarms} alarms already")
                rule = mapping.rule_body(alarm, tags, describe_change(None, alarm),
                                         callback=self._callback(body))
                try:
                    if body is None:
                        created = api.call("POST", ALARMS, json=mapping.alarm_body(alarm, rule),
                                           handled=(AodhConflict,))
                    else:  # the tombstone of a deleted alarm of that name comes back
                        created = self._put(api, project_id, alarm, rule)
                except (AodhConflict, AodhNotFound):
                    continue  # made or purged meanwhile: try again
                return mapping.alarm_from_aodh(created)
            old = mapping.alarm_from_aodh(body)
            stored = replace(alarm, state=old.state)
            item = describe_change(old, stored)
            rule = mapping.rule_body(stored, mapping.tags_of(body), item,
                                     state_reason_data=old.state.reason_data,
                                     callback=self._callback(body))
            try:
                updated = self._put(api, project_id, stored, rule)
            except AodhNotFound:
                continue  # deleted meanwhile: create it
            return mapping.alarm_from_aodh(updated)
        raise errors.ServiceUnavailable(
            f"The alarm {alarm.name} is changing too often to update it; try again.")

    def _put(self, api: AodhAPI, project_id: str, alarm: Alarm,
             rule: dict[str, Any]) -> dict[str, Any]:
        return api.call("PUT", f"{ALARMS}/{mapping.alarm_id(project_id, alarm.name)}",
                        json=mapping.alarm_body(alarm, rule), handled=(AodhNotFound,))

    def _rewrite(self, project_id: str, name: str,
                 change: Callable[[Alarm, list[Tag]], tuple[Alarm, list[Tag],
                                                            HistoryItem | None]]) -> bool:
        """Read, change and write back one alarm (state kept by the plugin's hook)."""
        body = self._body(project_id, name)
        if body is None:
            return False
        alarm = mapping.alarm_from_aodh(body)
        new, tags, item = change(alarm, mapping.tags_of(body))
        rule = mapping.rule_body(new, tags, item, state_reason_data=alarm.state.reason_data,
                                 callback=self._callback(body))
        try:
            self._put(self._api(project_id), project_id, new, rule)
        except AodhNotFound:
            return False
        return True

    def delete(self, project_id: str, names: Sequence[str],
               describe_delete: Callable[[Alarm], HistoryItem]) -> list[str]:
        api = self._api(project_id)
        deleted = []
        for name in dict.fromkeys(names):
            body = self._body(project_id, name)
            if body is None:
                continue
            alarm = mapping.alarm_from_aodh(body)
            rule = mapping.rule_body(alarm, [], describe_delete(alarm),
                                     deleted_at=self._clock())
            try:
                self._put(api, project_id, alarm, rule)
            except AodhNotFound:
                continue
            deleted.append(name)
        return deleted

    def set_state(self, project_id: str, name: str, expected_version: int,
                  state: AlarmState, history: Sequence[HistoryItem],
                  actions_repeated_at: datetime | None = None,
                  actions: QueuedActions | None = None) -> StoredAlarm:
        body = self._body(project_id, name)
        if body is None:
            raise StaleAlarm(name)
        alarm = mapping.alarm_from_aodh(body)
        new = alarm.with_state(state)
        rule = mapping.rule_body(new, mapping.tags_of(body), history[0] if history else None,
                                 state_reason_data=state.reason_data or "",
                                 previous_state=state.previous_value,
                                 callback=self._callback(body))
        rule["set_state"] = mapping.set_state_marker(state.reason, actions is not None)
        updated = self._put(self._api(project_id), project_id, new, rule)
        return self._stored(project_id, updated)

    def set_actions_enabled(self, project_id: str, names: Sequence[str], enabled: bool,
                            describe_change: DescribeChange) -> None:
        def change(alarm: Alarm, tags: list[Tag]) -> tuple[Alarm, list[Tag], HistoryItem]:
            new = replace(alarm, actions_enabled=enabled)
            return new, tags, describe_change(alarm, new)

        for name in dict.fromkeys(names):
            self._rewrite(project_id, name, change)

    def named_by_tags(self, project_id: str, tags: Sequence[Tag]) -> list[str]:
        """Names of the project's alarms that carry every one of ``tags``, ordered: one
        listing of the project's alarms (Aodh cannot query inside a rule)."""
        wanted = set(dict(tags).items())
        if not wanted:
            raise ValueError("named_by_tags needs at least one tag")
        return sorted(mapping.alarm_from_aodh(body).name for body in self._all(project_id)
                      if wanted <= set(mapping.tags_of(body)))

    def tag(self, project_id: str, name: str, tags: Sequence[Tag]) -> bool:
        def change(alarm: Alarm, old: list[Tag]) -> tuple[Alarm, list[Tag], None]:
            merged = dict(old)
            merged.update(dict(tags))
            return alarm, list(merged.items()), None

        return self._rewrite(project_id, name, change)

    def untag(self, project_id: str, name: str, keys: Sequence[str]) -> bool:
        gone = set(keys)
        return self._rewrite(project_id, name, lambda alarm, old: (
            alarm, [tag for tag in old if tag[0] not in gone], None))

    def make_due(self, project_id: str, names: Sequence[str], now: datetime) -> None:
        """Nothing to do: Aodh evaluates every alarm at each evaluation cycle."""

    # --- history --------------------------------------------------------------------------

    def history(self, project_id: str, query: HistoryFilter, limit: int,
                next_token: str | None = None) -> Page:
        digest = pagination.digest(
            "history", query.alarm_name, sorted(set(query.alarm_types)), query.item_type,
            None if query.start is None else to_millis(query.start),
            None if query.end is None else to_millis(query.end), query.newest_first)
        skip = (token_position(self._secret(), next_token, project_id, digest)
                if next_token else 0)
        if not isinstance(skip, int) or skip < 0:
            raise InvalidNextToken("malformed token")
        clauses: list[dict[str, Any]] = [{"=": {"on_behalf_of": project_id}}]
        if query.start is not None:
            clauses.append({">=": {"timestamp": _aodh_time(query.start)}})
        if query.end is not None:
            clauses.append({"<=": {"timestamp": _aodh_time(query.end)}})
        rows = self._api(project_id).call("POST", HISTORY_QUERY, json={
            "filter": json.dumps({"and": clauses} if len(clauses) > 1 else clauses[0]),
            "orderby": json.dumps([{"timestamp": "desc" if query.newest_first else "asc"}]),
            "limit": HISTORY_SCAN,
        }) or []
        items = [item for row in rows
                 if (item := mapping.history_from_change(row)) is not None
                 and history_matches(item, query)]
        items.sort(key=lambda item: item.timestamp, reverse=query.newest_first)
        page = Page(items=items[skip:skip + limit])
        if len(items) > skip + limit:
            page.next_token = pagination.page_token(self._secret(), project_id, digest,
                                                    skip + limit)
        return page



def _aodh_time(moment: datetime) -> str:
    return mapping.naive_utc(moment).isoformat()
