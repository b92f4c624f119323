"""Plumbing shared by the paste filters: WSGI types and the filter_factory pattern."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from http import HTTPStatus
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def reply(start_response: StartResponse, status: int, headers: list[tuple[str, str]],
          body: bytes) -> list[bytes]:
    """Send a complete response with a correct Content-Length."""
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(status_line(status), headers)
    return [body]


@lru_cache(maxsize=128)
def status_line(status: int) -> str:
    """``"200 OK"``: the code and its reason phrase (``Unknown`` for a code without one)."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"{status} {reason}"
