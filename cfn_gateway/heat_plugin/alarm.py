"""``OS::CfnGateway::Alarm``: an AWS CloudWatch metric alarm kept in the gateway.

The properties are AWS::CloudWatch::Alarm's, so an environment can map that name here
and templates run unchanged.  The alarm lives in the stack owner's project: every call
goes over the stack's Keystone session (the owner's token during stack operations, the
trust-scoped token of the stored context for deferred work).
"""

from __future__ import annotations

from heat.common import exception
from heat.common.i18n import _
from heat.engine import attributes, constraints, properties, resource

from cfn_gateway.domain.heat_tags import (  # tags written on every alarm
    TAG_LOGICAL_ID,
    TAG_STACK_ID,
    TAG_STACK_USER_PROJECT,
)
from cfn_gateway.heat_plugin import actions, client
from cfn_gateway.heat_plugin import alarm_params as ap
from cfn_gateway.heat_plugin.gateway_resource import GatewayResourceMixin

S = properties.Schema


class Alarm(GatewayResourceMixin, resource.Resource):
    """An AWS CloudWatch metric alarm in the cfn-gateway, evaluated with AWS's rules.

    Actions may be ARNs, http(s) URLs (a Heat scaling policy's AlarmUrl) or resources of
    the stack with an AlarmUrl/alarm_url attribute.
    """

    # Templates reference alarms from the metadata of the launch configuration whose
    # group the alarm's own dimensions and actions depend on (cfn-push-stats --watch):
    # a strict dependency would be a cycle.  As Heat's old CloudWatch alarm did, this one
    # is referenced without an ordering edge.
    strict_dependency = False

    PROPERTIES = (
        ap.ALARM_NAME, ap.ALARM_DESCRIPTION, ap.COMPARISON_OPERATOR,
        ap.EVALUATION_PERIODS, ap.DATAPOINTS_TO_ALARM, ap.METRIC_NAME, ap.NAMESPACE,
        ap.PERIOD, ap.STATISTIC, ap.EXTENDED_STATISTIC, ap.THRESHOLD, ap.UNIT, ap.UNITS,
        ap.DIMENSIONS, ap.ALARM_ACTIONS, ap.OK_ACTIONS, ap.INSUFFICIENT_DATA_ACTIONS,
        ap.ACTIONS_ENABLED, ap.TREAT_MISSING_DATA, ap.EVALUATE_LOW_SAMPLE_COUNT_PERCENTILE,
    )

    _actions_schema = dict(
        schema=S(S.STRING, _("An ARN, an http(s) URL, or a resource of this stack "
                             "with an AlarmUrl or alarm_url attribute."))
    )

    properties_schema = {
        ap.ALARM_NAME: S(
            S.STRING,
            _("The alarm's name in the gateway; a new name replaces the alarm. "
              "Default: the resource's physical name."),
            constraints=[constraints.Length(1, 255)]),
        ap.ALARM_DESCRIPTION: S(
            S.STRING, _("Description of the alarm."), update_allowed=True,
            constraints=[constraints.Length(max=1024)]),
        ap.COMPARISON_OPERATOR: S(
            S.STRING, _("How the statistic is compared with the threshold."),
            required=True, update_allowed=True,
            constraints=[constraints.AllowedValues(ap.COMPARISON_OPERATORS)]),
        ap.EVALUATION_PERIODS: S(
            S.INTEGER, _("Number of most recent periods the alarm looks at."),
            required=True, update_allowed=True, constraints=[constraints.Range(min=1)]),
        ap.DATAPOINTS_TO_ALARM: S(
            S.INTEGER, _("Breaching periods among EvaluationPeriods that make the alarm "
                         "fire (default: all of them)."),
            update_allowed=True, constraints=[constraints.Range(min=1)]),
        ap.METRIC_NAME: S(
            S.STRING, _("The metric's name."), required=True, update_allowed=True,
            constraints=[constraints.Length(1, 255)]),
        ap.NAMESPACE: S(
            S.STRING, _("The metric's namespace."), required=True, update_allowed=True,
            constraints=[constraints.Length(1, 255)]),
        ap.PERIOD: S(
            S.INTEGER, _("Seconds per period (10, 30 or a multiple of 60)."),
            update_allowed=True, constraints=[constraints.Range(min=1)]),
        ap.STATISTIC: S(
            S.STRING, _("Statistic compared with the threshold; or ExtendedStatistic."),
            update_allowed=True,
            constraints=[constraints.AllowedValues(ap.STATISTICS)]),
        ap.EXTENDED_STATISTIC: S(
            S.STRING, _("A percentile (p90) or other extended statistic; or Statistic."),
            update_allowed=True),
        ap.THRESHOLD: S(
            S.NUMBER, _("The value the statistic is compared with."),
            required=True, update_allowed=True),
        ap.UNIT: S(
            S.STRING, _("Unit of the metric's data the alarm reads."), update_allowed=True,
            constraints=[constraints.AllowedValues(ap.STANDARD_UNITS)]),
        ap.UNITS: S(
            S.STRING, _("Old Heat spelling of Unit."), update_allowed=True,
            constraints=[constraints.AllowedValues(ap.STANDARD_UNITS)]),
        ap.DIMENSIONS: S(
            S.LIST, _("The metric's dimensions."), update_allowed=True,
            schema=S(S.MAP, schema={
                ap.DIMENSION_NAME: S(S.STRING, _("Dimension name."), required=True),
                ap.DIMENSION_VALUE: S(S.STRING, _("Dimension value."), required=True),
            })),
        ap.ALARM_ACTIONS: S(
            S.LIST, _("Run when the alarm enters ALARM."), update_allowed=True,
            **_actions_schema),
        ap.OK_ACTIONS: S(
            S.LIST, _("Run when the alarm enters OK."), update_allowed=True,
            **_actions_schema),
        ap.INSUFFICIENT_DATA_ACTIONS: S(
            S.LIST, _("Run when the alarm enters INSUFFICIENT_DATA."), update_allowed=True,
            **_actions_schema),
        ap.ACTIONS_ENABLED: S(
            S.BOOLEAN, _("Whether the actions run (default true)."), update_allowed=True),
        ap.TREAT_MISSING_DATA: S(
            S.STRING, _("How periods without data count."), update_allowed=True,
            constraints=[constraints.AllowedValues(ap.TREAT_MISSING_DATA_VALUES)]),
        ap.EVALUATE_LOW_SAMPLE_COUNT_PERCENTILE: S(
            S.STRING, _("Whether percentiles over few samples are evaluated."),
            update_allowed=True,
            constraints=[constraints.AllowedValues(ap.LOW_SAMPLE_COUNT_VALUES)]),
    }

    ATTRIBUTES = (ARN,) = ("Arn",)

    attributes_schema = {
        ARN: attributes.Schema(_("The alarm's ARN."), type=attributes.Schema.STRING),
    }

    gateway_service = "cloudwatch"

    # --- gateway

    def _describe(self) -> dict | None:
        if self.resource_id is None:
            return None
        found = self._call("DescribeAlarms", {"AlarmNames": [self.resource_id]})
        for alarm in found.get("MetricAlarms") or ():
            if alarm.get("AlarmName") == self.resource_id:
                return alarm
        return None

    # --- properties -> request

    def _lookup(self, value: str) -> actions.Target | None:
        rsrc = self.stack[value] if value in self.stack else self.stack.resource_by_refid(value)
        if rsrc is None or rsrc.name == self.name:
            return None
        for attr in actions.URL_ATTRIBUTES:
            if attr in rsrc.attributes_schema:
                return actions.Target(rsrc.name, rsrc.type(), attr, rsrc.FnGetAtt(attr))
        return actions.Target(rsrc.name, rsrc.type())

    def _tags(self) -> dict[str, str]:
        tags = {TAG_STACK_ID: str(self.stack.id), TAG_LOGICAL_ID: self.name}
        project = getattr(self.stack, "stack_user_project_id", None)
        if project:
            tags[TAG_STACK_USER_PROJECT] = str(project)
        return tags

    def _params(self, props, name: str) -> dict:
        resolved = {}
        for key in ap.ACTION_LISTS:
            result = actions.resolve(props.get(key), self._lookup, key)
            resolved[key] = result.actions
            for sentence in result.dropped:
                self._event(sentence)
        return ap.put_metric_alarm_params(props, name, resolved, self._tags())

    # --- life cycle

    def validate(self):
        super().validate()
        try:
            ap.check(self.properties)
        except ap.PropertyError as exc:
            raise exception.StackValidationFailed(message=str(exc)) from exc

    def handle_create(self):
        props = self.properties
        explicit = props.get(ap.ALARM_NAME)
        name = explicit or self.physical_resource_name()
        params = self._params(props, name)
        if explicit and self._exists(name):
            raise exception.Error(
                _("An alarm named %s already exists in the project; AlarmName must be "
                  "unique (leave it out to get a generated name)") % name)
        # Recorded before the call: an answer lost on the way back must not leave an
        # alarm the stack's delete does not know about.
        self.resource_id_set(name)
        try:
            self._call("PutMetricAlarm", params)
        except client.GatewayError as exc:
            if self._nothing_made(exc):
                self.resource_id_set(None)    # nothing was made: nothing to delete
            raise

    def _exists(self, name: str) -> bool:
        found = self._call("DescribeAlarms", {"AlarmNames": [name]})
        return bool(found.get("MetricAlarms") or found.get("CompositeAlarms"))

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        if not prop_diff:
            return
        props = json_snippet.properties(self.properties_schema, self.context)
        self._call("PutMetricAlarm", self._params(props, self.resource_id))

    def handle_delete(self):
        if self.resource_id is not None:  # an alarm already gone is deleted
            self._call_unless_gone("DeleteAlarms", {"AlarmNames": [self.resource_id]})
        return None

    def handle_suspend(self):
        if self.resource_id is not None:
            self._call("DisableAlarmActions", {"AlarmNames": [self.resource_id]})

    def handle_resume(self):
        enabled = self.properties.get(ap.ACTIONS_ENABLED)
        if self.resource_id is not None and (enabled is None or enabled):
            # an alarm whose template disables its actions stays so after a resume
            self._call("EnableAlarmActions", {"AlarmNames": [self.resource_id]})

    def handle_check(self):
        if self._describe() is None:
            raise exception.Error(_("The alarm %s is not in the gateway") % self.resource_id)

    def get_reference_id(self):
        if self.resource_id is not None:
            return str(self.resource_id)
        return str(self.name)

    def _resolve_attribute(self, name):
        if name == self.ARN:
            alarm = self._describe()
            return alarm.get("AlarmArn") if alarm else None
        return None
