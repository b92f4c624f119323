"""Requests signed by botocore's own signers and by a real botocore CloudWatch client verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.auth import SigV2Auth, SigV4Auth, SigV4QueryAuth

from cfn_gateway import errors
from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.context import CBOR, JSON, QUERY
from tests.protocol_models import write_protocol_model

from .conftest import MAX_SKEW
from .samples import PUSH_STATS
from .wire import (
    REGION,
    botocore_client_request,
    botocore_credentials,
    botocore_signed,
)

METRIC_DATA = [{"MetricName": "CPU Utilization", "Value": 1.5, "Unit": "Percent",
                "Dimensions": [{"Name": "InstanceId", "Value": "i-1 ~x"}]}]


def v4(cred, service="monitoring", region=REGION):
    return SigV4Auth(botocore_credentials(cred.access_key, cred.secret_key), service, region)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/", "http://127.0.0.1:8003/v1/", "http://localhost/",
     "http://monitoring.example.com:80/v1", "https://gw.example.com/some/prefix/"],
)
def test_sigv4_header_query_post(verify, cred, url):
    request = botocore_signed(
        v4(cred), "POST", url, data=dict(PUSH_STATS),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    identity = verify(request)
    assert identity.project_id == "project-a"
    assert identity.access_key == cred.access_key


def test_sigv4_header_query_get(verify, cred):
    request = botocore_signed(v4(cred), "GET", "http://127.0.0.1:8080/v1/", params=dict(PUSH_STATS))
    assert request.query_string and request.method == "GET"
    assert verify(request).project_id == "project-a"


def test_sigv4_any_scope_region_and_service(verify, cred):
    # The scope the client sent is the one checked, whatever its region and service.
    for service, region in [("127", "0"), ("localhost", "localhost"), ("autoscaling", "RegionOne")]:
        request = botocore_signed(
            v4(cred, service, region), "POST", "http://127.0.0.1:8080/", data=dict(PUSH_STATS)
        )
        assert verify(request).project_id == "project-a"


def test_sigv4_date_header_instead_of_x_amz_date(verify, cred):
    request = botocore_signed(
        v4(cred), "POST", "http://127.0.0.1:8080/", data=dict(PUSH_STATS),
        headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"},
    )
    assert "x-amz-date" not in request.headers and "date" in request.headers
    assert verify(request).project_id == "project-a"


def test_sigv4_with_x_amz_content_sha256(verify, cred):
    import hashlib

    body = b"Action=ListMetrics&Version=2010-08-01"
    request = botocore_signed(
        v4(cred), "POST", "http://127.0.0.1:8080/", data=body,
        headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(),
                 "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert verify(request).project_id == "project-a"


def test_sigv4_odd_paths(verify, cred):
    for path in ["/v1/./a/../", "/a//b/", "/%7Euser/x%20y", "/v1/service/x:y"]:
        request = botocore_signed(v4(cred), "POST", f"http://127.0.0.1:8080{path}",
                                  data=dict(PUSH_STATS))
        assert verify(request).project_id == "project-a", path


def test_sigv4_presigned_get(verify, cred):
    signer = SigV4QueryAuth(botocore_credentials(cred.access_key, cred.secret_key),
                            "monitoring", REGION, expires=60)
    request = botocore_signed(signer, "GET", "http://127.0.0.1:8080/", params=dict(PUSH_STATS))
    assert "X-Amz-Signature=" in request.query_string
    assert "authorization" not in request.headers
    assert verify(request).project_id == "project-a"
    assert verify(request, datetime.now(UTC) + timedelta(seconds=30)).project_id == "project-a"


def test_sigv4_presigned_post(verify, cred):
    signer = SigV4QueryAuth(botocore_credentials(cred.access_key, cred.secret_key),
                            "monitoring", REGION)
    request = botocore_signed(signer, "POST", "http://127.0.0.1:8080/v1/", data=dict(PUSH_STATS))
    assert request.method == "POST" and "X-Amz-Credential=" in request.query_string
    assert verify(request).project_id == "project-a"


def test_sigv4_presigned_outlives_skew_within_expires(verify, cred):
    signer = SigV4QueryAuth(botocore_credentials(cred.access_key, cred.secret_key),
                            "monitoring", REGION, expires=3600)
    request = botocore_signed(signer, "GET", "http://127.0.0.1:8080/", params=dict(PUSH_STATS))
    later = datetime.now(UTC) + timedelta(seconds=3000)
    assert verify(request, later).project_id == "project-a"
    with pytest.raises(errors.RequestExpired):
        verify(request, datetime.now(UTC) + timedelta(seconds=3700))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sigv2(verify, cred, method):
    signer = SigV2Auth(botocore_credentials(cred.access_key, cred.secret_key))
    if method == "GET":
        request = botocore_signed(signer, "GET", "http://127.0.0.1:8003/v1/",
                                  params=dict(PUSH_STATS))
    else:
        request = botocore_signed(signer, "POST", "http://127.0.0.1:8003/v1/",
                                  data=dict(PUSH_STATS))
    signed = signed_request_from(request, datetime.now(UTC), MAX_SKEW)
    assert signed.version == "2" and signed.algorithm == "HmacSHA256"
    assert verify(request).project_id == "project-a"


# --- a real CloudWatch client, in each of its protocols ---------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path | None]:
    root = tmp_path_factory.mktemp("models")
    return {
        JSON: None,  # what botocore speaks as shipped
        QUERY: write_protocol_model(root, "query"),
        CBOR: write_protocol_model(root, "smithy-rpc-v2-cbor"),
    }


@pytest.mark.parametrize("protocol", [JSON, QUERY, CBOR])
@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080", "http://localhost:8003/v1/"])
def test_botocore_client(verify, cred, models, protocol, endpoint):
    request = botocore_client_request(
        endpoint, cred.access_key, cred.secret_key, "put_metric_data",
        {"Namespace": "ns/x", "MetricData": METRIC_DATA}, models[protocol],
    )
    assert request.protocol == protocol
    if protocol == CBOR:
        assert request.path.endswith(
            "/service/GraniteServiceVersion20100801/operation/PutMetricData")
    if protocol == JSON:
        assert request.headers["x-amz-target"] == "GraniteServiceVersion20100801.PutMetricData"
    assert verify(request).project_id == "project-a"


@pytest.mark.parametrize("protocol", [JSON, QUERY, CBOR])
def test_botocore_client_gzip_body_is_hashed_compressed(verify, cred, models, protocol):
    request = botocore_client_request(
        "http://127.0.0.1:8080", cred.access_key, cred.secret_key, "put_metric_data",
        {"Namespace": "ns", "MetricData": METRIC_DATA * 20}, models[protocol],
        request_min_compression_size_bytes=1,
    )
    assert request.headers.get("content-encoding") == "gzip"
    assert request.body != request.payload
    assert verify(request).project_id == "project-a"
    # The same request hashed as if the body were the decompressed payload does not verify.
    request.body = request.payload
    with pytest.raises(errors.SignatureDoesNotMatch):
        verify(request)
