"""The native HTTP/1.1 server of ``cfn-gateway serve`` (``cfn_gateway.server.http1`` and the
worker supervisor, ``cfn_gateway.server.workers``), over raw sockets.

- Heads: a late head gets 408, one too large 431, one that does not parse 400; each
  closes its connection, and the other clients are served meanwhile.
- Bodies: ``Expect: 100-continue`` is answered before the body is sent; a body declared
  larger than ``max_request_body_size`` is refused without being read; a chunked one is
  refused once it passes the limit; a chunked one within it is served.
- Pipelined requests are answered in order; ``Connection: close`` and HTTP/1.0 close.
- Workers: SIGHUP renews them while a client keeps sending, without a failed request; a
  worker that dies is replaced.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional import raw
from tests.functional.clients import boto3_client
from tests.functional.server import Credentials, GatewayProcess
from tests.functional.test_server_limits import (
    checked_gateway,
    connect,
    error_code,
    kill_all,
    metric_names,
    put_payload,
    read_answer,
    request_bytes,
    signed_put,
    start_gateway,
)

pytestmark = pytest.mark.functional

HEAD_TIMEOUT = 2.0
BODY_LIMIT = 4096


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with checked_gateway(tmp_path_factory.mktemp("http1"), (
            f"request_head_timeout = {HEAD_TIMEOUT}\nmax_request_body_size = {BODY_LIMIT}\n"
    )) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def creds(gateway: GatewayProcess) -> Credentials:
    return gateway.create_credentials("http1")


def answer_of(sock: socket.socket, timeout: float = 5.0
              ) -> tuple[http.client.HTTPResponse, bytes, bool]:
    return read_answer(sock, timeout)


class OneReader:
    """A socket's one buffered reader, for ``HTTPResponse``s read one after the other
    (each closes its reader once its body is read: here that does nothing)."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def makefile(self, mode: str) -> Any:
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def close(self) -> None:
        pass


def responses(sock: socket.socket, count: int) -> Iterator[tuple[http.client.HTTPResponse,
                                                                  bytes]]:
    """The next ``count`` answers on ``sock`` (pipelined requests'), with their bodies."""
    reader = OneReader(sock)
    for _ in range(count):
        response = http.client.HTTPResponse(reader)  # type: ignore[arg-type]
        response.begin()
        yield response, response.read()


def healthy(gateway: GatewayProcess) -> bool:
    return requests.get(gateway.endpoint + "/healthcheck", timeout=2).status_code == 200


# --- heads -----------------------------------------------------------------------------------

def test_a_late_head_gets_408_and_others_are_served_meanwhile(gateway):
    with connect(gateway) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n")
        assert healthy(gateway)
        response, _, closed = answer_of(sock, HEAD_TIMEOUT + 5)
        waited = time.monotonic() - started
    assert response.status == 408
    assert closed
    assert HEAD_TIMEOUT - 0.1 < waited < HEAD_TIMEOUT + 2, waited


def test_a_head_too_large_gets_431(gateway):
    with connect(gateway) as sock:
        sock.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n"
                     + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(70))
                     + b"\r\n")
        response, _, closed = answer_of(sock)
    assert (response.status, closed) == (431, True)


def test_a_request_that_does_not_parse_gets_400(gateway):
    with connect(gateway) as sock:
        sock.sendall(b"GET /healthcheck HTTP/1.1\r\nHost x\r\n\r\n")
        response, _, closed = answer_of(sock)
    assert (response.status, closed) == (400, True)


def test_a_percent_escaped_path_is_decoded_for_the_pipeline(gateway):
    with connect(gateway) as sock:
        sock.sendall(b"GET /%68ealth%63heck HTTP/1.1\r\nHost: x\r\n\r\n")
        response, body, closed = answer_of(sock, timeout=5)
    assert (response.status, body, closed) == (200, b"OK\n", False)


# --- bodies ----------------------------------------------------------------------------------

def test_expect_100_continue_is_answered_before_the_body(gateway, creds):
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    head, body = signed_put(gateway, creds, namespace, headers={"Expect": "100-continue"})
    with connect(gateway) as sock:
        sock.sendall(head)
        sock.settimeout(5)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        response, answer, closed = answer_of(sock)
    assert (response.status, closed) == (200, False), answer
    assert metric_names(gateway, creds, namespace) == ["Late"]


def test_a_body_declared_too_large_is_refused_without_being_read(gateway, creds):
    request = raw.sign(raw.json_request(gateway.endpoint, "ListMetrics", {}), creds)
    head, _ = request_bytes(request, headers={"Content-Length": str(BODY_LIMIT + 1)})
    with connect(gateway) as sock:
        sock.sendall(head)  # and not one byte of the body
        response, answer, closed = answer_of(sock)
    assert (response.status, error_code(response, answer), closed) == (
        413, "RequestEntityTooLarge", True)


def chunked(head: bytes, body: bytes, piece: int = 1000) -> bytes:
    """``head`` with its Content-Length replaced by chunked transfer, and ``body`` in
    chunks of ``piece`` bytes."""
    lines = [line for line in head.split(b"\r\n") if line
             and not line.lower().startswith(b"content-length:")]
    out = b"\r\n".join(lines) + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    for start in range(0, len(body), piece):
        part = body[start:start + piece]
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


def test_a_chunked_body_within_the_limit_is_served(gateway, creds):
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    head, body = signed_put(gateway, creds, namespace)
    with connect(gateway) as sock:
        sock.sendall(chunked(head, body, piece=50))
        response, answer, _ = answer_of(sock)
    assert response.status == 200, answer
    assert metric_names(gateway, creds, namespace) == ["Late"]


def test_a_chunked_body_past_the_limit_is_refused(gateway, creds):
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    payload = put_payload(namespace)
    payload["MetricData"][0]["Dimensions"][0]["Value"] = "h" * 250
    payload["MetricData"] *= 20  # about 6 KB
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData", payload), creds)
    head, body = request_bytes(request)
    assert len(body) > BODY_LIMIT
    with connect(gateway) as sock:
        sock.sendall(chunked(head, body))
        response, answer, closed = answer_of(sock)
    assert (response.status, error_code(response, answer), closed) == (
        413, "RequestEntityTooLarge", True)
    assert metric_names(gateway, creds, namespace) == []


# --- connections -----------------------------------------------------------------------------

def test_pipelined_requests_are_answered_in_order(gateway, creds):
    namespace = f"Test/{uuid.uuid4().hex[:12]}"
    put = signed_put(gateway, creds, namespace)
    listing = raw.sign(raw.json_request(gateway.endpoint, "ListMetrics",
                                        {"Namespace": namespace}), creds)
    health = b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(gateway) as sock:
        sock.sendall(b"".join([*put, health, *request_bytes(listing), health]))
        sock.settimeout(5)
        answers = list(responses(sock, 4))
    assert [response.status for response, _ in answers] == [200] * 4
    assert answers[1][1] == answers[3][1] == b"OK\n"
    assert b"Metrics" in answers[2][1] and b"Metrics" not in answers[0][1]


def test_connection_close_and_http_1_0_close_after_the_answer(gateway):
    for request in (b"GET /healthcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"GET /healthcheck HTTP/1.0\r\n\r\n"):
        with connect(gateway) as sock:
            sock.sendall(request)
            response, body, closed = answer_of(sock)
        assert (response.status, body, closed) == (200, b"OK\n", True), request


# --- workers ---------------------------------------------------------------------------------

def test_sighup_renews_the_workers_without_a_failed_request(tmp_path: Path):
    gateway = start_gateway(tmp_path, "renewed")
    try:
        creds = gateway.create_credentials("renewed")
        old = set(gateway.worker_pids())
        failures: list[BaseException] = []
        done = threading.Event()

        def keep_sending() -> None:
            client = boto3_client("cloudwatch", gateway.endpoint, creds)
            while not done.is_set():
                try:
                    client.list_metrics()
                except BaseException as error:  # reported below
                    failures.append(error)

        sender = threading.Thread(target=keep_sending)
        sender.start()
        try:
            time.sleep(0.5)
            assert gateway.process is not None
            os.kill(gateway.process.pid, signal.SIGHUP)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                current = set(gateway.worker_pids())
                if len(current) == 2 and not current & old:
                    break
                time.sleep(0.1)
            time.sleep(0.5)
        finally:
            done.set()
            sender.join(10)
        assert len(current) == 2 and not current & old, (old, current)
        assert failures == []
        assert healthy(gateway)
    finally:
        kill_all(gateway)
    assert "Traceback" not in gateway.log_text()


def test_a_worker_that_dies_is_replaced(tmp_path: Path):
    gateway = start_gateway(tmp_path, "respawn")
    try:
        victim, other = gateway.worker_pids()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            current = gateway.worker_pids()
            if len(current) == 2 and victim not in current:
                break
            time.sleep(0.1)
        assert len(current) == 2 and victim not in current and other in current, current
        assert all(healthy(gateway) for _ in range(10))
        assert "exited (signal 9): starting another" in gateway.log_text()
    finally:
        kill_all(gateway)


def test_a_path_with_escapes_that_are_not_utf8_is_signed_as_sent(gateway, creds):
    """SigV4 signs the path as the client sent it; the server hands the route filter the
    request target unchanged (``RAW_URI``), so ``%FF`` works too."""
    request = raw.sign(raw.json_request(gateway.endpoint + "/a%FF%20b", "ListMetrics", {}),
                       creds)
    response = raw.send(request)
    assert response.status_code == 200, response.text
