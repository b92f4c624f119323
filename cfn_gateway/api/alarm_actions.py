"""``POST /cfn-gateway/alarm-actions/v1``: alarm actions that Aodh's notifier hands back.

In OpenStack mode alarms change state inside Aodh and their actions run in aodh-notifier
(the plugin's notifier).  Webhooks it posts itself; an Auto Scaling policy ARN needs the
gateway, which holds the policies, so the notifier posts here (the alarm's ``action_url``)
a JSON body ``{"project_id", "alarm_name", "action", "state_value", "message", "token"}``.

The gateway runs the policy only when the alarm exists in that project, ``token`` is the
alarm's callback token (a random value the gateway gave the alarm when it was created and
that only Aodh holds), the action is one of the alarm's actions for ``state_value``, its
actions are enabled and the alarm is in that state now or left it at its latest
transition: an evaluator may move the alarm on before the notifier calls (a state that
SetAlarmState set lasts until the next evaluation, a second later on Aodh), and AWS runs
the actions of a transition however briefly the state lasted.  The notifier may also call
before Aodh shows the state at all: aodh-api sends a SetAlarmState's notification (the
plugin's update hook) before it stores the alarm, and under load the notifier's round
trip was seen to win; an alarm in neither state is therefore read again for up to
``STATE_WAIT_S`` before the call is refused.  Answers (JSON): 200 ``{"result":
"executed"}``; 422 ``{"error": ...}`` when the policy could not run (the notifier records
that text in the alarm's history); 400, 403, 404, 405, 409 for requests that do not
qualify; 503 when Aodh cannot be asked.  Standalone engines run actions in-process and
never call here (their alarms have no callback token, so every call answers 404).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from cfn_gateway.api.alarm_callbacks import (
    CallbackRoute,
    Refused,
    called_back_alarm,
    post_body,
    strings,
)
from cfn_gateway.api.autoscaling.group_support import scaling_settings
from cfn_gateway.common.clock import utcnow
from cfn_gateway.domain.alarms import Alarm, AlarmState
from cfn_gateway.engine.actions import ActionFailed, ScalingPolicies
from cfn_gateway.engine.policies import PolicyRunner
from cfn_gateway.engine.scaling import GroupScaler
from cfn_gateway.middleware.wsgi import Environ

LOG = logging.getLogger(__name__)

#: Seconds a call waits for Aodh to show the state it names, and between two reads.
STATE_WAIT_S = 3.0
STATE_POLL_S = 0.1

PATH = "/cfn-gateway/alarm-actions/v1"
_FIELDS = ("project_id", "alarm_name", "action", "state_value", "message", "token")


class AlarmActions(CallbackRoute):
    def __init__(self, policies: ScalingPolicies | None = None) -> None:
        super().__init__()
        self._policies = policies

    @property
    def policies(self) -> ScalingPolicies:
        """The given policies, or the gateway's own (its backends' groups)."""
        if self._policies is None:
            self._policies = PolicyRunner(
                GroupScaler.of(self.backends, utcnow, scaling_settings()), utcnow)
        return self._policies

    def handle(self, environ: Environ) -> dict[str, Any]:
        request = strings(post_body(environ, PATH), _FIELDS)
        state_value, action = request["state_value"], request["action"]
        alarm = self._alarm_from(request)
        if not alarm.actions_enabled or action not in alarm.actions_for(state_value):
            raise Refused(409, f"{action} is not an enabled action of the alarm for "
                               f"{state_value}.")
        give_up = time.monotonic() + STATE_WAIT_S
        while state_value not in (alarm.state.value, alarm.state.previous_value):
            if time.monotonic() >= give_up:
                raise Refused(409, f"The alarm is in {alarm.state.value} and did not come "
                                   f"from {state_value}.")
            time.sleep(STATE_POLL_S)  # not stored yet? (see the module's docstring)
            alarm = self._alarm_from(request)
        if not action.startswith("arn:aws:autoscaling:"):
            raise Refused(400, "Only Auto Scaling policy actions are run here.")
        try:
            self.policies.execute_from_alarm(request["project_id"], action, alarm.name,
                                             state_value, _with_reason_data(
                                                 request["message"], state_value, alarm.state))
        except ActionFailed as failure:
            raise Refused(422, str(failure)) from None
        return {"result": "executed"}

    def _alarm_from(self, request: dict[str, str]) -> Alarm:
        return called_back_alarm(self.backends.alarms, request["project_id"],
                                 request["alarm_name"], request["token"]).alarm


def _with_reason_data(message: str, state_value: str, state: AlarmState) -> str:
    """The notifier's message, with the reason data of the alarm's state when that is the
    state the request names and the notifier read the alarm before it was there: step and
    target tracking policies need its data points."""
    try:
        body = json.loads(message)
    except ValueError:
        return message
    if (not isinstance(body, dict) or body.get("NewStateReasonData")
            or state.value != state_value or not state.reason_data):
        return message
    body["NewStateReasonData"] = state.reason_data
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def app_factory(global_conf: dict, **local_conf: str) -> AlarmActions:
    return AlarmActions()
