"""Without Heat (or botocore) the plugin registers nothing, says why, and never raises;
the options register on a config object as heat-engine's would."""

from __future__ import annotations

import importlib.util
import logging
import runpy
from pathlib import Path

import pytest
from oslo_config import cfg

from cfn_gateway.heat_plugin import __main__ as plugin_main
from cfn_gateway.heat_plugin import options, resources

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(importlib.util.find_spec("heat") is not None, reason="Heat installed")
def test_no_heat_registers_nothing(caplog):
    with caplog.at_level(logging.ERROR):
        assert resources.available_resource_mapping() == {}
    assert "OS::CfnGateway::Alarm not registered" in caplog.text
    assert "heat" in caplog.text
    assert resources.resource_mapping is resources.available_resource_mapping


def test_options_register_with_defaults():
    conf = cfg.ConfigOpts()
    conf([], project="heat-test")
    group = options.register(conf)
    options.register(conf)                     # idempotent
    assert (group.url, group.service_type, group.endpoint_type, group.timeout,
            group.region) == (None, "cfn-gateway", "public", 30.0, "RegionOne")
    conf.set_override("url", "http://127.0.0.1:8013/", group="cfn_gateway")
    assert conf.cfn_gateway.url == "http://127.0.0.1:8013/"
    [(name, opts)] = options.list_opts()
    assert name == "cfn_gateway" and {o.name for o in opts} == {
        "url", "service_type", "endpoint_type", "timeout", "region",
        "instance_endpoint_host", "wait_for_instances", "delete_timeout"}


@pytest.mark.parametrize("shim", [
    "cfn_gateway/heat_plugin/loader/cfn_gateway_heat.py",
    "tools/testbed/heat-plugins/cfngw_gateway_resources.py",
])
def test_shims_expose_the_mapping(shim):
    namespace = runpy.run_path(str(ROOT / shim))
    assert callable(namespace["available_resource_mapping"])


def test_plugin_dir_holds_the_shim():
    assert (Path(plugin_main.plugin_dir()) / "cfn_gateway_heat.py").is_file()
