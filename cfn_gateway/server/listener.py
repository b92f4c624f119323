"""The listening sockets: bound by the serve process, one per worker, the port held alone.

Workers once shared one accept queue: a burst of new connections (a client pool opening
its keep-alive connections at once) was accepted by whichever worker woke first, often all
of them, and stayed there: measured with 32 wrk connections, one worker took every one in
two runs of three and the gateway ran on one core (816-884 PutMetricData/s against 2,080
when they were spread).  Each worker now accepts on a socket of its own, all bound with
``SO_REUSEPORT`` to the same address, and the kernel spreads new connections over them by
a hash of their addresses.

``SO_REUSEPORT`` alone would let a second ``cfn-gateway serve`` of the same user join the
port without a word and take part of its connections (what granian's own per-worker
binding did).  So before binding, the serve process holds the port's name in the abstract
Unix socket namespace (``\\0cfn-gateway-port:<port>``, per network namespace like the port
itself, gone with the last process that holds it: the serve process and its forked
workers).  A second gateway on the port, whatever its address, fails there; a program
listening on the port without ``SO_REUSEPORT`` makes the TCP bind fail; either way serve
exits with ``PortInUse``.  A check before binding would race with another server starting
at the same moment; the binds themselves cannot.  ``SO_REUSEADDR`` is set too, so a restart
does not wait for old connections in TIME_WAIT.

``ExclusiveGranian`` is granian's multi-process server, handed those sockets: worker
``idx`` (also when respawned) gets socket ``idx``.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from typing import Any

from granian.net import SocketHolder
from granian.server import MPServer


class PortInUse(Exception):
    """Another process listens on the address already."""


@dataclass
class Listeners:
    """The port's guard and one listening socket per worker."""

    guard: socket.socket
    sockets: list[socket.socket]

    def close(self) -> None:
        for sock in (*self.sockets, self.guard):
            sock.close()


def in_use(host: str, port: int) -> PortInUse:
    return PortInUse(f"port {port} is in use on {host}: another process listens there "
                     "(another cfn-gateway serve?); stop it or choose another --port")


def bind_listeners(host: str, port: int, backlog: int, count: int) -> Listeners:
    """``count`` listening TCP sockets on ``host:port`` sharing its connections, the port
    held against other gateways (see the module docstring)."""
    guard = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        guard.bind(f"\0cfn-gateway-port:{port}")
    except OSError as exc:
        guard.close()
        if exc.errno == errno.EADDRINUSE:
            raise in_use(host, port) from exc
        raise
    listeners = Listeners(guard, [])
    try:
        for _ in range(max(1, count)):
            listeners.sockets.append(_bind(host, port, backlog))
    except BaseException:
        listeners.close()
        raise
    return listeners


def _bind(host: str, port: int, backlog: int) -> socket.socket:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise in_use(host, port) from exc
            raise
        sock.listen(backlog)
        sock.set_inheritable(True)  # spawned (not forked) workers get the descriptor too
    except BaseException:
        sock.close()
        raise
    return sock


class ExclusiveGranian(MPServer):
    """granian's multi-process server on sockets bound beforehand (``bind_listeners``)."""

    def __init__(self, target: str, *, listeners: Listeners, **options: Any) -> None:
        super().__init__(target, **options)
        self.listeners = listeners

    def _init_shared_socket(self) -> None:
        self._ssp = None
        self._use_socket(0)

    def _use_socket(self, idx: int) -> None:
        """What ``_spawn_worker`` hands the next worker: socket ``idx``."""
        sock = self.listeners.sockets[idx % len(self.listeners.sockets)]
        self._shd = SocketHolder(sock.fileno(), False, self.backlog)
        self._sfd = sock.fileno()
        self._sso = sock

    def _spawn_worker(self, idx: int, target: Any, callback_loader: Any) -> Any:
        self._use_socket(idx)
        return super()._spawn_worker(idx, target, callback_loader)

    def _drop_shared_socket(self) -> None:
        self.listeners.close()
        self._sso = None
