"""Alarm webhook actions: HTTP(S) POSTs of JSON bodies, delivered in the background.

The alarm evaluation engine is a plain synchronous thread.  When an alarm whose actions
name ``http://`` or ``https://`` URLs changes state, it hands each URL and the JSON body
to ``WebhookSender.send``, which returns at once.  Deliveries run concurrently on one
daemon thread running an asyncio event loop, with a tiny HTTP/1.1 client built on
``asyncio.open_connection``, so a slow, hanging or failing receiver never delays another
delivery, nor the engine.

Each accepted delivery ends in exactly one call of its ``on_done`` callback (on the
sender's thread) with a ``DeliveryResult``: after a 2xx answer, after a permanent failure
(a 4xx other than 429, a redirect, a rejected TLS certificate, an invalid URL), after the
``RetryPolicy``'s last attempt, or at shutdown.  Connection errors, timeouts, 5xx and 429
are retried with exponential back-off.  A failed delivery is logged as one line; a body
never is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

logger = logging.getLogger(__name__)

CANCELLED_DETAIL = "cancelled at shutdown"

_HEAD_LINE_LIMIT = 16 * 1024  # longest status or header line read
_MAX_HEADER_LINES = 200
_BODY_CAP = 64 * 1024  # most response body bytes read (then ignored)
_DRAIN_SECONDS = 1.0  # longest time spent reading a response body (also capped by timeout)
_CLOSE_SECONDS = 1.0  # longest wait for a connection (TLS shutdown included) to close
_HOST_CHARS = re.compile(r"[A-Za-z0-9._~%:-]+")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True)
class DeliveryResult:
    """How one delivery ended."""

    url: str
    ok: bool
    attempts: int
    status: int | None  # last HTTP status, None if no response
    detail: str  # short human text: "HTTP 200", "HTTP 503 after 4 attempts", ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try one delivery."""

    attempts: int = 4  # total tries
    first_delay: float = 1.0  # seconds before the 2nd try; doubles each time (1, 2, 4 ...)
    max_delay: float = 30.0
    timeout: float = 5.0  # per attempt: connect + send + read status line and headers

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.first_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 before the 2nd attempt)."""
        return min(self.first_delay * 2 ** (retry - 1), self.max_delay)


@dataclass(frozen=True)
class _Target:
    """A webhook URL taken apart for the HTTP client."""

    https: bool
    host: str  # to connect to (an IPv6 address without brackets)
    port: int
    host_header: str
    request_target: str  # path and query
    log_url: str  # no user info, no query (may carry tokens)


class _InvalidURL(ValueError):
    pass


class _BadResponse(Exception):
    """The receiver answered something that is not an HTTP/1.x response head."""


class _AttemptFailed(Exception):
    """One attempt ended without an HTTP status."""

    def __init__(self, detail: str, retryable: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable


def _parse_url(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _InvalidURL(str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _InvalidURL(f"unsupported scheme {scheme!r}" if scheme else "no scheme")
    host = parts.hostname
    if not host:
        raise _InvalidURL("no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _InvalidURL("bad host name") from None
    if not _HOST_CHARS.fullmatch(host):
        raise _InvalidURL("bad host name")
    default_port = 443 if scheme == "https" else 80
    if port is None:
        port = default_port
    if port == 0:
        raise _InvalidURL("port 0")
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if port == default_port else f"{bracketed}:{port}"
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    target = f"{path}?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else path
    return _Target(
        https=scheme == "https",
        host=host,
        port=port,
        host_header=host_header,
        request_target=target,
        log_url=f"{scheme}://{host_header}{path}",
    )


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _describe(exc: BaseException, timeout: float) -> _AttemptFailed:
    """The short text and retry decision for an attempt that got no HTTP status."""
    if isinstance(exc, TimeoutError):
        return _AttemptFailed(f"timed out after {_seconds(timeout)}", True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _AttemptFailed(f"TLS certificate rejected: {exc.verify_message}", False)
    if isinstance(exc, ssl.SSLError):
        return _AttemptFailed(f"TLS error: {exc.reason or type(exc).__name__}", True)
    if isinstance(exc, ConnectionRefusedError):
        return _AttemptFailed("connection refused", True)
    if isinstance(exc, ConnectionResetError):
        return _AttemptFailed("connection reset", True)
    if isinstance(exc, asyncio.IncompleteReadError):
        return _AttemptFailed("bad response: connection closed early", True)
    if isinstance(exc, _BadResponse):
        return _AttemptFailed(f"bad response: {exc}", True)
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        return _AttemptFailed(f"connection error: {reason}", True)
    return _AttemptFailed(f"error: {type(exc).__name__}", True)


def _summary(last: str, attempts: int) -> str:
    if attempts <= 1:
        return last
    if last.startswith("timed out"):
        return f"{last}, {attempts} attempts"
    return f"{last} after {attempts} attempts"


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """The final status and headers of the response (skipping 1xx interim responses)."""
    while True:
        try:
            line = await reader.readline()
        except ValueError:
            raise _BadResponse("status line too long") from None
        if not line:
            raise _BadResponse("connection closed before the status line")
        fields = line.decode("latin-1").split(None, 2)
        if (
            len(fields) < 2
            or not fields[0].startswith("HTTP/1.")
            or len(fields[1]) != 3
            or not fields[1].isdigit()
        ):
            raise _BadResponse("not an HTTP/1.x status line")
        status = int(fields[1])
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADER_LINES):
            try:
                line = await reader.readline()
            except ValueError:
                raise _BadResponse("header line too long") from None
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        else:
            raise _BadResponse("too many header lines")
        if not 100 <= status < 200:
            return status, headers


async def _drain(reader: asyncio.StreamReader, headers: dict[str, str], limit: float) -> None:
    """Read (and drop) up to ``_BODY_CAP`` bytes of the body, for at most ``limit``
    seconds, so the receiver is not answered with a reset; errors do not matter here."""
    remaining = _BODY_CAP
    length = headers.get("content-length", "")
    if length.isdigit():
        remaining = min(remaining, int(length))
    with contextlib.suppress(TimeoutError, OSError, ValueError):
        async with asyncio.timeout(limit):
            while remaining > 0:
                chunk = await reader.read(min(remaining, 16 * 1024))
                if not chunk:
                    break
                remaining -= len(chunk)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(TimeoutError, OSError, ssl.SSLError):
        async with asyncio.timeout(_CLOSE_SECONDS):
            await writer.wait_closed()


@dataclass
class _Job:
    """One accepted delivery, owned by the event loop thread once accepted."""

    url: str
    body: bytes
    on_done: Callable[[DeliveryResult], None]
    attempts: int = 0
    status: int | None = None
    finished: bool = False


class WebhookSender:
    """Delivers webhook POSTs concurrently on its own event loop thread.

    ``send`` may be called from any thread; it never blocks.  Call ``start`` once before
    sending and ``stop`` once at shutdown.
    """

    def __init__(
        self,
        policy: RetryPolicy = RetryPolicy(),  # frozen, so sharing the default is safe
        max_in_flight: int = 1000,
        user_agent: str = "cfn-gateway-alarm-action",
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if not user_agent.isprintable() or not user_agent.isascii():
            raise ValueError("user_agent must be printable ASCII")
        self.policy = policy
        self.max_in_flight = max_in_flight
        self.user_agent = user_agent
        self._lock = threading.Lock()
        self._pending = 0
        self._accepting = False
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._tasks: dict[asyncio.Task[None], _Job] = {}  # only touched on the loop thread

    # -- any thread ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the daemon thread running the event loop; deliveries are accepted after."""
        with self._lock:
            if self._loop is not None or self._stopped:
                raise RuntimeError("a WebhookSender can be started only once")
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._run_loop, name="webhook-sender", daemon=True
            )
            self._thread.start()
            self._accepting = True

    def send(self, url: str, body: bytes, on_done: Callable[[DeliveryResult], None]) -> bool:
        """Queue a POST of ``body`` to ``url``; ``on_done`` gets the result later.

        Returns False, and never calls ``on_done``, when ``max_in_flight`` deliveries are
        already pending or the sender is not running (not started, or stopped).
        """
        job = _Job(url=url, body=bytes(body), on_done=on_done)
        with self._lock:
            if not self._accepting or self._loop is None:
                return False
            if self._pending >= self.max_in_flight:
                return False
            try:
                self._loop.call_soon_threadsafe(self._spawn, job)
            except RuntimeError:  # the loop is closed
                return False
            self._pending += 1
        return True

    def pending(self) -> int:
        """Accepted deliveries whose ``on_done`` has not returned yet."""
        with self._lock:
            return self._pending

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting; wait up to ``timeout`` seconds for pending deliveries, then
        cancel the rest (their ``on_done`` gets ``ok=False``, "cancelled at shutdown")."""
        with self._lock:
            self._accepting = False
            if self._stopped:
                return
            self._stopped = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if threading.current_thread() is thread:
            raise RuntimeError("WebhookSender.stop cannot be called from on_done")
        # Every _spawn was scheduled before _accepting went False, so it runs before this.
        future = asyncio.run_coroutine_threadsafe(self._shutdown(max(timeout, 0.0)), loop)
        try:
            future.result(timeout=max(timeout, 0.0) + 10.0)
        except Exception:
            logger.exception("webhook sender did not shut down cleanly")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10.0)

    # -- the event loop thread ----------------------------------------------------------

    def _run_loop(self) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _spawn(self, job: _Job) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks[task] = job
        task.add_done_callback(self._tasks.pop)

    async def _shutdown(self, timeout: float) -> None:
        jobs = dict(self._tasks)
        if not jobs:
            return
        _, rest = await asyncio.wait(jobs, timeout=timeout)
        for task in rest:
            task.cancel()
        if rest:
            await asyncio.wait(rest)
        for task in rest:
            job = jobs[task]
            if not job.finished:  # cancelled before its first step ran
                self._finish(job, self._cancelled(job))

    async def _run(self, job: _Job) -> None:
        try:
            result = await self._deliver(job)
        except asyncio.CancelledError:
            result = self._cancelled(job)
        except Exception:
            logger.exception("webhook delivery failed unexpectedly")
            result = DeliveryResult(job.url, False, job.attempts, job.status, "internal error")
        self._finish(job, result)

    @staticmethod
    def _cancelled(job: _Job) -> DeliveryResult:
        return DeliveryResult(job.url, False, job.attempts, job.status, CANCELLED_DETAIL)

    def _finish(self, job: _Job, result: DeliveryResult) -> None:
        if job.finished:
            return
        job.finished = True
        if not result.ok:
            try:
                where = _parse_url(job.url).log_url
            except ValueError:
                where = "an invalid URL"
            logger.warning("webhook delivery to %s failed: %s", where, result.detail)
        try:
            job.on_done(result)
        except Exception:
            logger.exception("webhook on_done callback raised")
        finally:
            with self._lock:
                self._pending -= 1

    async def _deliver(self, job: _Job) -> DeliveryResult:
        try:
            target = _parse_url(job.url)
        except ValueError as exc:
            return DeliveryResult(job.url, False, 0, None, f"invalid URL: {exc}")
        policy = self.policy
        last = ""
        while True:
            if job.attempts:
                await asyncio.sleep(policy.delay(job.attempts))
            job.attempts += 1
            try:
                status = await self._post_once(target, job.body)
            except Exception as exc:
                failure = _describe(exc, policy.timeout)
                last = failure.detail
                if not failure.retryable:
                    break
            else:
                job.status = status
                last = f"HTTP {status}"
                if 200 <= status < 300:
                    return DeliveryResult(
                        job.url, True, job.attempts, status, _summary(last, job.attempts)
                    )
                if status < 500 and status != 429:
                    break
            if job.attempts >= policy.attempts:
                break
        return DeliveryResult(
            job.url, False, job.attempts, job.status, _summary(last, job.attempts)
        )

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    async def _post_once(self, target: _Target, body: bytes) -> int:
        """One POST; the HTTP status, or an exception."""
        head = (
            f"POST {target.request_target} HTTP/1.1\r\n"
            f"Host: {target.host_header}\r\n"
            f"User-Agent: {self.user_agent}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n"
            "\r\n"
        ).encode("ascii")
        timeout = self.policy.timeout
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    target.host,
                    target.port,
                    ssl=self._context() if target.https else None,
                    server_hostname=target.host if target.https else None,
                    limit=_HEAD_LINE_LIMIT,
                )
                writer.write(head + body)
                await writer.drain()
                status, headers = await _read_head(reader)
            if status not in (204, 304):
                await _drain(reader, headers, min(timeout, _DRAIN_SECONDS))
        except BaseException:
            if writer is not None:
                writer.transport.abort()
            raise
        await _close(writer)
        return status
