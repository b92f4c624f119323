"""``OS::CfnGateway::AutoScalingGroup``: an Auto Scaling group that lives in the gateway.

The properties are those of Heat's ``AWS::AutoScaling::AutoScalingGroup`` (plus
TerminationPolicies and a Tags ``PropagateAtLaunch``), so an environment can map that
name here.  The gateway launches and terminates the instances (through its own Heat stack
of members), decides capacity, cooldowns and which instances go; this resource creates,
updates and deletes the group and waits, like Heat's own groups, until its first
instances are InService.  Heat's own scaling policies can drive it too (``adjust``).
"""

from __future__ import annotations

import logging
import time

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

#: Rolling updates (Heat's AutoScalingRollingUpdate) are accepted for the templates'
#: sake; the gateway keeps running instances when the launch configuration changes.
ROLLING_UPDATE = "AutoScalingRollingUpdate"


class AutoScalingGroup(GatewayResourceMixin, resource.Resource):
    """An Auto Scaling group in the cfn-gateway, launched from a launch configuration."""

    PROPERTIES = (
        sp.AVAILABILITY_ZONES, sp.LAUNCH_CONFIGURATION_NAME, sp.INSTANCE_ID, sp.MAX_SIZE,
        sp.MIN_SIZE, sp.COOLDOWN, sp.DESIRED_CAPACITY, sp.HEALTH_CHECK_GRACE_PERIOD,
        sp.HEALTH_CHECK_TYPE, sp.LOAD_BALANCER_NAMES, sp.VPC_ZONE_IDENTIFIER, sp.TAGS,
        sp.TERMINATION_POLICIES,
    )
    #: Properties whose change makes a new group (the others are updated in place).
    REPLACING_PROPERTIES = frozenset({sp.INSTANCE_ID})

    properties_schema = {
        sp.AVAILABILITY_ZONES: S(
            S.LIST, _("Availability zones the instances are spread over."),
            required=True, update_allowed=True),
        sp.LAUNCH_CONFIGURATION_NAME: S(
            S.STRING, _("The launch configuration (a reference to an "
                        "OS::CfnGateway::LaunchConfiguration)."),
            required=True, update_allowed=True),
        sp.INSTANCE_ID: S(
            S.STRING, _("Not supported: there is no EC2 instance to make a group from.")),
        sp.MAX_SIZE: S(
            S.INTEGER, _("Maximum number of instances in the group."), required=True,
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        sp.MIN_SIZE: S(
            S.INTEGER, _("Minimum number of instances in the group."), required=True,
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        sp.COOLDOWN: S(
            S.INTEGER, _("Seconds after a scaling activity before another may start "
                         "(the group's default cooldown)."),
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        sp.DESIRED_CAPACITY: S(
            S.INTEGER, _("Initial number of instances (default MinSize); a change sets "
                         "the group's size."),
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        sp.HEALTH_CHECK_GRACE_PERIOD: S(
            S.INTEGER, _("Seconds after launch before health checks count."),
            update_allowed=True, constraints=[constraints.Range(min=0)]),
        sp.HEALTH_CHECK_TYPE: S(
            S.STRING, _("Health check type."), update_allowed=True,
            constraints=[constraints.AllowedValues(sp.HEALTH_CHECK_TYPES)]),
        sp.LOAD_BALANCER_NAMES: S(
            S.LIST, _("Accepted and ignored: the gateway has no Elastic Load Balancing."),
            update_allowed=True),
        sp.VPC_ZONE_IDENTIFIER: S(
            S.LIST, _("Subnets for the instances."), update_allowed=True,
            schema=S(S.STRING, _("A subnet id."))),
        sp.TAGS: S(
            S.LIST, _("Tags of the group; propagated to its instances (as server "
                      "metadata) unless PropagateAtLaunch is false."),
            update_allowed=True,
            schema=S(S.MAP, schema={
                sp.TAG_KEY: S(S.STRING, _("Tag key."), required=True),
                sp.TAG_VALUE: S(S.STRING, _("Tag value."), required=True),
                sp.TAG_PROPAGATE: S(S.BOOLEAN, _("Whether instances get the tag "
                                                 "(default true)."), default=True),
            })),
        sp.TERMINATION_POLICIES: S(
            S.LIST, _("Which instances go first when the group shrinks."),
            update_allowed=True,
            schema=S(S.STRING, _("A termination policy."), constraints=[
                constraints.AllowedValues(sp.TERMINATION_POLICY_VALUES)])),
    }

    ATTRIBUTES = (INSTANCE_LIST,) = ("InstanceList",)

    attributes_schema = {
        INSTANCE_LIST: attributes.Schema(
            _("Comma-separated ids of the group's instances (the gateway's i-... ids)."),
            type=attributes.Schema.STRING, cache_mode=attributes.Schema.CACHE_NONE),
    }

    update_policy_schema = {
        ROLLING_UPDATE: S(S.MAP, schema={
            "MinInstancesInService": S(S.INTEGER, default=0),
            "MaxBatchSize": S(S.INTEGER, default=1),
            "PauseTime": S(S.STRING, default="PT0S"),
        }),
    }

    # --- gateway

    def _describe(self) -> dict | None:
        if self.resource_id is None:
            return None
        found = self._call("DescribeAutoScalingGroups",
                           {"AutoScalingGroupNames": [self.resource_id]})
        for group in found.get("AutoScalingGroups") or ():
            if group.get("AutoScalingGroupName") == self.resource_id:
                return group
        return None

    def _failed(self, exc: Exception):
        return exception.Error(str(exc))

    # --- life cycle

    def validate(self):
        if self.properties.get(sp.INSTANCE_ID):
            raise exception.StackValidationFailed(message=_(
                "InstanceId is not supported: there is no EC2 instance to make a group "
                "from; give LaunchConfigurationName"))
        super().validate()
        props = self.properties
        if props.get(sp.MIN_SIZE) is None or props.get(sp.MAX_SIZE) is None:
            return          # not resolvable before the stack runs
        try:
            sp.check_group(props)
        except PropertyError as exc:
            raise exception.StackValidationFailed(message=str(exc)) from exc

    def handle_create(self):
        props = self.properties
        for sentence in sp.ignored_group_properties(props):
            self._event(sentence)
        name = self.physical_resource_name()
        try:
            params = sp.create_group_params(props, name, str(self.stack.id), self.name)
        except PropertyError as exc:
            raise self._failed(exc) from exc
        self.resource_id_set(name)
        try:
            self._call("CreateAutoScalingGroup", params)
        except client.GatewayError as exc:
            if self._nothing_made(exc):
                self.resource_id_set(None)
            raise
        return sp.wanted_capacity(props) if self._conf().wait_for_instances else 0

    def check_create_complete(self, wanted):
        if not wanted:
            return True
        group = self._describe()
        if group is None:
            raise exception.Error(_("Auto Scaling group %s is no longer in the gateway")
                                  % self.resource_id)
        if sp.in_service(group) >= wanted:
            return True
        found = self._call("DescribeScalingActivities",
                           {"AutoScalingGroupName": self.resource_id, "MaxRecords": 1})
        failure = sp.failed_activity(found.get("Activities") or [])
        if failure:
            raise exception.Error(_("Auto Scaling group %(name)s: %(why)s")
                                  % {"name": self.resource_id, "why": failure})
        return False

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        if tmpl_diff and tmpl_diff.update_policy_changed():
            self.update_policy = json_snippet.update_policy(self.update_policy_schema,
                                                            self.context)
        if not prop_diff:
            return
        new_props = json_snippet.properties(self.properties_schema, self.context)
        if sp.LOAD_BALANCER_NAMES in prop_diff:
            for sentence in sp.ignored_group_properties(new_props):
                self._event(sentence)
        try:
            params = sp.update_group_params(new_props, self.resource_id, prop_diff)
            put, gone = ([], [])
            if sp.TAGS in prop_diff:
                put, gone = sp.tag_changes(self.properties, new_props, self.resource_id,
                                           str(self.stack.id), self.name)
        except PropertyError as exc:
            raise self._failed(exc) from exc
        self._call("UpdateAutoScalingGroup", params)
        if gone:
            self._call("DeleteTags", {"Tags": gone})
        if put:
            self._call("CreateOrUpdateTags", {"Tags": put})

    def handle_delete(self):
        if self.resource_id is None:
            return None
        if not self._call_unless_gone("DeleteAutoScalingGroup",
                                      {"AutoScalingGroupName": self.resource_id,
                                       "ForceDelete": True}):
            return None
        return self._deadline()

    def check_delete_complete(self, deadline):
        if deadline is None:
            return True
        group = self._describe()
        if group is None:
            return True
        if time.monotonic() >= deadline:
            raise exception.Error(
                _("Auto Scaling group %(name)s is still being deleted after %(s)d s "
                  "(%(n)d instances left)") % {
                    "name": self.resource_id, "s": self._conf().delete_timeout,
                    "n": len(group.get("Instances") or ())})
        return False

    def handle_suspend(self):
        if self.resource_id is not None:
            self._call("SuspendProcesses", {"AutoScalingGroupName": self.resource_id})

    def handle_resume(self):
        if self.resource_id is not None:
            self._call("ResumeProcesses", {"AutoScalingGroupName": self.resource_id})

    def handle_check(self):
        if self._describe() is None:
            raise exception.Error(_("The Auto Scaling group %s is not in the gateway")
                                  % self.resource_id)

    def get_reference_id(self):
        if self.resource_id is not None:
            return str(self.resource_id)
        return str(self.name)

    def _resolve_attribute(self, name):
        if name == self.INSTANCE_LIST:
            group = self._describe()
            if group is None:
                return None
            return ",".join(i["InstanceId"] for i in sp.live_instances(group))
        return None

    # --- driven by Heat's own scaling policies

    def adjust(self, adjustment, adjustment_type=pp.CHANGE_IN_CAPACITY,
               min_adjustment_step=None, cooldown=None):
        """Resize the group as Heat's AWS::AutoScaling::ScalingPolicy and
        OS::Heat::ScalingPolicy ask of a group.

        The gateway computes nothing here: the new size is set with SetDesiredCapacity
        honouring the group's cooldown (``cooldown``, a policy's own, cannot be passed on:
        the group's default cooldown applies).  No change, a group not COMPLETE, an
        activity in progress or a cooldown in effect raise NoActionRequired.
        """
        if self.status != self.COMPLETE:
            LOG.info("%s: no scaling adjustment while the resource is %s", self.name,
                     self.status)
            raise resource.NoActionRequired(self.name, "not COMPLETE")
        group = self._describe()
        if group is None:
            raise exception.Error(_("Auto Scaling group %s is not in the gateway")
                                  % self.resource_id)
        current = int(group["DesiredCapacity"])
        try:
            wanted = pp.new_capacity(current, adjustment, adjustment_type,
                                     min_adjustment_step, int(group["MinSize"]),
                                     int(group["MaxSize"]))
        except PropertyError as exc:
            raise self._failed(exc) from exc
        if wanted == current:
            LOG.info("%s: scaling adjustment leaves the size at %d", self.name, current)
            raise resource.NoActionRequired(self.name, "no change in capacity")
        try:
            self._call("SetDesiredCapacity", {"AutoScalingGroupName": self.resource_id,
                                              "DesiredCapacity": wanted,
                                              "HonorCooldown": True})
        except client.GatewayError as exc:
            if exc.code == "ScalingActivityInProgress":
                LOG.info("%s: scaling adjustment refused: %s", self.name, exc.message)
                raise resource.NoActionRequired(self.name, exc.message) from exc
            raise
        LOG.info("%s: desired capacity %d -> %d (%s %s)", self.name, current, wanted,
                 adjustment_type, adjustment)
