"""Where the OpenStack test bed (tools/testbed/up.sh) left its facts, for tests.

``TESTBED_DIR`` (default ``<repo>/.testbed``) holds ``testbed.json``.  Without it the
OpenStack-mode tests are skipped with a visible reason, unless ``CFN_REQUIRE_TESTBED=1``
(CI sets it), which turns a missing test bed into a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def testbed_dir() -> Path:
    return Path(os.environ.get("TESTBED_DIR", ROOT / ".testbed"))


def load_testbed() -> dict[str, Any] | None:
    path = testbed_dir() / "testbed.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def require_testbed() -> dict[str, Any]:
    """The test bed's facts, or a visible skip (a failure when CI requires it)."""
    testbed = load_testbed()
    if testbed is not None:
        return testbed
    reason = (f"OpenStack test bed not running ({testbed_dir()}/testbed.json missing): "
              "start it with tools/testbed/up.sh")
    if os.environ.get("CFN_REQUIRE_TESTBED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
