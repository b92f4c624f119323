"""Group commit (``common.group_commit``) on real SQLite files: writes of many threads and
of several processes share transactions, each is kept exactly when its call returned, a
failing write is rolled back alone, and a failing commit fails its whole batch."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cfn_gateway.common import deferral
from cfn_gateway.common.batch_writes import Together
from cfn_gateway.common.group_commit import LOCK_SUFFIX, GroupCommit, ProcessLock
from cfn_gateway.common.sqlite import connect, write_transaction

SCHEMA = ("CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY)",
          "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, writer TEXT, n INTEGER, "
          "parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")


class Recording(GroupCommit):
    """Counts the transactions and the writes each held."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def _commit(self, batch) -> None:
        self.batches.append(len(batch))
        super()._commit(batch)


def open_store(path: str, cls=GroupCommit, **kwargs):
    conn = connect(path)
    lock = threading.Lock()
    with write_transaction(conn, lock) as tx:
        for statement in SCHEMA:
            tx.execute(statement)
    return conn, lock, cls(conn, lock, **kwargs)


def insert(writer: str, n: int, delay: float = 0.0):
    def work(conn: sqlite3.Connection) -> int:
        if delay:
            time.sleep(delay)
        return conn.execute("INSERT INTO item (writer, n) VALUES (?, ?) RETURNING id",
                            (writer, n)).fetchone()[0]
    return work


def bad(conn: sqlite3.Connection) -> None:
    """A write that inserts, then fails."""
    conn.execute("INSERT INTO item (writer, n) VALUES ('bad', 1)")
    raise ValueError("refused")


def rows(path: str) -> list[tuple[str, int]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT writer, n FROM item").fetchall())
    finally:
        conn.close()


def test_concurrent_writes_share_transactions(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Recording)
    # A slow first write holds the lock while the others queue behind it (a thread each:
    # with fewer, writes waited for a thread rather than for a batch, and on a loaded
    # machine came in small batches).
    with ThreadPoolExecutor(64) as pool:
        first = pool.submit(commits.run, insert("t", 0, delay=0.2))
        time.sleep(0.05)
        others = [pool.submit(commits.run, insert("t", n)) for n in range(1, 64)]
        ids = [first.result()] + [f.result() for f in others]
    assert len(set(ids)) == 64
    assert rows(path) == [("t", n) for n in range(64)]
    assert sum(commits.batches) == 64
    assert len(commits.batches) < 10, commits.batches  # not one commit per write


def test_batches_are_bounded(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Recording, max_batch=4)
    with ThreadPoolExecutor(16) as pool:
        first = pool.submit(commits.run, insert("t", 0, delay=0.2))
        time.sleep(0.05)
        others = [pool.submit(commits.run, insert("t", n)) for n in range(1, 20)]
        for future in [first, *others]:
            future.result()
    assert max(commits.batches) <= 4 and sum(commits.batches) == 20


def test_a_failing_write_is_rolled_back_alone(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path)

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(commits.run, insert("good", 0, delay=0.2))
        time.sleep(0.05)
        failing = pool.submit(commits.run, bad)
        rest = [pool.submit(commits.run, insert("good", n)) for n in range(1, 6)]
        with pytest.raises(ValueError, match="refused"):
            failing.result()
        for future in [first, *rest]:
            future.result()
    assert rows(path) == [("good", n) for n in range(6)]


def test_a_failing_commit_fails_every_write_of_its_batch(tmp_path):
    """A deferred foreign key is checked at COMMIT: the batch that holds a write breaking
    it is not kept, and every writer of that batch hears so."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Recording)

    def orphan(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO item (writer, n, parent) VALUES ('orphan', 0, 42)")

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(commits.run, insert("early", 0, delay=0.2))
        time.sleep(0.05)
        batch = [pool.submit(commits.run, orphan)] + [
            pool.submit(commits.run, insert("late", n)) for n in range(3)]
        first.result()
        for future in batch:
            with pytest.raises(sqlite3.IntegrityError):
                future.result()
    assert rows(path) == [("early", 0)]
    assert commits.run(insert("after", 1)) > 0  # the store works on
    assert rows(path) == [("after", 1), ("early", 0)]


def _process_writer(path: str, writer: str, count: int) -> None:
    _, _, commits = open_store(path)
    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(commits.run, insert(writer, n)) for n in range(count)]:
            future.result()


def test_processes_take_turns(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    open_store(path)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_process_writer, args=(path, f"p{i}", 300))
               for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert rows(path) == sorted((f"p{i}", n) for i in range(3) for n in range(300))


def test_writes_that_queue_while_another_process_commits_join_the_next_turn(tmp_path):
    """A leader takes its batch once it holds the file's lock: the writes that queued while
    another process held it commit in the same transaction as the leader's own."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Recording)
    other_process = ProcessLock(path + LOCK_SUFFIX)  # its own open file: flock conflicts
    with ThreadPoolExecutor(10) as pool:
        with other_process:
            futures = [pool.submit(commits.run, insert("t", n)) for n in range(10)]
            deadline = time.monotonic() + 10
            while len(commits._queue) < 10 and time.monotonic() < deadline:
                time.sleep(0.01)  # the leader waits for the file, the others behind it
            assert len(commits._queue) == 10 and not any(f.done() for f in futures)
        for future in futures:
            future.result(10)
    assert commits.batches == [10]
    assert rows(path) == [("t", n) for n in range(10)]


class RefusingLock:
    """A file lock that cannot be taken once."""

    def __init__(self, lock: ProcessLock) -> None:
        self.lock, self.refused = lock, False

    def __enter__(self):
        if not self.refused:
            self.refused = True
            raise OSError(37, "No locks available")
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def test_a_file_lock_that_cannot_be_taken_fails_the_writes_waiting(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path)
    commits._writers = RefusingLock(commits._writers)
    with pytest.raises(OSError, match="No locks available"):
        commits.run(insert("refused", 0))
    assert rows(path) == []
    assert commits.run(insert("after", 1)) > 0  # the next turn takes the lock
    assert rows(path) == [("after", 1)]


def _deferred(commits: GroupCommit, works, after=None):
    """Run each of ``works`` under a request deferral of its own, as the inline front does:
    (what each ``run`` returned at once, whether each was settled then, each outcome)."""
    async def main():
        loop = asyncio.get_running_loop()
        requests = [deferral.Deferral(loop) for _ in works]
        returned = []
        for request, work in zip(requests, works, strict=True):
            with deferral.deferring(request):
                returned.append(commits.run(work, after))
        early = [request.pending == 0 for request in requests]
        outcomes = [await request.settled() for request in requests]
        return returned, early, outcomes
    return asyncio.run(main())


def test_deferred_writes_return_at_once_and_settle_after_their_commit(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Recording)
    committed_before: list[list[tuple[str, int]]] = []
    returned, early, outcomes = _deferred(
        commits, [insert("d", 0, delay=0.2)] + [insert("d", n) for n in range(1, 20)],
        after=lambda result: committed_before.append(rows(path)))
    assert returned == [None] * 20 and early == [False] * 20
    assert outcomes == [None] * 20
    assert rows(path) == [("d", n) for n in range(20)]
    assert len(commits.batches) < 5, commits.batches  # one loop turn: shared commits
    # ``after`` runs once the write is in the file.
    assert len(committed_before) == 20 and all(found for found in committed_before)


def test_a_deferred_write_that_fails_settles_with_its_error_alone(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path)

    _, _, outcomes = _deferred(commits, [insert("good", 0, delay=0.1), bad, insert("good", 1)])
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], ValueError)
    assert rows(path) == [("good", 0), ("good", 1)]


def test_blocking_and_deferred_writers_share_the_lead(tmp_path):
    """Threads that wait for their commit and requests that defer it take turns: every
    write is kept, each writer hears of its own."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path)
    with ThreadPoolExecutor(4) as pool:
        blocking = [pool.submit(commits.run, insert("blocking", n, delay=0.01))
                    for n in range(20)]
        _, _, outcomes = _deferred(commits, [insert("deferred", n) for n in range(20)])
        assert all(future.result() > 0 for future in blocking)
    assert outcomes == [None] * 20
    assert rows(path) == sorted([("blocking", n) for n in range(20)]
                                + [("deferred", n) for n in range(20)])


class Inserts:
    """Writes that may run together: one ``executemany`` for all of them, counted."""

    def __init__(self, refuse: int | None = None) -> None:
        self.combined: list[int] = []  # the size of each successful combined call
        self.refuse = refuse  # a value whose presence makes the combined call fail

    def combine(self, conn: sqlite3.Connection, payloads: list[tuple[str, int]]) -> list[str]:
        conn.executemany("INSERT INTO item (writer, n) VALUES (?, ?)", payloads)
        if self.refuse is not None and any(n == self.refuse for _, n in payloads):
            raise ValueError("refused together")
        self.combined.append(len(payloads))
        return [f"together {n}" for _, n in payloads]

    def run(self, commits: GroupCommit, writer: str, n: int):
        def alone(conn: sqlite3.Connection) -> str:
            if n == self.refuse:
                raise ValueError("refused alone")
            conn.execute("INSERT INTO item (writer, n) VALUES (?, ?)", (writer, n))
            return f"alone {n}"
        return commits.run(alone, together=Together(self.combine, (writer, n)))


def test_neighbours_that_may_go_together_run_in_one_call(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Recording)
    inserts = Inserts()
    with ThreadPoolExecutor(16) as pool:
        first = pool.submit(commits.run, insert("t", 0, delay=0.2))  # holds the lead
        time.sleep(0.05)
        rest = [pool.submit(inserts.run, commits, "t", n) for n in range(1, 30)]
        first.result()
        results = [future.result() for future in rest]
    assert rows(path) == [("t", n) for n in range(30)]
    assert sum(inserts.combined) >= 20 and max(inserts.combined) >= 10, inserts.combined
    assert results.count("alone 1") + results.count("together 1") == 1
    assert all(r.endswith(str(n)) for r, n in zip(results, range(1, 30), strict=True))


def test_a_failure_together_runs_each_alone_and_fails_only_its_own(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path)
    inserts = Inserts(refuse=7)
    with ThreadPoolExecutor(16) as pool:
        first = pool.submit(commits.run, insert("t", 0, delay=0.2))
        time.sleep(0.05)
        rest = {n: pool.submit(inserts.run, commits, "t", n) for n in range(1, 15)}
        first.result()
        with pytest.raises(ValueError, match="refused alone"):
            rest.pop(7).result()
        results = {n: future.result() for n, future in rest.items()}
    # Nothing of the failed combined call stayed: every row once, none of n = 7.
    assert rows(path) == [("t", n) for n in range(15) if n != 7]
    assert "alone 8" in results.values()


def test_deferred_writes_go_together(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path)
    inserts = Inserts()

    async def main():
        loop = asyncio.get_running_loop()
        requests = [deferral.Deferral(loop) for _ in range(40)]
        for n, request in enumerate(requests):
            with deferral.deferring(request):
                assert inserts.run(commits, "d", n) is None
        return [await request.settled() for request in requests]

    assert asyncio.run(main()) == [None] * 40
    assert rows(path) == [("d", n) for n in range(40)]
    assert sum(inserts.combined) >= 30, inserts.combined


class Threads(Recording):
    """Also records the thread that led each transaction."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.leaders: list[str] = []
        self.on_loop: list[bool] = []

    def _commit(self, batch) -> None:
        self.leaders.append(threading.current_thread().name)
        self.on_loop.append(self.on_event_loop)
        super()._commit(batch)


def test_a_loop_leads_its_deferred_writes_when_the_file_is_free(tmp_path):
    """No other process holds the file's lock: the loop commits the writes of the requests
    it handled together itself, in one transaction, and no committer thread is started."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Threads)
    _, early, outcomes = _deferred(commits, [insert("d", n) for n in range(12)])
    assert early == [False] * 12 and outcomes == [None] * 12
    assert commits.batches == [12]
    assert commits.leaders == [threading.current_thread().name] and commits.on_loop == [True]
    assert commits._committer is None
    assert rows(path) == [("d", n) for n in range(12)]


def test_a_loop_does_not_wait_for_a_file_another_process_holds(tmp_path):
    """While another process holds the file's lock, the loop goes on serving (its timers
    fire); the committer thread waits for the lock, leads the batch, and the requests
    settle once the lock is free.  The next batch is the loop's again."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Threads)
    other_process = ProcessLock(path + LOCK_SUFFIX)

    async def main():
        loop = asyncio.get_running_loop()
        requests = [deferral.Deferral(loop) for _ in range(5)]
        with other_process:
            for n, request in enumerate(requests):
                with deferral.deferring(request):
                    commits.run(insert("held", n))
            ticks = 0
            for _ in range(20):  # the loop is free: 20 turns of 10 ms
                await asyncio.sleep(0.01)
                ticks += 1
            pending = [request.pending for request in requests]
        outcomes = [await asyncio.wait_for(request.settled(), 10) for request in requests]
        later = deferral.Deferral(loop)
        with deferral.deferring(later):
            commits.run(insert("free", 0))
        return ticks, pending, outcomes, await asyncio.wait_for(later.settled(), 10)

    ticks, pending, outcomes, later = asyncio.run(main())
    assert ticks == 20 and pending == [1] * 5
    assert outcomes == [None] * 5 and later is None
    assert commits.leaders[0] == "cfn-gateway-committer" and commits.on_loop[0] is False
    assert commits.leaders[-1] == threading.current_thread().name
    assert rows(path) == [("free", 0)] + [("held", n) for n in range(5)]


def test_a_blocking_write_on_the_loop_takes_the_lead_the_loop_was_to_take(tmp_path):
    """A read's fold waits for its write on the loop's own thread: it must not wait for a
    callback of that same loop (it would wait for ever); it commits the deferred writes
    queued before it too."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Threads)

    async def main():
        loop = asyncio.get_running_loop()
        requests = [deferral.Deferral(loop) for _ in range(3)]
        for n, request in enumerate(requests):
            with deferral.deferring(request):
                commits.run(insert("deferred", n))
        blocking = commits.run(insert("blocking", 0))  # on the loop's thread
        return blocking, [await asyncio.wait_for(r.settled(), 10) for r in requests]

    blocking, outcomes = asyncio.run(main())
    assert blocking > 0 and outcomes == [None] * 3
    assert commits.batches == [4]
    assert rows(path) == [("blocking", 0)] + [("deferred", n) for n in range(3)]


def test_a_turn_left_to_a_loop_that_stopped_is_taken_by_the_next_blocking_write(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path)

    async def queue_and_leave():
        with deferral.deferring(deferral.Deferral(asyncio.get_running_loop())):
            commits.run(insert("deferred", 0))  # its loop's callback never runs

    loop = asyncio.new_event_loop()
    loop.run_until_complete(queue_and_leave())
    loop.close()
    assert commits.run(insert("blocking", 0)) > 0  # does not wait for the closed loop
    assert rows(path) == [("blocking", 0), ("deferred", 0)]


def test_run_later_is_led_by_the_committer_and_its_failure_is_logged(tmp_path, caplog):
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Threads)
    done = threading.Event()

    def later(conn: sqlite3.Connection) -> None:
        insert("later", 0)(conn)
        done.set()

    commits.run_later(later)
    commits.run_later(bad)
    assert done.wait(10)
    deadline = time.monotonic() + 10
    while "no one waited for failed" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "no one waited for failed" in caplog.text and "refused" in caplog.text
    assert set(commits.leaders) == {"cfn-gateway-committer"}
    assert rows(path) == [("later", 0)]


def test_a_blocking_write_on_the_loop_queued_behind_the_committer_is_not_stranded(tmp_path):
    """The committer leads (another process held the file) while the loop's thread queues a
    deferred write and then waits for a blocking one: when the committer hands the lead
    to that loop, the blocking write, which holds the loop's thread, takes it."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Threads)
    other_process = ProcessLock(path + LOCK_SUFFIX)
    outcome: list = []

    async def main():
        loop = asyncio.get_running_loop()
        first, second = deferral.Deferral(loop), deferral.Deferral(loop)
        other_process.__enter__()
        with deferral.deferring(first):
            commits.run(insert("first", 0, delay=0.3))
        await asyncio.sleep(0.05)  # the loop found the file held: the committer waits
        other_process.__exit__()
        await asyncio.sleep(0.1)  # the committer holds the file, writing ``first``
        with deferral.deferring(second):
            commits.run(insert("second", 0))
        blocking = commits.run(insert("blocking", 0))
        outcome.append((blocking, await first.settled(), await second.settled()))

    runner = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    runner.start()
    runner.join(10)
    assert not runner.is_alive(), "the loop's thread waits for its own callback"
    assert outcome[0][0] > 0 and outcome[0][1:] == (None, None)
    assert commits.leaders == ["cfn-gateway-committer", runner.name]
    assert rows(path) == [("blocking", 0), ("first", 0), ("second", 0)]


def test_a_loops_batch_stops_before_work_left_to_the_committer(tmp_path):
    """``run_later`` work queued between a loop's deferred writes is not in the loop's
    batch: the loop commits the writes before it, the committer the rest."""
    path = str(tmp_path / "db.sqlite3")
    _, _, commits = open_store(path, Threads)
    later_ran_on: list[str] = []

    def later(conn: sqlite3.Connection) -> None:
        later_ran_on.append(threading.current_thread().name)
        insert("later", 0)(conn)

    async def main():
        loop = asyncio.get_running_loop()
        requests = [deferral.Deferral(loop) for _ in range(3)]
        with deferral.deferring(requests[0]):
            commits.run(insert("deferred", 0))
        commits.run_later(later)
        for n, request in enumerate(requests[1:], 1):
            with deferral.deferring(request):
                commits.run(insert("deferred", n))
        return [await asyncio.wait_for(r.settled(), 10) for r in requests]

    assert asyncio.run(main()) == [None] * 3
    assert later_ran_on == ["cfn-gateway-committer"]
    assert commits.batches == [1, 3]
    assert commits.leaders == [threading.current_thread().name, "cfn-gateway-committer"]
    assert rows(path) == [("deferred", 0), ("deferred", 1), ("deferred", 2), ("later", 0)]
