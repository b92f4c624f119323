"""The AWS SDK for JavaScript v3 (from npm, ``tests/js``) against the gateway, both modes.

``tests/js/alarms.mjs`` publishes, creates an alarm, waits for it with the SDK's
``waitUntilAlarmExists`` and describes it; ``tests/js/metric_data.mjs`` reads
GetMetricData (a MetricStat and a metric math expression) through the SDK's paginator, as
Grafana's CloudWatch data source does.  Their output is checked here.  ``tools/run-tests``
installs the SDK (``npm ci`` in ``tests/js``, pinned by its package-lock.json).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest

from tests.functional.server import Credentials, GatewayProcess
from tests.testbed import ROOT

pytestmark = pytest.mark.functional
JS = ROOT / "tests" / "js"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None or not (JS / "node_modules" / "@aws-sdk" / "client-cloudwatch").exists():
        pytest.fail("the JS SDK is not installed: npm ci --prefix tests/js (tools/run-tests "
                    "does it)")
    return found


def run_script(node: str, script: str, gateway: GatewayProcess, creds: Credentials,
               **extra: str) -> dict:
    """Run ``tests/js/<script>`` against the gateway; the JSON object it prints last."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(CFN_ENDPOINT=gateway.endpoint, AWS_ACCESS_KEY_ID=creds.access_key,
               AWS_SECRET_ACCESS_KEY=creds.secret_key,
               NAMESPACE=f"Test/{uuid.uuid4().hex[:8]}", **extra)
    done = subprocess.run([node, str(JS / script)], cwd=JS, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_waiter_and_describe(node: str, gateway: GatewayProcess, creds: Credentials):
    name = f"js-{uuid.uuid4().hex[:10]}"
    result = run_script(node, "alarms.mjs", gateway, creds, ALARM_NAME=name)
    assert result["waiter"] == "SUCCESS"
    assert result["alarm"] == {"name": name, "state": result["alarm"]["state"],
                               "threshold": 5, "datapointsToAlarm": 1, "updated": True}
    assert result["alarm"]["state"] in ("INSUFFICIENT_DATA", "OK")
    assert result["refused"] == {"name": "InvalidNextToken", "status": 400}


def test_get_metric_data_with_the_paginator(node: str, gateway: GatewayProcess,
                                            creds: Credentials):
    result = run_script(node, "metric_data.mjs", gateway, creds)
    minutes = [n * 60_000 for n in range(4)]
    assert result["results"] == {
        "requests": {"label": "Requests", "values": [1, 2, 3, 4], "times": minutes},
        "doubled": {"label": "Doubled", "values": [2, 4, 6, 8], "times": minutes}}
    assert result["pages"] == 3  # 8 points in pages of 3
