"""``cfn-gateway engine``: the engine on its own.

It evaluates alarms and runs their actions (standalone mode; in OpenStack mode Aodh does)
and carries Auto Scaling groups on (both modes).  ``cfn-gateway serve`` starts one beside
its workers unless ``[alarms] engine_in_serve`` is off; more engines on the same data
folder share the work.  ``--once`` runs a single pass
and exits after its actions were delivered; ``--now`` makes that pass happen at a chosen
moment (ISO 8601), which is how tests control time without sleeping.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from datetime import UTC, datetime, timedelta

from cfn_gateway.common.clock import utcnow
from cfn_gateway.common.logs import setup_logging
from cfn_gateway.config import CONF
from cfn_gateway.engine.service import EngineSettings
from cfn_gateway.engine.webhooks import RetryPolicy
from cfn_gateway.server import lifeline

LOG = logging.getLogger("cfn_gateway")
# Set by cfn-gateway serve for the engine it starts: the serve process's pid.
ENGINE_PARENT_ENV = "CFN_GATEWAY_ENGINE_PARENT"


def settings() -> EngineSettings:
    return EngineSettings(
        region=CONF.alarms.region,
        webhook_policy=RetryPolicy(attempts=CONF.alarms.webhook_attempts,
                                   first_delay=CONF.alarms.webhook_first_retry_delay,
                                   timeout=CONF.alarms.webhook_timeout),
        history_retention=timedelta(days=CONF.alarms.history_retention_days),
    )


def parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run(args: argparse.Namespace) -> int:
    setup_logging()
    from cfn_gateway.api.autoscaling.group_support import scaling_settings
    from cfn_gateway.backends import open_backends
    from cfn_gateway.engine.policies import PolicyRunner
    from cfn_gateway.engine.scaling import GroupScaler
    from cfn_gateway.engine.service import Engine

    backends = open_backends()
    scaler = GroupScaler.of(backends, utcnow, scaling_settings())
    if CONF.mode == "standalone":
        engine = Engine(backends.alarms, backends.metrics, settings(), utcnow,
                        policies=PolicyRunner(scaler, utcnow), scaler=scaler)
    else:
        # Aodh's evaluators (with the cfn-gateway Aodh plugin) evaluate alarms.
        engine = Engine(None, backends.metrics, settings(), utcnow, scaler=scaler)
    if args.once:
        now = parse_moment(args.now) if args.now else utcnow()
        evaluated, dispatched = engine.run_once(now)
        LOG.info("engine pass at %s: %d alarms evaluated, %d actions run", now.isoformat(),
                 evaluated, dispatched)
        return 0
    if args.now:
        LOG.error("--now needs --once")
        return 2
    parent = os.environ.get(ENGINE_PARENT_ENV)
    if parent:
        lifeline.tie_to_parent(int(parent))
    signal.signal(signal.SIGTERM, lambda *_: engine.stop())
    signal.signal(signal.SIGINT, lambda *_: engine.stop())
    LOG.info("cfn-gateway engine running on %s", CONF.data_dir)
    try:
        engine.run_forever()
    finally:
        backends.close()
    return 0
