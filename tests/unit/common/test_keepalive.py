"""The keep-alive transport over real HTTP on 127.0.0.1: connections kept and renewed, the
token renewed on 401, failures as keystoneauth1's exceptions, and when it stands aside."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session

from cfn_gateway.common import keepalive
from cfn_gateway.common.keepalive import KeepAliveTransport, transport_for
from tests.http_servers import running


class Recorder(ThreadingHTTPServer):
    """An HTTP/1.1 server that records each request with the client port it came from,
    answers 401 to tokens in ``refused`` and closes connections after ``close_after``
    answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAliveHandler)
        self.seen: list[dict[str, Any]] = []
        self.refused: set[str] = set()
        self.close_after = 0
        self.delay = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: the test checks the client's side


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append({"method": self.command, "path": self.path,
                                 "port": self.client_address[1], "body": body,
                                 "headers": dict(self.headers)})
        time.sleep(self.server.delay)
        token = self.headers.get("X-Auth-Token", "")
        status = 401 if token in self.server.refused else 200
        payload = json.dumps({"token": token}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        served = sum(1 for s in self.server.seen if s["port"] == self.client_address[1])
        if self.server.close_after and served >= self.server.close_after:
            self.close_connection = True  # as a server closing an idle connection would

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args: object) -> None:
        pass


class Tokens(plugin.BaseAuthPlugin):
    """Hands out token-1, token-2, ...: a new one after each invalidation."""

    def __init__(self) -> None:
        super().__init__()
        self.issued = 1

    def get_headers(self, session: Any, **kwargs: Any) -> dict[str, str]:
        return {"X-Auth-Token": f"token-{self.issued}"}

    def invalidate(self) -> bool:
        self.issued += 1
        return True


class IdentityTokens(Tokens):
    """Tokens with an ``auth_ref``, as keystoneauth1's identity plugins have: dropped by
    ``invalidate``, a new one with the next token; counts how often headers are asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.auth_ref: object | None = object()
        self.asked = 0

    def get_headers(self, session: Any, **kwargs: Any) -> dict[str, str]:
        self.asked += 1
        if self.auth_ref is None:
            self.auth_ref = object()
        return super().get_headers(session, **kwargs)

    def invalidate(self) -> bool:
        self.auth_ref = None
        return super().invalidate()


class CountingSocket(socket.socket):
    """A client socket that counts its ``sendall`` calls."""

    sendalls = 0

    def sendall(self, data: Any, *args: Any) -> None:
        CountingSocket.sendalls += 1
        super().sendall(data, *args)


@pytest.fixture
def server() -> Iterator[Recorder]:
    with running(Recorder()) as recorder:
        yield recorder


def transport(url: str, auth: plugin.BaseAuthPlugin | None = None,
              timeout: float | None = 5.0) -> KeepAliveTransport:
    return KeepAliveTransport(ks_session.Session(auth=auth), url, timeout)


def test_requests_share_one_connection(server):
    client = transport(server.url + "/metric/")
    for _ in range(5):
        assert client.request("v1/resource/x", "GET").status_code == 200
    assert len({s["port"] for s in server.seen}) == 1
    assert [s["path"] for s in server.seen] == ["/metric/v1/resource/x"] * 5


def test_a_connection_the_server_closed_is_replaced(server):
    server.close_after = 1
    client = transport(server.url)
    for _ in range(3):
        assert client.request("v1/x", "GET").json() == {"token": ""}
    assert len({s["port"] for s in server.seen}) == 3


def test_body_params_and_headers_as_keystoneauth_sends_them(server):
    params = {"attrs": ["id", "last_put"], "limit": 2, "create_metrics": "true"}
    answer = transport(server.url, Tokens()).request(
        "v1/search", "POST", json={"in": {"id": ["a", "é"]}}, params=params,
        headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.url == server.url + server.seen[0]["path"]
    seen = server.seen[0]
    expected = requests.Request("POST", server.url + "/v1/search", params=params).prepare()
    assert server.url + seen["path"] == expected.url
    assert json.loads(seen["body"]) == {"in": {"id": ["a", "é"]}}
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Accept"] == "application/json"
    assert seen["headers"]["X-Auth-Token"] == "token-1"


def test_a_request_goes_out_in_one_write(server, monkeypatch):
    def connect(address: tuple[str, int], timeout: float | None = None) -> socket.socket:
        sock = CountingSocket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
        return sock

    monkeypatch.setattr(keepalive.socket, "create_connection", connect)
    monkeypatch.setattr(CountingSocket, "sendalls", 0)
    client = transport(server.url)
    client._pool = keepalive._Pool(f"127.0.0.1:{server.server_address[1]}", 5.0)  # its own
    for n in range(3):
        assert client.request("v1/x", "POST", json={"n": n}).status_code == 200
    assert CountingSocket.sendalls == 3
    assert [json.loads(s["body"]) for s in server.seen] == [{"n": 0}, {"n": 1}, {"n": 2}]
    with pytest.raises(ValueError, match="line break"):
        client.request("v1/x", "GET", headers={"X-Evil": "a\r\nX-Injected: 1"})


def test_a_session_s_token_headers_are_reused_until_rechecked(server, monkeypatch):
    auth = IdentityTokens()
    session = ks_session.Session(auth=auth)
    for _ in range(3):  # every Gnocchi call makes a transport of its own over the session
        assert KeepAliveTransport(session, server.url, 5.0).request("v1/x", "GET").json() \
            == {"token": "token-1"}
    assert auth.asked == 1
    server.refused = {"token-1"}  # the 401 drops the token; its headers are not reused
    assert KeepAliveTransport(session, server.url, 5.0).request("v1/x", "GET").json() \
        == {"token": "token-2"}
    monkeypatch.setattr(keepalive, "AUTH_RECHECK_S", 0.0)
    keepalive._auth_headers.clear()
    asked = auth.asked
    for _ in range(2):
        KeepAliveTransport(session, server.url, 5.0).request("v1/x", "GET")
    assert auth.asked == asked + 2


def test_a_refused_token_is_renewed_once(server):
    auth = Tokens()
    client = transport(server.url, auth)
    server.refused = {"token-1"}
    assert client.request("v1/x", "GET").json() == {"token": "token-2"}
    server.refused = {"token-2", "token-3"}
    assert client.request("v1/x", "GET").status_code == 401  # the caller decides
    assert [s["headers"]["X-Auth-Token"] for s in server.seen] == [
        "token-1", "token-2", "token-2", "token-3"]


def test_unreachable_and_slow_endpoints_raise_keystoneauth_errors(server):
    gone = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = gone.server_address[1]
    gone.server_close()
    with pytest.raises(ks_exc.ConnectFailure):
        transport(f"http://127.0.0.1:{port}").request("v1/x", "GET")
    server.delay = 1.0
    started = time.monotonic()
    with pytest.raises(ks_exc.ConnectTimeout):
        transport(server.url, timeout=0.2).request("v1/x", "GET")
    assert time.monotonic() - started < 0.9


def test_concurrent_requests_each_get_their_answer(server):
    client = transport(server.url, Tokens())
    answers: list[int] = []

    def call() -> None:
        for _ in range(10):
            answers.append(client.request("v1/x", "GET").status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 80
    assert len({s["port"] for s in server.seen}) <= 8


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:8041", "http://h/%(project_id)s"])
def test_the_adapter_serves_what_this_transport_cannot(endpoint):
    session = ks_session.Session()
    chosen = transport_for(session, {"endpoint_override": endpoint}, 1.0, lambda: "adapter")
    assert chosen == "adapter"
    assert transport_for(session, {"service_type": "metric"}, 1.0, lambda: "adapter") \
        == "adapter"


def test_a_proxy_of_the_environment_is_left_to_the_adapter(monkeypatch):
    session = ks_session.Session()
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    keepalive._proxied.cache_clear()
    try:
        assert transport_for(session, {"endpoint_override": "http://gnocchi:8041"}, 1.0,
                             lambda: "adapter") == "adapter"
        assert isinstance(transport_for(session, {"endpoint_override": "http://127.0.0.1:1"},
                                        1.0, lambda: "adapter"), KeepAliveTransport)
    finally:
        keepalive._proxied.cache_clear()
