"""The gateway's samples route for Aodh-evaluated alarms (``api/alarm_samples.py``) read
by the plugin's client (``aodh_plugin/gateway_samples.py``) over real HTTP, on a real
SQLite metric store; the alarm store is a stand-in holding one alarm and its token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from cfn_gateway.aodh_plugin.gateway_samples import (
    GatewaySamples,
    SamplesUnavailable,
    samples_url,
)
from cfn_gateway.api.alarm_samples import AlarmSamples
from cfn_gateway.domain import statistics
from cfn_gateway.domain.alarms import Alarm, AlarmState, MetricAlarmRule, MetricStat
from cfn_gateway.domain.metrics import Datum, MetricKey
from tests.unit.api.one_alarm import TOKEN, OneAlarm

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KEY = MetricKey.of("App", "Latency", [("Host", "a")])


def alarm_on(statistic: str, key: MetricKey = KEY, name: str = "slow") -> Alarm:
    return Alarm(name=name, arn="arn", configuration_updated_at=NOW,
                 state=AlarmState.initial(NOW), metric_rule=MetricAlarmRule(
                     comparison="GreaterThanThreshold", evaluation_periods=1,
                     datapoints_to_alarm=1, threshold=1.0,
                     metric=MetricStat(key, 60, statistic)))


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(store) -> Iterator[SimpleNamespace]:
    store.put("p1", [Datum(KEY, t, "None", 60, tuple(statistics.from_values(
        [float(v) for v in range(n)], None))) for t, n in ((NOW, 3),
                                                           (NOW + timedelta(minutes=1), 2))],
              NOW)
    state = SimpleNamespace(alarms=OneAlarm(alarm_on("p90")), metrics=store)
    server = make_server("127.0.0.1", 0, AlarmSamples(state), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/cfn-gateway/alarm-actions/v1"
    yield state
    server.shutdown()
    server.server_close()


def reader(gateway, name: str = "slow", token: str = TOKEN) -> GatewaySamples:
    return GatewaySamples({"action_url": gateway.url, "action_token": token}, "p1", name,
                          timeout=5.0)


def test_the_plugin_reads_the_values_of_its_alarm(gateway):
    buckets = reader(gateway)(KEY, NOW, NOW + timedelta(minutes=2), 60, None)
    assert [(b.start, sorted(s.sum for s in b.samples)) for b in buckets] == [
        (NOW, [0.0, 1.0, 2.0]), (NOW + timedelta(minutes=1), [0.0, 1.0])]
    assert all(s.sample_count == 1.0 for b in buckets for s in b.samples)


@pytest.mark.parametrize(("change", "status"), [
    ({"token": "wrong"}, "403"),
    ({"name": "other"}, "404"),
    ({"key": MetricKey.of("App", "Latency", [("Host", "b")])}, "403"),
])
def test_calls_that_do_not_qualify_are_refused(gateway, change, status):
    read = reader(gateway, name=change.get("name", "slow"), token=change.get("token", TOKEN))
    with pytest.raises(SamplesUnavailable, match=status):
        read(change.get("key", KEY), NOW, NOW + timedelta(minutes=2), 60, None)


def test_an_alarm_on_a_standard_statistic_reads_no_values(gateway):
    gateway.alarms.alarm = alarm_on("Average")
    with pytest.raises(SamplesUnavailable, match="403"):
        reader(gateway)(KEY, NOW, NOW + timedelta(minutes=2), 60, None)


def test_watched_metrics_of_the_alarm_are_served(gateway, store):
    """cfn-push-stats --watch: a metric of the alarm's namespace and name with the
    dimension AlarmName=<alarm> feeds the alarm."""
    watched_key = MetricKey.of("system/linux", "Latency", [("AlarmName", "slow"),
                                                            ("InstanceId", "i-1")])
    gateway.alarms.alarm = alarm_on("p50", MetricKey.of("system/linux", "Latency"))
    store.put("p1", [Datum(watched_key, NOW, "None", 60, (statistics.single(7.0),))], NOW)
    (bucket,) = reader(gateway)(watched_key, NOW, NOW + timedelta(minutes=1), 60, None)
    assert [s.sum for s in bucket.samples] == [7.0]


def test_bad_bodies_and_ranges(gateway):
    import json
    import urllib.error
    import urllib.request

    url = samples_url(gateway.url)
    assert url is not None and url.endswith("/cfn-gateway/alarm-samples/v1")
    good = {"project_id": "p1", "alarm_name": "slow", "token": TOKEN, "namespace": "App",
            "metric_name": "Latency", "dimensions": [["Host", "a"]], "start": 0,
            "end": 60_000, "period": 60, "unit": None}
    for bad in ({"dimensions": "Host=a"}, {"start": "0"}, {"period": 0},
                {"end": 10 * 86400 * 1000}, {"unit": 5}, {"token": None}):
        request = urllib.request.Request(url, data=json.dumps(good | bad).encode(),
                                         method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400, bad
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)  # GET
    assert refused.value.code == 405
    assert samples_url("http://gw/somewhere/else") is None
