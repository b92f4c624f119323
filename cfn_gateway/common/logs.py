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

import logging
import re
import sys
import threading
import time

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
