"""The plugin's options, section ``[cfn_gateway]`` of heat-engine's configuration."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "cfn_gateway"

OPTS = [
    cfg.URIOpt("url", schemes=["http", "https"],
               help="The gateway's endpoint (CloudWatch and Auto Scaling on one URL). "
                    "Unset: the Keystone catalog's endpoint of service_type, "
                    "endpoint_type."),
    cfg.StrOpt("service_type", default="cfn-gateway",
               help="The gateway's service type in the Keystone catalog (used when url is "
                    "unset)."),
    cfg.StrOpt("endpoint_type", default="public",
               choices=["public", "internal", "admin"],
               help="Which of the gateway's catalog endpoints to use (interface)."),
    cfg.FloatOpt("timeout", default=30.0, min=1.0,
                 help="Seconds one request to the gateway may take."),
    cfg.StrOpt("region", default="RegionOne",
               help="Region name for botocore's model and endpoint bookkeeping only; "
                    "requests are not signed and the catalog lookup uses Heat's own "
                    "region."),
    cfg.HostAddressOpt("instance_endpoint_host",
                       help="Host name or address the instances of the gateway's groups "
                            "reach the gateway's CloudWatch API at: written as "
                            "cloudwatch_region_endpoint into the cfn-boto-cfg of their "
                            "user data (cfn-push-stats posts there, port 8003, http). "
                            "Unset: the host of url (or of the catalog endpoint)."),
    cfg.BoolOpt("wait_for_instances", default=True,
                help="Whether an OS::CfnGateway::AutoScalingGroup's create waits until "
                     "its initial instances are InService (as Heat's own groups do); "
                     "false: complete once the gateway has the group, as CloudFormation "
                     "does."),
    cfg.IntOpt("delete_timeout", default=600, min=1,
               help="Seconds a launch configuration's or group's delete waits for the "
                    "gateway to let go of it (a group's instances terminating, a launch "
                    "configuration still held by a group being deleted)."),
]


def register(conf: cfg.ConfigOpts) -> cfg.ConfigOpts:
    """Register the options on ``conf`` (Heat's ``cfg.CONF``; idempotent); return the group."""
    conf.register_opts(OPTS, group=GROUP)
    return getattr(conf, GROUP)


def list_opts():
    """For oslo-config-generator (entry point ``oslo.config.opts``)."""
    return [(GROUP, list(OPTS))]
