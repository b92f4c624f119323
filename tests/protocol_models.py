"""Copies of botocore's CloudWatch model restricted to one protocol, for real clients.

botocore speaks the first protocol its copy of the model lists; put first on the loader's
search path, such a copy makes boto3 speak Query or RPC v2 CBOR instead of JSON.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import botocore.session


def write_protocol_model(root: Path, protocol: str) -> Path:
    """Write the copy under ``root`` and return the folder to put on the search path."""
    loader = botocore.session.Session().get_component("data_loader")
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    folder = root / protocol / "cloudwatch" / "2010-08-01"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    return root / protocol
