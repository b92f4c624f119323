"""A byte relay between TCP and a Unix socket, to reach an agent whose endpoint is fixed.

``cfn-push-stats`` always talks to port 8003.  The functional test runs it in a private
network namespace, where 8003 is always free and nothing but the gateway can be reached
(no metadata service, no other test run's port).  Inside the namespace this file runs as a
script::

    python netns_relay.py 8003 /path/to/gateway.sock -- cfn-push-stats ...

It listens on 127.0.0.1:8003, runs the command, and carries each connection over the Unix
socket (a file, so both namespaces reach it) to a ``Relay`` in the test process, which
connects it on to the gateway's own port.  Bytes pass unchanged in both directions, so the
gateway sees exactly the request the agent sent, ``Host: 127.0.0.1:8003`` included.

Standard library only: the script runs under the test's Python without the test package.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Callable

_CHUNK = 65536
_ACCEPT_POLL = 0.1  # seconds between checks for close() while waiting for a connection


class Relay:
    """Accepts connections on ``listener`` and joins each to a new ``connect()`` socket."""

    def __init__(self, listener: socket.socket, connect: Callable[[], socket.socket]) -> None:
        self.listener = listener
        self.connect = connect
        self.connections = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> Relay:
        self.listener.settimeout(_ACCEPT_POLL)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self.listener.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._join, args=(client,), daemon=True).start()

    def _join(self, client: socket.socket) -> None:
        client.settimeout(None)
        with client:
            try:
                upstream = self.connect()
            except OSError:
                return  # the client sees its connection closed, as with a refused port
            with upstream:
                back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
                back.start()
                _pump(client, upstream)
                back.join()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until ``source`` ends, then end ``sink``'s sending side."""
    with contextlib.suppress(OSError):  # either side gone: the copy is over
        while data := source.recv(_CHUNK):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def unix_connector(path: str) -> Callable[[], socket.socket]:
    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock

    return connect


def main(argv: list[str]) -> int:
    """``PORT SOCKET -- COMMAND...``: relay 127.0.0.1:PORT to SOCKET while COMMAND runs."""
    if len(argv) < 4 or argv[2] != "--":
        print("usage: netns_relay.py PORT SOCKET -- COMMAND...", file=sys.stderr)
        return 2
    port, unix_path, command = int(argv[0]), argv[1], argv[3:]
    listener = socket.create_server(("127.0.0.1", port))
    relay = Relay(listener, unix_connector(unix_path)).start()
    try:
        return subprocess.run(command, check=False).returncode
    finally:
        relay.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
