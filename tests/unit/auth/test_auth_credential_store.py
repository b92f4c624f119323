"""The SQLite credential store: create, get, list, delete, shared by connections and processes."""

from __future__ import annotations

import multiprocessing
import os
import re
import stat
import threading
from datetime import UTC, datetime

import pytest

from cfn_gateway.auth.credential_store import CredentialStore


def test_create_makes_aws_like_keys(store):
    before = datetime.now(UTC)
    cred = store.create("project-a")
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", cred.access_key)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", cred.secret_key)
    assert cred.project == "project-a"
    assert before <= cred.created_at <= datetime.now(UTC)
    assert cred.created_at.tzinfo is not None


def test_keys_are_random(store):
    creds = [store.create("p") for _ in range(20)]
    assert len({c.access_key for c in creds}) == 20
    assert len({c.secret_key for c in creds}) == 20


def test_get(store):
    cred = store.create("project-a")
    assert store.get(cred.access_key) == cred
    assert store.get("AKIANOSUCHKEY0000000") is None
    assert store.get("") is None


def test_list_and_project_isolation(store):
    a1 = store.create("project-a")
    b1 = store.create("project-b")
    a2 = store.create("project-a")
    assert store.list("project-a") == [a1, a2]
    assert store.list("project-b") == [b1]
    assert store.list("project-c") == []
    assert store.list() == [a1, b1, a2]


def test_delete(store):
    a = store.create("project-a")
    b = store.create("project-a")
    assert store.delete(a.access_key) is True
    assert store.delete(a.access_key) is False
    assert store.get(a.access_key) is None
    assert store.list("project-a") == [b]


@pytest.mark.parametrize("project", ["", "x" * 256, None])
def test_project_must_be_a_name(store, project):
    with pytest.raises(ValueError):
        store.create(project)


def test_secret_stays_out_of_repr(store):
    cred = store.create("project-a")
    assert cred.secret_key not in repr(cred)


def test_file_is_private_and_folder_created(tmp_path):
    path = tmp_path / "deep" / "er" / "credentials.sqlite3"
    CredentialStore(str(path)).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_two_connections_share_the_file(tmp_path):
    path = str(tmp_path / "credentials.sqlite3")
    first, second = CredentialStore(path), CredentialStore(path)
    cred = first.create("project-a")
    assert second.get(cred.access_key) == cred
    assert second.delete(cred.access_key)
    assert first.get(cred.access_key) is None
    first.close()
    second.close()


def _create_many(path: str, project: str, count: int) -> None:
    store = CredentialStore(path)
    for _ in range(count):
        store.create(project)
    store.close()


def test_processes_write_concurrently(tmp_path):
    path = str(tmp_path / "credentials.sqlite3")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_create_many, args=(path, f"p{i}", 25)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    store = CredentialStore(path)
    assert [len(store.list(f"p{i}")) for i in range(3)] == [25, 25, 25]
    store.close()


def _get_after_fork(store: CredentialStore, access_key: str, queue) -> None:
    inherited = store._conn
    cred = store.get(access_key)
    queue.put((cred.project if cred else None, store._conn is not inherited))


def test_store_used_after_fork_reconnects(tmp_path):
    store = CredentialStore(str(tmp_path / "credentials.sqlite3"))
    cred = store.create("project-a")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_get_after_fork, args=(store, cred.access_key, queue))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == ("project-a", True)  # read through a connection of its own
    assert store.get(cred.access_key) == cred  # the parent's connection still works
    store.close()


def test_threads_share_one_store(store):
    creds = []

    def work():
        for _ in range(20):
            cred = store.create("project-t")
            assert store.get(cred.access_key) == cred
            creds.append(cred)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.list("project-t")) == 80 == len(creds)
