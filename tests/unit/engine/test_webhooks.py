"""WebhookSender against real receivers on 127.0.0.1: delivery, retries, isolation, shutdown."""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cfn_gateway.engine.webhooks import (
    CANCELLED_DETAIL,
    DeliveryResult,
    RetryPolicy,
    WebhookSender,
)

FAST = RetryPolicy(attempts=4, first_delay=0.02, max_delay=0.1, timeout=1.0)


class Receiver:
    """A threaded HTTP server answering POSTs with scripted statuses (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[dict[str, object]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "version": self.request_version,
                            "headers": dict(self.headers.items()),
                            "body": body,
                        }
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                reply = b'{"ok": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, fmt: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Results:
    """Collects on_done calls, with the time each arrived."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[float, DeliveryResult, str]] = queue.Queue()

    def __call__(self, result: DeliveryResult) -> None:
        self.queue.put((time.monotonic(), result, threading.current_thread().name))

    def get(self, timeout: float = 5.0) -> DeliveryResult:
        return self.queue.get(timeout=timeout)[1]

    def get_timed(self, timeout: float = 5.0) -> tuple[float, DeliveryResult, str]:
        return self.queue.get(timeout=timeout)


def hanging_listener() -> socket.socket:
    """A socket that completes TCP handshakes (backlog) but never accepts or answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def make_sender(policy: RetryPolicy = FAST, **kwargs: object) -> WebhookSender:
    sender = WebhookSender(policy, **kwargs)  # type: ignore[arg-type]
    sender.start()
    return sender


@pytest.fixture
def sender() -> Iterator[WebhookSender]:
    s = make_sender()
    yield s
    s.stop(timeout=1.0)


def test_success(sender: WebhookSender, receiver: Receiver) -> None:
    results = Results()
    assert sender.send(receiver.url(), b"{}", results) is True
    _, result, thread_name = results.get_timed()
    assert result == DeliveryResult(receiver.url(), True, 1, 200, "HTTP 200")
    assert thread_name == "webhook-sender"
    deadline = time.monotonic() + 2
    while sender.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sender.pending() == 0


def test_body_and_headers_received_exactly(receiver: Receiver) -> None:
    sender = make_sender(user_agent="test-agent/1")
    body = b'{"AlarmName": "cpu-high", "NewStateValue": "ALARM", "note": "caf\xc3\xa9"}' * 50
    results = Results()
    url = f"http://127.0.0.1:{receiver.port}/a/b?x=1&y=two#frag"
    try:
        sender.send(url, body, results)
        assert results.get().ok
    finally:
        sender.stop()
    (request,) = receiver.requests
    assert request["body"] == body
    assert request["path"] == "/a/b?x=1&y=two"
    assert request["version"] == "HTTP/1.1"
    headers = {k.lower(): v for k, v in request["headers"].items()}  # type: ignore[attr-defined]
    assert headers == {
        "host": f"127.0.0.1:{receiver.port}",
        "user-agent": "test-agent/1",
        "content-type": "application/json",
        "content-length": str(len(body)),
        "connection": "close",
    }


def test_retry_on_503_and_429_then_success(sender: WebhookSender) -> None:
    receiver = Receiver([503, 429, 200])
    results = Results()
    try:
        sender.send(receiver.url(), b"{}", results)
        result = results.get()
    finally:
        receiver.close()
    assert (result.ok, result.attempts, result.status) == (True, 3, 200)
    assert len(receiver.requests) == 3


def test_503_every_time_gives_up(sender: WebhookSender, caplog: pytest.LogCaptureFixture) -> None:
    receiver = Receiver([503] * 10)
    results = Results()
    caplog.set_level(logging.WARNING, logger="cfn_gateway.engine.webhooks")
    try:
        sender.send(receiver.url() + "?token=secret", b'{"secret-body": 1}', results)
        result = results.get()
    finally:
        receiver.close()
    assert result == DeliveryResult(
        receiver.url() + "?token=secret", False, 4, 503, "HTTP 503 after 4 attempts"
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "cfn_gateway.engine.webhooks"]
    assert lines == [f"webhook delivery to {receiver.url()} failed: HTTP 503 after 4 attempts"]
    assert "secret" not in caplog.text


def test_no_retry_on_404(sender: WebhookSender) -> None:
    receiver = Receiver([404, 200])
    results = Results()
    try:
        sender.send(receiver.url(), b"{}", results)
        result = results.get()
    finally:
        receiver.close()
    assert result == DeliveryResult(receiver.url(), False, 1, 404, "HTTP 404")
    assert len(receiver.requests) == 1


def test_connection_refused_is_retried_then_fails(sender: WebhookSender) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    results = Results()
    started = time.monotonic()
    sender.send(url, b"{}", results)
    result = results.get()
    assert result == DeliveryResult(url, False, 4, None, "connection refused after 4 attempts")
    # back-off 0.02 + 0.04 + 0.08
    assert time.monotonic() - started >= 0.13


def test_hanging_receivers_do_not_delay_a_fast_one(receiver: Receiver) -> None:
    policy = RetryPolicy(attempts=1, timeout=0.8)
    sender = make_sender(policy)
    listeners = [hanging_listener() for _ in range(50)]
    hanging, fast = Results(), Results()
    try:
        started = time.monotonic()
        for listener in listeners:
            port = listener.getsockname()[1]
            assert sender.send(f"http://127.0.0.1:{port}/", b"{}", hanging)
        assert sender.send(receiver.url(), b"{}", fast)
        fast_at, fast_result, _ = fast.get_timed()
        assert fast_result.ok
        assert fast_at - started < 0.5
        assert hanging.queue.empty()
        slow = [hanging.get_timed(timeout=3.0) for _ in listeners]
        assert all(at > fast_at for at, _, _ in slow)
        for _, result, _ in slow:
            assert (result.ok, result.attempts, result.status) == (False, 1, None)
            assert result.detail == "timed out after 0.8s"
        # they ran concurrently: all 50 timed out within about one timeout
        assert max(at for at, _, _ in slow) - started < 2.0
    finally:
        sender.stop(timeout=0.5)
        for listener in listeners:
            listener.close()


def test_max_in_flight_refusal() -> None:
    sender = make_sender(RetryPolicy(attempts=1, timeout=5.0), max_in_flight=2)
    listener = hanging_listener()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    results = Results()
    refused = Results()
    try:
        assert sender.send(url, b"{}", results)
        assert sender.send(url, b"{}", results)
        assert sender.send(url, b"{}", refused) is False
        assert sender.pending() == 2
    finally:
        sender.stop(timeout=0.1)
        listener.close()
    assert [results.get().detail for _ in range(2)] == [CANCELLED_DETAIL] * 2
    assert refused.queue.empty()


def test_stop_cancels_pending_deliveries() -> None:
    sender = make_sender(RetryPolicy(attempts=3, first_delay=0.01, timeout=30.0))
    listener = hanging_listener()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    refused_url = f"http://127.0.0.1:{closed_port()}/"
    results = Results()
    try:
        assert sender.send(url, b"{}", results)
        time.sleep(0.1)
        started = time.monotonic()
        sender.stop(timeout=0.2)
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    result = results.get(timeout=0.1)
    assert result == DeliveryResult(url, False, 1, None, CANCELLED_DETAIL)
    assert 0.15 < elapsed < 1.5
    assert sender.pending() == 0
    assert sender.send(refused_url, b"{}", results) is False
    assert results.queue.empty()


def test_stop_cancels_a_delivery_waiting_to_retry() -> None:
    sender = make_sender(RetryPolicy(attempts=3, first_delay=30.0, timeout=1.0))
    url = f"http://127.0.0.1:{closed_port()}/"
    results = Results()
    assert sender.send(url, b"{}", results)
    time.sleep(0.1)
    started = time.monotonic()
    sender.stop(timeout=0.1)
    assert time.monotonic() - started < 1.0
    assert results.get(timeout=0.1) == DeliveryResult(url, False, 1, None, CANCELLED_DETAIL)


def test_stop_waits_for_deliveries_that_finish_in_time(receiver: Receiver) -> None:
    sender = make_sender()
    results = Results()
    for _ in range(5):
        assert sender.send(receiver.url(), b"{}", results)
    sender.stop(timeout=3.0)
    assert [results.get(timeout=0.1).ok for _ in range(5)] == [True] * 5


def test_on_done_exceptions_do_not_kill_the_loop(
    sender: WebhookSender, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="cfn_gateway.engine.webhooks")
    calls = Results()

    def explode(result: DeliveryResult) -> None:
        calls(result)
        raise RuntimeError("boom")

    assert sender.send(receiver.url(), b"{}", explode)
    assert calls.get().ok
    results = Results()
    assert sender.send(receiver.url(), b"{}", results)
    assert results.get().ok
    assert "on_done callback raised" in caplog.text
    assert calls.queue.empty()  # called exactly once


def test_https_to_a_plain_http_port_fails_cleanly(receiver: Receiver) -> None:
    sender = make_sender(RetryPolicy(attempts=2, first_delay=0.02, timeout=1.5))
    url = f"https://127.0.0.1:{receiver.port}/hook"
    results = Results()
    started = time.monotonic()
    try:
        assert sender.send(url, b"{}", results)
        result = results.get(timeout=5.0)
    finally:
        sender.stop(timeout=0.5)
    assert (result.ok, result.attempts, result.status) == (False, 2, None)
    assert result.detail.endswith("after 2 attempts") or result.detail.startswith("timed out")
    assert time.monotonic() - started < 4.0


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("ftp://127.0.0.1/x", "invalid URL: unsupported scheme 'ftp'"),
        ("not a url", "invalid URL: no scheme"),
        ("http:///path", "invalid URL: no host"),
        ("http://127.0.0.1:99999/", "invalid URL: Port out of range 0-65535"),
        ("http://bad host/", "invalid URL: bad host name"),
    ],
)
def test_invalid_urls_fail_without_attempts(sender: WebhookSender, url: str, detail: str) -> None:
    results = Results()
    assert sender.send(url, b"{}", results)
    _, result, thread_name = results.get_timed()
    assert result == DeliveryResult(url, False, 0, None, detail)
    assert thread_name == "webhook-sender"


def test_send_before_start_is_refused() -> None:
    sender = WebhookSender(FAST)
    assert sender.send("http://127.0.0.1:1/", b"{}", Results()) is False
    sender.stop()


def test_retry_policy_backoff() -> None:
    policy = RetryPolicy(first_delay=1.0, max_delay=30.0)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
