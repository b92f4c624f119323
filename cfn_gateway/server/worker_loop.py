"""One worker's serving loop: the native HTTP/1.1 server on the worker's listening socket.

``serve_socket`` runs a uvloop on the worker's main thread with ``http1.Http1Server`` on
the socket the serve process bound for it, until SIGTERM or SIGINT; then it stops taking
requests, answers what was begun (for a grace period) and closes the front, which folds
the worker's staged samples into the file.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

from cfn_gateway.server.front import BufferingFront
from cfn_gateway.server.http1 import Http1Server


def serve_socket(front: BufferingFront, sock: Any, ready: Callable[[], None], *, backlog: int,
                 head_timeout: float, body_timeout: float, max_body_size: int,
                 grace: float) -> None:
    """Serve HTTP/1.1 on the listening socket ``sock`` until SIGTERM or SIGINT (call
    ``ready`` once listening); then answer what was begun, for at most ``grace`` seconds,
    and close the front."""
    import uvloop

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    server = Http1Server(front, loop, head_timeout, body_timeout, max_body_size)
    stopped = loop.create_future()

    def stop() -> None:
        if not stopped.done():
            stopped.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)

    async def run() -> None:
        listening = await loop.create_server(server.connection, sock=sock, backlog=backlog)
        ready()
        await stopped
        listening.close()
        server.stop()
        await server.drained(grace)

    try:
        loop.run_until_complete(run())
    finally:
        front.close()
        loop.close()

