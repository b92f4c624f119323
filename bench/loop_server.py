"""A benchmark-only HTTP/1.1 server: the gateway's pipeline on each worker's own event loop.

``cfn-gateway serve`` runs the pipeline behind granian's RSGI interface: a request's head
and its body each reach the worker's event loop from granian's Rust threads, and its answer
goes back to them, so every request crosses threads three times besides the committer.
This server parses HTTP/1.1 on the loop itself (httptools, the parser uvicorn uses) and
runs the very same front logic (``BufferingFront.call_inline``, ``committed_answer``, the
committer, the same paste pipeline via ``gateway_wsgi.py``), so that ``serve_front.py``
can measure, side by side, what those hand-overs cost (``--variant loop=tree:server=loop``).

It is a measuring device, not a server to deploy: it has no body deadline, no limit on
header or body sizes of its own (the pipeline's route filter still refuses large declared
bodies), no graceful reload, no worker respawn and no alarm engine beside the workers;
``serve_front.py``'s probes show the missing deadline.  Needs ``pip install httptools``
(not a dependency of the gateway).

    python bench/loop_server.py --port 8080 --workers 2   # CFN_BENCH_DATA_DIR=... set
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import socket
import sys
from collections import deque
from http import HTTPStatus
from typing import Any

REASONS = {status.value: status.phrase for status in HTTPStatus}


def listener(port: int) -> socket.socket:
    """A listening socket of its own for each worker; the kernel spreads connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def head(status: int, headers: list[tuple[str, str]], keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def worker(port: int) -> None:
    """Build the pipeline in this process (after the fork), then serve on a uvloop."""
    import gateway_wsgi
    import httptools
    import uvloop

    from cfn_gateway.server import collector
    from cfn_gateway.server.front import (
        BASE_ENVIRON,
        BufferingFront,
        committed_answer,
        environ_key,
    )

    front = BufferingFront(gateway_wsgi.application, 1, 0.0, sys.maxsize)
    collector.tune_for_requests()
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    sock = listener(port)

    class Connection(asyncio.Protocol):
        """One client connection: requests parsed as they arrive, answered in order."""

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.parser = httptools.HttpRequestParser(self)
            peer = transport.get_extra_info("peername")
            self.remote = peer[0] if peer else ""
            self.answers: deque[list[bytes | None]] = deque()
            self.closing = False
            self._new_request()

        def _new_request(self) -> None:
            self.url = b""
            self.environ = dict(BASE_ENVIRON)
            self.body: list[bytes] = []

        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.write(head(400, [("Content-Length", "0")], False))
                self.transport.close()

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_header(self, name: bytes, value: bytes) -> None:
            key = environ_key(name.decode("latin-1").lower())
            text = value.decode("latin-1")
            self.environ[key] = self.environ[key] + "," + text if key in self.environ else text

        def on_body(self, body: bytes) -> None:
            self.body.append(body)

        def on_message_complete(self) -> None:
            environ = self.environ
            url = httptools.parse_url(self.url)
            environ["REQUEST_METHOD"] = self.parser.get_method().decode("latin-1")
            environ["PATH_INFO"] = url.path.decode("latin-1")
            environ["QUERY_STRING"] = (url.query or b"").decode("latin-1")
            environ["SERVER_PROTOCOL"] = "HTTP/" + self.parser.get_http_version()
            environ["SERVER_NAME"], environ["SERVER_PORT"] = "127.0.0.1", str(port)
            environ["REMOTE_ADDR"] = self.remote
            environ["wsgi.url_scheme"] = "http"
            environ["wsgi.input"] = io.BytesIO(b"".join(self.body))
            keep_alive = self.parser.should_keep_alive()
            self._new_request()
            slot: list[bytes | None] = [None]
            self.answers.append(slot)
            answer, deferred, start_line = front.call_inline(environ, loop)
            if deferred.waiting:
                loop.create_task(self._after_commit(answer, deferred, start_line, slot,
                                                    keep_alive))
            else:
                self._answer(slot, answer, keep_alive)

        async def _after_commit(self, answer: Any, deferred: Any, start_line: list[Any],
                                slot: list[bytes | None], keep_alive: bool) -> None:
            answer = await committed_answer(answer, deferred, start_line)
            self._answer(slot, answer, keep_alive)

        def _answer(self, slot: list[bytes | None], answer: Any, keep_alive: bool) -> None:
            status, headers, body = answer
            slot[0] = head(status, headers, keep_alive) + body
            self.closing = self.closing or not keep_alive
            while self.answers and self.answers[0][0] is not None:
                self.transport.write(self.answers.popleft()[0])
            if self.closing and not self.answers:
                self.transport.close()

    loop.run_until_complete(loop.create_server(Connection, sock=sock, backlog=1024))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            try:
                worker(args.port)
            finally:
                os._exit(0)
        children.append(pid)

    def stop(signum: int, frame: Any) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
