"""DescribeAdjustmentTypes: the adjustment types scaling policies may use.

These are fixed by the Auto Scaling API (the ``AdjustmentType`` of PutScalingPolicy);
the gateway's capacity math (``domain.capacity``) implements exactly these three.
"""

from __future__ import annotations

from typing import Any

from cfn_gateway.api.registry import action
from cfn_gateway.context import AUTOSCALING, RequestContext
from cfn_gateway.domain.capacity import ADJUSTMENT_TYPES


@action(AUTOSCALING, "DescribeAdjustmentTypes")
def describe_adjustment_types(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"AdjustmentTypes": [{"AdjustmentType": name} for name in ADJUSTMENT_TYPES]}
