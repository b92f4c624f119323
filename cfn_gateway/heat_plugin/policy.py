"""``OS::CfnGateway::ScalingPolicy``: an Auto Scaling policy of a gateway group.

The properties are Heat's ``AWS::AutoScaling::ScalingPolicy`` ones (plus AWS's step
scaling), so an environment can map that name here.  ``Ref`` is the policy's ARN, as in
CloudFormation, and so is ``AlarmUrl``: an ``OS::CfnGateway::Alarm`` passes ARNs to the
gateway as they are, and the gateway runs Auto Scaling policy ARNs itself.
"""

from __future__ import annotations

import logging

from heat.common import exception
from heat.common.i18n import _
from heat.engine import attributes, constraints, properties, resource

from cfn_gateway.heat_plugin import client
from cfn_gateway.heat_plugin import policy_params as pp
from cfn_gateway.heat_plugin import scaling_params as sp
from cfn_gateway.heat_plugin.alarm_params import PropertyError
from cfn_gateway.heat_plugin.gateway_resource import GatewayResourceMixin

LOG = logging.getLogger(__name__)

S = properties.Schema

#: resource data key of the policy's ARN
ARN_DATA = "policy_arn"


class ScalingPolicy(GatewayResourceMixin, resource.Resource):
    """A simple or step scaling policy of an OS::CfnGateway::AutoScalingGroup."""

    PROPERTIES = (
        pp.AUTO_SCALING_GROUP_NAME, pp.ADJUSTMENT_TYPE, pp.SCALING_ADJUSTMENT, sp.COOLDOWN,
        pp.MIN_ADJUSTMENT_STEP, pp.MIN_ADJUSTMENT_MAGNITUDE, pp.POLICY_TYPE,
        pp.STEP_ADJUSTMENTS, pp.METRIC_AGGREGATION_TYPE, pp.ESTIMATED_INSTANCE_WARMUP,
    )
    #: Properties whose change makes a new policy (the others: PutScalingPolicy again).
    REPLACING_PROPERTIES = frozenset({pp.AUTO_SCALING_GROUP_NAME})

    properties_schema = {
        pp.AUTO_SCALING_GROUP_NAME: S(
            S.STRING, _("The group (a reference to an OS::CfnGateway::AutoScalingGroup)."),
            required=True),
        pp.ADJUSTMENT_TYPE: S(
            S.STRING, _("How ScalingAdjustment changes the group's size."),
            required=True, update_allowed=True,
            constraints=[constraints.AllowedValues(pp.ADJUSTMENT_TYPES)]),
        pp.SCALING_ADJUSTMENT: S(
            S.INTEGER, _("Instances (or percent) to add, negative to remove, or the exact "
                         "size (SimpleScaling)."),
            update_allowed=True),
        sp.COOLDOWN: S(
            S.INTEGER, _("Seconds after this policy's activity before the next "
                         "(SimpleScaling; default the group's)."),
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        pp.MIN_ADJUSTMENT_STEP: S(
            S.INTEGER, _("Least number of instances a PercentChangeInCapacity adds or "
                         "removes."),
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        pp.MIN_ADJUSTMENT_MAGNITUDE: S(
            S.INTEGER, _("AWS's name of MinAdjustmentStep."),
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        pp.POLICY_TYPE: S(
            S.STRING, _("SimpleScaling (default) or StepScaling."), update_allowed=True,
            constraints=[constraints.AllowedValues(pp.POLICY_TYPES)]),
        pp.STEP_ADJUSTMENTS: S(
            S.LIST, _("Steps of a StepScaling policy."), update_allowed=True,
            schema=S(S.MAP, schema={
                pp.STEP_LOWER: S(S.NUMBER, _("Lower bound, over the alarm's threshold.")),
                pp.STEP_UPPER: S(S.NUMBER, _("Upper bound, over the alarm's threshold.")),
                pp.SCALING_ADJUSTMENT: S(S.INTEGER, _("The step's adjustment."),
                                         required=True),
            })),
        pp.METRIC_AGGREGATION_TYPE: S(
            S.STRING, _("Aggregation of the alarm's metric (StepScaling)."),
            update_allowed=True,
            constraints=[constraints.AllowedValues(pp.METRIC_AGGREGATION_TYPES)]),
        pp.ESTIMATED_INSTANCE_WARMUP: S(
            S.INTEGER, _("Seconds a new instance takes to count (StepScaling)."),
            update_allowed=True, constraints=[constraints.Range(min=0)]),
    }

    ATTRIBUTES = (ALARM_URL,) = ("AlarmUrl",)

    attributes_schema = {
        ALARM_URL: attributes.Schema(
            _("The policy's ARN, for an alarm's actions (the gateway's alarms run it)."),
            type=attributes.Schema.STRING),
    }

    # --- life cycle

    def validate(self):
        super().validate()
        try:
            pp.check_policy(self.properties)
        except PropertyError as exc:
            raise exception.StackValidationFailed(message=str(exc)) from exc

    def _put(self, props, name: str) -> None:
        try:
            params = pp.put_scaling_policy_params(props, name)
        except PropertyError as exc:
            raise exception.Error(str(exc)) from exc
        answer = self._call("PutScalingPolicy", params)
        arn = answer.get("PolicyARN")
        if arn:
            self.data_set(ARN_DATA, arn, redact=False)

    def handle_create(self):
        name = self.physical_resource_name()
        self.resource_id_set(name)
        try:
            self._put(self.properties, name)
        except client.GatewayError as exc:
            if self._nothing_made(exc):
                self.resource_id_set(None)
            raise

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        if prop_diff:
            self._put(json_snippet.properties(self.properties_schema, self.context),
                      self.resource_id)

    def handle_delete(self):
        if self.resource_id is None:
            return None
        # a policy goes with its group: a group already gone is a policy gone
        self._call_unless_gone("DeletePolicy", {
            "AutoScalingGroupName": self.properties[pp.AUTO_SCALING_GROUP_NAME],
            "PolicyName": self.resource_id})
        return None

    def handle_check(self):
        found = self._call("DescribePolicies", {
            "AutoScalingGroupName": self.properties[pp.AUTO_SCALING_GROUP_NAME],
            "PolicyNames": [self.resource_id]})
        if not found.get("ScalingPolicies"):
            raise exception.Error(_("The scaling policy %s is not in the gateway")
                                  % self.resource_id)

    def _arn(self) -> str | None:
        if self.resource_id is None:
            return None
        return self.data().get(ARN_DATA)

    def get_reference_id(self):
        return self._arn() or str(self.name)

    def _resolve_attribute(self, name):
        if name == self.ALARM_URL:
            return self._arn()
        return None
