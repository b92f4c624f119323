"""``common.sqlite.connect`` on real files: processes that open one new file together (the
workers and the engine at start-up) all get it, in WAL mode."""

from __future__ import annotations

import multiprocessing

from cfn_gateway.common.sqlite import connect

OPENERS = 6


def _open(path: str, barrier, answers) -> None:
    barrier.wait()
    try:
        conn = connect(path)
        answers.put(conn.execute("PRAGMA journal_mode").fetchone()[0])
        conn.close()
    except Exception as exc:  # what the parent reports
        answers.put(repr(exc))


def test_processes_that_open_a_new_file_together_all_get_it(tmp_path):
    context = multiprocessing.get_context("fork")
    for round_no in range(50):
        path = str(tmp_path / f"new-{round_no}.sqlite3")
        barrier, answers = context.Barrier(OPENERS), context.Queue()
        openers = [context.Process(target=_open, args=(path, barrier, answers))
                   for _ in range(OPENERS)]
        for opener in openers:
            opener.start()
        found = [answers.get(timeout=60) for _ in openers]
        for opener in openers:
            opener.join(timeout=60)
        assert found == ["wal"] * OPENERS, (round_no, found)
