"""The serve process's front: the whole request body, within a deadline, before the pipeline.

granian's WSGI interface calls the app as soon as a request's headers are in, and
``wsgi.input.read`` then blocks that Python thread (in Rust, GIL released) until the body
has arrived, without any time limit.  A client that declares more bytes than it sends
(the JS SDK v3 with request compression declares the uncompressed length), or uploads at
10 bytes/s, held one of the worker's few threads for as long as it liked.

``BufferingFront`` is an RSGI app instead (granian's native async interface; measured
against the alternatives, and what it costs, in bench/README.md: 35-200 us of server CPU
per request, for which ``request_body_timeout = 0`` serves WSGI as before).  For each
request it awaits the body on the worker's event loop, where a waiting body costs no
thread, with a deadline (``request_body_timeout``) from the moment the request reaches it
(``BodyDeadlines``: one timer per worker, not one per request).
Only a complete body goes on: it runs the unchanged WSGI pipeline (api-paste.ini) on a
``BytesIO``, inline on the loop when the worker has one thread, else on a pool of that
many threads.  Inline, a request's writes do not block the loop for their commit: they
are deferred (``common.deferral``) and the answer is sent once they have committed.  A
body that misses the deadline gets a ``wsgi.input`` whose ``read`` raises
``RequestTimeout``, so the pipeline answers it like any other error (in the request's own
protocol, with a request id and an access log line) and never sees a partial body; the
connection is then closed.  When a client closes its side mid-body, nothing of
its request is processed (a bare 400, if it still reads, and a log line).  Bodies
declared larger than ``max_request_body_size`` are not read: the route filter refuses
them from their ``Content-Length``.

The environ holds what granian's WSGI interface put there for a request (the CGI keys,
headers, ``wsgi.*``), not the process environment it also copied in.  ``PATH_INFO``
comes from RSGI's path, which is percent-decoded as UTF-8: a path holding percent-escapes
that are not UTF-8 reaches the pipeline with U+FFFD in their place.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from granian.rsgi import ProtocolClosed, ProtocolError

from cfn_gateway import backends, errors
from cfn_gateway.common import deferral

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Response = tuple[int, list[tuple[str, str]], bytes]

REQUEST_TIMEOUT_MESSAGE = (
    "Your socket connection to the server was not read from or written to within the "
    "timeout period. Idle connections will be closed."
)
BASE_ENVIRON: dict[str, Any] = {
    "GATEWAY_INTERFACE": "CGI/1.1",
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "cfn-gateway",
    "wsgi.errors": sys.stderr,
    "wsgi.input_terminated": True,
    "wsgi.multiprocess": True,
    "wsgi.multithread": True,
    "wsgi.run_once": False,
    "wsgi.version": (1, 0),
}
SPECIAL_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
INTERNAL_ERROR: Response = (500, [("Content-Type", "text/plain")], b"Internal Server Error\n")


class LateBody:
    """``wsgi.input`` of a request whose body did not arrive in time: reading it raises
    ``RequestTimeout`` inside the pipeline, where faultwrap renders it."""

    def read(self, size: int | None = -1) -> bytes:
        raise errors.RequestTimeout(REQUEST_TIMEOUT_MESSAGE)

    readline = read

    def readlines(self, hint: int = -1) -> list[bytes]:
        raise errors.RequestTimeout(REQUEST_TIMEOUT_MESSAGE)

    def __iter__(self) -> LateBody:
        return self

    def __next__(self) -> bytes:
        raise errors.RequestTimeout(REQUEST_TIMEOUT_MESSAGE)


class BodyDeadlines:
    """The deadlines of the bodies a worker's requests are awaiting, all checked by one
    timer that runs every ``tick`` seconds while there are any; a task past its deadline
    is cancelled (at most ``tick`` late, never early).  ``asyncio.timeout`` per request
    cost the loop about 6 us of each request."""

    def __init__(self, tick: float = 0.25) -> None:
        self.tick = tick
        self._due: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, task: asyncio.Task[Any], seconds: float) -> None:
        loop = task.get_loop()
        self._due[task] = loop.time() + seconds
        if self._timer is None:
            self._timer = loop.call_later(self.tick, self._check, loop)

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Whether ``task`` was cancelled because its deadline had passed."""
        return task in self._expired

    def forget(self, task: asyncio.Task[Any]) -> None:
        self._due.pop(task, None)
        self._expired.discard(task)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for task, due in list(self._due.items()):
            if due <= now:
                del self._due[task]
                self._expired.add(task)
                task.cancel()
        self._timer = loop.call_later(self.tick, self._check, loop) if self._due else None


class BufferingFront:
    """RSGI app: read the body with a deadline, then run the WSGI ``app`` on it."""

    def __init__(self, app: WSGIApp, threads: int, body_timeout: float,
                 max_body_size: int) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_body_size = max_body_size
        # One thread per worker (standalone): the app runs on the loop's own thread, as it
        # ran on granian's one WSGI thread.  More: a pool of that size.
        self.pool = (ThreadPoolExecutor(threads, thread_name_prefix="cfn-gateway")
                     if threads > 1 else None)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.deadlines = BodyDeadlines()

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.close()

    def close(self) -> None:
        """The worker stops: its pool ends, its staged samples go to the file."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        try:
            backends.fold_all_staged()  # a stopped gateway's file holds nothing staged
        except Exception:
            LOG.exception("folding the worker's staged samples failed")

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        started = time.monotonic()
        try:
            stream, keep_alive = await self.read_body(scope, proto)
        except (ProtocolClosed, ProtocolError):
            # Whatever arrived is not processed: a cut-short body may still parse (a whole
            # gzip stream shorter than the declared, uncompressed, length).
            LOG.info("request not processed: the client closed the connection %.1f s into "
                     "its body (%s %s from %s)", time.monotonic() - started, scope.method,
                     scope.path, scope.client)
            proto.response_empty(400, [("Connection", "close")])
            return
        answer = self.respond(wsgi_environ(scope, stream),
                              self.loop or asyncio.get_running_loop())
        status, headers, body = answer if isinstance(answer, tuple) else await answer
        if not keep_alive:
            headers.append(("Connection", "close"))
        proto.response_bytes(status, headers, body)

    async def read_body(self, scope: Any, proto: Any) -> tuple[Any, bool]:
        """``wsgi.input`` for the request, and whether its connection may be kept alive."""
        length_text = scope.headers.get("content-length")
        if length_text is not None:
            try:
                length = int(length_text)
            except ValueError:
                return io.BytesIO(), False  # the route filter refuses it
            if length == 0:
                return io.BytesIO(), True
            if length < 0 or length > self.max_body_size:
                return io.BytesIO(), False  # refused from Content-Length, body left unread
            pending = proto()
        elif "transfer-encoding" in scope.headers or scope.http_version == "2":
            pending = self.read_stream(proto)
        else:
            return io.BytesIO(), True  # HTTP/1: no length, not chunked: no body
        task = asyncio.current_task()
        assert task is not None
        self.deadlines.watch(task, self.body_timeout)
        try:
            body = await pending
        except asyncio.CancelledError:
            if not self.deadlines.expired(task):
                raise  # not ours: the worker is stopping
            task.uncancel()
            return LateBody(), False
        finally:
            self.deadlines.forget(task)
        return io.BytesIO(body), len(body) <= self.max_body_size

    async def read_stream(self, proto: Any) -> bytes:
        """A body of unknown length, up to one byte past the limit (then it is refused)."""
        parts: list[bytes] = []
        size = 0
        async for chunk in proto:
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
            if size > self.max_body_size:
                break
        return b"".join(parts)

    def respond(self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop
                ) -> Response | Awaitable[Response]:
        """The answer to ``environ``, or (when it is not ready yet) what to await for it.

        Inline (no pool): the pipeline runs on this, the loop's, thread, its writes
        deferred (committed by the loop once it has handled what was ready, or by the
        committer thread while another process holds the file); the answer is ready at
        once when the request wrote nothing, else it leaves once the writes have
        committed (or, should one fail, the error does).  With a pool: on its threads."""
        if self.pool is not None:
            return loop.run_in_executor(self.pool, self.call, environ)
        deferred = deferral.Deferral(loop)
        start_line: list[Any] = []
        with deferral.deferring(deferred):
            answer = self.call(environ, start_line)
        if not deferred.waiting:
            return answer
        return _committed_answer(answer, deferred, start_line)

    def call(self, environ: dict[str, Any], started: list[Any] | None = None) -> Response:
        """Run the WSGI pipeline to completion: status, headers and the whole body.
        ``started`` holds the status line and headers last given to ``start_response``
        (which a deferred failure calls again, after this returned)."""
        started = [] if started is None else started

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return _no_write

        try:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            return response(started, body)
        except Exception:
            LOG.exception("the WSGI pipeline failed outside faultwrap")
            return internal_error()


async def _committed_answer(answer: Response, deferred: deferral.Deferral,
                            start_line: list[Any]) -> Response:
    """``answer`` once the request's deferred writes have committed; if one failed, the
    error faultwrap answered through the pipeline's ``start_response``."""
    if await deferred.settled() is None:
        return answer
    return internal_error() if deferred.answer is None else response(start_line,
                                                                     deferred.answer)


def response(started: list[Any], body: bytes) -> Response:
    """What goes out: the status line and headers given to ``start_response``, ``body``."""
    return int(started[0].split(" ", 1)[0]), list(started[1]), body


def internal_error() -> Response:
    return INTERNAL_ERROR[0], list(INTERNAL_ERROR[1]), INTERNAL_ERROR[2]


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the pipeline returns its body, it does not write() it")


def wsgi_environ(scope: Any, stream: Any) -> dict[str, Any]:
    """The environ granian's WSGI interface would build for this request."""
    server_host, _, server_port = scope.server.rpartition(":")
    environ = dict(BASE_ENVIRON)
    environ["SERVER_PROTOCOL"] = "HTTP/" + scope.http_version
    environ["SERVER_NAME"] = server_host.strip("[]")
    environ["SERVER_PORT"] = server_port
    environ["REMOTE_ADDR"] = scope.client.rpartition(":")[0].strip("[]")
    environ["REQUEST_METHOD"] = scope.method
    # WSGI strings carry bytes as latin-1; RSGI decoded the path's bytes as UTF-8.
    environ["PATH_INFO"] = scope.path.encode("utf-8").decode("latin-1")
    environ["QUERY_STRING"] = scope.query_string
    environ["wsgi.url_scheme"] = scope.scheme
    environ["wsgi.input"] = stream
    for name, value in scope.headers.items():
        key = environ_key(name)
        if key in environ:  # a repeated header: one value, as granian joins them
            environ[key] += (";" if name == "cookie" else ",") + value
        else:
            environ[key] = value
    if "HTTP_HOST" not in environ and scope.authority:
        environ["HTTP_HOST"] = scope.authority
    return environ


@lru_cache(maxsize=1024)
def environ_key(name: str) -> str:
    """The environ key of header ``name`` (worked out once per name)."""
    return SPECIAL_HEADERS.get(name) or "HTTP_" + name.upper().replace("-", "_")
