"""An evaluation whose write comes after the gateway changed the alarm (run in the test
bed's venv, where Aodh and the plugin are importable).

``python stale_evaluation.py AODH_CONF PROJECT_ID ALARM_NAME``: reads the alarm from
Aodh's storage as an evaluator does, prints ``read``, waits for a line on stdin (the test
changes or deletes the alarm through the gateway meanwhile), then moves the copy it read
to ALARM through the plugin's evaluator and prints, as JSON, what storage then holds: the
alarm's state, whether it is enabled and whether it is a deleted alarm's tombstone.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from aodh import service

from cfn_gateway.aodh_plugin.metric_evaluator import MetricAlarmEvaluator
from cfn_gateway.backends.openstack import aodh_mapping as mapping
from cfn_gateway.domain.alarms import ALARM, AlarmState


def main(conf_file: str, project_id: str, name: str) -> None:
    conf = service.prepare_service(argv=[], config_files=[conf_file])
    evaluator = MetricAlarmEvaluator(conf)
    alarm_id = mapping.alarm_id(project_id, name)
    (stale,) = evaluator._storage_conn.get_alarms(alarm_id=alarm_id)
    print("read", flush=True)
    sys.stdin.readline()
    alarm = mapping.alarm_from_aodh(stale.as_dict())
    now = datetime.now(UTC)
    new = AlarmState(value=ALARM, reason="a stale evaluation", updated_at=now,
                     transitioned_at=now, previous_value=alarm.state.value)
    evaluator.change_state(stale, alarm, new)
    (after,) = evaluator._storage_conn.get_alarms(alarm_id=alarm_id)
    print(json.dumps({"state": after.state, "enabled": after.enabled,
                      "tombstone": "deleted_at" in (after.rule or {})}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
