"""The HA heartbeat alarm of ``test_heat_alarm_resource.py`` after its heartbeats stopped.

That test made the stack, beat with the real cfn-push-stats until the alarm was OK, and
stopped; the Heat modules in between ran meanwhile.  Here the alarm must have fired: from
OK to ALARM once the last heartbeat's minute left the evaluation range (3 periods of 60 s
after that minute), and the stack's delete removes it.
"""

from __future__ import annotations

import time

import pytest

from tests.openstack.heat_stacks import wait_for

pytestmark = pytest.mark.functional
LATEST = 5 * 60  # the heartbeat's minute, the 3 minutes of the range, the evaluation


def test_the_heartbeat_alarm_fired_after_the_heartbeats_stopped(plugin_cw, stopped_heartbeats,
                                                                 stacks):
    if not stopped_heartbeats:
        pytest.skip("test_heat_alarm_resource.py's heartbeat test did not run before")
    while stopped_heartbeats:
        left = stopped_heartbeats.pop()
        stacks.made.append(left.stack_id)  # deleted at the end of this test

        def fired(name: str = left.alarm) -> bool:
            [alarm] = plugin_cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
            return alarm["StateValue"] == "ALARM"

        wait_for(f"{left.alarm} in ALARM", fired,
                 max(0.0, left.stopped_at + LATEST - time.time()) + 5)
        updates = plugin_cw.describe_alarm_history(
            AlarmName=left.alarm, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
        fire = next(u for u in updates if "from OK to ALARM" in u["HistorySummary"])
        assert fire["Timestamp"].timestamp() - left.stopped_at <= LATEST
        assert "[Breaching]" in fire["HistoryData"]  # the missing heartbeats counted so
        stacks.delete(left.stack_id)
        assert plugin_cw.describe_alarms(AlarmNames=[left.alarm])["MetricAlarms"] == []
