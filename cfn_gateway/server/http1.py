"""HTTP/1.1 on the worker's own event loop: the front of ``cfn-gateway serve``.

Under granian, a request's head and its body each reached the worker's event loop from
granian's Rust threads and its answer went back to them: three thread hand-overs per
request besides the committer's.  Here the worker's uvloop reads the socket itself and
httptools (llhttp, in C) parses each request as its bytes arrive; the pipeline runs as it
did behind granian (``BufferingFront.respond``: on the loop's thread, its writes
deferred to a commit the loop leads; or on the front's thread pool).  Measured side by side in
bench/README.md.

What the server does about clients, per connection:

- **Deadlines**, all checked by one timer per worker (``Http1Server.sweep``, every
  ``TICK_S``; a deadline is at most that late, never early):
  - a request's head must be complete within ``head_timeout`` of its first byte, else
    ``408`` and the connection is closed (a slowloris holds no more than a socket);
  - its body within ``body_timeout`` of its head: a late body is answered by the
    pipeline on a ``LateBody`` (``RequestTimeout`` in the request's own protocol, with
    a request id and an access log line) and the connection closed; nothing of the body
    is processed;
  - a keep-alive connection with nothing to do is closed after ``IDLE_TIMEOUT_S``.
- **Limits**: a head larger than ``MAX_HEAD_BYTES`` gets ``431``; a body declared larger
  than ``max_body_size`` is not read (the route filter refuses it from its
  ``Content-Length``); a chunked body is read up to one byte past that size, and then
  refused; a request the parser cannot read gets ``400``.  Each of these closes the
  connection.
- **Order and back-pressure**: pipelined requests are answered in the order they came,
  whatever order their commits finish in; the connection stops reading while
  ``MAX_PENDING`` answers are outstanding (the requests of a read already made are all
  taken), or while the client does not read what was written.
- A client that closes its side mid-request has nothing of that request processed (a
  log line says so).
- ``Expect: 100-continue`` is answered with ``100 Continue`` before the body is read.

The environ is WSGI's: ``PATH_INFO`` percent-decoded as bytes (latin-1), ``RAW_URI`` the
request target as sent (which the route filter's signature checks use), repeated headers
joined with ``,`` (``;`` for cookies).  Answers carry ``Date`` and ``Content-Length``.
A worker runs it with ``server.worker_loop.serve_socket``.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import deque
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools

from cfn_gateway.server.answers import answer_bytes, bare_answer
from cfn_gateway.server.front import (
    BASE_ENVIRON,
    BufferingFront,
    LateBody,
    Response,
    environ_key,
    internal_error,
)

LOG = logging.getLogger(__name__)

#: Seconds between two looks at the connections' deadlines.
TICK_S = 0.25
#: Seconds a keep-alive connection may wait for its next request.
IDLE_TIMEOUT_S = 75.0
#: The largest request head (request line and headers), in bytes.
MAX_HEAD_BYTES = 64 * 1024
#: Answers a connection may owe (pipelined requests) before it stops reading.
MAX_PENDING = 16

IDLE, HEAD, BODY = "idle", "head", "body"


class HeadTooLarge(Exception):
    """The request's head passed ``MAX_HEAD_BYTES``."""


@lru_cache(maxsize=1024)
def header_key(name: bytes) -> str:
    """The environ key of a header named ``name`` on the wire."""
    return environ_key(name.decode("latin-1").lower())


class Http1Server:
    """A worker's connections, the deadlines they keep, and how they run requests."""

    def __init__(self, front: BufferingFront, loop: asyncio.AbstractEventLoop,
                 head_timeout: float, body_timeout: float, max_body_size: int) -> None:
        self.front = front
        self.loop = loop
        self.head_timeout = head_timeout
        self.body_timeout = body_timeout
        self.max_body_size = max_body_size
        self.connections: set[Connection] = set()
        self.stopping = False
        self._sweeper: asyncio.TimerHandle | None = None

    def connection(self) -> Connection:
        """A protocol for a newly accepted connection (``loop.create_server``'s factory)."""
        return Connection(self)

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(TICK_S, self.sweep)

    def sweep(self) -> None:
        now = self.loop.time()
        for connection in list(self.connections):
            if connection.due is not None and connection.due <= now:
                connection.expire()
        self._sweeper = (self.loop.call_later(TICK_S, self.sweep) if self.connections
                         else None)

    def stop(self) -> None:
        """Stop taking requests: idle connections close now, the others after their
        current request is answered."""
        self.stopping = True
        for connection in list(self.connections):
            if connection.state == IDLE and not connection.answers:
                connection.transport.close()

    async def drained(self, grace: float) -> None:
        """Wait until every connection is gone, for at most ``grace`` seconds; then close
        what is left."""
        deadline = self.loop.time() + grace
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.transport.abort()


class Connection(asyncio.Protocol):
    """One client connection: requests parsed as their bytes arrive, answered in order."""

    def __init__(self, server: Http1Server) -> None:
        self.server = server
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.state = IDLE
        self.due: float | None = None
        self.answers: deque[list[Any]] = deque()
        self.closing = False  # no more requests: close once the answers are out
        self.reading = True
        self.writable = True
        self.started = 0.0
        self.environ: dict[str, Any] = {}
        self.url = b""
        self.head_size = 0
        self.body: list[bytes] = []
        self.body_size = 0

    # asyncio.Protocol

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.remote = peer[0] if peer else ""
        self.local = (str(local[0]), str(local[1])) if local else ("", "")
        self.due = self.loop.time() + IDLE_TIMEOUT_S
        self.server.add(self)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return  # what follows a request that ends the connection is not read
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, HeadTooLarge):
                self.refuse(431)
            else:
                LOG.error("reading a request failed", exc_info=error.__context__)
                self.refuse(500)
        except httptools.HttpParserUpgrade:
            # The request was served as HTTP/1.1; no other protocol follows it.
            self.closing = True
            self._send_due()
        except httptools.HttpParserError:
            self.refuse(400)

    def eof_received(self) -> bool:
        """The client closed its side: a request it had begun is not processed (a bare
        400, should it still read); answers owed are sent, then the connection closes."""
        if self.state == IDLE or self.closing:
            self.closing = True
            return bool(self.answers)
        if self.state == BODY:
            self._not_processed()
        self.refuse(400)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        if self.state == BODY and not self.closing:
            self._not_processed()
        self.state = IDLE
        self.closing = True

    def _not_processed(self) -> None:
        # Whatever arrived is not processed: a cut-short body may still parse (a whole
        # gzip stream shorter than the declared, uncompressed, length).
        LOG.info("request not processed: the client closed the connection %.1f s into "
                 "its body (%s %s from %s)", self.loop.time() - self.started,
                 self.environ.get("REQUEST_METHOD"), self.environ.get("PATH_INFO"),
                 self.remote)

    def pause_writing(self) -> None:
        self.writable = False
        self._flow()

    def resume_writing(self) -> None:
        self.writable = True
        self._flow()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self.state = HEAD
        self.started = self.loop.time()
        self.due = self.started + self.server.head_timeout
        self.environ = dict(BASE_ENVIRON)
        self.url = b""
        self.head_size = 0
        self.body = []
        self.body_size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        key = header_key(name)
        text = value.decode("latin-1")
        environ = self.environ
        if key in environ:  # a repeated header: one value
            environ[key] += (";" if key == "HTTP_COOKIE" else ",") + text
        else:
            environ[key] = text

    def on_headers_complete(self) -> None:
        environ = self.environ
        parser = self.parser
        target = self.url.decode("latin-1")
        url = httptools.parse_url(self.url)
        environ["REQUEST_METHOD"] = parser.get_method().decode("latin-1")
        environ["RAW_URI"] = target
        path = url.path or b"/"
        environ["PATH_INFO"] = (unquote_to_bytes(path) if b"%" in path else path
                                ).decode("latin-1")
        environ["QUERY_STRING"] = (url.query or b"").decode("latin-1")
        environ["SERVER_PROTOCOL"] = "HTTP/" + parser.get_http_version()
        environ["SERVER_NAME"], environ["SERVER_PORT"] = self.local
        environ["REMOTE_ADDR"] = self.remote
        environ["wsgi.url_scheme"] = "http"
        self.state = BODY
        self.started = self.loop.time()
        length_text = environ.get("CONTENT_LENGTH")
        if length_text is not None:
            try:
                length = int(length_text)
            except ValueError:
                length = -1
            if not 0 <= length <= self.server.max_body_size:
                # Refused from its Content-Length by the route filter; the body is not read.
                self.run(io.BytesIO(), keep_alive=False)
                return
            if length == 0:
                return
        elif "HTTP_TRANSFER_ENCODING" not in environ:
            return  # no length, not chunked: no body
        if self.server.body_timeout > 0:
            self.due = self.started + self.server.body_timeout
        else:
            self.due = None
        if environ.get("HTTP_EXPECT", "").lower() == "100-continue" and not self.answers:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self.closing:
            return
        self.body.append(body)
        self.body_size += len(body)
        if self.body_size > self.server.max_body_size:
            # A chunked body past the limit: what was read so far goes to the route
            # filter, which refuses it; the rest is not read.
            self.run(io.BytesIO(b"".join(self.body)), keep_alive=False)

    def on_message_complete(self) -> None:
        if self.closing:
            return
        body = self.body
        stream = io.BytesIO(body[0] if len(body) == 1 else b"".join(body))
        self.run(stream, keep_alive=self.parser.should_keep_alive())

    # requests and answers

    def run(self, stream: Any, keep_alive: bool) -> None:
        """Run the request whose head is in ``self.environ`` on ``stream``; its answer
        takes its place in the queue of this connection's answers."""
        environ = self.environ
        environ["wsgi.input"] = stream
        self.state = IDLE
        self.due = None
        if not keep_alive or self.server.stopping:
            self.closing = True
        slot: list[Any] = [None, keep_alive and not self.closing,
                           environ["REQUEST_METHOD"] != "HEAD"]
        self.answers.append(slot)
        self._flow()
        answer = self.server.front.respond(environ, self.loop)
        if isinstance(answer, tuple):
            self.answer(slot, answer)
        else:
            pending = asyncio.ensure_future(answer, loop=self.loop)
            pending.add_done_callback(lambda done: self.answer(slot, _result(done)))

    def answer(self, slot: list[Any], answer: Response) -> None:
        """The pipeline's ``answer`` for the request of ``slot``."""
        slot[0] = answer_bytes(answer, slot[1], slot[2])
        self._send_due()

    def _send_due(self) -> None:
        """Send every answer that is ready and not preceded by one that is not."""
        answers = self.answers
        transport = self.transport
        while answers and answers[0][0] is not None:
            data = answers.popleft()[0]
            if not transport.is_closing():
                transport.write(data)
        if not answers:
            if self.closing:
                transport.close()
            elif self.state == IDLE:
                self.due = self.loop.time() + IDLE_TIMEOUT_S
        self._flow()

    def expire(self) -> None:
        """The current deadline passed."""
        self.due = None
        if self.state == BODY:
            LOG.info("request body late: %.1f s after its head (%s %s from %s)",
                     self.loop.time() - self.started, self.environ.get("REQUEST_METHOD"),
                     self.environ.get("PATH_INFO"), self.remote)
            self.run(LateBody(), keep_alive=False)
        elif self.state == HEAD:
            self.refuse(408)
        elif not self.answers:
            self.transport.close()  # idle keep-alive connection

    def refuse(self, status: int) -> None:
        """Answer ``status`` without the pipeline (after what is owed) and close."""
        self.closing = True
        self.state = IDLE
        self.due = None
        self.answers.append([bare_answer(status)])
        self._send_due()

    def _count_head(self, size: int) -> None:
        self.head_size += size
        if self.head_size > MAX_HEAD_BYTES:
            raise HeadTooLarge

    def _flow(self) -> None:
        """Read while the client takes its answers and few are owed; else wait."""
        reading = self.writable and len(self.answers) < MAX_PENDING
        if reading != self.reading and not self.transport.is_closing():
            self.reading = reading
            if reading:
                self.transport.resume_reading()
            else:
                self.transport.pause_reading()


def _result(done: asyncio.Future[Response]) -> Response:
    if done.cancelled() or done.exception() is not None:
        return internal_error()
    return done.result()

