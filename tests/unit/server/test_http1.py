"""The native HTTP/1.1 server with a small WSGI app in place of the pipeline, on a real
loop and real sockets: the environ it builds, how answers are written, idle keep-alive
connections closed, a late body answered through the app, back-pressure on pipelining."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from cfn_gateway.server import answers, http1
from cfn_gateway.server.front import BufferingFront

Seen = list[dict[str, Any]]


def echo_app(seen: Seen) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read()
        seen.append(dict(environ, body=body))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"got " + body]
    return app


async def serving(app: Callable[..., Any], body_timeout: float = 5.0
                  ) -> tuple[asyncio.AbstractServer, http1.Http1Server, int]:
    loop = asyncio.get_running_loop()
    front = BufferingFront(app, 1, body_timeout, 1 << 20)
    server = http1.Http1Server(front, loop, head_timeout=5.0, body_timeout=body_timeout,
                               max_body_size=1 << 20)
    listening = await loop.create_server(server.connection, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    return listening, server, port


async def exchange(port: int, data: bytes | list[bytes], read_for: float = 0.5) -> bytes:
    """Send ``data`` (a list: one write each, 50 ms apart); what comes back until the
    server closes or is quiet for ``read_for`` seconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for part in [data] if isinstance(data, bytes) else data:
        writer.write(part)
        await writer.drain()
        if not isinstance(data, bytes):
            await asyncio.sleep(0.05)
    out = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), read_for)
            if not chunk:
                break
            out += chunk
    except TimeoutError:
        pass
    writer.close()
    return out


def test_the_environ_is_wsgi_s():
    seen: Seen = []

    async def run() -> bytes:
        listening, _, port = await serving(echo_app(seen))
        async with listening:
            return await exchange(port, (
                b"POST /a%20b/c?x=1&y=%41 HTTP/1.1\r\nHost: h:1\r\nX-Rep: 1\r\nX-Rep: 2\r\n"
                b"Cookie: a=1\r\nCookie: b=2\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 5\r\n\r\nhello"))

    out = asyncio.run(run())
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 9\r\n" in out and out.endswith(b"\r\n\r\ngot hello")
    (environ,) = seen
    assert environ["PATH_INFO"] == "/a b/c"
    assert environ["RAW_URI"] == "/a%20b/c?x=1&y=%41"
    assert environ["QUERY_STRING"] == "x=1&y=%41"
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["HTTP_X_REP"] == "1,2"
    assert environ["HTTP_COOKIE"] == "a=1;b=2"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "5"
    assert environ["HTTP_HOST"] == "h:1"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["body"] == b"hello"


def test_an_answer_to_head_has_no_body_but_its_length():
    async def run() -> bytes:
        listening, _, port = await serving(echo_app([]))
        async with listening:
            return await exchange(port, b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n")

    out = asyncio.run(run())
    assert b"\r\nContent-Length: 4\r\n" in out and out.endswith(b"\r\n\r\n")


def test_an_idle_keep_alive_connection_is_closed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(http1, "IDLE_TIMEOUT_S", 0.3)
    monkeypatch.setattr(http1, "TICK_S", 0.05)

    async def run() -> tuple[bytes, int]:
        listening, server, port = await serving(echo_app([]))
        async with listening:
            out = await exchange(port, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", read_for=2.0)
            return out, len(server.connections)

    out, left = asyncio.run(run())
    assert out.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" not in out
    assert left == 0  # closed by the server within read_for, not by the client


def test_a_late_body_is_answered_through_the_app(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(http1, "TICK_S", 0.05)
    seen: Seen = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            environ["wsgi.input"].read()
        except Exception as error:  # the pipeline's faultwrap renders RequestTimeout
            seen.append(dict(environ, error=type(error).__name__))
            start_response("400 Bad Request", [])
            return [b"late"]
        start_response("200 OK", [])
        return [b"in time"]

    async def run() -> bytes:
        listening, _, port = await serving(app, body_timeout=0.3)
        async with listening:
            return await exchange(port, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10"
                                        b"\r\n\r\n12345", read_for=2.0)

    out = asyncio.run(run())
    assert out.startswith(b"HTTP/1.1 400 ") and out.endswith(b"late")
    assert b"\r\nConnection: close\r\n" in out
    assert [environ["error"] for environ in seen] == ["RequestTimeout"]


def test_a_connection_owing_many_answers_stops_reading(monkeypatch: pytest.MonkeyPatch):
    """Answers that wait for their commit: past ``MAX_PENDING`` of them the connection
    stops reading; once they are out it reads again, and every request is answered in
    order."""
    monkeypatch.setattr(http1, "MAX_PENDING", 3)
    release = asyncio.Event

    async def run() -> tuple[list[int], bytes]:
        gate = release()
        readings: list[int] = []
        listening, server, port = await serving(echo_app([]))
        original = http1.Connection.answer

        def held(self: http1.Connection, slot: list[Any], answer: Any) -> None:
            async def later() -> None:
                readings.append(len(self.answers))
                await gate.wait()
                original(self, slot, answer)
            asyncio.get_running_loop().create_task(later())

        monkeypatch.setattr(http1.Connection, "answer", held)
        async with listening:
            requests = [b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n%d" % i
                        for i in range(6)]
            task = asyncio.get_running_loop().create_task(exchange(port, requests, 1.0))
            await asyncio.sleep(0.6)
            (connection,) = server.connections
            paused = not connection.reading
            gate.set()
            out = await task
        assert paused
        return readings, out

    readings, out = asyncio.run(run())
    assert max(readings) <= 3
    assert [part.rsplit(b"got ", 1)[1][:1] for part in out.split(b"HTTP/1.1 ")[1:]] == [
        b"0", b"1", b"2", b"3", b"4", b"5"]


def test_answer_bytes_adds_length_date_and_close():
    head = answers.answer_bytes((404, [("X-A", "1")], b"nope"), keep_alive=False,
                              with_body=True)
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 404 Not Found"
    assert b"Content-Length: 4" in lines and b"Connection: close" in lines
    assert any(line.startswith(b"Date: ") for line in lines)
    assert head.endswith(b"\r\n\r\nnope")
    kept = answers.answer_bytes((200, [("Content-Length", "4")], b"okay"), keep_alive=True,
                              with_body=False)
    assert kept.count(b"Content-Length") == 1 and b"Connection" not in kept
    assert kept.endswith(b"\r\n\r\n")



def test_a_header_value_beyond_latin_1_does_not_stop_the_answer():
    head = answers.answer_bytes((200, [("X-Name", "caf\u00e9 \u2603")], b""), keep_alive=True,
                              with_body=True)
    assert b"\r\nX-Name: caf\xe9 ?\r\n" in head

