"""The RSGI front's body deadlines: a late body becomes ``LateBody`` (never early, at most
one tick late), a body in time is served, a cancellation that is not the deadline's passes
through, and the one timer stops when nothing is watched."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from cfn_gateway.server.front import BufferingFront, LateBody


class Proto:
    def __init__(self, arrives_after: float | None, body: bytes = b"x" * 10) -> None:
        self.arrives_after = arrives_after
        self.body = body

    async def __call__(self) -> bytes:
        if self.arrives_after is None:
            await asyncio.Event().wait()  # never
        await asyncio.sleep(self.arrives_after)
        return self.body


def scope() -> Any:
    return SimpleNamespace(headers={"content-length": "10"}, http_version="1.1")


def front(timeout: float) -> BufferingFront:
    made = BufferingFront(lambda environ, start: [b""], threads=1, body_timeout=timeout,
                         max_body_size=1000)
    made.deadlines.tick = 0.02
    return made


def test_a_body_that_never_arrives_is_late_after_the_deadline():
    async def run():
        loop = asyncio.get_running_loop()
        started = loop.time()
        stream, keep_alive = await front(0.2).read_body(scope(), Proto(None))
        return stream, keep_alive, loop.time() - started

    stream, keep_alive, waited = asyncio.run(run())
    assert isinstance(stream, LateBody) and keep_alive is False
    assert 0.2 <= waited < 0.2 + 0.15


def test_bodies_in_time_are_read_and_the_timer_stops():
    async def run():
        made = front(1.0)
        answers = await asyncio.gather(*[made.read_body(scope(), Proto(0.01 * i))
                                         for i in range(20)])
        await asyncio.sleep(0.1)
        return made, answers

    made, answers = asyncio.run(run())
    assert all(stream.read() == b"x" * 10 and keep for stream, keep in answers)
    assert made.deadlines._timer is None and not made.deadlines._due


def test_a_late_and_a_timely_body_side_by_side():
    async def run():
        made = front(0.1)
        return await asyncio.gather(made.read_body(scope(), Proto(None)),
                                    made.read_body(scope(), Proto(0.01)))

    (late, _), (timely, keep) = asyncio.run(run())
    assert isinstance(late, LateBody)
    assert timely.read() == b"x" * 10 and keep


def test_a_cancellation_that_is_not_the_deadline_passes_through():
    async def run():
        made = front(10.0)
        task = asyncio.ensure_future(made.read_body(scope(), Proto(None)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return made

    made = asyncio.run(run())
    assert not made.deadlines._due
