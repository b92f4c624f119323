"""The values of an alarm on an extended statistic, read from the gateway that wrote it.

Gnocchi keeps no values; the gateway does (``api/alarm_samples.py``).  ``GatewaySamples``
is the ``alarm_inputs.Samples`` reader of one alarm: it POSTs each metric's range to the
gateway's samples route, found beside the alarm's ``action_url`` (``.../alarm-actions/v1``
-> ``.../alarm-samples/v1``), with the alarm's callback token.  A gateway that cannot be
reached, or refuses, raises ``SamplesUnavailable``: the evaluator then leaves the alarm as
it is until the next evaluation.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from cfn_gateway.domain.metrics import BucketSamples, MetricKey, StatisticSet
from cfn_gateway.domain.periods import from_millis, to_millis

ACTIONS_ROUTE = "/alarm-actions/v1"
SAMPLES_ROUTE = "/alarm-samples/v1"
MAX_ANSWER = 64 * 1024 * 1024


class SamplesUnavailable(Exception):
    """The gateway did not give the values (unreachable, refused, or a bad answer)."""


def samples_url(action_url: str) -> str | None:
    """The gateway's samples route for an alarm whose actions call back ``action_url``."""
    if not action_url.endswith(ACTIONS_ROUTE):
        return None
    return action_url[:-len(ACTIONS_ROUTE)] + SAMPLES_ROUTE


class GatewaySamples:
    """``alarm_inputs.Samples`` for one alarm of ``project_id``."""

    def __init__(self, rule: dict[str, Any], project_id: str, alarm_name: str,
                 timeout: float) -> None:
        self._url = samples_url(rule.get("action_url") or "")
        self._token = rule.get("action_token")
        self._project_id = project_id
        self._alarm_name = alarm_name
        self._timeout = timeout

    def __call__(self, key: MetricKey, start: datetime, end: datetime, period: int,
                 unit: str | None) -> list[BucketSamples]:
        if not self._url or not self._token:
            raise SamplesUnavailable("the alarm names no gateway to read values from")
        body = json.dumps({
            "project_id": self._project_id, "alarm_name": self._alarm_name,
            "token": self._token, "namespace": key.namespace, "metric_name": key.name,
            "dimensions": [list(pair) for pair in key.dimensions],
            "start": to_millis(start), "end": to_millis(end), "period": period,
            "unit": unit}).encode("utf-8")
        request = urllib.request.Request(self._url, data=body, method="POST", headers={
            "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                found = json.loads(answer.read(MAX_ANSWER))
            return [_bucket(item) for item in found["buckets"]]
        except urllib.error.HTTPError as refused:
            raise SamplesUnavailable(f"the gateway answered HTTP {refused.code}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SamplesUnavailable(f"the gateway's values could not be read: {exc}") from None


def _bucket(item: dict[str, Any]) -> BucketSamples:
    return BucketSamples(from_millis(int(item["start"])), str(item["unit"]), tuple(
        StatisticSet(float(count), float(total), float(low), float(high))
        for count, total, low, high in item["samples"]))
