"""What the gateway's resources share: the client over the stack's session, events, and
waiting with a deadline.  A mixin for ``heat.engine.resource.Resource``
subclasses; it imports nothing of Heat itself."""

from __future__ import annotations

import logging
import time

from oslo_config import cfg

from cfn_gateway.heat_plugin import client, options
from cfn_gateway.heat_plugin import scaling_params as sp

LOG = logging.getLogger(__name__)


class GatewayResourceMixin:
    """Calls to the gateway as the stack's owner (``self.context.keystone_session``)."""

    #: the botocore service the resource's calls go to ("cloudwatch" for the alarm)
    gateway_service = "autoscaling"

    def _conf(self):
        return options.register(cfg.CONF)

    def _gateway(self) -> client.GatewayClient:
        conf = self._conf()
        endpoint_filter = None
        if not conf.url:
            region = (getattr(self.context, "region_name", None)
                      or getattr(cfg.CONF, "region_name_for_services", None))
            endpoint_filter = {"service_type": conf.service_type,
                               "interface": conf.endpoint_type, "region_name": region}
        return client.GatewayClient(self.context.keystone_session, conf.url or None,
                                    conf.timeout, endpoint_filter=endpoint_filter,
                                    region=conf.region)

    def _call(self, operation: str, params: dict) -> dict:
        return self._gateway().call(self.gateway_service, operation, params)

    def _call_unless_gone(self, operation: str, params: dict) -> bool:
        """Run ``operation``; False when the gateway says the thing named is not there."""
        try:
            self._call(operation, params)
        except client.GatewayError as exc:
            if sp.is_not_found(exc.code, exc.message):
                return False
            raise
        return True

    def _event(self, reason: str) -> None:
        LOG.warning("%s %s of stack %s: %s", self.type(), self.name, self.stack.id, reason)
        try:
            self._add_event(self.action, self.status, reason)
        except Exception:  # an event is information; never fail the resource for it
            LOG.debug("could not record event for %s", self.name, exc_info=True)

    def _deadline(self) -> float:
        return time.monotonic() + self._conf().delete_timeout

    @staticmethod
    def _nothing_made(exc: client.GatewayError) -> bool:
        """Whether a failed create certainly made nothing in the gateway."""
        refused = exc.status is not None and exc.status < 500
        never_sent = isinstance(exc, client.GatewayConnectionError) and not exc.request_sent
        return refused or never_sent
