"""The inline front (``server/front.py``, one thread per worker) with a request whose write
commits on the committer thread (``common.deferral``, ``common.group_commit``): the answer
leaves only once the write is committed, and a write that fails answers its error in the
request's protocol, with an access log line that says so.  The pipeline is the real
request_id/access_log/faultwrap filters around a handler writing to a real SQLite file;
granian's side (scope and protocol objects) is a stand-in."""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from cfn_gateway import errors
from cfn_gateway.common.group_commit import GroupCommit
from cfn_gateway.common.sqlite import connect, write_transaction
from cfn_gateway.context import CLOUDWATCH, ENV_PROTOCOL_HINT, QUERY, ProtocolHint
from cfn_gateway.middleware.access_log import AccessLog
from cfn_gateway.middleware.faultwrap import FaultWrap
from cfn_gateway.middleware.request_id import RequestId
from cfn_gateway.server.front import BufferingFront


class Proto:
    """What granian hands an RSGI app for one request: the body, and the answer sent."""

    def __init__(self, body: bytes, on_answer) -> None:
        self.body = body
        self.on_answer = on_answer
        self.answers: list[tuple[int, list[tuple[str, str]], bytes]] = []

    async def __call__(self) -> bytes:
        return self.body

    def response_bytes(self, status, headers, body) -> None:
        self.on_answer()
        self.answers.append((status, headers, body))


def scope(body: bytes) -> Any:
    return SimpleNamespace(
        proto="http", method="POST", path="/", query_string="", http_version="1.1",
        server="127.0.0.1:8080", client="127.0.0.1:50000", scheme="http", authority=None,
        headers={"content-length": str(len(body)), "host": "127.0.0.1:8080"})


@pytest.fixture
def store(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    conn = connect(path)
    lock = threading.Lock()
    with write_transaction(conn, lock) as tx:
        tx.execute("CREATE TABLE item (n INTEGER)")
    return SimpleNamespace(path=path, commits=GroupCommit(conn, lock))


def pipeline(store, fail: bool):
    def handler(environ, start_response):
        environ[ENV_PROTOCOL_HINT] = ProtocolHint(CLOUDWATCH, QUERY)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO item VALUES (1)")
            if fail:
                raise errors.ServiceUnavailable("The store is away.")

        assert store.commits.run(work) is None  # deferred: no waiting here
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<ok/>"]

    return RequestId(AccessLog(FaultWrap(handler)))


def committed_rows(path: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM item").fetchone()[0]
    finally:
        conn.close()


def serve_one(store, fail: bool) -> tuple[Proto, list[int]]:
    seen_at_answer: list[int] = []
    proto = Proto(b"Action=PutMetricData",
                  lambda: seen_at_answer.append(committed_rows(store.path)))
    front = BufferingFront(pipeline(store, fail), threads=1, body_timeout=5,
                           max_body_size=1 << 20)
    asyncio.run(front.__rsgi__(scope(proto.body), proto))
    return proto, seen_at_answer


def test_the_answer_leaves_once_the_write_is_committed(store, caplog):
    caplog.set_level(logging.INFO, logger="cfn_gateway.access")
    proto, seen_at_answer = serve_one(store, fail=False)
    ((status, _, body),) = proto.answers
    assert (status, body) == (200, b"<ok/>")
    assert seen_at_answer == [1]  # in the file before the client heard of it
    (line,) = [r.getMessage() for r in caplog.records if r.name == "cfn_gateway.access"]
    assert " status=200 " in line


def test_a_write_that_fails_after_the_handler_answers_its_error(store, caplog):
    caplog.set_level(logging.INFO, logger="cfn_gateway.access")
    proto, _ = serve_one(store, fail=True)
    ((status, headers, body),) = proto.answers
    assert status == 503
    assert b"<Code>ServiceUnavailable</Code>" in body and b"The store is away." in body
    assert ("Content-Type", "text/xml") in headers
    assert [name for name, _ in headers].count("x-amzn-RequestId") == 1
    assert committed_rows(store.path) == 0
    (line,) = [r.getMessage() for r in caplog.records if r.name == "cfn_gateway.access"]
    assert " status=503 " in line


@pytest.mark.parametrize("fail", [False, True], ids=["committed", "failed"])
def test_a_request_leaves_no_reference_cycle_behind(store, fail):
    """Everything a request made is freed by reference counting when it is answered, so
    the collector has next to nothing to do (its collections of per-request cycles took
    about 5 % of a worker's CPU under 1-datum puts).  A failed write's error keeps its
    traceback, but not the locals of its frames (which held the error)."""
    front = BufferingFront(pipeline(store, fail), threads=1, body_timeout=5,
                           max_body_size=1 << 20)

    async def serve(count: int) -> None:
        for _ in range(count):
            proto = Proto(b"Action=PutMetricData", lambda: None)
            await front.__rsgi__(scope(proto.body), proto)
            assert proto.answers[0][0] == (503 if fail else 200)

    async def main() -> list[str]:
        await serve(1)  # warm-up: caches filled, loggers made
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            await serve(3)
            gc.collect()
            return [type(o).__name__ for o in gc.garbage]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()

    left = asyncio.run(main())
    assert left == [], sorted(set(left))
