"""The request ids' random bytes: drawn in blocks, each byte used once, per process."""

from __future__ import annotations

import os
import threading
import uuid

from cfn_gateway.middleware import request_id
from cfn_gateway.middleware.request_id import RandomBlocks, new_request_id


def counting_urandom(monkeypatch) -> list[int]:
    """Make ``os.urandom`` (as the module calls it) count its calls and give bytes that
    never repeat; returns the sizes asked for."""
    asked: list[int] = []

    def urandom(size: int) -> bytes:
        asked.append(size)
        return bytes((len(asked) * 7 + i) % 256 for i in range(size))

    monkeypatch.setattr(request_id.os, "urandom", urandom)
    return asked


def test_one_urandom_call_per_block_and_every_slice_used_once(monkeypatch):
    asked = counting_urandom(monkeypatch)
    blocks = RandomBlocks(ids_per_block=4)
    taken = [blocks.take() for _ in range(9)]
    assert asked == [64, 64, 64]  # 4 ids a block: 9 ids need three blocks
    assert all(len(raw) == 16 for raw in taken)
    first_block = bytes((7 + i) % 256 for i in range(64))
    assert b"".join(taken[:4]) == first_block


def test_ids_from_blocks_are_version_4_uuids():
    blocks = RandomBlocks(ids_per_block=3)
    ids = {new_request_id(blocks) for _ in range(100)}
    assert len(ids) == 100
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_forget_draws_a_new_block(monkeypatch):
    asked = counting_urandom(monkeypatch)
    blocks = RandomBlocks(ids_per_block=4)
    before = blocks.take()
    blocks.forget()
    after = blocks.take()
    assert len(asked) == 2
    assert before != after


def test_threads_never_share_a_slice():
    blocks = RandomBlocks(ids_per_block=8)
    seen: list[bytes] = []
    lock = threading.Lock()

    def take_many() -> None:
        mine = [blocks.take() for _ in range(500)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=take_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == len(seen) == 4000


def test_a_forked_child_does_not_repeat_its_parents_ids():
    """The module's own generator, with a block drawn before the fork: the child's next
    ids are not the parent's."""
    new_request_id()  # the parent now holds a partly used block
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids to the pipe, then out without pytest's exit
        try:
            os.write(writing, " ".join(new_request_id() for _ in range(4)).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        child_ids = set(pipe.read().decode().split())
    os.waitpid(pid, 0)
    parent_ids = {new_request_id() for _ in range(4)}
    assert len(child_ids) == 4
    assert not child_ids & parent_ids


def test_a_new_process_id_draws_a_new_block(monkeypatch):
    """A fork that ran no Python hooks still gets a block of its own."""
    asked = counting_urandom(monkeypatch)
    blocks = RandomBlocks(ids_per_block=4)
    before = blocks.take()
    real_pid = os.getpid()
    monkeypatch.setattr(request_id.os, "getpid", lambda: real_pid + 1)
    after = blocks.take()
    assert len(asked) == 2
    assert before != after
    blocks.take()
    assert len(asked) == 2  # the new block serves the new process from then on
