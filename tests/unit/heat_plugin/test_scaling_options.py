"""The options the Auto Scaling resources add to ``[cfn_gateway]``, and their mapping."""

from __future__ import annotations

import importlib.util
import logging

import pytest
from oslo_config import cfg

from cfn_gateway.heat_plugin import options, resources


def test_autoscaling_options_and_defaults():
    conf = cfg.ConfigOpts()
    conf([], project="heat-test")
    group = options.register(conf)
    assert group.instance_endpoint_host is None
    assert group.wait_for_instances is True
    assert group.delete_timeout == 600
    conf.set_override("instance_endpoint_host", "gw.example.com", group="cfn_gateway")
    assert conf.cfn_gateway.instance_endpoint_host == "gw.example.com"
    [(name, opts)] = options.list_opts()
    assert name == "cfn_gateway"
    assert {"instance_endpoint_host", "wait_for_instances", "delete_timeout"} <= \
        {o.name for o in opts}


@pytest.mark.skipif(importlib.util.find_spec("heat") is not None, reason="Heat installed")
def test_no_heat_names_every_type(caplog):
    with caplog.at_level(logging.ERROR):
        assert resources.available_resource_mapping() == {}
    for name in resources.TYPES:
        assert name in caplog.text
    assert resources.TYPES == ("OS::CfnGateway::Alarm", "OS::CfnGateway::LaunchConfiguration",
                               "OS::CfnGateway::AutoScalingGroup",
                               "OS::CfnGateway::ScalingPolicy")
