"""One request to an OpenStack service's REST API, as the gateway's clients send it.

``send`` (and ``RestClient._send``, for a client of one service) makes the request
through a keystoneauth1 adapter (JSON accepted, the caller's timeout) and sends it once
more when its connection failed (it never reached the service); a service or Keystone
that cannot be reached at all is ``ServiceUnavailable`` (503, which SDKs retry).
``json_of`` reads a successful answer (None when empty).  What an answer's status means
stays with each client (``aodh_api``, ``heat_api``).
"""

from __future__ import annotations

import logging
from typing import Any

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from cfn_gateway import errors

LOG = logging.getLogger(__name__)


def send(client: adapter.Adapter, service: str, unavailable: str, method: str, path: str, *,
         json: Any = None, params: dict[str, Any] | None = None,
         timeout: float | None = None) -> Any:
    """The response of ``method path``; raises ``ServiceUnavailable(unavailable)`` when
    ``service`` cannot be reached."""
    kwargs: dict[str, Any] = {"raise_exc": False, "headers": {"Accept": "application/json"}}
    if json is not None:
        kwargs["json"] = json
    if params:
        kwargs["params"] = params
    if timeout is not None:
        kwargs["timeout"] = timeout
    try:
        try:
            return client.request(path, method, **kwargs)
        except ks_exc.ConnectFailure as exc:
            LOG.info("%s connection failed (%s); sending %s %s again", service, exc, method,
                     path)
            return client.request(path, method, **kwargs)
    except ks_exc.ClientException as exc:
        LOG.warning("%s unavailable: %s %s: %r", service, method, path, exc)
        raise errors.ServiceUnavailable(unavailable) from None


class RestClient:
    """A client of one OpenStack service: its adapter (session and endpoint filter), its
    timeout, and ``_send``.  Subclasses name the ``service`` and what a caller is told when
    it cannot be reached (``unavailable``)."""

    service = ""
    unavailable = ""

    def __init__(self, session: ks_session.Session, endpoint_filter: dict[str, Any],
                 timeout: float | None = None) -> None:
        options = {k: v for k, v in endpoint_filter.items() if v is not None}
        self._adapter = adapter.Adapter(session, **options)
        self._timeout = timeout

    def _send(self, method: str, path: str, json: Any = None,
              params: dict[str, Any] | None = None) -> Any:
        return send(self._adapter, self.service, self.unavailable, method, path, json=json,
                    params=params, timeout=self._timeout)


def json_of(response: Any, service: str, failure: str, method: str, path: str) -> Any:
    """The decoded JSON of a successful answer (None when it has none); an answer that
    is not JSON is ``InternalFailure(failure)``."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        LOG.error("%s answer to %s %s is not JSON", service, method, path)
        raise errors.InternalFailure(failure) from None
