"""Heat's REST API (``/v1/{project}``) through a keystoneauth1 session, failures as errors.

``HeatAPI.call`` returns the decoded JSON answer (None for an empty one).  404, 409 and
400 answers come back as ``HeatNotFound``, ``HeatConflict`` and ``HeatRefused`` (with
Heat's error type, e.g. ``StackExists``, ``NotSupported``, ``StackValidationFailed``, and
its message) where the caller says it handles them (``handled``).  Heat or Keystone
unreachable, timing out, answering 5xx or refusing the gateway's own credentials become
``ServiceUnavailable`` (503, which SDKs retry); a 400 the caller does not handle becomes
``ValidationError`` with Heat's message (a launch configuration naming an image, flavor
or key pair the project cannot use, ...); anything else ``InternalFailure`` (details in
the log only).  A request whose connection fails is sent once more (it never reached
Heat).
"""

from __future__ import annotations

import logging
from typing import Any

from cfn_gateway import errors
from cfn_gateway.backends.openstack import rest

LOG = logging.getLogger(__name__)

_UNAVAILABLE = "The orchestration service is unavailable. Please try again later."


class HeatError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}" if error_type else message)
        self.status = status
        self.error_type = error_type
        self.message = message


class HeatNotFound(HeatError):
    pass


class HeatConflict(HeatError):
    pass


class HeatRefused(HeatError):
    """A 400: Heat refused the request (its error type and message say why)."""


_HANDLED = {404: HeatNotFound, 409: HeatConflict, 400: HeatRefused}


def _error(response: Any) -> tuple[str, str]:
    """Heat's error type and message (``{"error": {"type", "message"}, ...}``)."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:500]
    if not isinstance(body, dict):
        return "", str(body)[:500]
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("type") or ""), str(error.get("message") or body)[:2000]
    return "", str(body.get("explanation") or body.get("message") or body)[:2000]


class HeatAPI(rest.RestClient):
    service = "Heat"
    unavailable = _UNAVAILABLE

    def call(self, method: str, path: str, *, json: Any = None,
             params: dict[str, Any] | None = None,
             handled: tuple[type[HeatError], ...] = ()) -> Any:
        response = self._send(method, path, json, params)
        status = response.status_code
        if status in _HANDLED and issubclass(_HANDLED[status], handled):
            raise _HANDLED[status](status, *_error(response))
        if status >= 500 or status in (401, 403, 429):
            LOG.warning("Heat unavailable: %s %s: HTTP %s %s", method, path, status,
                        _error(response))
            raise errors.ServiceUnavailable(_UNAVAILABLE)
        if status == 400:
            error_type, message = _error(response)
            LOG.warning("Heat refused %s %s: %s %s", method, path, error_type, message)
            raise errors.ValidationError(f"The orchestration service refused the group's "
                                         f"instances: {message}")
        if status >= 300:
            LOG.error("unexpected Heat answer to %s %s: HTTP %s %s", method, path, status,
                      _error(response))
            raise errors.InternalFailure(
                "The orchestration service failed to process the request.")
        if status == 202 and response.content and not response.text.lstrip().startswith(
                ("{", "[")):
            return None  # accepted: what Heat says beside does not matter
        return rest.json_of(response, "Heat", "The orchestration service failed to process "
                            "the request.", method, path)
