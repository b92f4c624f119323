"""Hand-built AWS requests, signed with botocore's own signers, sent with ``requests``.

The negative suite tampers with a request after it was signed, or signs it wrongly, and
reads the raw HTTP answer.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from typing import Any
from unittest import mock

import cbor2
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from lxml import etree

from tests.functional.server import Credentials

JSON_TARGET = "GraniteServiceVersion20100801."
JSON_TYPE = "application/x-amz-json-1.0"
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"


@contextmanager
def clock(offset: dt.timedelta):
    """Make botocore's signer believe the time is now + ``offset``."""
    fake = dt.datetime.now(dt.UTC).replace(tzinfo=None) + offset
    with mock.patch("botocore.auth.get_current_datetime", return_value=fake):
        yield


def sign(request: AWSRequest, creds: Credentials, service: str = "monitoring") -> AWSRequest:
    SigV4Auth(BotoCredentials(creds.access_key, creds.secret_key), service,
              "us-east-1").add_auth(request)
    return request


def json_request(endpoint: str, op: str, payload: Any) -> AWSRequest:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return AWSRequest("POST", endpoint + "/", data=body,
                      headers={"X-Amz-Target": JSON_TARGET + op, "Content-Type": JSON_TYPE})


def cbor_request(endpoint: str, op: str, payload: Any) -> AWSRequest:
    body = payload if isinstance(payload, bytes) else cbor2.dumps(payload)
    return AWSRequest("POST", endpoint + CBOR_PATH + op, data=body,
                      headers={"Content-Type": "application/cbor",
                               "Accept": "application/cbor",
                               "smithy-protocol": "rpc-v2-cbor"})


def query_request(endpoint: str, params: dict[str, str], method: str = "POST",
                  service_version: str = "2010-08-01") -> AWSRequest:
    params = {"Version": service_version} | params
    if method == "GET":
        return AWSRequest("GET", endpoint + "/", params=params)
    return AWSRequest("POST", endpoint + "/", data=params,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})


def send(request: AWSRequest, extra_headers: dict[str, str] | None = None) -> requests.Response:
    prepared = request.prepare()
    headers = dict(prepared.headers) | (extra_headers or {})
    return requests.request(prepared.method, prepared.url, data=prepared.body,
                            headers=headers, timeout=30)


def error_of(response: requests.Response) -> tuple[int, str]:
    """HTTP status and AWS error code, whatever the protocol of the answer."""
    query_error = response.headers.get("x-amzn-query-error")
    if query_error:
        return response.status_code, query_error.split(";")[0]
    content_type = response.headers.get("Content-Type", "")
    if "cbor" in content_type:
        return response.status_code, cbor2.loads(response.content)["__type"]
    if "json" in content_type:
        return response.status_code, response.json()["__type"]
    root = etree.fromstring(response.content)
    code = root.find(".//{*}Error/{*}Code")
    return response.status_code, code.text if code is not None else ""
