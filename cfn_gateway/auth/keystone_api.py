"""Calls to Keystone's v3 API for signature verification, with short timeouts.

``KeystoneAPI`` wraps a keystoneauth1 session of the gateway's service user: every call
returns the HTTP response whatever its status, and a Keystone that cannot be reached,
times out, or refuses the service user's own credentials raises ``ServiceUnavailable``
(503); a connection refused or reset (a kept-alive connection the server closed) is
tried once more at once, a timeout is not.  Nothing broken is kept: keystoneauth fetches a
token again on the next call, so the gateway recovers by itself when Keystone comes back.

``POST /v3/ec2tokens`` answers 401 both for a wrong client signature and for a caller
token Keystone no longer accepts; keystoneauth's habit of fetching a new token and retrying
on every 401 would double the work of each bad signature.  ``ec2tokens`` therefore renews
the service token on a 401 at most once per ``REAUTH_INTERVAL``; so does
``validate_token`` (``GET /v3/auth/tokens``), which answers 401 for a subject token whose
user has lost its roles as well as for a stale service token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session

from cfn_gateway import errors

LOG = logging.getLogger(__name__)

REAUTH_INTERVAL = 10.0  # seconds
SERVICE_UNAVAILABLE = (  # AWS's text for ServiceUnavailable
    "The request has failed due to a temporary failure of the server."
)


class KeystoneAPI:
    """Keystone v3 at ``endpoint`` (or the catalog's identity endpoint) via ``session``."""

    def __init__(
        self,
        session: ks_session.Session,
        *,
        endpoint: str | None = None,
        interface: str = "public",
        region_name: str | None = None,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.endpoint_filter = {
            "service_type": "identity",
            "interface": interface,
            "region_name": region_name,
            "version": (3, 0),
        }
        self.timeout = timeout
        self._clock = clock
        self._last_reauth = float("-inf")
        self._lock = threading.Lock()

    def request(
        self, method: str, path: str, *, allow_reauth: bool = True, **kwargs: Any
    ) -> requests.Response:
        """``method`` on ``/v3<path>``; ServiceUnavailable when Keystone cannot answer."""
        if self.endpoint:
            target: dict[str, Any] = {"url": self.endpoint + path}
        else:
            target = {"url": path, "endpoint_filter": self.endpoint_filter}
        try:
            try:
                return self._send(method, allow_reauth, target, kwargs)
            except ks_exceptions.ConnectFailure:
                # Refused, or a kept-alive connection that Keystone's server closed as we
                # sent on it: once more at once (a timeout is not tried again).
                return self._send(method, allow_reauth, target, kwargs)
        except ks_exceptions.ClientException as exc:
            LOG.error("Keystone unavailable for %s %s: %s", method, path, exc)
            raise errors.ServiceUnavailable(SERVICE_UNAVAILABLE) from exc

    def _send(
        self, method: str, allow_reauth: bool, target: dict[str, Any], kwargs: dict[str, Any]
    ) -> requests.Response:
        return self.session.request(
            method=method,
            raise_exc=False,
            allow_reauth=allow_reauth,
            timeout=self.timeout,
            connect_retries=0,
            log=False,  # bodies hold signatures and secrets
            **target,
            **kwargs,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def ec2tokens(self, body: dict[str, Any]) -> requests.Response:
        """``POST /v3/ec2tokens``, renewing the service token on a 401 now and then."""
        return self._renewing("POST", "/ec2tokens", json=body)

    def validate_token(self, token: str) -> requests.Response:
        """``GET /v3/auth/tokens?nocatalog`` for the subject ``token``, renewing the service
        token on a 401 now and then."""
        return self._renewing("GET", "/auth/tokens", params={"nocatalog": ""},
                              headers={"X-Subject-Token": token})

    def _renewing(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.request(method, path, allow_reauth=False, **kwargs)
        if response.status_code == 401 and self._may_reauth():
            self.session.invalidate()
            response = self.request(method, path, allow_reauth=False, **kwargs)
        return response

    def _may_reauth(self) -> bool:
        with self._lock:
            now = self._clock()
            if now - self._last_reauth < REAUTH_INTERVAL:
                return False
            self._last_reauth = now
            return True


def unexpected(response: requests.Response, what: str) -> errors.AWSError:
    """The error for a Keystone answer that is no verdict on the client (logged)."""
    status = response.status_code
    detail = response.text[:300]
    if status in (401, 403):
        LOG.error(
            "Keystone refused the gateway's service user %s (HTTP %s: %s); check "
            "[service_credentials] and the roles in the README (OpenStack mode)",
            what, status, detail,
        )
    else:
        LOG.error("Keystone answered HTTP %s to %s: %s", status, what, detail)
    return errors.ServiceUnavailable(SERVICE_UNAVAILABLE)
