"""Heat plugin_dirs shim: registers the cfn-gateway resource types (``OS::CfnGateway::*``).

If cfn_gateway is missing from heat-engine's environment this registers nothing and logs
why, rather than stopping heat-engine.
"""

import logging

try:
    from cfn_gateway.heat_plugin.resources import available_resource_mapping
except ImportError as exc:
    logging.getLogger(__name__).error("cfn-gateway Heat plugin not installed: %s", exc)

    def available_resource_mapping():
        return {}
