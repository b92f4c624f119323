"""Request forms beyond the clients' defaults: presigned URLs, path prefixes, SigV2 SHA1."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from lxml import etree

from tests.functional import boto2_clients, raw
from tests.functional.clients import boto3_client
from tests.protocol_models import write_protocol_model

pytestmark = pytest.mark.functional


def query_client(gateway, creds, tmp_path):
    return boto3_client("cloudwatch", gateway.endpoint, creds,
                        write_protocol_model(tmp_path, "query"))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_presigned_url(gateway, creds, namespace, tmp_path, method):
    boto3_client("cloudwatch", gateway.endpoint, creds).put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": "Presigned", "Value": 1.0}])
    url = query_client(gateway, creds, tmp_path).generate_presigned_url(
        "list_metrics", Params={"Namespace": namespace}, ExpiresIn=60, HttpMethod=method)
    response = requests.request(method, url, timeout=30)
    assert response.status_code == 200, response.text
    names = etree.fromstring(response.content).findall(".//{*}Metrics/{*}member/{*}MetricName")
    assert [n.text for n in names] == ["Presigned"]


def test_expired_presigned_url(gateway, creds, namespace, tmp_path):
    with raw.clock(-dt.timedelta(minutes=2)):
        url = query_client(gateway, creds, tmp_path).generate_presigned_url(
            "list_metrics", Params={"Namespace": namespace}, ExpiresIn=60)
    response = requests.get(url, timeout=30)
    assert raw.error_of(response) == (400, "RequestExpired")


def test_cfn_push_stats_style_path_prefix(gateway, creds, namespace):
    """boto 2 as cfn-push-stats uses it: POST to /v1/, one datum, no timestamp."""
    conn = boto2_clients.cloudwatch(gateway.endpoint, creds)
    conn.path = "/v1/"
    assert conn.put_metric_data(namespace, "MemoryUtilization", value=42.0, unit="Percent",
                                dimensions={"AutoScalingGroupName": "asg-1"})
    metrics = conn.list_metrics(namespace=namespace)
    assert [(m.name, dict(m.dimensions)) for m in metrics] == [
        ("MemoryUtilization", {"AutoScalingGroupName": ["asg-1"]})]


def test_sigv2_hmac_sha1(gateway, creds, namespace):
    conn = boto2_clients.cloudwatch(gateway.endpoint, creds, "v2")
    handler = conn._auth_handler
    handler._hmac_256 = None  # boto 2 then signs with HmacSHA1
    assert conn.put_metric_data(namespace, "Sha1", value=1.0)
    assert [m.name for m in conn.list_metrics(namespace=namespace)] == ["Sha1"]
