"""The plugin's options, read from Aodh's own configuration file (section ``[cloudwatch]``)."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "cloudwatch"

OPTS = [
    cfg.StrOpt("region", default="RegionOne",
               help="The region in the alarm ARNs and notifications (the gateway's "
                    "[alarms] region)."),
    cfg.IntOpt("parallel_requests", default=4, min=1,
               help="Gnocchi reads one evaluation makes at once."),
    cfg.FloatOpt("request_timeout", default=30.0, min=1.0,
                 help="Seconds one Gnocchi request may take."),
    cfg.IntOpt("webhook_attempts", default=5, min=1,
               help="Attempts per webhook action before it is recorded as failed."),
    cfg.FloatOpt("webhook_first_retry_delay", default=1.0, min=0.0,
                 help="Seconds before the first retry of a webhook; doubles each time."),
    cfg.FloatOpt("webhook_timeout", default=10.0, min=0.1,
                 help="Seconds one webhook attempt may take."),
]


def register(conf: cfg.ConfigOpts) -> cfg.ConfigOpts:
    """Register the options on Aodh's ``conf`` (idempotent) and return their group."""
    conf.register_opts(OPTS, group=GROUP)
    return getattr(conf, GROUP)
