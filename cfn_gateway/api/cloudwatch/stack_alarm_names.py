"""PutMetricData from a Heat stack user: ``AlarmName=<logical name>`` names the stack's alarm.

Classic templates run ``cfn-push-stats --watch {Ref: MEMAlarmHigh}`` in their servers.  The
``Ref`` is resolved while the alarm has no data yet (the alarm is a non-strict dependency),
so Heat 27 hands the server the alarm's LOGICAL name (``MEMAlarmHigh``), while the gateway's
alarm is named by its physical name (``<stack>-MEMAlarmHigh-<random>``).  For a stack user
only (``Identity.stack_user_project``), a datum with the dimension ``AlarmName=X``, where X
is not the name of an alarm of the owner's project but exactly one alarm there is tagged
``heat-stack-user-project=<the caller's stack user project>`` and ``heat-logical-id=X``,
is stored with ``AlarmName=<that alarm's name>``; the ``--watch`` route
(``domain.alarm_inputs.watch_filter``, compatibility A5) then feeds the alarm.  Heat's old
CloudWatch API stripped AlarmName from the data altogether, so the value never was data
anyone read.  Several tagged alarms (nested stacks share their parent's stack user project)
leave X as sent.

Answers are cached per (owner project, stack user project, X) for ``LOOKUP_TTL`` seconds,
the negative ones too, in a bounded cache, one lookup per key at a time: a server pushing
every minute costs one alarm lookup a minute.  An alarm created or deleted is seen within
``LOOKUP_TTL``.  Ordinary callers never reach this module.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import msgspec

from cfn_gateway.backends.alarms import AlarmStore
from cfn_gateway.common.expiring_cache import ExpiringCache
from cfn_gateway.common.keyed_locks import KeyedLocks
from cfn_gateway.domain.alarm_inputs import WATCH_DIMENSION
from cfn_gateway.domain.heat_tags import TAG_LOGICAL_ID, TAG_STACK_USER_PROJECT
from cfn_gateway.domain.metrics import Datum, MetricKey

LOG = logging.getLogger(__name__)

LOOKUP_TTL = 60.0  # seconds an answer (a name, or "as sent") is used
LOOKUP_CACHE_SIZE = 4096


class LogicalAlarmNames:
    """The alarm a stack user's ``AlarmName`` value stands for (see the module docstring)."""

    def __init__(self, *, ttl: float = LOOKUP_TTL, size: int = LOOKUP_CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.cache: ExpiringCache[str] = ExpiringCache(size, clock)
        self._lookups = KeyedLocks()

    def rewrite(self, alarms: AlarmStore, owner: str, stack_user_project: str,
                data: list[Datum]) -> list[Datum]:
        """``data`` with each ``AlarmName`` value that is a logical name of the stack's
        alarm replaced by that alarm's name (``data`` itself when nothing changes)."""
        out: list[Datum] | None = None
        for index, datum in enumerate(data):
            dimensions = datum.key.dimensions
            value = next((v for n, v in dimensions if n == WATCH_DIMENSION), None)
            if value is None:
                continue
            name = self.name_for(alarms, owner, stack_user_project, value)
            if name == value:
                continue
            if out is None:
                out = list(data)
            renamed = [(n, name if n == WATCH_DIMENSION else v) for n, v in dimensions]
            out[index] = msgspec.structs.replace(datum, key=MetricKey.of(
                datum.key.namespace, datum.key.name, renamed))
        return data if out is None else out

    def name_for(self, alarms: AlarmStore, owner: str, stack_user_project: str,
                 value: str) -> str:
        """The name ``AlarmName=value`` from this stack user stands for, cached."""
        key = f"{owner}\n{stack_user_project}\n{value}"
        name = self.cache.get(key)
        if name is None:
            with self._lookups.hold(key):
                name = self.cache.get(key)  # looked up by another caller meanwhile?
                if name is None:
                    name = self._lookup(alarms, owner, stack_user_project, value)
                    self.cache.put(key, name, self.ttl)
        return name

    @staticmethod
    def _lookup(alarms: AlarmStore, owner: str, stack_user_project: str, value: str) -> str:
        if alarms.get(owner, value) is not None:
            return value  # an alarm of that very name: the --watch route as it stands
        names = alarms.named_by_tags(owner, [(TAG_STACK_USER_PROJECT, stack_user_project),
                                             (TAG_LOGICAL_ID, value)])
        if len(names) == 1:
            return names[0]
        if names:
            LOG.warning("AlarmName=%s from stack user project %s left as sent: %d alarms of "
                        "project %s have that logical name (%s)", value, stack_user_project,
                        len(names), owner, ", ".join(names[:5]))
        return value


#: Per process: the gateway's PutMetricData handler uses this one.
LOGICAL_ALARM_NAMES = LogicalAlarmNames()
