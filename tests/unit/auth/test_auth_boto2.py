"""Requests signed by boto 2.49 (SigV4 with host-derived scopes, SigV2) verify.

Besides the handlers called directly, two tests run boto 2's CloudWatch and Auto Scaling
connections against a local HTTP server that records the raw request, as cfn-push-stats
sends it (POST /v1/ on port 8003 style endpoint, SigV4, scope from the host name).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from boto.ec2.autoscale import AutoScaleConnection
from boto.ec2.cloudwatch import CloudWatchConnection
from boto.regioninfo import RegionInfo

from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.context import AUTOSCALING

from .conftest import MAX_SKEW
from .samples import PUSH_STATS
from .wire import boto2_signed, boto2_v2_handler, boto2_v4_handler, to_aws_request


@pytest.mark.parametrize(
    ("host", "port", "scope_region", "scope_service"),
    [
        ("127.0.0.1", 8003, "0", "127"),
        ("10.0.0.5", 80, "0", "10"),
        ("localhost", 8080, "localhost", "localhost"),
        ("monitoring.example.com", 80, "us-east-1", "monitoring"),
        ("monitoring.RegionOne.example.com", 8003, "RegionOne", "monitoring"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sigv4_host_derived_scope(verify, cred, host, port, scope_region, scope_service, method):
    handler = boto2_v4_handler(host, cred.access_key, cred.secret_key)
    request = boto2_signed(handler, method, host, port, "/v1/", PUSH_STATS)
    signed = signed_request_from(request, datetime.now(UTC), MAX_SKEW)
    assert signed.scope is not None
    assert (signed.scope.region, signed.scope.service) == (scope_region, scope_service)
    assert request.host == (host if port == 80 else f"{host}:{port}")
    if method == "GET":
        assert request.query_string and not request.body
    else:
        assert request.body and not request.query_string
    assert verify(request).project_id == "project-a"


def test_sigv4_paths(verify, cred):
    handler = boto2_v4_handler("127.0.0.1", cred.access_key, cred.secret_key)
    for path in ["/", "/v1", "/v1/", "/a/./b/", "//v1/"]:
        request = boto2_signed(handler, "GET", "127.0.0.1", 8003, path, PUSH_STATS)
        assert verify(request).project_id == "project-a", path


def test_sigv4_quoted_header_value_keeps_inner_spaces(verify, cred):
    handler = boto2_v4_handler("127.0.0.1", cred.access_key, cred.secret_key)
    request = boto2_signed(handler, "GET", "127.0.0.1", 8003, "/", PUSH_STATS,
                           headers={"X-Amz-Meta": 'a  "b   c"'})
    assert verify(request).project_id == "project-a"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("sha1", [False, True])
def test_sigv2(verify, cred, method, sha1):
    handler = boto2_v2_handler("127.0.0.1", cred.access_key, cred.secret_key, sha1=sha1)
    request = boto2_signed(handler, method, "127.0.0.1", 8003, "/v1/", PUSH_STATS)
    signed = signed_request_from(request, datetime.now(UTC), MAX_SKEW)
    assert signed.algorithm == ("HmacSHA1" if sha1 else "HmacSHA256")
    assert request.host == "127.0.0.1"  # boto 2 leaves the port out of Host and signature
    assert verify(request).project_id == "project-a"


def test_sigv2_host_in_capitals(verify, cred):
    handler = boto2_v2_handler("GW.Example.COM", cred.access_key, cred.secret_key)
    request = boto2_signed(handler, "GET", "GW.Example.COM", 80, "/", PUSH_STATS)
    assert request.host == "GW.Example.COM"
    assert verify(request).project_id == "project-a"


# --- boto 2 connections over a real socket ------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Recorder.seen.append((self.command, self.path, dict(self.headers.items()), body))
        reply = b"<Response><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>" \
            b"</Response>"
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _record

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    Recorder.seen = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _connection_kwargs(cred, port):
    return {
        "aws_access_key_id": cred.access_key,
        "aws_secret_access_key": cred.secret_key,
        "is_secure": False,
        "port": port,
        "region": RegionInfo(name="RegionOne", endpoint="127.0.0.1"),
    }


def test_cloudwatch_connection_like_cfn_push_stats(verify, cred, recorder):
    conn = CloudWatchConnection(path="/v1/", **_connection_kwargs(cred, recorder))
    conn.num_retries = 0
    conn.put_metric_data("system/linux", "MemoryUtilization", 42.0, unit="Percent",
                         dimensions={"AutoScalingGroupName": "stack-grp"})
    conn.list_metrics(namespace="system/linux")
    assert [m for m, *_ in Recorder.seen] == ["POST", "GET"]
    for method, target, headers, body in Recorder.seen:
        assert target.startswith("/v1/")
        request = to_aws_request(method, target, headers, body)
        assert "Credential=" in request.headers["authorization"]
        assert verify(request).project_id == "project-a"


def test_autoscale_connection(verify, cred, recorder):
    conn = AutoScaleConnection(**_connection_kwargs(cred, recorder))
    conn.num_retries = 0
    conn.get_all_groups(names=["grp one"])
    ((method, target, headers, body),) = Recorder.seen
    request = to_aws_request(method, target, headers, body, service=AUTOSCALING)
    assert verify(request).project_id == "project-a"
