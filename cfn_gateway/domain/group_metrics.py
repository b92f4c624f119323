"""The metrics a group publishes once metrics collection is enabled (AWS/AutoScaling).

Facts from the Amazon EC2 Auto Scaling user guide ("Amazon CloudWatch metrics for Amazon
EC2 Auto Scaling"): with EnableMetricsCollection, the group publishes each enabled metric
once a minute (granularity ``1Minute``) to the namespace ``AWS/AutoScaling`` with the
dimension ``AutoScalingGroupName``, unit None.  ``Group*Instances`` count instances by
lifecycle state; the ``Group*Capacity`` ones count capacity units, which equal instances
here (no instance weights).  Warm pool metrics are not published: no warm pools here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cfn_gateway.domain import groups as g
from cfn_gateway.domain.metrics import Datum, MetricKey, StatisticSet

NAMESPACE = "AWS/AutoScaling"
GRANULARITY = "1Minute"

_PENDING = {g.PENDING, g.PENDING_WAIT, g.PENDING_PROCEED}
_TERMINATING = {g.TERMINATING, g.TERMINATING_WAIT, g.TERMINATING_PROCEED}
_STANDBY = {g.STANDBY, g.ENTERING_STANDBY}


def values(group: g.Group, instances: Sequence[g.Instance]) -> dict[str, float]:
    """Every group metric's value now."""
    def count(states: set[str]) -> int:
        return sum(1 for i in instances if i.lifecycle_state in states)

    in_service = count({g.IN_SERVICE})
    pending, terminating, standby = count(_PENDING), count(_TERMINATING), count(_STANDBY)
    total = in_service + pending + terminating + standby
    out: dict[str, float] = {
        "GroupMinSize": group.min_size, "GroupMaxSize": group.max_size,
        "GroupDesiredCapacity": group.desired_capacity}
    for kind, value in (("InService", in_service), ("Pending", pending),
                        ("Terminating", terminating), ("Standby", standby),
                        ("Total", total)):
        out[f"Group{kind}Instances"] = value
        out[f"Group{kind}Capacity"] = value
    return out


def data(group: g.Group, instances: Sequence[g.Instance], minute: datetime) -> list[Datum]:
    """The data points of the group's enabled metrics for ``minute``."""
    now = values(group, instances)
    return [Datum(MetricKey.of(NAMESPACE, name, [("AutoScalingGroupName", group.name)]),
                  minute, "None", 60, (StatisticSet(1, now[name], now[name], now[name]),))
            for name in group.enabled_metrics if name in now]
