"""One lock per key (an access key, a token's hash, a project id): callers that need the
same slow answer wait for the first one's instead of asking again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class KeyedLocks:
    """One lock per key, held only while someone uses it (no lock is kept for a key
    afterwards: unknown access keys cannot make it grow)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str, blocking: bool = True) -> Iterator[bool]:
        """Holds ``key``'s lock for the block; yields False (without it) when it is taken
        and ``blocking`` is off."""
        with self._lock:
            lock, users = self._locks.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        acquired = lock.acquire(blocking)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
            with self._lock:
                users[0] -= 1
                if not users[0]:
                    del self._locks[key]
