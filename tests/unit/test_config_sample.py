"""etc/cfn-gateway.conf.sample must match the options the code defines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sample_config_is_current(tmp_path):
    out = tmp_path / "sample.conf"
    generator = Path(sys.executable).parent / "oslo-config-generator"
    subprocess.run([str(generator), "--namespace", "cfn_gateway", "--output-file", str(out)],
                   check=True)
    assert out.read_text() == (ROOT / "etc" / "cfn-gateway.conf.sample").read_text(), (
        "regenerate: oslo-config-generator --namespace cfn_gateway "
        "--output-file etc/cfn-gateway.conf.sample")
