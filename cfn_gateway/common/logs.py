"""The gateway processes' logging: one record, one line, whatever a client sent.

Log messages quote what clients send (access keys, paths, backend answers).  The formatter
escapes control characters in the message (``\\n`` becomes the two characters ``\\x0a``),
so no message can start a line of its own or reach a terminal as an escape sequence.  A
traceback, which the gateway itself formats, keeps its lines.

Every request logs one access line, so a record is made cheaply: the format names no
source file, line or thread, and ``setup_logging`` tells ``logging`` not to look them up
(the knobs of the logging HOWTO's "Optimization" section); the date and time part of
``asctime`` is formatted once per second.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
import time
from typing import Any

LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """``text`` with each control character (C0, DEL, C1, Unicode line separators) as a
    backslash escape."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class OneLineFormatter(logging.Formatter):
    """``logging.Formatter`` whose message part is always a single, printable line."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)
        self._second: tuple[int, str] = (-1, "")  # one tuple: threads swap it whole

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached_second, text = self._second
        if cached_second != second:
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        return self.default_msec_format % (text, record.msecs)


def setup_logging(level: int = logging.INFO) -> None:
    """Log records of every gateway module to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    # LOG_FORMAT names neither source lines nor threads: records need not look them up.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False


class ThrottledLog:
    """One message that may repeat with every request (a full disk, say), logged at most
    once per ``interval`` seconds per process, with the count of repeats left out."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self._logger = logger
        self._interval = interval
        self._lock = threading.Lock()
        self._last = -interval
        self._skipped = 0

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self._interval:
                self._skipped += 1
                return
            skipped, self._skipped, self._last = self._skipped, 0, now
        if skipped:
            message += f" ({skipped} more since the last report)"
        self._logger.warning(message, *args)


class LoopBatchedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler whose lines logged on an event loop's thread are written together,
    once the loop's current pass over its ready callbacks ends (``call_soon``), with one
    write and one flush, rather than one each per line.

    A write to the stream lets go of the GIL: on a worker whose committer thread was
    waiting for it, each request's access line handed the GIL over and waited to get it
    back.  Lines logged on other threads are written at once, as ``StreamHandler`` does;
    ``flush_pending`` (also called by ``flush``) writes what is waiting."""

    def __init__(self, stream: Any, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(stream)
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self._pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if threading.get_ident() != self.loop_thread or self.loop.is_closed():
            super().emit(record)
            return
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._pending.append(line)
        if len(self._pending) == 1:
            self.loop.call_soon(self.flush_pending)

    def flush_pending(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            with self.lock:  # type: ignore[union-attr]
                self.stream.write("".join(lines))
                self.stream.flush()

    def flush(self) -> None:
        if threading.get_ident() == self.loop_thread:
            self.flush_pending()
        super().flush()


def batch_lines_on(loop: asyncio.AbstractEventLoop) -> list[LoopBatchedHandler]:
    """Replace the root logger's plain stream handlers by ``LoopBatchedHandler``s on
    ``loop`` (called on the loop's thread); the new handlers."""
    root = logging.getLogger()
    batched = []
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            replacement = LoopBatchedHandler(handler.stream, loop)
            replacement.setLevel(handler.level)
            replacement.setFormatter(handler.formatter)
            for log_filter in handler.filters:
                replacement.addFilter(log_filter)
            root.removeHandler(handler)
            root.addHandler(replacement)
            batched.append(replacement)
    return batched
