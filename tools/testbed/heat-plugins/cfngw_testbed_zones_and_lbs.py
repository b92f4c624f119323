"""Heat plugin for the cfn-gateway test bed: availability zones and load balancers without Nova.

Loaded from heat.conf ``[DEFAULT] plugin_dirs`` beside ``cfngw_testbed_members.py``, so that
classic AWS templates (``Fn::GetAZs``, an ``AWS::ElasticLoadBalancing::LoadBalancer`` in
front of the group) create on a test bed that runs no compute service:

* ``Fn::GetAZs`` asks Nova for its zones; here the answer is ``ZONES`` (Nova's default
  zone).  Both places Heat asks (the stack, and the stack definition convergence reads
  from) are answered.
* ``AWS::ElasticLoadBalancing::LoadBalancer`` is a nested stack around an haproxy server
  that waits up to ten minutes for the server to signal; here it is a resource with the
  real property and attribute schemas whose create and delete only touch Heat's database
  (its ``Ref`` is its name, its ``DNSName`` 127.0.0.1).

Never install this plugin on a real cloud.
"""

from heat.engine import resource, stack, stk_defn
from heat.engine.resources.aws.lb.loadbalancer import LoadBalancer

ZONES = ["nova"]


def _testbed_zones(self):
    return list(ZONES)


stack.Stack.get_availability_zones = _testbed_zones
stk_defn.StackDefinition.get_availability_zones = _testbed_zones


class FakeLoadBalancer(resource.Resource):
    """The real load balancer's schemas; nothing behind them."""

    PROPERTIES = LoadBalancer.PROPERTIES
    properties_schema = LoadBalancer.properties_schema
    ATTRIBUTES = LoadBalancer.ATTRIBUTES
    attributes_schema = LoadBalancer.attributes_schema

    def handle_create(self):
        self.resource_id_set(self.name)

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        return None  # Instances: the members a group registers; nothing to reconfigure

    def get_reference_id(self):
        return str(self.name)

    def _resolve_attribute(self, name):
        return "127.0.0.1" if name == LoadBalancer.DNS_NAME else ""


def resource_mapping():
    return {"AWS::ElasticLoadBalancing::LoadBalancer": FakeLoadBalancer}
