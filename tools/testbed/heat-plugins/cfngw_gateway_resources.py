"""Test bed Heat plugin: the gateway's resource types (``OS::CfnGateway::*``), loaded from
the checkout that the test bed installs into Heat's venv (cfn_gateway/heat_plugin)."""

from cfn_gateway.heat_plugin.resources import available_resource_mapping  # noqa: F401
