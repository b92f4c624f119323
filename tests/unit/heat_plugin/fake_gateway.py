"""A small HTTP server that records requests and answers with scripted Query XML."""

from __future__ import annotations

import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

CW_NS = "http://monitoring.amazonaws.com/doc/2010-08-01/"
AS_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


def success(operation: str, result: str = "", ns: str = CW_NS, request_id: str = "req-1") -> str:
    inner = f"<{operation}Result>{result}</{operation}Result>" if result else ""
    return (f'<{operation}Response xmlns="{ns}">{inner}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{operation}Response>")


def error(code: str, message: str, kind: str = "Sender", ns: str = CW_NS) -> str:
    return (f'<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>req-e</RequestId>"
            "</ErrorResponse>")


class FakeGateway(ThreadingHTTPServer):
    """Answers each request with the next scripted (status, body, delay); then the last."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[tuple[int, str, float]] = [(200, success("PutMetricAlarm"), 0.0)]
        self.requests: list[Recorded] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def next_answer(self) -> tuple[int, str, float]:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class _Handler(BaseHTTPRequestHandler):
    server: FakeGateway

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.requests.append(
            Recorded(self.command, self.path, dict(self.headers.items()), body))
        status, text, delay = self.server.next_answer()
        time.sleep(delay)
        payload = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client gave up (timeout tests)

    def log_message(self, *args: object) -> None:
        pass
