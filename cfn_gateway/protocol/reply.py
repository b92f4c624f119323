"""What a renderer hands back: a complete HTTP answer, ready for ``wsgi.reply``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HTTPReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
