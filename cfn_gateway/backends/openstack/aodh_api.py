"""Aodh's REST API (``/v2``) through a keystoneauth1 session, failures as AWS errors.

``AodhAPI.call`` returns the decoded JSON answer.  404, 409 and 400 answers come back as
``AodhNotFound``, ``AodhConflict`` and ``AodhRefused`` where the caller says it handles
them (``handled``); Aodh or
Keystone unreachable, timing out, answering 5xx or refusing the gateway's own credentials
become ``ServiceUnavailable`` (503, which SDKs retry); anything else ``InternalFailure``
(details in the log only).
A request whose connection fails is sent once more (every call the store makes may be
repeated: ids are derived from names, so a repeated create answers 409).
"""

from __future__ import annotations

import logging
from typing import Any

from cfn_gateway import errors
from cfn_gateway.backends.openstack import rest

LOG = logging.getLogger(__name__)

_UNAVAILABLE = "The alarm service is unavailable. Please try again later."


class AodhError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AodhNotFound(AodhError):
    pass


class AodhConflict(AodhError):
    pass


class AodhRefused(AodhError):
    """A 400: Aodh refused the request (its message says why)."""


_HANDLED = {404: AodhNotFound, 409: AodhConflict, 400: AodhRefused}


def _message(response: Any) -> str:
    try:
        body = response.json()
        return str(body.get("error_message", {}).get("faultstring") or body)
    except (ValueError, AttributeError):
        return response.text[:500]


class AodhAPI(rest.RestClient):
    service = "Aodh"
    unavailable = _UNAVAILABLE

    def call(self, method: str, path: str, *, json: Any = None,
             params: dict[str, Any] | None = None,
             handled: tuple[type[AodhError], ...] = ()) -> Any:
        response = self._send(method, path, json, params)
        status = response.status_code
        if status in _HANDLED and issubclass(_HANDLED[status], handled):
            raise _HANDLED[status](status, _message(response))
        if status >= 500 or status in (401, 403, 429):
            LOG.warning("Aodh unavailable: %s %s: HTTP %s %s", method, path, status,
                        _message(response))
            raise errors.ServiceUnavailable(_UNAVAILABLE)
        if status >= 300:
            LOG.error("unexpected Aodh answer to %s %s: HTTP %s %s", method, path, status,
                      _message(response))
            raise errors.InternalFailure("The alarm service failed to process the request.")
        return rest.json_of(response, "Aodh", "The alarm service failed to process the "
                            "request.", method, path)
