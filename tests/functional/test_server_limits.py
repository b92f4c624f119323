"""The server around the pipeline: late request bodies, a busy port, a killed serve process.

The tests start real ``cfn-gateway serve`` processes of their own (standalone: these are
properties of the server, the same in both modes), with a short ``request_body_timeout``,
and talk to them over raw sockets where the misbehaviour needed is one no client library
would commit on purpose.

- A request body that does not arrive within ``request_body_timeout`` is answered with
  ``RequestTimeout`` (400) in the request's own protocol, the connection is closed and
  nothing is stored; meanwhile other clients are served as usual.
- A second ``serve`` on a port in use exits with an error; the first keeps all traffic.
- ``kill -9`` of the serve process takes its workers along, and frees the port.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cbor2
import pytest
import requests

from cfn_gateway.server import lifeline
from tests.functional import raw
from tests.functional.clients import boto3_client
from tests.functional.server import (
    Credentials,
    GatewayProcess,
    cfn_gateway_command,
    free_port,
    parent_pid,
)

pytestmark = pytest.mark.functional

BODY_TIMEOUT = 4.0  # seconds; the gateway's default is 20
STALLED = 8
HEALTH_CHECKS = 7


def start_gateway(root: Path, name: str, port: int | None = None, config: str = "",
                  body_timeout: float = BODY_TIMEOUT) -> GatewayProcess:
    root.mkdir(parents=True, exist_ok=True)
    config_file = root / f"{name}.conf"
    config_file.write_text(f"[DEFAULT]\nrequest_body_timeout = {body_timeout}\n{config}")
    gateway = GatewayProcess(data_dir=root / f"{name}-data", port=port or free_port(),
                             log_path=root / f"{name}.log", config_file=config_file)
    gateway.start()
    return gateway


def kill_all(gateway: GatewayProcess) -> None:
    """Stop the gateway, and anything left of it in its process group."""
    gateway.stop()
    if gateway.process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(gateway.process.pid, signal.SIGKILL)
        gateway.process.wait(timeout=10)


@pytest.fixture(scope="module", params=[("native", 1), ("native", 3), ("granian", 1)],
                ids=["1-thread", "3-threads", "granian"])
def gateway(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """Two workers with 1 thread each (the app runs on the event loop's thread) or with 3
    (the app runs on a pool); the native server, or granian with the RSGI front."""
    server, threads = request.param
    with checked_gateway(tmp_path_factory.mktemp("limits"),
                         f"threads = {threads}\nhttp_server = {server}\n") as gateway:
        yield gateway


@contextlib.contextmanager
def checked_gateway(root: Path, config: str) -> Iterator[GatewayProcess]:
    """A gateway for a module's tests; once they are done, its log holds no traceback and
    no answer 500."""
    gateway = start_gateway(root, "gateway", config=config)
    try:
        yield gateway
    finally:
        kill_all(gateway)
    log = gateway.log_text()
    assert "Traceback" not in log, log[-4000:]
    assert "status=500" not in log, log[-4000:]


@pytest.fixture(scope="module")
def creds(gateway: GatewayProcess) -> Credentials:
    return gateway.create_credentials("limits")


# --- raw HTTP over a socket ---------------------------------------------------------------

def request_bytes(request, body: bytes | None = None,
                  headers: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    """The head (request line and headers) and body of a signed botocore request."""
    prepared = request.prepare()
    body = prepared.body if body is None else body
    if isinstance(body, str):
        body = body.encode()
    all_headers = dict(prepared.headers) | {"Content-Length": str(len(body or b""))} | (
        headers or {})
    path = prepared.url.split("://", 1)[1].partition("/")[2]
    head = f"{prepared.method} /{path} HTTP/1.1\r\nHost: {prepared.url.split('/')[2]}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in all_headers.items() if k.lower() != "host")
    return (head + "\r\n").encode(), body or b""


def connect(gateway: GatewayProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", gateway.port), timeout=10)


def read_answer(sock: socket.socket, timeout: float, close_within: float = 2.0
                ) -> tuple[http.client.HTTPResponse, bytes, bool]:
    """The response on ``sock``, its body, and whether the server then closed the
    connection (EOF within ``close_within`` seconds of the answer)."""
    sock.settimeout(timeout)
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    sock.settimeout(close_within)
    try:
        closed = sock.recv(1) == b""
    except TimeoutError:
        closed = False
    return response, body, closed


def error_code(response: http.client.HTTPResponse, body: bytes) -> str:
    query_error = response.getheader("x-amzn-query-error")
    if query_error:
        return query_error.split(";")[0]
    if "cbor" in (response.getheader("Content-Type") or ""):
        return cbor2.loads(body)["__type"]
    from lxml import etree

    return etree.fromstring(body).findtext(".//{*}Error/{*}Code")


def metric_names(gateway: GatewayProcess, creds: Credentials, namespace: str) -> list[str]:
    metrics = boto3_client("cloudwatch", gateway.endpoint, creds).list_metrics(
        Namespace=namespace)["Metrics"]
    return [m["MetricName"] for m in metrics]


def put_payload(namespace: str) -> dict:
    """One datum; its dimension value makes the body compress to less than half."""
    return {"Namespace": namespace, "MetricData": [{
        "MetricName": "Late", "Value": 1.0,
        "Dimensions": [{"Name": "Host", "Value": "host-" + "0" * 200}]}]}


def signed_put(gateway: GatewayProcess, creds: Credentials, namespace: str,
               headers: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    """The head and body of a signed 1-datum JSON PutMetricData (``put_payload``)."""
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                        put_payload(namespace)), creds)
    return request_bytes(request, headers=headers)


def late_requests(gateway: GatewayProcess, creds: Credentials,
                  namespace: str) -> dict[str, tuple[bytes, bytes]]:
    """Signed PutMetricData requests, one per protocol, as (head, the part of the body that
    is sent): each declares more bytes than it sends."""
    payload = put_payload(namespace)
    json_request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData", payload), creds)
    head, body = request_bytes(json_request, headers={"Content-Length": "100000"})
    forms = {"json": (head, body)}
    # What the JS SDK v3 sends with request compression: gzip on the wire, but the
    # uncompressed length as Content-Length.
    cbor = cbor2.dumps(payload)
    compressed = gzip.compress(cbor)
    cbor_request = raw.cbor_request(gateway.endpoint, "PutMetricData", compressed)
    cbor_request.headers["Content-Encoding"] = "gzip"
    head, body = request_bytes(raw.sign(cbor_request, creds),
                               headers={"Content-Length": str(len(cbor))})
    assert len(body) < len(cbor)
    forms["cbor"] = (head, body)
    query = raw.sign(raw.query_request(gateway.endpoint, {
        "Action": "PutMetricData", "Namespace": namespace,
        "MetricData.member.1.MetricName": "Late", "MetricData.member.1.Value": "1"}), creds)
    assert len(compressed) < len(cbor) // 2
    head, body = request_bytes(query)
    declared = f"Content-Length: {len(body)}\r\n".encode()
    assert head.count(declared) == 1
    forms["query"] = (head.replace(declared, f"Content-Length: {len(body) + 10}\r\n".encode()),
                      body)
    return forms


# --- 1. late bodies -------------------------------------------------------------------------

def test_a_late_body_gets_request_timeout_and_nothing_is_stored(gateway, creds):
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    sockets = {}
    started = time.monotonic()
    for protocol, (head, body) in late_requests(gateway, creds, namespace).items():
        sockets[protocol] = connect(gateway)
        sockets[protocol].sendall(head + body)
    request_ids = []
    try:
        for protocol, sock in sockets.items():
            response, body, closed = read_answer(sock, BODY_TIMEOUT + 10)
            waited = time.monotonic() - started
            assert (response.status, error_code(response, body)) == (400, "RequestTimeout"), (
                protocol, body[:300])
            assert closed, f"{protocol}: the connection was left open"
            assert BODY_TIMEOUT - 0.5 < waited < BODY_TIMEOUT + 5, (protocol, waited)
            request_ids.append(response.getheader("x-amzn-RequestId"))
    finally:
        for sock in sockets.values():
            sock.close()
    assert metric_names(gateway, creds, namespace) == []
    # Answered by the pipeline like any other error: an access log line each.
    log = gateway.log_text()
    for request_id in request_ids:
        assert request_id and f"request_id={request_id} " in log
        (line,) = [x for x in log.splitlines() if f"request_id={request_id} " in x]
        assert " status=400 " in line, line


def test_a_body_cut_short_by_the_client_is_not_processed(gateway, creds):
    """The JS SDK case once the client gives up: all the gzip bytes were sent, fewer than
    Content-Length (which is the uncompressed length), then the client closes its side.
    The bytes that did arrive are a whole gzip stream of a valid request: nothing of it
    may be stored all the same (the client saw a failure)."""
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    head, body = late_requests(gateway, creds, namespace)["cbor"]
    with connect(gateway) as sock:
        sock.sendall(head + body)
        time.sleep(0.5)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(BODY_TIMEOUT + 5)
        try:
            answer = sock.recv(65536)
        except OSError:
            answer = b""
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    time.sleep(0.5)
    assert metric_names(gateway, creds, namespace) == []


def timed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_stalled_bodies_do_not_hold_up_other_clients(gateway, creds):
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    stalled = []
    try:
        for _ in range(STALLED):
            sock = connect(gateway)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/x-amz-json-1.0\r\n"
                         b"X-Amz-Target: GraniteServiceVersion20100801.PutMetricData\r\n"
                         b"Content-Length: 100\r\n\r\n{\"Namespac")
            stalled.append(sock)
        time.sleep(0.3)  # the gateway has taken them in
        began = time.monotonic()
        client = boto3_client("cloudwatch", gateway.endpoint, creds)
        put_s = [timed(lambda: client.put_metric_data(
            Namespace=namespace, MetricData=[{"MetricName": "Served", "Value": 1.0}]))
            for _ in range(3)]
        with ThreadPoolExecutor(HEALTH_CHECKS) as pool:
            health = list(pool.map(
                lambda _: requests.get(gateway.endpoint + "/healthcheck", timeout=1.0),
                range(HEALTH_CHECKS)))
        checked_within = time.monotonic() - began
        assert max(put_s) < 1.0, put_s
        assert [r.status_code for r in health] == [200] * HEALTH_CHECKS
        assert checked_within < BODY_TIMEOUT - 1, "the checks ran after the stalls ended"
        for sock in stalled:  # still waiting: nobody has answered them yet
            sock.settimeout(0)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in stalled:
            sock.close()
    assert metric_names(gateway, creds, namespace) == ["Served"]


def test_a_body_sent_slowly_but_in_time_is_served(gateway, creds):
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    head, body = signed_put(gateway, creds, namespace)
    with connect(gateway) as sock:
        sock.sendall(head)
        for start in range(0, len(body), 20):  # the body over about a second
            time.sleep(1.0 / (len(body) / 20 + 1))
            sock.sendall(body[start:start + 20])
        response, answer, _ = read_answer(sock, BODY_TIMEOUT + 5, close_within=0.01)
    assert response.status == 200, answer[:300]
    assert metric_names(gateway, creds, namespace) == ["Late"]


# --- 2. a busy port ------------------------------------------------------------------------

def test_a_second_serve_on_a_busy_port_exits_and_the_first_keeps_all_traffic(
        gateway, creds, tmp_path):
    second = subprocess.Popen(
        [*cfn_gateway_command(), "serve", "--host", "127.0.0.1", "--port", str(gateway.port),
         "--data-dir", str(tmp_path / "second-data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = second.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(second.pid, signal.SIGKILL)
        second.communicate()
        pytest.fail("a second serve on the busy port kept running")
    assert second.returncode != 0
    assert f"port {gateway.port} is in use" in output.decode(errors="replace")
    # Every new connection reaches the first gateway: its credentials work on all of them
    # (a second gateway, with another data folder, would refuse them with 403).
    statuses = [raw.send(raw.sign(raw.json_request(gateway.endpoint, "ListMetrics", {}),
                                  creds)).status_code for _ in range(40)]
    assert statuses == [200] * 40


def test_the_first_serve_keeps_the_port_while_a_second_tries(tmp_path):
    """Two gateways started at the same moment on a free port: exactly one runs."""
    port = free_port()
    processes = [subprocess.Popen(
        [*cfn_gateway_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(tmp_path / f"data-{i}")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for i in range(2)]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and all(p.poll() is None for p in processes):
            time.sleep(0.1)
        time.sleep(1.0)
        running = [p for p in processes if p.poll() is None]
        assert len(running) == 1, [p.returncode for p in processes]
        assert requests.get(f"http://127.0.0.1:{port}/healthcheck", timeout=5).status_code == 200
    finally:
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=15)


def test_connections_opened_at_once_are_spread_over_the_workers(tmp_path):
    """32 keep-alive connections opened in one burst (a client pool): each worker serves
    some of them (with one shared accept queue, one worker often took them all)."""
    gateway = start_gateway(tmp_path, "spread")
    try:
        workers = gateway.worker_pids()
        assert len(workers) == 2, workers
        connections = [http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
                       for _ in range(32)]
        for connection in connections:
            connection.connect()
        for connection in connections:
            connection.request("GET", "/healthcheck")
            assert connection.getresponse().read() is not None
        served = {}
        for connection in connections:
            connection.request("GET", "/healthcheck")
            response = connection.getresponse()
            response.read()
            served[response.getheader("x-amzn-RequestId")] = response.status
        time.sleep(0.5)
        pids = {int(line.split()[2]) for line in gateway.log_text().splitlines()
                if "cfn_gateway.access" in line and "path=/healthcheck" in line}
        assert pids == set(workers), (pids, workers)
        for connection in connections:
            connection.close()
    finally:
        kill_all(gateway)


# --- 3. kill -9 ----------------------------------------------------------------------------

@pytest.mark.parametrize(("server", "body_timeout"), [
    ("native", BODY_TIMEOUT), ("native", 0), ("granian", BODY_TIMEOUT), ("granian", 0)],
    ids=["native", "native-no-deadline", "granian-rsgi-front", "granian-wsgi"])
def test_kill_9_of_serve_takes_its_workers_along_and_frees_the_port(tmp_path, server,
                                                                     body_timeout):
    """Every way of serving (with granian, ``request_body_timeout = 0`` is its WSGI
    interface)."""
    gateway = start_gateway(tmp_path, "killed", body_timeout=body_timeout,
                            config=f"http_server = {server}\n")
    restarted = None
    try:
        workers = gateway.worker_pids()
        assert len(workers) == 2, workers
        engines = gateway.engine_pids()
        assert len(engines) == 1, engines
        workers += engines
        assert gateway.process is not None
        os.kill(gateway.process.pid, signal.SIGKILL)
        gateway.process.wait(timeout=5)
        # SIGTERM at once (a graceful stop), os._exit at the latest (lifeline.LONGEST_S);
        # a second more for the exit itself on a loaded machine.
        deadline = time.monotonic() + lifeline.LONGEST_S + 1.0
        while time.monotonic() < deadline and any(parent_pid(w) is not None for w in workers):
            time.sleep(0.1)
        alive = [w for w in workers if parent_pid(w) is not None]
        assert alive == [], (f"workers outlived their serve process: {alive} (engine: "
                             f"{engines})\n{gateway.log_text()[-3000:]}")
        with pytest.raises(requests.ConnectionError):
            requests.get(gateway.endpoint + "/healthcheck", timeout=2)
        # The port is free: a new gateway starts on it and is the only one answering.
        restarted = start_gateway(tmp_path, "restarted", port=gateway.port,
                                  body_timeout=body_timeout,
                                  config=f"http_server = {server}\n")
        creds = restarted.create_credentials("restarted")
        for _ in range(10):
            boto3_client("cloudwatch", restarted.endpoint, creds).list_metrics()
    finally:
        kill_all(gateway)
        if restarted is not None:
            kill_all(restarted)


def test_sigterm_still_stops_serve_and_its_workers(tmp_path):
    """The lifeline does not get in the way of an ordinary graceful stop."""
    gateway = start_gateway(tmp_path, "stopped")
    try:
        workers = gateway.worker_pids()
        assert len(workers) == 2, workers
        workers += gateway.engine_pids()
        assert len(workers) == 3, workers
        gateway.stop()
        assert gateway.process is not None and gateway.process.returncode == 0
        assert [w for w in workers if parent_pid(w) is not None] == []
    finally:
        kill_all(gateway)
    assert "Traceback" not in gateway.log_text()
