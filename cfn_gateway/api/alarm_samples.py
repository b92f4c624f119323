"""``POST /cfn-gateway/alarm-samples/v1``: the values an Aodh-evaluated alarm on an
extended statistic (a percentile, a trimmed mean, ...) is computed from.

Gnocchi keeps per-period sums, counts, minima and maxima, not the values; in OpenStack
mode the gateway keeps them (``MetricStore.samples``).  So the plugin's evaluator asks
the gateway that wrote the alarm (the ``action_url`` it gave the alarm) for one metric's
stored sample sets per period, with the alarm's callback token, and evaluates with the
same domain code as the standalone engine.

Body (JSON): ``project_id``, ``alarm_name``, ``token``, ``namespace``, ``metric_name``,
``dimensions`` (``[[name, value], ...]``), ``start`` and ``end`` (epoch milliseconds),
``period`` (seconds), ``unit`` (a string or null).  Only a metric the alarm reads with an
extended statistic is served: one of its own (``MetricStat``s), or one that
cfn-push-stats ``--watch`` feeds it (``alarm_inputs.watch_filter``).  Answers:
200 ``{"buckets": [{"start": ms, "unit": u, "samples": [[count, sum, min, max], ...]}]}``;
400, 403, 404, 405 for calls that do not qualify; 503 when a backend cannot be asked.
"""

from __future__ import annotations

import logging
from typing import Any

from cfn_gateway.api.alarm_callbacks import (
    CallbackRoute,
    Refused,
    called_back_alarm,
    post_body,
    strings,
)
from cfn_gateway.backends.metrics import AggregateRequest
from cfn_gateway.domain import alarm_inputs, periods
from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain.alarms import Alarm
from cfn_gateway.domain.metrics import BucketSamples, MetricKey
from cfn_gateway.middleware.wsgi import Environ

LOG = logging.getLogger(__name__)

PATH = "/cfn-gateway/alarm-samples/v1"
_FIELDS = ("project_id", "alarm_name", "token", "namespace", "metric_name")
#: The longest range one call may ask for (an alarm evaluates at most a day, plus the
#: bridged periods before it).
MAX_RANGE_SECONDS = 2 * 86400


class AlarmSamples(CallbackRoute):
    def handle(self, environ: Environ) -> dict[str, Any]:
        body = post_body(environ, PATH)
        request = strings(body, _FIELDS)
        key = MetricKey.of(request["namespace"], request["metric_name"],
                           _dimensions(body.get("dimensions")))
        start, end, period = (_integer(body, "start"), _integer(body, "end"),
                              _integer(body, "period"))
        unit = body.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise Refused(400, "unit must be a string or null.")
        if not 0 < period <= 86400 or not 0 <= end - start <= MAX_RANGE_SECONDS * 1000:
            raise Refused(400, "period or the range from start to end is out of bounds.")
        stored = called_back_alarm(self.backends.alarms, request["project_id"],
                                   request["alarm_name"], request["token"])
        if not _reads(stored.alarm, key):
            raise Refused(403, "The alarm does not read that metric with an extended "
                               "statistic.")
        metrics = self.backends.metrics
        if not metrics.keeps_values:
            raise Refused(404, "This gateway keeps no values ([gnocchi] keep_values).")
        (buckets,) = metrics.samples(request["project_id"], [AggregateRequest(
            key, periods.from_millis(start), periods.from_millis(end), period, unit)])
        return {"buckets": [_bucket(b) for b in buckets]}


def _reads(alarm: Alarm, key: MetricKey) -> bool:
    """Whether ``alarm`` reads ``key`` with an extended statistic, itself or through
    cfn-push-stats ``--watch``."""
    rule = alarm.metric_rule
    if rule is None:
        return False
    stats = [rule.metric] if rule.metric is not None else [
        q.metric_stat for q in rule.queries if q.metric_stat is not None]
    for stat in stats:
        if stat is None or not stat.extended:
            continue
        if stat.key == key:
            return True
        watched = alarm_inputs.watch_filter(alarm.name, stat.key)
        if watched is not None and dims.metric_matches(key, watched):
            return True
    return False


def _dimensions(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
            isinstance(pair, list) and len(pair) == 2
            and all(isinstance(part, str) for part in pair) for pair in value):
        raise Refused(400, "dimensions must be a list of [name, value] string pairs.")
    return tuple((name, text) for name, text in value)


def _integer(body: dict[str, Any], field: str) -> int:
    value = body.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Refused(400, f"{field} must be an integer.")
    return value


def _bucket(bucket: BucketSamples) -> dict[str, Any]:
    return {"start": periods.to_millis(bucket.start), "unit": bucket.unit,
            "samples": [[s.sample_count, s.sum, s.minimum, s.maximum]
                        for s in bucket.samples]}


def app_factory(global_conf: dict, **local_conf: str) -> AlarmSamples:
    return AlarmSamples()
