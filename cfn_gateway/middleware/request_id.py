"""Paste filter ``request_id``: gives every request an id.

The id is stored at ``environ[ENV_REQUEST_ID]`` and returned in the ``x-amzn-RequestId``
header (what botocore reads into ``ResponseMetadata.RequestId``).

Its random bits come from ``os.urandom`` in blocks of ``IDS_PER_BLOCK`` ids: one call per
request cost a system call, and ``os.urandom`` lets go of the GIL around it, so on a worker
whose committer thread was busy every request handed the GIL over and waited to get it
back.  A forked child forgets the block its parent drew (``os.register_at_fork``, and a
process id check for a fork that runs no Python hooks), so no two processes hand out the
same ids; threads take their slices under a lock.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from cfn_gateway.context import ENV_REQUEST_ID
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp

#: Ids whose random bytes one ``os.urandom`` call draws.
IDS_PER_BLOCK = 256
_ID_BYTES = 16


class RandomBlocks:
    """16 random bytes at a time out of blocks drawn from ``os.urandom``, each byte handed
    out once; thread-safe, and a forked child draws blocks of its own."""

    def __init__(self, ids_per_block: int = IDS_PER_BLOCK) -> None:
        self._block_size = ids_per_block * _ID_BYTES
        self._lock = threading.Lock()
        self._block = b""
        self._offset = 0
        self._pid = os.getpid()
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        """Drop what is left of the block (in a forked child: its parent's too)."""
        self._lock = threading.Lock()  # the parent's may have been held at the fork
        self._block, self._offset = b"", 0

    def take(self) -> bytes:
        with self._lock:
            offset = self._offset
            if offset >= len(self._block) or self._pid != os.getpid():
                self._block, offset = os.urandom(self._block_size), 0
                self._pid = os.getpid()
            self._offset = offset + _ID_BYTES
            return self._block[offset:offset + _ID_BYTES]


_RANDOM = RandomBlocks()


def new_request_id(random_bytes: RandomBlocks = _RANDOM) -> str:
    """A random (version 4) UUID in its usual text form; ``str(uuid.uuid4())`` makes a UUID
    object first and takes twice as long."""
    raw = bytearray(random_bytes.take())
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class RequestId:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        request_id = new_request_id()
        environ[ENV_REQUEST_ID] = request_id

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            headers = [h for h in headers if h[0].lower() != "x-amzn-requestid"]
            headers.append(("x-amzn-RequestId", request_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_id)


def filter_factory(global_conf: dict, **local_conf: str):
    return RequestId
