"""The listening socket: bound once, exclusively, by the serve process; shared by its workers.

On Linux granian lets every worker bind its own socket with ``SO_REUSEPORT``, so a second
``cfn-gateway serve`` on a busy port started without a word and the kernel handed it part
of the connections.  A check before binding would race with another server starting at
the same moment; the bind itself cannot.  ``bind_listener`` binds without
``SO_REUSEPORT`` (``SO_REUSEADDR`` only, so a restart does not wait for old connections in
TIME_WAIT): the kernel refuses the port while anything else listens on it, whatever that
is (an earlier gateway, or the orphaned workers of one), and refuses any later
``SO_REUSEPORT`` socket too.

``ExclusiveGranian`` is granian's multi-process server, handed that socket: granian's own
shared-socket path (what it does on every other platform) passes the descriptor to each
worker, which accepts on it.  The workers share one accept queue.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from granian.net import SocketHolder
from granian.server import MPServer


class PortInUse(Exception):
    """Another process listens on the address already."""


def bind_listener(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that no other socket may share."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} is in use on {host}: another process listens there "
                    "(another cfn-gateway serve?); stop it or choose another --port"
                ) from exc
            raise
        sock.listen(backlog)
        sock.set_inheritable(True)  # spawned (not forked) workers get the descriptor too
    except BaseException:
        sock.close()
        raise
    return sock


class ExclusiveGranian(MPServer):
    """granian's multi-process server on a socket bound beforehand (``listener``)."""

    def __init__(self, target: str, *, listener: socket.socket, **options: Any) -> None:
        super().__init__(target, **options)
        self.listener = listener

    def _init_shared_socket(self) -> None:
        fd = self.listener.fileno()
        self._ssp = None
        self._shd = SocketHolder(fd, False, self.backlog)
        self._sfd = fd
        self._sso = self.listener  # closed by MPServer._drop_shared_socket at shutdown
