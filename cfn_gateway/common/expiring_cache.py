"""A bounded, thread-safe mapping whose entries each live until a deadline of their own.

Entries past their deadline are never returned (they are dropped when met); when the cache
is full, the entry used longest ago (put or found) goes first.  Times come from a
monotonic ``clock``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """At most ``size`` entries, each kept for the ``lifetime`` it was put with."""

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()  # key -> (deadline, value)
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self.clock() >= entry[0]:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, value: V, lifetime: float) -> None:
        """Keeps ``value`` for ``lifetime`` seconds (none at all when it is not positive)."""
        with self._lock:
            self._entries.pop(key, None)
            if lifetime <= 0:
                return
            self._entries[key] = (self.clock() + lifetime, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
