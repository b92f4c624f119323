"""Real AWS clients pointed at the gateway: boto3 (JSON, Query, CBOR), boto 2.49, AWS CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.session
from botocore.config import Config

from tests.functional.server import Credentials

REGION = "us-east-1"
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


def boto3_client(service: str, endpoint: str, creds: Credentials, data_path: Path | None = None):
    """A boto3 client; with ``data_path`` its models come from there first."""
    session = botocore.session.get_session()
    if data_path is not None:
        session = botocore.session.Session()
        session.get_component("data_loader").search_paths.insert(0, str(data_path))
    return boto3.Session(botocore_session=session).client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        config=NO_RETRY,
    )


def aws_cli(endpoint: str, creds: Credentials, *args: str) -> subprocess.CompletedProcess:
    """Run the AWS CLI (``aws``) with the gateway's credentials; output as JSON."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_")
    } | {
        "AWS_ACCESS_KEY_ID": creds.access_key,
        "AWS_SECRET_ACCESS_KEY": creds.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
    }
    aws = Path(sys.executable).parent / "aws"
    return subprocess.run(
        [str(aws), "--endpoint-url", endpoint, "--output", "json", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )
