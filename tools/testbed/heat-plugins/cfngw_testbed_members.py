"""Heat plugin for the cfn-gateway test bed: scaling-group members without Nova or Glance.

Loaded from heat.conf ``[DEFAULT] plugin_dirs``. The test bed runs no compute, image or
network service, so this plugin

* replaces the custom constraints that would ask Glance, Nova, Neutron or Cinder whether an
  image, flavor, key pair, ... exists with one that accepts any value, so that unmodified
  ``AWS::AutoScaling::LaunchConfiguration`` templates validate; and
* registers ``AWS::EC2::Instance`` (the member of an ``AWS::AutoScaling::AutoScalingGroup``)
  and ``OS::Nova::Server`` (the member the gateway puts in an ``OS::Heat::AutoScalingGroup``
  in production) as resources with the real property and attribute schemas whose create and
  delete only touch Heat's database.

A member's physical id looks like an instance id (``i-`` and 17 hex digits for the AWS type,
a UUID for the Nova one); its addresses are 127.0.0.1.

Never install this plugin on a real cloud: it makes every server in every stack a fake.
"""

import uuid

from heat.engine import constraints, resource
from heat.engine.resources.aws.ec2 import instance as aws_instance
from heat.engine.resources.openstack.nova import server as nova_server

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

    def handle_create(self):
        self.resource_id_set(str(uuid.uuid4()))

    def handle_delete(self):
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


def constraint_mapping():
    return {name: AcceptAnything for name in _FAKED_CONSTRAINTS}


def resource_mapping():
    return {
        "AWS::EC2::Instance": FakeEC2Instance,
        "OS::Nova::Server": FakeNovaServer,
    }
