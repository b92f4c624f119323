"""Packaging of cfn-gateway: ``pip install .`` on a fresh machine."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="cfn-gateway",
    version="0.1.0",
    description="AWS CloudWatch and Auto Scaling APIs for OpenStack, or standalone",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["cfn_gateway", "cfn_gateway.*"]),
    include_package_data=True,
    package_data={"cfn_gateway": ["api-paste.ini"]},
    install_requires=[
        "WebOb>=1.8",
        "PasteDeploy>=3.0",
        "lxml>=5.0",
        # 1.42.7 is the first release whose CloudWatch model lists json and rpc-v2-cbor.
        "botocore>=1.42.7,<2",
        "cbor2>=5.6",
        # Valid JSON 1.0 bodies are decoded and validated in one pass (protocol.fast_json).
        "msgspec>=0.23,<1",
        "oslo.config>=9.0",
        "granian>=2.5,<3",
        # The workers' event loops (cfn_gateway.cmd.serve).
        "uvloop>=0.19",
        # HTTP/1.1 parsing of the native server (cfn_gateway.server.http1).
        "httptools>=0.6",
        "keystoneauth1>=5.0",
    ],
    extras_require={
        # OpenStack mode: Keystone, Gnocchi, Aodh and Heat clients.
        "openstack": [
            "python-keystoneclient>=5.0",
            "gnocchiclient>=7.0",
            "aodhclient>=3.0",
            "python-heatclient>=4.0",
        ],
        # The Aodh plugin (cfn_gateway.aodh_plugin), installed beside aodh on every
        # aodh-api, aodh-evaluator and aodh-notifier node; it imports only the pure
        # domain modules (whose metric values are msgspec structs), the Gnocchi read
        # planning and these clients.
        "aodh": [
            "gnocchiclient>=7.0",
            "keystoneauth1>=5.0",
            "msgspec>=0.23,<1",
        ],
        # The Heat resource plugin (cfn_gateway.heat_plugin), installed beside heat-engine
        # on every node that runs it; it imports only botocore, keystoneauth1, oslo.config
        # and Heat.
        "heat": [
            "botocore>=1.42.7",
            "keystoneauth1>=5.0",
            "oslo.config>=9.0",
        ],
        "test": [
            "pytest>=8",
            "hypothesis>=6",
            "boto3>=1.42.7",
            "awscli>=1.43",
            "boto==2.49.0",
            # cfn-push-stats, run unmodified by tests/functional/test_cfn_push_stats.py
            # (its boto, psutil, six and pbr are unpinned; boto is pinned above).
            "heat-cfntools==2.0.0",
            "requests>=2.31",
            "ruff>=0.6",
        ],
    },
    entry_points={
        "console_scripts": ["cfn-gateway = cfn_gateway.cmd.main:main"],
        "oslo.config.opts": ["cfn_gateway = cfn_gateway.config:list_opts"],
        "paste.app_factory": ["gateway = cfn_gateway.dispatch:app_factory"],
        "aodh.alarm.rule": [
            "cloudwatch = cfn_gateway.aodh_plugin.rules:MetricAlarmRule",
            "cloudwatch_composite = cfn_gateway.aodh_plugin.rules:CompositeAlarmRule",
        ],
        "aodh.evaluator": [
            "cloudwatch = cfn_gateway.aodh_plugin.metric_evaluator:MetricAlarmEvaluator",
            "cloudwatch_composite = "
            "cfn_gateway.aodh_plugin.composite_evaluator:CompositeAlarmEvaluator",
        ],
        "aodh.notifier": [
            "cloudwatch = cfn_gateway.aodh_plugin.notifier:ActionNotifier",
        ],
    },
)
