"""Test HTTP servers on 127.0.0.1 served from a background thread for the length of a block."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from socketserver import BaseServer
from typing import TypeVar

S = TypeVar("S", bound=BaseServer)


@contextlib.contextmanager
def running(server: S) -> Iterator[S]:
    """``server`` answering in a daemon thread; shut down and closed at the end."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
