"""A stand-in alarm store for the gateway's callback routes: one alarm of project ``p1``
and its callback token."""

from __future__ import annotations

from cfn_gateway.backends.alarms import StoredAlarm
from cfn_gateway.domain.alarms import Alarm

TOKEN = "s3cret-token"


class OneAlarm:
    def __init__(self, alarm: Alarm) -> None:
        self.alarm = alarm

    def get(self, project_id, name):
        if (project_id, name) != ("p1", self.alarm.name):
            return None
        return StoredAlarm(project_id, self.alarm, 1)

    def callback_token(self, project_id, name):
        return TOKEN if self.get(project_id, name) else None
