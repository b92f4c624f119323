"""boto 2.49 connections to the gateway, signing with SigV4 (its default) or SigV2."""

from __future__ import annotations

from urllib.parse import urlparse

from boto.ec2.autoscale import AutoScaleConnection
from boto.ec2.cloudwatch import CloudWatchConnection
from boto.regioninfo import RegionInfo

from tests.functional.server import Credentials


class CloudWatchSigV2(CloudWatchConnection):
    def _required_auth_capability(self) -> list[str]:
        return ["sign-v2"]


class AutoScaleSigV2(AutoScaleConnection):
    def _required_auth_capability(self) -> list[str]:
        return ["sign-v2"]


def _kwargs(endpoint: str, creds: Credentials) -> dict:
    url = urlparse(endpoint)
    return {
        "aws_access_key_id": creds.access_key,
        "aws_secret_access_key": creds.secret_key,
        "region": RegionInfo(name="us-east-1", endpoint=url.hostname),
        "port": url.port,
        "is_secure": False,
    }


def cloudwatch(endpoint: str, creds: Credentials, signature: str = "v4") -> CloudWatchConnection:
    cls = CloudWatchSigV2 if signature == "v2" else CloudWatchConnection
    conn = cls(**_kwargs(endpoint, creds))
    conn.num_retries = 0
    return conn


def autoscale(endpoint: str, creds: Credentials, signature: str = "v4") -> AutoScaleConnection:
    cls = AutoScaleSigV2 if signature == "v2" else AutoScaleConnection
    conn = cls(**_kwargs(endpoint, creds))
    conn.num_retries = 0
    return conn
