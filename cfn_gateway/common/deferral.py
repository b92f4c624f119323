"""Acknowledgements that wait for a commit without holding the request's thread.

When the front runs the pipeline inline on a worker's event loop (one thread per worker),
a write that blocked until its commit (and its fsync) would stop every other request of
the worker meanwhile.  Instead the front opens a ``Deferral`` for the request; a write
made under it (``common.group_commit``) is queued for a commit the loop leads once it has
handled the requests that arrived together (the committer thread when another process
holds the file), and the pipeline goes on to render its answer.  The front then awaits
``Deferral.settled`` and sends that answer only once every write the request made has
committed; when one failed, it sends the error instead: ``middleware.faultwrap`` renders
it in the request's protocol from a ``when_settled`` callback, through the pipeline's
``start_response`` (so the filters outside it add their headers and see the status;
``middleware.access_log`` writes the request's line from its own callback, after), and
leaves its body in ``Deferral.answer``.  Durability is unchanged: nothing is acknowledged
before its COMMIT returned.

``add`` and ``when_settled`` run on the loop's thread (in the pipeline); ``settle`` is
called by whoever led the commit, the loop itself or the committer's thread, and hands
over to the loop (``call_soon``, or ``call_soon_threadsafe`` from another thread, once per
batch), where the callbacks run in the order they were registered.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress

LOG = logging.getLogger(__name__)

_CURRENT: contextvars.ContextVar[Deferral | None] = contextvars.ContextVar(
    "cfn_gateway_deferral", default=None)


class Deferral:
    """The writes one request left to commit, and the first error among them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending = 0
        self.error: BaseException | None = None
        #: The body to send instead of the pipeline's when a write failed.
        self.answer: bytes | None = None
        self._settled: asyncio.Future[BaseException | None] | None = None
        self._callbacks: list[Callable[[BaseException | None], None]] = []

    def add(self) -> None:
        """One more write to wait for (on the loop's thread)."""
        self.pending += 1
        if self._settled is None:
            self._settled = self.loop.create_future()

    @property
    def waiting(self) -> bool:
        return self._settled is not None

    def when_settled(self, callback: Callable[[BaseException | None], None]) -> None:
        """Call ``callback(first failure or None)`` once every write has an outcome."""
        self._callbacks.append(callback)

    async def settled(self) -> BaseException | None:
        """Once every write added has committed or failed: the first failure, or None."""
        if self._settled is None:
            return None
        return await self._settled

    def _done(self, error: BaseException | None) -> None:
        if error is not None and self.error is None:
            self.error = error
        self.pending -= 1
        if self.pending or self._settled is None or self._settled.done():
            return
        # Let go of the callbacks: they refer to this deferral, a cycle for the collector.
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback(self.error)
            except Exception:
                LOG.exception("a callback of a settled request failed")
        self._settled.set_result(self.error)


def settle(outcomes: Sequence[tuple[Deferral, BaseException | None]]) -> None:
    """Report committed (None) or failed writes to their requests' loops (any thread)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Deferral, BaseException | None]]] = {}
    for deferral, error in outcomes:
        by_loop.setdefault(deferral.loop, []).append((deferral, error))
    for loop, items in by_loop.items():
        with suppress(RuntimeError):  # a closed loop: its requests are gone with it
            call_soon_on(loop, _report, items)


def call_soon_on(loop: asyncio.AbstractEventLoop, callback: Callable[..., object],
                 *args: object, context: contextvars.Context | None = None) -> None:
    """``callback(*args)`` on ``loop`` soon, from any thread: from the loop's own thread
    without the wake-up that ``call_soon_threadsafe`` writes.  RuntimeError: a closed loop."""
    if asyncio._get_running_loop() is loop:
        loop.call_soon(callback, *args, context=context)
    else:
        loop.call_soon_threadsafe(callback, *args, context=context)


def _report(items: list[tuple[Deferral, BaseException | None]]) -> None:
    for deferral, error in items:
        deferral._done(error)


def current() -> Deferral | None:
    """The deferral of the request being handled on this thread, if any."""
    return _CURRENT.get()


class deferring:
    """Writes made inside defer their acknowledgement to ``deferral`` (a class, not a
    ``contextmanager`` generator: entered once per request)."""

    __slots__ = ("_token", "deferral")

    def __init__(self, deferral: Deferral) -> None:
        self.deferral = deferral

    def __enter__(self) -> Deferral:
        self._token = _CURRENT.set(self.deferral)
        return self.deferral

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._token)
