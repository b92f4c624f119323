"""The real, unmodified ``cfn-push-stats`` (heat-cfntools 2.0.0, boto 2.49) against the gateway.

The agent has fixed paths: its endpoint host comes from ``[Boto]
cloudwatch_region_endpoint`` in ``/var/lib/heat-cfntools/cfn-boto-cfg``, its dimensions
from ``/var/lib/heat-cfntools/nova_meta.json`` (without that file it fetches the metadata
service with curl), it logs to ``/var/log/cfn-push-stats.log``, and it always posts to
port 8003, path ``/v1/``, over http.  Each run here happens in a private mount and network
namespace (``unshare --mount --net``; the tests run as root): a temporary folder is bound
over ``/var/lib`` and ``/var/log``, a 64 MiB tmpfs with exactly 8 MiB used is the disk it
measures, and ``netns_relay`` carries its port 8003 to the gateway under test.  Nothing on
the host is touched, no fixed port is taken on the host, and the metadata service cannot be
reached.  Every test runs against both backends (``gateway``/``creds`` fixtures).

What the agent sends, and what the gateway keeps (namespace ``system/linux``, dimensions
``InstanceId`` and the server's metadata, plus ``AlarmName`` with ``--watch``):

==========================  =========================  ==============  ================
option                      metric                     unit sent       unit kept
==========================  =========================  ==============  ================
--cpu-util                  CPUUtilization             Percent         Percent
--disk-space-util           DiskSpaceUtilization       Percent         Percent
--disk-space-used/-avail    DiskSpaceUsed/-Available   megabytes, ...  Megabytes, ...
--heartbeat                 Heartbeat                  Counter         Count
--service-failure           ServiceFailure             Counter         Count
--metric X --units U        X                          U               standard unit
==========================  =========================  ==============  ================

``Counter`` and lower-case unit names are legacy spellings the gateway reads as AWS units
in Query requests (option ``query_legacy_units``, see ``cfn_gateway.domain.units``).

Not covered, because the agent itself fails before sending anything: ``--mem-util``,
``--mem-used``, ``--mem-avail`` (``psutil.phymem_usage``) and ``--swap-util``,
``--swap-used`` (``psutil.virtmem_usage``) call functions psutil removed in 2.0 (2014);
``test_memory_and_swap_fail_inside_the_agent`` pins that down, and the units those options
would send are covered through ``--metric``.  ``--haproxy``/``--haproxy-latency`` read
HAProxy's stats socket through ``socat``; with a real socket the agent fails under Python 3
(it strips ``bytes`` lines with a ``str``), so they are left out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.functional import boto2_clients, netns_relay
from tests.functional.clients import boto3_client
from tests.functional.server import BIN_DIR, Credentials, GatewayProcess, cfn_gateway_command

pytestmark = pytest.mark.functional

AGENT = BIN_DIR / "cfn-push-stats"
AGENT_PORT = 8003  # fixed in cfn-push-stats: CloudWatchConnection(port=8003, path="/v1")
NAMESPACE = "system/linux"
GROUP_NAME = "stack-WebServerGroup-1x2y3z"  # as Heat tags the members of a group

MIB = 1024 * 1024
DISK_SIZE = 64 * MIB  # the tmpfs the disk options measure
DISK_USED = 8 * MIB  # written into it before the agent runs
DISK_FREE = DISK_SIZE - DISK_USED

# Runs inside the namespace: $1 sandbox, $2 python, $3 relay script, $4 agent, then its args.
SANDBOX_SCRIPT = f"""
sandbox=$1 python=$2 relay=$3 agent=$4
shift 4
ip link set lo up
mount --bind "$sandbox/var-lib" /var/lib
mount --bind "$sandbox/var-log" /var/log
mount -t tmpfs -o size={DISK_SIZE} cfn-push-stats-disk "$sandbox/disk"
head -c {DISK_USED} /dev/zero > "$sandbox/disk/used"
exec "$python" "$relay" {AGENT_PORT} "$sandbox/gateway.sock" -- "$agent" "$@"
"""


@dataclass
class AgentRun:
    returncode: int
    stdout: str
    stderr: str
    log: str  # /var/log/cfn-push-stats.log as the agent wrote it (it logs with -v)
    connections: int  # connections the agent opened to port 8003

    def explain(self) -> str:
        return (f"exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}\n"
                f"log:\n{self.log}")


class PushStats:
    """cfn-push-stats as a server runs it, with its fixed paths in a private namespace."""

    def __init__(self, sandbox: Path, gateway: GatewayProcess, creds: Credentials) -> None:
        self.sandbox = sandbox
        self.heat_cfntools = sandbox / "var-lib" / "heat-cfntools"
        self.heat_cfntools.mkdir(parents=True)
        (sandbox / "var-log").mkdir()
        (sandbox / "disk").mkdir()
        # What Heat writes into a server it boots (cfn-boto-cfg; the credentials file is
        # the one templates pass with --credential-file).
        (self.heat_cfntools / "cfn-boto-cfg").write_text(
            "[Boto]\ndebug = 0\nis_secure = 0\nhttps_validate_certificates = 1\n"
            "cfn_region_name = heat\ncfn_region_endpoint = 127.0.0.1\n"
            "cloudwatch_region_name = heat\ncloudwatch_region_endpoint = 127.0.0.1\n")
        self.credential_file = sandbox / "cfn-credentials"
        self.credential_file.write_text(
            f"AWSAccessKeyId={creds.access_key}\nAWSSecretKey={creds.secret_key}\n")
        self.socket_path = sandbox / "gateway.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(16)
        gateway_address = ("127.0.0.1", gateway.port)

        def connect_gateway() -> socket.socket:
            upstream = socket.create_connection(gateway_address, timeout=10)
            upstream.settimeout(None)  # the gateway may take its time to answer
            return upstream

        self.relay = netns_relay.Relay(listener, connect_gateway).start()

    def close(self) -> None:
        self.relay.close()

    def run(self, *args: str, instance_id: str,
            server_metadata: dict[str, str] | None = None) -> AgentRun:
        """Run ``cfn-push-stats -v --credential-file ... ARGS`` on server ``instance_id``,
        whose Nova metadata (the agent's extra dimensions) is ``server_metadata``."""
        meta = {"uuid": instance_id, "name": "web-1",
                "meta": server_metadata or {"metering.groupname": GROUP_NAME}}
        (self.heat_cfntools / "nova_meta.json").write_text(json.dumps(meta))
        log_file = self.sandbox / "var-log" / "cfn-push-stats.log"
        log_file.unlink(missing_ok=True)
        before = self.relay.connections
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
        done = subprocess.run(
            ["unshare", "--mount", "--net", "--propagation", "private", "--",
             "sh", "-euc", SANDBOX_SCRIPT, "sh", str(self.sandbox), sys.executable,
             netns_relay.__file__, str(AGENT), "-v", "--credential-file",
             str(self.credential_file), *args],
            capture_output=True, text=True, timeout=120, env=env, check=False)
        log = log_file.read_text() if log_file.exists() else ""
        return AgentRun(done.returncode, done.stdout, done.stderr, log,
                        self.relay.connections - before)


def require_agent_sandbox() -> None:
    """Fail (a missing prerequisite is not a reason to skip) unless the agent is installed
    and ``PushStats`` can sandbox it."""
    if os.geteuid() != 0:
        pytest.fail("cfn-push-stats is sandboxed with unshare --mount --net: run as root")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("unshare (util-linux) and ip (iproute2) are needed to sandbox the agent")
    assert AGENT.exists(), f"{AGENT} missing: pip install -e '.[test]' (heat-cfntools)"


# The agent's fixed paths on the host: a run must leave them as they were.
HOST_PATHS = (Path("/var/lib/heat-cfntools"), Path("/var/log/cfn-push-stats.log"))


@pytest.fixture(scope="module")
def push_stats(gateway: GatewayProcess, creds: Credentials) -> Iterator[PushStats]:
    require_agent_sandbox()
    host_before = [path.exists() for path in HOST_PATHS]
    # A short folder: a Unix socket path must stay under 108 bytes.
    sandbox = Path(tempfile.mkdtemp(prefix="cfn-push-stats-"))
    log_start = len(gateway.log_text())
    agent = PushStats(sandbox, gateway, creds)
    try:
        yield agent
    finally:
        agent.close()
        shutil.rmtree(sandbox, ignore_errors=True)
    assert [path.exists() for path in HOST_PATHS] == host_before, "the agent touched the host"
    log = gateway.log_text()[log_start:]
    assert "Traceback" not in log, log[-4000:]
    assert "status=500" not in log, log[-4000:]


@pytest.fixture
def cloudwatch(gateway: GatewayProcess, creds: Credentials):
    return boto3_client("cloudwatch", gateway.endpoint, creds)


@pytest.fixture
def instance_id() -> str:
    """The server the agent runs on: a new one per test, so reruns never mix data."""
    return str(uuid.uuid4())


def server_dimensions(instance_id: str, **extra: str) -> dict[str, str]:
    return {"InstanceId": instance_id, "metering.groupname": GROUP_NAME, **extra}


def listed(cloudwatch, instance_id: str) -> dict[str, dict[str, str]]:
    """ListMetrics of the server: metric name -> its dimensions."""
    metrics = cloudwatch.list_metrics(
        Namespace=NAMESPACE, Dimensions=[{"Name": "InstanceId", "Value": instance_id}]
    )["Metrics"]
    assert {m["Namespace"] for m in metrics} <= {NAMESPACE}
    out = {m["MetricName"]: {d["Name"]: d["Value"] for d in m["Dimensions"]} for m in metrics}
    assert len(out) == len(metrics), metrics
    return out


def datapoints(cloudwatch, name: str, dimensions: dict[str, str],
               unit: str | None = None) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    params: dict[str, Any] = {
        "Namespace": NAMESPACE, "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "StartTime": now - dt.timedelta(minutes=10), "EndTime": now + dt.timedelta(minutes=1),
        "Period": 60, "Statistics": ["SampleCount", "Sum", "Minimum", "Maximum"],
    }
    if unit is not None:
        params["Unit"] = unit
    return cloudwatch.get_metric_statistics(**params)["Datapoints"]


def one_value(cloudwatch, name: str, dimensions: dict[str, str], unit: str) -> float:
    """The single datum the agent sent: its value, checked to be stored with ``unit``."""
    points = datapoints(cloudwatch, name, dimensions)
    assert [(p["Unit"], p["SampleCount"]) for p in points] == [(unit, 1.0)], points
    assert datapoints(cloudwatch, name, dimensions, unit) == points
    point = points[0]
    assert point["Sum"] == point["Minimum"] == point["Maximum"]
    return point["Sum"]


def sent(run: AgentRun, name: str, unit: str) -> bool:
    """Whether the agent's own log says it sent ``name`` with ``unit``."""
    return f"Sending metric {name}, Units {unit}," in run.log


def test_heartbeat_and_service_failure_with_watch(push_stats, cloudwatch, instance_id, gateway,
                                                  creds):
    run = push_stats.run("--heartbeat", "--service-failure", "--watch", "web-alarm",
                         instance_id=instance_id)
    assert run.returncode == 0, run.explain()
    assert sent(run, "Heartbeat", "Counter") and sent(run, "ServiceFailure", "Counter")
    dims = server_dimensions(instance_id, AlarmName="web-alarm")
    assert listed(cloudwatch, instance_id) == {"Heartbeat": dims, "ServiceFailure": dims}
    for name in ("Heartbeat", "ServiceFailure"):
        assert one_value(cloudwatch, name, dims, "Count") == 1.0
    # Asking with the legacy spelling: Query (boto 2, as the agent) reads it as Count; JSON
    # (boto3) keeps AWS's rule.
    now = dt.datetime.now(dt.UTC)
    legacy = boto2_clients.cloudwatch(gateway.endpoint, creds).get_metric_statistics(
        60, now - dt.timedelta(minutes=10), now + dt.timedelta(minutes=1), "Heartbeat",
        NAMESPACE, ["SampleCount"], dims, "Counter")
    assert [(p["Unit"], p["SampleCount"]) for p in legacy] == [("Count", 1.0)]
    with pytest.raises(ClientError, match="ValidationError"):
        datapoints(cloudwatch, "Heartbeat", dims, "Counter")


def test_heartbeat_without_watch(push_stats, cloudwatch, instance_id):
    run = push_stats.run("--heartbeat", instance_id=instance_id)
    assert run.returncode == 0, run.explain()
    dims = server_dimensions(instance_id)
    assert listed(cloudwatch, instance_id) == {"Heartbeat": dims}
    assert one_value(cloudwatch, "Heartbeat", dims, "Count") == 1.0


def test_cpu_util(push_stats, cloudwatch, instance_id):
    run = push_stats.run("--cpu-util", "--watch", "cpu-alarm", instance_id=instance_id)
    assert run.returncode == 0, run.explain()
    assert sent(run, "CPUUtilization", "Percent")
    dims = server_dimensions(instance_id, AlarmName="cpu-alarm")
    assert listed(cloudwatch, instance_id) == {"CPUUtilization": dims}
    assert 0.0 <= one_value(cloudwatch, "CPUUtilization", dims, "Percent") <= 100.0


@pytest.mark.parametrize(("disk_units", "unit", "scale"), [
    (None, "Megabytes", MIB),  # the agent's default --disk-units
    ("megabytes", "Megabytes", MIB),
    ("gigabytes", "Gigabytes", 1024 * MIB),
    ("kilobytes", "Kilobytes", 1024),
    ("bytes", "Bytes", 1),
])
def test_disk_space(push_stats, cloudwatch, instance_id, disk_units, unit, scale):
    units_args = ("--disk-units", disk_units) if disk_units else ()
    run = push_stats.run("--disk-space-util", "--disk-space-used", "--disk-space-avail",
                         "--disk-path", str(push_stats.sandbox / "disk"), *units_args,
                         instance_id=instance_id)
    assert run.returncode == 0, run.explain()
    assert sent(run, "DiskSpaceUsed", disk_units or "megabytes")
    dims = server_dimensions(instance_id)
    assert listed(cloudwatch, instance_id) == {
        "DiskSpaceUtilization": dims, "DiskSpaceUsed": dims, "DiskSpaceAvailable": dims}
    assert one_value(cloudwatch, "DiskSpaceUtilization", dims, "Percent") == 12.5
    assert one_value(cloudwatch, "DiskSpaceUsed", dims, unit) == DISK_USED / scale
    assert one_value(cloudwatch, "DiskSpaceAvailable", dims, unit) == DISK_FREE / scale


@pytest.mark.parametrize(("metric", "units", "value", "unit"), [
    ("Heartbeat", "Counter", "1", "Count"),
    ("RequestCount", "counter", "17", "Count"),
    ("MemoryUtilization", "percent", "42.5", "Percent"),  # what --mem-util would send
    ("MemoryUsed", "megabytes", "812.25", "Megabytes"),  # --mem-used, default units
    ("SwapUsed", "kilobytes", "2048", "Kilobytes"),  # --swap-used --memory-units kilobytes
    ("Throughput", "bytes/second", "1e6", "Bytes/Second"),
    ("Latency", "Seconds", "0.25", "Seconds"),  # a standard unit, as AWS spells it
])
def test_custom_metric(push_stats, cloudwatch, instance_id, metric, units, value, unit):
    run = push_stats.run("--metric", metric, "--units", units, "--value", value,
                         "--watch", "custom-alarm", instance_id=instance_id)
    assert run.returncode == 0, run.explain()
    assert sent(run, metric, units)
    dims = server_dimensions(instance_id, AlarmName="custom-alarm")
    assert listed(cloudwatch, instance_id) == {metric: dims}
    assert one_value(cloudwatch, metric, dims, unit) == float(value)


def test_unknown_units_are_refused(push_stats, cloudwatch, instance_id):
    run = push_stats.run("--metric", "Widgets", "--units", "Widgets", "--value", "3",
                         instance_id=instance_id)
    # boto raises the gateway's well-formed Query error, and the agent dies of it.
    assert run.returncode != 0, run.explain()
    assert run.connections >= 1
    assert "BotoServerError: 400 Bad Request" in run.stderr, run.explain()
    assert "<Code>ValidationError</Code>" in run.stderr, run.explain()
    assert "Value 'Widgets' at 'metricData.1.member.unit'" in run.stderr, run.explain()
    assert listed(cloudwatch, instance_id) == {}


@pytest.mark.parametrize(("option", "psutil_function"), [
    ("--mem-util", "phymem_usage"), ("--mem-used", "phymem_usage"),
    ("--mem-avail", "phymem_usage"), ("--swap-util", "virtmem_usage"),
    ("--swap-used", "virtmem_usage"),
])
def test_memory_and_swap_fail_inside_the_agent(push_stats, cloudwatch, instance_id, option,
                                               psutil_function):
    """heat-cfntools 2.0.0 calls psutil functions that psutil 2.0 removed: the agent dies
    before it connects to anything (an agent bug: nothing the gateway can answer)."""
    run = push_stats.run(option, instance_id=instance_id)
    assert run.returncode != 0, run.explain()
    assert f"AttributeError: module 'psutil' has no attribute '{psutil_function}'" in (
        run.stderr), run.explain()
    assert run.connections == 0
    assert listed(cloudwatch, instance_id) == {}


def evaluate_alarms(gateway: GatewayProcess, backend: str, at: dt.datetime) -> None:
    """Standalone: one engine pass as at ``at`` on the gateway's data folder (beside the
    engine serve runs: they claim alarms, never evaluating one twice).  OpenStack mode:
    Aodh's evaluators run every second on the test bed; nothing to do."""
    if backend != "standalone":
        return
    done = subprocess.run(
        [*cfn_gateway_command(), "engine", "--once", "--now", at.isoformat(),
         "--data-dir", str(gateway.data_dir)],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_watch_feeds_the_alarm_of_that_name(push_stats, cloudwatch, instance_id, gateway,
                                            backend, request):
    """Heat's HA templates: ``cfn-push-stats --heartbeat --watch NAME`` on the server, and an
    alarm NAME on Heartbeat in system/linux.  The agent adds AlarmName=NAME to the server's
    own dimensions; that data feeds the alarm (Heat's CloudWatch API did the same)."""
    name = f"heartbeat-{uuid.uuid4().hex[:8]}"
    cloudwatch.put_metric_alarm(
        AlarmName=name, Namespace=NAMESPACE, MetricName="Heartbeat", Statistic="SampleCount",
        Period=60, EvaluationPeriods=1, Threshold=1.0, TreatMissingData="notBreaching",
        ComparisonOperator="GreaterThanOrEqualToThreshold")
    request.addfinalizer(lambda: cloudwatch.delete_alarms(AlarmNames=[name]))
    run = push_stats.run("--heartbeat", "--watch", name, instance_id=instance_id)
    assert run.returncode == 0, run.explain()
    sent_at = dt.datetime.now(dt.UTC)
    # The heartbeat's minute counts once it is complete.
    next_minute = sent_at.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    evaluate_alarms(gateway, backend, next_minute + dt.timedelta(seconds=2))
    deadline = next_minute + dt.timedelta(seconds=40)
    while True:
        alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if alarm["StateValue"] == "ALARM" or dt.datetime.now(dt.UTC) > deadline:
            break
        time.sleep(0.5)
    assert alarm["StateValue"] == "ALARM", alarm
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [1.0]
    cloudwatch.delete_alarms(AlarmNames=[name])
