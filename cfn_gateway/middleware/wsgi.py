"""Plumbing shared by the paste filters: WSGI types and the filter_factory pattern."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def reply(start_response: StartResponse, status: int, headers: list[tuple[str, str]],
          body: bytes) -> list[bytes]:
    """Send a complete response with a correct Content-Length."""
    from http import HTTPStatus

    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {reason}", headers)
    return [body]
