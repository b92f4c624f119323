"""What the gateway's callback routes for Aodh-evaluated alarms share (``/cfn-gateway/``:
``alarm_actions``, ``alarm_samples``): a JSON body read within bounds, JSON answers, and
the check that a call comes for an alarm of the named project with that alarm's callback
token (a random value the gateway gave the alarm when it was created and that only Aodh
holds: ``AlarmStore.callback_token``).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from cfn_gateway import errors
from cfn_gateway.backends import Backends, OpenedOnFirstUse
from cfn_gateway.backends.alarms import AlarmStore, StoredAlarm
from cfn_gateway.middleware.wsgi import Environ, StartResponse, reply

MAX_BODY = 64 * 1024


class Refused(Exception):
    """A call that does not qualify: answered ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CallbackRoute:
    """A callback route: ``handle`` answers one call with a JSON object (200), or raises
    ``Refused`` (its status) or an AWS error (its 5xx status; 503 for the others, which
    mean a backend could not be asked).  Its backends are opened on first use."""

    def __init__(self, backends: Backends | None = None) -> None:
        self._given = backends
        self._opened = OpenedOnFirstUse()

    @property
    def backends(self) -> Backends:
        return self._given or self._opened.get()

    def handle(self, environ: Environ) -> dict[str, Any]:
        raise NotImplementedError

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        try:
            result = self.handle(environ)
        except Refused as refused:
            return json_reply(start_response, refused.status, {"error": str(refused)})
        except errors.AWSError as exc:
            status = exc.status if exc.status >= 500 else 503
            return json_reply(start_response, status, {"error": str(exc)})
        return json_reply(start_response, 200, result)


def json_reply(start_response: StartResponse, status: int,
               body: dict[str, Any]) -> list[bytes]:
    return reply(start_response, status, [("Content-Type", "application/json")],
                 json.dumps(body, separators=(",", ":")).encode("utf-8"))


def post_body(environ: Environ, path: str) -> dict[str, Any]:
    """The JSON object POSTed to ``path`` (Refused: another path or method, or a body that
    is not a JSON object of at most ``MAX_BODY`` bytes)."""
    if environ.get("PATH_INFO") != path:
        raise Refused(404, "No such route.")
    if environ.get("REQUEST_METHOD") != "POST":
        raise Refused(405, "POST only.")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "Bad Content-Length.") from None
    if not 0 < length <= MAX_BODY:
        raise Refused(400, f"The body must hold 1 to {MAX_BODY} bytes.")
    try:
        body = json.loads(environ["wsgi.input"].read(length))
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise Refused(400, "The body must be a JSON object.")
    return body


def strings(body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    """``fields`` of ``body``, each of which must be a string."""
    if not all(isinstance(body.get(f), str) for f in fields):
        raise Refused(400, f"The body must be an object with the strings {', '.join(fields)}.")
    return {field: body[field] for field in fields}


def called_back_alarm(store: AlarmStore, project_id: str, name: str,
                      token: str) -> StoredAlarm:
    """The alarm ``name`` of ``project_id``, when ``token`` is its callback token."""
    stored = store.get(project_id, name)
    expected = store.callback_token(project_id, name)
    if stored is None or expected is None:
        raise Refused(404, "No such alarm.")
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise Refused(403, "The token does not match the alarm's.")
    return stored
