"""What alarm tests need besides the gateway: an engine driven at chosen times, a webhook
receiver, and a clock that keeps test data inside CloudWatch's acceptance windows.

The gateway under test runs with its own engine off (``[alarms] engine_in_serve = false``);
``AlarmGateway.evaluate(at)`` runs ``cfn-gateway engine --once --now AT`` on the same data
folder, which evaluates every due alarm as at that moment and delivers the actions before
it exits: time is chosen, never slept through.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.functional.server import GatewayProcess, cfn_gateway_command

ENGINE_OFF_CONFIG = (
    "[alarms]\n"
    "engine_in_serve = false\n"
    "webhook_attempts = 4\n"
    "webhook_first_retry_delay = 0.05\n"
    "webhook_timeout = 2\n"
)


def base_time(minutes_ago: int = 90) -> dt.datetime:
    """A whole minute in the recent past: data there is accepted and evaluations at later
    chosen times stay in the past too."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=minutes_ago)


@dataclass
class AlarmGateway:
    process: GatewayProcess
    config_file: Path

    @property
    def endpoint(self) -> str:
        return self.process.endpoint

    def evaluate(self, at: dt.datetime) -> str:
        """One engine pass as at ``at``; returns its log output."""
        done = subprocess.run(
            [*cfn_gateway_command(), "engine", "--once", "--now", at.isoformat(),
             "--data-dir", str(self.process.data_dir), "--config", str(self.config_file)],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done.stderr


@dataclass
class Received:
    path: str
    body: dict
    headers: dict[str, str]


@dataclass
class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records POSTs; ``fail[path] = n`` answers 503 to
    the first n POSTs to ``path``."""

    received: list[Received] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.attempts[self.path] = receiver.attempts.get(self.path, 0) + 1
                if receiver.attempts[self.path] <= receiver.fail.get(self.path, 0):
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append(Received(
                    self.path, json.loads(body), {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path: str) -> list[dict]:
        return [r.body for r in self.received if r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def delete_all_alarms(cw, keep: Collection[str] = ()) -> None:
    """Delete every alarm of ``cw``'s project but those named in ``keep``, composites first
    (on the test bed, Aodh evaluates every alarm every second: leftovers load Gnocchi for
    the rest of the run)."""
    for kind in ("CompositeAlarms", "MetricAlarms"):
        names = [alarm["AlarmName"]
                 for page in cw.get_paginator("describe_alarms").paginate(
                     AlarmTypes=[kind[:-1]])
                 for alarm in page[kind] if alarm["AlarmName"] not in keep]
        for start in range(0, len(names), 100):
            cw.delete_alarms(AlarmNames=names[start:start + 100])

