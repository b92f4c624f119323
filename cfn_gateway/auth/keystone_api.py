"""Calls to Keystone's v3 API for signature verification, with short timeouts.

``KeystoneAPI`` wraps a keystoneauth1 session of the gateway's service user: every call
returns the HTTP response whatever its status (over ``common.keepalive``'s connections
with the session's token where that transport can serve Keystone's URL, a plain ``http``
one no proxy applies to; through keystoneauth1 otherwise), and a Keystone that cannot be
reached, times out, or refuses the service user's own credentials raises
``ServiceUnavailable`` (503); a connection refused or reset (a kept-alive connection the
server closed) is tried once more at once, a timeout is not.  Nothing broken is kept:
keystoneauth fetches a token again on the next call, so the gateway recovers by itself
when Keystone comes back.

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
from cfn_gateway.common import keepalive
from cfn_gateway.common.openstack_session import with_catalog_endpoint

LOG = logging.getLogger(__name__)

#: An answer of either transport (status_code, text, json()).
Answer = requests.Response | keepalive.Response

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
        #: Keystone's URL -> its keep-alive transport (None: keystoneauth1's instead).
        self._transports: dict[str, keepalive.KeepAliveTransport | None] = {}

    def request(
        self, method: str, path: str, *, allow_reauth: bool = True, **kwargs: Any
    ) -> Answer:
        """``method`` on ``/v3<path>``; ServiceUnavailable when Keystone cannot answer."""
        try:
            try:
                return self._send(method, path, allow_reauth, kwargs)
            except ks_exceptions.ConnectFailure:
                # Refused, or a kept-alive connection that Keystone's server closed as we
                # sent on it: once more at once (a timeout is not tried again).
                return self._send(method, path, allow_reauth, kwargs)
        except ks_exceptions.ClientException as exc:
            LOG.error("Keystone unavailable for %s %s: %s", method, path, exc)
            raise errors.ServiceUnavailable(SERVICE_UNAVAILABLE) from exc

    def _send(self, method: str, path: str, allow_reauth: bool,
              kwargs: dict[str, Any]) -> Answer:
        transport = self._keepalive()
        if transport is not None:
            return transport.request(path, method, reauth=allow_reauth, **kwargs)
        if self.endpoint:
            target: dict[str, Any] = {"url": self.endpoint + path}
        else:
            target = {"url": path, "endpoint_filter": self.endpoint_filter}
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

    def _keepalive(self) -> keepalive.KeepAliveTransport | None:
        """The keep-alive transport for Keystone's URL (the configured one, else the
        catalog's for the session's token), or None where it cannot serve it."""
        endpoint = self.endpoint or with_catalog_endpoint(
            self.session, self.endpoint_filter).get("endpoint_override")
        if not endpoint:
            return None
        found = self._transports.get(endpoint, False)
        if found is False:
            found = self._transports[endpoint] = keepalive.transport_for(
                self.session, {"endpoint_override": endpoint}, self.timeout, lambda: None)
        return found

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def ec2tokens(self, body: dict[str, Any]) -> Answer:
        """``POST /v3/ec2tokens``, renewing the service token on a 401 now and then."""
        return self._renewing("POST", "/ec2tokens", json=body)

    def validate_token(self, token: str) -> Answer:
        """``GET /v3/auth/tokens?nocatalog`` for the subject ``token``, renewing the service
        token on a 401 now and then."""
        return self._renewing("GET", "/auth/tokens", params={"nocatalog": ""},
                              headers={"X-Subject-Token": token})

    def _renewing(self, method: str, path: str, **kwargs: Any) -> Answer:
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


def unexpected(response: Answer, what: str) -> errors.AWSError:
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
