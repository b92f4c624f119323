"""The gateway processes' logging: one record, one line, whatever a client sent.

Log messages quote what clients send (access keys, paths, backend answers).  The formatter
escapes control characters in the message (``\\n`` becomes the two characters ``\\x0a``),
so no message can start a line of its own or reach a terminal as an escape sequence.  A
traceback, which the gateway itself formats, keeps its lines.
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

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))


def setup_logging(level: int = logging.INFO) -> None:
    """Log records of every gateway module to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])


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
