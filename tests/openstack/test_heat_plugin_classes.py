"""The Heat plugin's resource classes, tested where Heat is importable: the test bed's venv.

``tests/unit/heat_plugin/test_*_resource(s).py`` skip themselves in the gateway's own venv,
which has no Heat; this runs them with the test bed venv's Python (Heat 27 and the
gateway installed there as heat-engine loads it), pytest coming from the gateway's venv
at the end of the path so that Heat's own packages win.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import pytest

from tests import testbed

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["tests/unit/heat_plugin/test_alarm_resource.py",
           "tests/unit/heat_plugin/test_scaling_resources.py"]


def test_resource_classes_under_heat():
    testbed.require_testbed()
    python = testbed.testbed_dir() / "venv" / "bin" / "python"
    if not python.exists():
        pytest.fail(f"no test bed venv at {python}: run tools/testbed/up.sh")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), sysconfig.get_paths()["purelib"]])}
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
         *MODULES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-2000:]
