"""One small interface over every client flavour, so one test covers them all.

Each adapter puts datapoints, lists metrics and reads statistics through a real client
speaking its own protocol and signature version to the gateway.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.functional import boto2_clients
from tests.functional.clients import aws_cli, boto3_client
from tests.functional.server import Credentials
from tests.protocol_models import write_protocol_model

STATISTICS = ["SampleCount", "Sum", "Average", "Minimum", "Maximum"]


@dataclass(frozen=True)
class Point:
    timestamp: dt.datetime
    stats: dict[str, float]
    unit: str


class MetricClient(Protocol):
    def put(self, namespace: str, name: str, dims: dict[str, str], value: float,
            timestamp: dt.datetime, unit: str) -> None: ...

    def list(self, namespace: str) -> list[tuple[str, dict[str, str]]]: ...

    def stats(self, namespace: str, name: str, dims: dict[str, str], start: dt.datetime,
              end: dt.datetime, period: int) -> list[Point]: ...


def _dims(dims: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in dims.items()]


class Boto3Metrics:
    def __init__(self, client: Any) -> None:
        self.client = client

    def put(self, namespace, name, dims, value, timestamp, unit):
        self.client.put_metric_data(Namespace=namespace, MetricData=[{
            "MetricName": name, "Dimensions": _dims(dims), "Value": value,
            "Timestamp": timestamp, "Unit": unit}])

    def list(self, namespace):
        pages = self.client.get_paginator("list_metrics").paginate(Namespace=namespace)
        return [(m["MetricName"], {d["Name"]: d["Value"] for d in m.get("Dimensions", [])})
                for page in pages for m in page["Metrics"]]

    def stats(self, namespace, name, dims, start, end, period):
        out = self.client.get_metric_statistics(
            Namespace=namespace, MetricName=name, Dimensions=_dims(dims), StartTime=start,
            EndTime=end, Period=period, Statistics=STATISTICS)
        return [Point(p["Timestamp"], {s: p[s] for s in STATISTICS}, p["Unit"])
                for p in out["Datapoints"]]


class CliMetrics:
    def __init__(self, endpoint: str, creds: Credentials) -> None:
        self.endpoint, self.creds = endpoint, creds

    def _run(self, *args: str) -> dict:
        done = aws_cli(self.endpoint, self.creds, "cloudwatch", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def put(self, namespace, name, dims, value, timestamp, unit):
        datum = {"MetricName": name, "Dimensions": _dims(dims), "Value": value,
                 "Timestamp": timestamp.isoformat(), "Unit": unit}
        self._run("put-metric-data", "--namespace", namespace,
                  "--metric-data", json.dumps([datum]))

    def list(self, namespace):
        out = self._run("list-metrics", "--namespace", namespace)
        return [(m["MetricName"], {d["Name"]: d["Value"] for d in m.get("Dimensions", [])})
                for m in out["Metrics"]]

    def stats(self, namespace, name, dims, start, end, period):
        out = self._run(
            "get-metric-statistics", "--namespace", namespace, "--metric-name", name,
            "--dimensions", json.dumps(_dims(dims)), "--start-time", start.isoformat(),
            "--end-time", end.isoformat(), "--period", str(period),
            "--statistics", *STATISTICS)
        return [Point(cli_time(p["Timestamp"]), {s: p[s] for s in STATISTICS}, p["Unit"])
                for p in out["Datapoints"]]


def cli_time(value: str | float) -> dt.datetime:
    """AWS CLI v1 prints timestamps as the wire had them: epoch (JSON) or ISO (Query)."""
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class Boto2Metrics:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def put(self, namespace, name, dims, value, timestamp, unit):
        assert self.conn.put_metric_data(namespace, name, value=value,
                                         timestamp=timestamp.replace(tzinfo=None),
                                         unit=unit, dimensions=dims)

    def list(self, namespace):
        metrics = self.conn.list_metrics(namespace=namespace)
        return [(m.name, {k: v[0] for k, v in m.dimensions.items()}) for m in metrics]

    def stats(self, namespace, name, dims, start, end, period):
        points = self.conn.get_metric_statistics(
            period, start.replace(tzinfo=None), end.replace(tzinfo=None), name, namespace,
            STATISTICS, dimensions=dims)
        return [Point(p["Timestamp"].replace(tzinfo=dt.UTC),
                      {s: p[s] for s in STATISTICS}, p["Unit"]) for p in points]


FLAVOURS = ["boto3-json", "boto3-query", "boto3-cbor", "aws-cli", "boto2-sigv4", "boto2-sigv2"]


#: The wire protocols boto3 can speak to CloudWatch (its default: JSON).
PROTOCOLS = ["json", "query", "smithy-rpc-v2-cbor"]


def cloudwatch_client(protocol: str, endpoint: str, creds: Credentials, models: Path) -> Any:
    """A boto3 CloudWatch client speaking ``protocol`` (its model rewritten into
    ``models`` for the protocols other than its default)."""
    if protocol == "json":
        return boto3_client("cloudwatch", endpoint, creds)
    client = boto3_client("cloudwatch", endpoint, creds, write_protocol_model(models, protocol))
    assert client.meta.service_model.protocol == protocol
    return client


def metric_client(flavour: str, endpoint: str, creds: Credentials, models: Path) -> MetricClient:
    if flavour == "boto3-json":
        return Boto3Metrics(cloudwatch_client("json", endpoint, creds, models))
    if flavour in ("boto3-query", "boto3-cbor"):
        protocol = "query" if flavour == "boto3-query" else "smithy-rpc-v2-cbor"
        return Boto3Metrics(cloudwatch_client(protocol, endpoint, creds, models))
    if flavour == "aws-cli":
        return CliMetrics(endpoint, creds)
    signature = "v2" if flavour == "boto2-sigv2" else "v4"
    return Boto2Metrics(boto2_clients.cloudwatch(endpoint, creds, signature))
