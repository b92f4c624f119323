"""The resource types heat-engine registers from this package.

Heat calls ``available_resource_mapping()`` of every module it loads from ``plugin_dirs``
(the loader shims import it from here).  Heat stops when a plugin module raises
ImportError, so nothing that can fail is imported at module level: when botocore, Heat's
API or the options are unusable this logs why and returns ``{}``, and heat-engine starts
without the gateway's types.
"""

from __future__ import annotations

import logging

LOG = logging.getLogger(__name__)

ALARM_TYPE = "OS::CfnGateway::Alarm"
LAUNCH_CONFIGURATION_TYPE = "OS::CfnGateway::LaunchConfiguration"
GROUP_TYPE = "OS::CfnGateway::AutoScalingGroup"
POLICY_TYPE = "OS::CfnGateway::ScalingPolicy"
TYPES = (ALARM_TYPE, LAUNCH_CONFIGURATION_TYPE, GROUP_TYPE, POLICY_TYPE)


def available_resource_mapping() -> dict:
    try:
        from oslo_config import cfg

        from cfn_gateway.heat_plugin import client, options
        conf = options.register(cfg.CONF)
        client.service_model("cloudwatch")
        client.service_model("autoscaling")
        _ = (conf.url, conf.service_type, conf.endpoint_type, conf.timeout, conf.region,
             conf.instance_endpoint_host, conf.wait_for_instances, conf.delete_timeout)
        from cfn_gateway.heat_plugin.alarm import Alarm
        from cfn_gateway.heat_plugin.group import AutoScalingGroup
        from cfn_gateway.heat_plugin.launch_config import LaunchConfiguration
        from cfn_gateway.heat_plugin.policy import ScalingPolicy
    except Exception as exc:
        LOG.error("cfn-gateway Heat plugin not loaded, %s not registered: %s: %s",
                  _listed(TYPES[1:] + TYPES[:1]), type(exc).__name__, exc)
        return {}
    LOG.info("cfn-gateway Heat plugin: registering %s (gateway: %s)", _listed(TYPES),
             conf.url or f"catalog service type {conf.service_type}, {conf.endpoint_type}")
    return {ALARM_TYPE: Alarm, LAUNCH_CONFIGURATION_TYPE: LaunchConfiguration,
            GROUP_TYPE: AutoScalingGroup, POLICY_TYPE: ScalingPolicy}


def _listed(names) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


resource_mapping = available_resource_mapping
