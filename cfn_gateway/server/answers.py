"""The bytes of an HTTP/1.1 answer, as the native server (``server.http1``) sends them.

Every answer carries ``Content-Length`` (the pipeline's, else the body's length) and
``Date`` (formatted once a second); ``Connection: close`` when the connection ends after
it.  An answer to HEAD keeps its length but leaves its body out.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from functools import lru_cache
from http import HTTPStatus

from cfn_gateway.server.front import Response

REASONS = {status.value: status.phrase for status in HTTPStatus}


@lru_cache(maxsize=4)
def http_date(second: int) -> str:
    return formatdate(second, usegmt=True)


def bare_answer(status: int) -> bytes:
    """A complete answer without a body, for what never reaches the pipeline."""
    return (f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Length: 0\r\n"
            f"Connection: close\r\nDate: {http_date(int(time.time()))}\r\n\r\n"
            ).encode("latin-1")


def answer_bytes(answer: Response, keep_alive: bool, with_body: bool) -> bytes:
    """The status line, headers and body of ``answer``, as sent."""
    status, headers, body = answer
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    has_length = False
    for name, value in headers:
        lines.append(f"{name}: {value}")
        if not has_length and name.lower() == "content-length":
            has_length = True
    if not has_length:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Date: " + http_date(int(time.time())))
    if not keep_alive:
        lines.append("Connection: close")
    lines.append("\r\n")
    # Header values are latin-1 on the wire; should one hold more, it goes out as "?".
    head = "\r\n".join(lines).encode("latin-1", "replace")
    return head + body if with_body else head
