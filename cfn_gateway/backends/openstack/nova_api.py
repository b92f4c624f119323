"""Nova's REST API, for the one thing Heat cannot do for the gateway: delete a server that
a group's stack adopted (``external_id``: Heat never deletes those).

``ComputeAPI.delete_server`` deletes a server; one already gone is not an error.  A cloud
whose catalog has no compute service has no Nova servers to delete (the test bed's members
exist only in Heat's database): ``has_compute`` says so, and the caller skips the call.
Nova or Keystone unreachable, timing out or answering 5xx is ``ServiceUnavailable``;
anything else unexpected ``InternalFailure`` (details in the log only).
"""

from __future__ import annotations

import logging

from keystoneauth1 import exceptions as ks_exc

from cfn_gateway import errors
from cfn_gateway.backends.openstack import rest

LOG = logging.getLogger(__name__)

_UNAVAILABLE = "The compute service is unavailable. Please try again later."


class ComputeAPI(rest.RestClient):
    service = "Nova"
    unavailable = _UNAVAILABLE

    def has_compute(self) -> bool:
        """Whether the catalog has a compute service (for this region and interface)."""
        try:
            return bool(self._adapter.get_endpoint())
        except ks_exc.EndpointNotFound:
            return False
        except ks_exc.ClientException as exc:
            LOG.warning("Keystone unavailable while looking for Nova: %r", exc)
            raise errors.ServiceUnavailable(_UNAVAILABLE) from None

    def delete_server(self, server_id: str) -> None:
        path = f"/servers/{server_id}"
        response = self._send("DELETE", path)
        status = response.status_code
        if status < 300 or status == 404:
            return
        if status >= 500 or status in (401, 403, 409, 429):
            LOG.warning("Nova did not delete server %s: HTTP %s %s", server_id, status,
                        response.text[:500])
            raise errors.ServiceUnavailable(_UNAVAILABLE)
        LOG.error("unexpected Nova answer to DELETE %s: HTTP %s %s", path, status,
                  response.text[:500])
        raise errors.InternalFailure("The compute service failed to process the request.")
