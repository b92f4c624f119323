"""The benchmark's requests, the signed ones built and signed by botocore itself.

botocore (a runtime dependency of the gateway) serializes and signs the call exactly as
boto3 would: JSON 1.0 with ``X-Amz-Target: GraniteServiceVersion20100801.<Op>`` and SigV4.
A ``before-send`` hook captures the prepared request and stops botocore there, so nothing is
sent by botocore; the captured method, path, headers and body are replayed by wrk.  With
``data_path`` (a folder holding a CloudWatch model whose ``protocols`` lists one protocol,
as ``tests/protocol_models.write_protocol_model`` writes it), botocore speaks that protocol,
e.g. Query, instead of JSON.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.config import Config
from loadgen import HTTPRequest

NAMESPACE = "Bench"
DATUMS = 20


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


class SignedRequests:
    """Builds freshly signed requests for one gateway endpoint and one credential."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str,
                 data_path: Path | None = None, compress: bool = True) -> None:
        """``compress=False`` turns off botocore's gzip of large bodies (PutMetricData
        from 10 KiB), for servers that cannot read it."""
        session = botocore.session.get_session()
        if data_path is not None:
            session.get_component("data_loader").search_paths.insert(0, str(data_path))
        self.client = session.create_client(
            "cloudwatch",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(retries={"max_attempts": 0, "mode": "standard"},
                          disable_request_compression=not compress),
        )
        self.client.meta.events.register("before-send.cloudwatch.*", _capture)
        self.host = urlsplit(endpoint).netloc

    def _call(self, method: str, **params: Any) -> HTTPRequest:
        try:
            getattr(self.client, method)(**params)
        except _Captured as captured:
            prepared = captured.request
        else:
            raise RuntimeError("botocore sent the request instead of handing it over")
        split = urlsplit(prepared.url)
        path = split.path or "/"
        if split.query:
            path += "?" + split.query
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        headers = {
            k: v.decode() if isinstance(v, bytes) else str(v) for k, v in prepared.headers.items()
        }
        headers.setdefault("Host", self.host)
        return HTTPRequest(prepared.method, path, headers, body)

    def call(self, method: str, **params: Any) -> HTTPRequest:
        """Any client method (``put_metric_data``, ``get_metric_statistics``...), signed."""
        return self._call(method, **params)

    def list_metrics(self) -> HTTPRequest:
        return self._call("list_metrics", Namespace=NAMESPACE)

    def put_metric_data(self, datums: int = DATUMS) -> HTTPRequest:
        """``datums`` datums (20 by default: 4 metrics x 5 hosts), one timestamp (now), the
        units a web tier sends."""
        now = time.time()
        metrics = [
            ("RequestLatency", "Milliseconds"),
            ("RequestCount", "Count"),
            ("CPUUtilization", "Percent"),
            ("NetworkOut", "Bytes"),
        ]
        data = [
            {
                "MetricName": name,
                "Dimensions": [
                    {"Name": "AutoScalingGroupName", "Value": "bench-web"},
                    {"Name": "InstanceId", "Value": f"i-0bench{host:010d}"},
                ],
                "Timestamp": now,
                "Value": 10.0 * (host + 1) + index,
                "Unit": unit,
            }
            for index, (name, unit) in enumerate(metrics)
            for host in range(max(1, datums // len(metrics)))
        ][:datums]
        return self._call("put_metric_data", Namespace=NAMESPACE, MetricData=data)


def health_check(host: str) -> HTTPRequest:
    return HTTPRequest("GET", "/healthcheck", {"Host": host})
