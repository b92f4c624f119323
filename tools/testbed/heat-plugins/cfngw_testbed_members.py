"""Heat plugin for the cfn-gateway test bed: scaling-group members without Nova or Glance.

Loaded from heat.conf ``[DEFAULT] plugin_dirs``. The test bed runs no compute, image or
network service, so this plugin

* replaces the custom constraints that would ask Glance, Nova, Neutron or Cinder whether an
  image, flavor, key pair, ... exists with one that accepts any value, so that unmodified
  ``AWS::AutoScaling::LaunchConfiguration`` templates validate, except the image
  ``cfngw-testbed-no-such-image`` (``MISSING_IMAGE``), which Heat refuses as it refuses an
  image Glance does not have; and
* registers ``AWS::EC2::Instance`` (the member of an ``AWS::AutoScaling::AutoScalingGroup``)
  and ``OS::Nova::Server`` (the member the gateway puts in an ``OS::Heat::AutoScalingGroup``
  in production) as resources with the real property and attribute schemas whose create and
  delete only touch Heat's database.

A member's physical id looks like an instance id (``i-`` and 17 hex digits for the AWS type,
a UUID for the Nova one); its addresses are 127.0.0.1.

The fake ``OS::Nova::Server`` behaves as Nova's would where the gateway looks:

* Failure on demand: a server whose ``metadata`` holds ``cfngw-testbed-fail: create`` fails
  its create (``CREATE_FAILED``; the reason names ``cfngw-testbed-fail``).  The gateway
  passes a group's tags that propagate at launch as server metadata, so a group tag
  ``cfngw-testbed-fail=create`` with ``PropagateAtLaunch`` makes each of its new members
  fail.  A running member is made to fail with Heat's own API instead: ``PATCH
  /v1/{project}/stacks/{name}/{id}/resources/{resource}`` with ``{"mark_unhealthy": true,
  "resource_status_reason": "..."}`` (``CHECK_FAILED``; the next stack update replaces it).
* Boot time on demand: ``metadata`` ``cfngw-testbed-boot-seconds: "N"`` keeps the server in
  ``CREATE_IN_PROGRESS`` for about N seconds (Heat polls once a second), as a real server
  that boots; without it a server is created at once.
* Deletion is written to heat-engine's log (``DELETED_LOG`` and the server's id), so that
  a test can tell a deleted server from one Heat let go of (``deletion_policy: Retain``,
  an adopted ``external_id``).  Adoption (``external_id``) takes any id: there is no Nova
  to ask whether the server exists.
* Updates: the properties Nova changes in place (``name``, ``metadata``, ``flavor``,
  ``image``, ...: ``update_allowed`` in the real schema) are updated in place, the physical
  id kept; the others, and ``user_data``/``flavor``/``image`` under an update policy of
  ``REPLACE``, replace the server, as with the real resource.

Never install this plugin on a real cloud: it makes every server in every stack a fake.
"""

import time
import uuid

from heat.common import exception
from heat.engine import constraints, resource
from heat.engine.resources.aws.ec2 import instance as aws_instance
from heat.engine.resources.openstack.nova import server as nova_server
from oslo_log import log as logging

#: Server metadata key (and value) that makes the fake server's create fail.
FAIL_KEY = "cfngw-testbed-fail"
FAIL_ON_CREATE = "create"
#: Server metadata key: seconds the fake server's create takes.
BOOT_SECONDS_KEY = "cfngw-testbed-boot-seconds"
#: The one image the test bed's Glance does not have: Heat refuses a stack naming it, as
#: a real cloud refuses an image that does not exist.
MISSING_IMAGE = "cfngw-testbed-no-such-image"
#: What heat-engine's log says, followed by the server's id, when a fake server is
#: deleted (Heat calls the resource's delete): tests read it to tell a server deleted from
#: one Heat let go (``deletion_policy: Retain``, ``external_id``).
DELETED_LOG = "cfngw-testbed: fake server deleted:"

LOG = logging.getLogger(__name__)

# Every custom constraint that would need a service the test bed does not run.
_FAKED_CONSTRAINTS = (
    "glance.image",
    "nova.flavor", "nova.keypair", "nova.server", "nova.host",
    "neutron.network", "neutron.subnet", "neutron.port", "neutron.security_group",
    "cinder.volume", "cinder.snapshot",
)


class AcceptAnything(constraints.BaseCustomConstraint):
    def validate(self, value, context, template=None):
        return True


class FakeEC2Instance(resource.Resource):
    """AWS::EC2::Instance that exists only in Heat's database."""

    PROPERTIES = aws_instance.Instance.PROPERTIES
    ATTRIBUTES = aws_instance.Instance.ATTRIBUTES
    properties_schema = aws_instance.Instance.properties_schema
    attributes_schema = aws_instance.Instance.attributes_schema

    def handle_create(self):
        self.resource_id_set("i-" + uuid.uuid4().hex[:17])

    def handle_delete(self):
        return None

    def _resolve_attribute(self, name):
        return {
            "PublicIp": "127.0.0.1",
            "PrivateIp": "127.0.0.1",
            "PublicDnsName": "localhost",
            "PrivateDnsName": "localhost",
            "AvailabilityZone": "nova",
        }.get(name)


class FakeNovaServer(resource.Resource):
    """OS::Nova::Server that exists only in Heat's database."""

    PROPERTIES = nova_server.Server.PROPERTIES
    ATTRIBUTES = nova_server.Server.ATTRIBUTES
    properties_schema = nova_server.Server.properties_schema
    attributes_schema = nova_server.Server.attributes_schema
    # The property names the methods below (and Server's) use.
    NAME, METADATA, TAGS = (
        nova_server.Server.NAME, nova_server.Server.METADATA, nova_server.Server.TAGS)
    FLAVOR, FLAVOR_UPDATE_POLICY = (
        nova_server.Server.FLAVOR, nova_server.Server.FLAVOR_UPDATE_POLICY)
    IMAGE, IMAGE_UPDATE_POLICY = (
        nova_server.Server.IMAGE, nova_server.Server.IMAGE_UPDATE_POLICY)
    USER_DATA, USER_DATA_UPDATE_POLICY = (
        nova_server.Server.USER_DATA, nova_server.Server.USER_DATA_UPDATE_POLICY)

    # Replaced on the same property changes as the real server.
    needs_replace_with_prop_diff = nova_server.Server.needs_replace_with_prop_diff

    def handle_create(self):
        metadata = self.properties[self.METADATA] or {}
        if metadata.get(FAIL_KEY) == FAIL_ON_CREATE:
            raise exception.Error(
                f"{FAIL_KEY}: server metadata asks this server to fail its create")
        self.resource_id_set(str(uuid.uuid4()))
        try:
            boot_seconds = float(metadata.get(BOOT_SECONDS_KEY) or 0)
        except ValueError:
            boot_seconds = 0.0
        return time.monotonic() + boot_seconds

    def check_create_complete(self, booted_at):
        return time.monotonic() >= booted_at

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        # Only update_allowed properties get here (the others replace the server).
        return None

    def handle_delete(self):
        if self.resource_id:
            LOG.info("%s %s", DELETED_LOG, self.resource_id)
        return None

    def _server_name(self):
        return self.properties[self.NAME] or self.physical_resource_name()

    def _resolve_attribute(self, name):
        address = {"addr": "127.0.0.1", "version": 4}
        return {
            "name": self._server_name(),
            "instance_name": self._server_name(),
            "first_address": "127.0.0.1",
            "accessIPv4": "127.0.0.1",
            "accessIPv6": "",
            "addresses": {"testbed": [address]},
            "networks": {"testbed": ["127.0.0.1"]},
            "console_urls": {},
            "tags": self.properties[self.TAGS] or [],
            "os_collect_config": {},
        }.get(name)


class TestbedImages(AcceptAnything):
    """``glance.image``: any image but ``MISSING_IMAGE``, which Glance would not find."""

    def validate(self, value, context, template=None):
        if value == MISSING_IMAGE:
            self._error_message = f"No image matching {value}."
            return False
        return True


def constraint_mapping():
    return {**{name: AcceptAnything for name in _FAKED_CONSTRAINTS},
            "glance.image": TestbedImages}


def resource_mapping():
    return {
        "AWS::EC2::Instance": FakeEC2Instance,
        "OS::Nova::Server": FakeNovaServer,
    }
