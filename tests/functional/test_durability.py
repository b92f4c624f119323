"""Acknowledged data survive a crash: a gateway killed with SIGKILL (every process of it)
in the middle of a PutMetricData load keeps every datum it acknowledged.

Eight clients each send one datum per request, one request at a time, value = the
request's number, and record which requests were answered 200.  After the kill a new
gateway on the same data folder must hold, per client, every acknowledged datum: the
count is the acknowledged count, or one more when the request in flight at the kill was
stored without its answer arriving (then the sum says it was that one).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.functional.clients import boto3_client
from tests.functional.server import GatewayProcess, free_port

pytestmark = pytest.mark.functional
CLIENTS = 8


@pytest.mark.parametrize("threads", [1, 8])
def test_sigkill_keeps_every_acknowledged_datum(tmp_path, threads):
    config = tmp_path / "gw.conf"
    config.write_text(f"[DEFAULT]\nthreads = {threads}\n[alarms]\nengine_in_serve = false\n")
    first = GatewayProcess(data_dir=tmp_path / "data", port=free_port(),
                           log_path=tmp_path / "first.log", config_file=config)
    first.start()
    creds = first.create_credentials("durable")
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(
        minutes=5)
    acked: dict[int, list[int]] = {c: [] for c in range(CLIENTS)}
    stop = threading.Event()

    def client(number: int) -> None:
        cw = boto3_client("cloudwatch", first.endpoint, creds)
        sequence = 0
        while not stop.is_set():
            sequence += 1
            try:
                cw.put_metric_data(Namespace="Durable", MetricData=[{
                    "MetricName": "Acked", "Timestamp": minute, "Value": float(sequence),
                    "Dimensions": [{"Name": "Client", "Value": str(number)}]}])
            except (BotoCoreError, ClientError):
                return  # the gateway is gone
            acked[number].append(sequence)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 30.0  # a busy machine serves the load slower
        while (not all(len(done) >= 20 for done in acked.values())
               and time.monotonic() < deadline):
            time.sleep(0.1)
        assert all(len(done) >= 20 for done in acked.values()), "load before the kill"
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        first.stop()

    second = GatewayProcess(data_dir=tmp_path / "data", port=free_port(),
                            log_path=tmp_path / "second.log", config_file=config)
    second.start()
    try:
        cw = boto3_client("cloudwatch", second.endpoint, creds)
        for number, sequences in acked.items():
            (point,) = cw.get_metric_statistics(
                Namespace="Durable", MetricName="Acked",
                Dimensions=[{"Name": "Client", "Value": str(number)}],
                StartTime=minute, EndTime=minute + dt.timedelta(minutes=1), Period=60,
                Statistics=["SampleCount", "Sum", "Maximum"])["Datapoints"]
            count = len(sequences)
            assert sequences == list(range(1, count + 1))
            if point["SampleCount"] == count:
                assert point["Sum"] == count * (count + 1) / 2
            else:  # the request in flight was stored, its answer lost with the server
                assert point["SampleCount"] == count + 1, (number, point, count)
                assert point["Maximum"] == count + 1
    finally:
        second.stop()


def test_a_graceful_stop_leaves_no_sample_staged(tmp_path):
    """Workers fold the samples they staged when they stop (``metric_staging``), so a file
    left by a stopped gateway holds every datum where any version reads it."""
    import sqlite3

    gateway = GatewayProcess(data_dir=tmp_path / "data", port=free_port(),
                             log_path=tmp_path / "gateway.log")
    gateway.start()
    try:
        creds = gateway.create_credentials("folded")
        cw = boto3_client("cloudwatch", gateway.endpoint, creds)
        for n in range(20):  # over both workers
            cw.put_metric_data(Namespace="Folded", MetricData=[
                {"MetricName": "M", "Value": float(n),
                 "Dimensions": [{"Name": "Host", "Value": f"h{n % 4}"}]}])
    finally:
        gateway.stop()
    assert gateway.process is not None and gateway.process.returncode == 0
    store = sqlite3.connect(tmp_path / "data" / "store.sqlite3")
    try:
        assert store.execute("SELECT count(*) FROM metric_staged").fetchone() == (0,)
        assert store.execute("SELECT count(*), sum(sum) FROM metric_samples").fetchone() == (
            20, float(sum(range(20))))
    finally:
        store.close()
    assert "Traceback" not in gateway.log_text()
