"""``OS::CfnGateway::LaunchConfiguration``: an Auto Scaling launch configuration kept in
the gateway.

It has the properties of Heat's ``AWS::AutoScaling::LaunchConfiguration`` (it is a
subclass, so Heat's own groups can still read it) and makes the launch configuration in
the gateway, for the gateway's groups.  The instances' user data is what Heat's own
instances get for the heat-cfntools agents (cloud-init parts, the template's UserData,
this resource's ``AWS::CloudFormation::Init`` metadata, the metadata server), with the
gateway named as the agents' CloudWatch endpoint.  Launch configurations cannot change:
any change of properties or metadata makes a new one.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from heat.common import exception
from heat.common.i18n import _
from heat.engine.resources.aws.autoscaling import launch_config as heat_launch_config

from cfn_gateway.heat_plugin import client
from cfn_gateway.heat_plugin import scaling_params as sp
from cfn_gateway.heat_plugin import user_data as ud
from cfn_gateway.heat_plugin.alarm_params import PropertyError
from cfn_gateway.heat_plugin.gateway_resource import GatewayResourceMixin

LOG = logging.getLogger(__name__)


class LaunchConfiguration(GatewayResourceMixin, heat_launch_config.LaunchConfiguration):
    """An Auto Scaling launch configuration in the cfn-gateway (for its groups)."""

    #: the user Heat's own AWS::EC2::Instance asks cloud-init to create
    INSTANCE_USER = "ec2-user"

    def validate(self):
        if self.properties.get(self.INSTANCE_ID):
            raise exception.StackValidationFailed(message=sp.instance_id_refusal())
        super().validate()

    # --- user data

    def _endpoint_host(self) -> str:
        host = self._conf().instance_endpoint_host
        if host:
            return host
        host = urlsplit(self._gateway().endpoint()).hostname
        if not host:
            raise exception.Error(_("No host for the instances' CloudWatch endpoint: set "
                                    "[cfn_gateway] instance_endpoint_host"))
        return host

    def _user_data(self) -> str:
        multipart = self.client_plugin("nova").build_userdata(
            self.metadata_get(), self.properties[self.USER_DATA] or "",
            instance_user=self.INSTANCE_USER, user_data_format="HEAT_CFNTOOLS")
        return ud.encode(ud.with_cloudwatch_endpoint(multipart, self._endpoint_host()))

    # --- life cycle

    def handle_create(self):
        props = self.properties
        for sentence in sp.ignored_launch_configuration_properties(props):
            self._event(sentence)
        name = self.physical_resource_name()
        try:
            params = sp.launch_configuration_params(props, name, self._user_data())
        except (PropertyError, ud.UserDataError) as exc:
            raise exception.Error(str(exc)) from exc
        # Recorded before the call: an answer lost on the way back must not leave a
        # launch configuration the stack's delete does not know about.
        self.resource_id_set(name)
        try:
            self._call("CreateLaunchConfiguration", params)
        except client.GatewayError as exc:
            if self._nothing_made(exc):
                self.resource_id_set(None)
            raise

    def handle_delete(self):
        if self.resource_id is None:
            return None
        return self._deadline()

    def check_delete_complete(self, deadline):
        if deadline is None:
            return True
        try:
            self._call_unless_gone("DeleteLaunchConfiguration",
                                   {"LaunchConfigurationName": self.resource_id})
        except client.GatewayError as exc:
            if exc.code != "ResourceInUse":
                raise
            if time.monotonic() < deadline:
                # its group is still being deleted (its instances terminating)
                return False
            raise exception.Error(
                _("Launch configuration %(name)s is still in use by an Auto Scaling group "
                  "after %(s)d s: %(why)s") % {"name": self.resource_id,
                                               "s": self._conf().delete_timeout,
                                               "why": exc.message}) from exc
        return True

    def handle_check(self):
        found = self._call("DescribeLaunchConfigurations",
                           {"LaunchConfigurationNames": [self.resource_id]})
        if not found.get("LaunchConfigurations"):
            raise exception.Error(_("The launch configuration %s is not in the gateway")
                                  % self.resource_id)

    def get_reference_id(self):
        if self.resource_id is not None:
            return str(self.resource_id)
        return self.physical_resource_name_or_FnGetRefId()
