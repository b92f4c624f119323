"""Latency the gateway adds in OpenStack mode, against the standalone gateway in one run.

Starts two real gateways on 127.0.0.1 — standalone (SQLite, local credentials: the
baseline) and OpenStack mode on the running test bed (Keystone ec2tokens, Gnocchi) — and
times the same boto3 calls against each: a one-datum PutMetricData (what cfn-push-stats
sends), ListMetrics and a one-hour GetMetricStatistics.  Prints median and p90 per call.

    tools/testbed/up.sh && .venv/bin/python bench/openstack_latency.py [--calls 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.functional.clients import boto3_client  # noqa: E402
from tests.functional.conftest import openstack_config, tenant_credentials  # noqa: E402
from tests.functional.server import GatewayProcess, free_port  # noqa: E402
from tests.testbed import load_testbed  # noqa: E402


def timed(call: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def scenarios(client, namespace: str) -> dict[str, Callable[[], object]]:
    now = dt.datetime.now(dt.UTC)
    return {
        "PutMetricData (1 datum)": lambda: client.put_metric_data(
            Namespace=namespace, MetricData=[{"MetricName": "Bench", "Value": 1.0,
                                              "Dimensions": [{"Name": "Host", "Value": "h"}]}]),
        "ListMetrics": lambda: client.list_metrics(Namespace=namespace),
        "GetMetricStatistics (1 h at 60 s)": lambda: client.get_metric_statistics(
            Namespace=namespace, MetricName="Bench", Dimensions=[{"Name": "Host", "Value": "h"}],
            StartTime=now - dt.timedelta(hours=1), EndTime=now, Period=60,
            Statistics=["Average", "Maximum"]),
    }


def measure(gateway: GatewayProcess, creds, calls: int) -> dict[str, list[float]]:
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    namespace = f"Bench/{uuid.uuid4().hex[:8]}"
    results = {}
    for name, call in scenarios(client, namespace).items():
        timed(call, 3)  # warm-up: first resource creation, connections, caches
        results[name] = timed(call, calls)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    testbed = load_testbed()
    if testbed is None:
        print("no test bed: run tools/testbed/up.sh first", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="cfngw-bench-"))
    standalone = GatewayProcess(root / "sa", free_port(), root / "sa.log")
    openstack = GatewayProcess(root / "os", free_port(), root / "os.log",
                               config_file=openstack_config(root / "os.conf", testbed))
    results = {}
    try:
        standalone.start()
        openstack.start()
        results["standalone"] = measure(
            standalone, standalone.create_credentials("bench"), args.calls)
        results["openstack"] = measure(openstack, tenant_credentials(testbed, 0), args.calls)
    finally:
        standalone.stop()
        openstack.stop()
    print(f"{'call':36} {'standalone p50/p90 ms':>22} {'openstack p50/p90 ms':>22} "
          f"{'added p50 ms':>13}")
    for name in results["standalone"]:
        base, other = results["standalone"][name], results["openstack"][name]
        p = [statistics.median(base), statistics.quantiles(base, n=10)[-1],
             statistics.median(other), statistics.quantiles(other, n=10)[-1]]
        print(f"{name:36} {p[0]:>10.1f} / {p[1]:<9.1f} {p[2]:>10.1f} / {p[3]:<9.1f} "
              f"{p[2] - p[0]:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
