"""Bad requests of every kind: each gets the right AWS error and status, and stores nothing.

Every request here would write a datapoint into the test's namespace if it were accepted;
after each one the namespace must still be empty.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json

import cbor2
import pytest

from tests.functional import raw
from tests.functional.clients import boto3_client
from tests.functional.server import Credentials

pytestmark = pytest.mark.functional


def put_payload(namespace: str, **datum) -> dict:
    return {"Namespace": namespace,
            "MetricData": [{"MetricName": "Bad", "Value": 1.0} | datum]}


def put_params(namespace: str, **extra: str) -> dict[str, str]:
    return {"Action": "PutMetricData", "Namespace": namespace,
            "MetricData.member.1.MetricName": "Bad",
            "MetricData.member.1.Value": "1"} | extra


@pytest.fixture
def expect_error(gateway, creds, namespace):
    """Send a request; assert its status and code, that it is no 500, and stored nothing."""

    def check(request, status: int, code: str, headers: dict[str, str] | None = None):
        response = raw.send(request, headers)
        assert raw.error_of(response) == (status, code), response.content[:500]
        assert response.headers.get("x-amzn-RequestId")
        metrics = boto3_client("cloudwatch", gateway.endpoint, creds).list_metrics(
            Namespace=namespace)["Metrics"]
        assert metrics == []
        return response

    return check


def wrong(creds: Credentials, access_key: str | None = None, secret: str | None = None):
    return Credentials(access_key or creds.access_key, secret or creds.secret_key,
                       creds.project)


# --- signatures ---------------------------------------------------------------------

def test_tampered_json_body(gateway, creds, namespace, expect_error):
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                        put_payload(namespace)), creds)
    request.data = json.dumps(put_payload(namespace, Value=2.0)).encode()
    expect_error(request, 403, "SignatureDoesNotMatch")


def test_tampered_query_parameter(gateway, creds, namespace, expect_error):
    request = raw.sign(raw.query_request(gateway.endpoint, put_params(namespace), "GET"),
                       creds)
    request.params["MetricData.member.1.MetricName"] = "Other"
    expect_error(request, 403, "SignatureDoesNotMatch")


def test_tampered_signed_header(gateway, creds, namespace, expect_error):
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                        put_payload(namespace)), creds)
    request.headers.replace_header("Content-Type", "application/x-amz-json-1.1")
    expect_error(request, 403, "SignatureDoesNotMatch")


def test_tampered_host(gateway, creds, namespace, expect_error):
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                        put_payload(namespace)), creds)
    expect_error(request, 403, "SignatureDoesNotMatch", {"Host": "monitoring.example.com"})


def test_wrong_secret(gateway, creds, namespace, expect_error):
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                        put_payload(namespace)), wrong(creds, secret="x" * 40))
    expect_error(request, 403, "SignatureDoesNotMatch")


def test_unknown_access_key(gateway, creds, namespace, expect_error):
    request = raw.sign(raw.query_request(gateway.endpoint, put_params(namespace)),
                       wrong(creds, access_key="AKIANOSUCHKEY0000000"))
    expect_error(request, 403, "InvalidClientTokenId")


@pytest.mark.parametrize("minutes", [-20, 20])
def test_expired_and_future_timestamps(gateway, creds, namespace, expect_error, minutes):
    with raw.clock(dt.timedelta(minutes=minutes)):
        request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                            put_payload(namespace)), creds)
    expect_error(request, 400, "RequestExpired")


def test_no_signature_at_all(gateway, namespace, expect_error):
    expect_error(raw.json_request(gateway.endpoint, "PutMetricData", put_payload(namespace)),
                 403, "MissingAuthenticationToken")


@pytest.mark.parametrize("part", ["Credential=", "SignedHeaders=", "Signature="])
def test_authorization_missing_a_part(gateway, creds, namespace, expect_error, part):
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                        put_payload(namespace)), creds)
    pieces = request.headers["Authorization"].split(" ", 1)[1].split(", ")
    kept = ", ".join(p for p in pieces if not p.startswith(part))
    request.headers.replace_header("Authorization", "AWS4-HMAC-SHA256 " + kept)
    expect_error(request, 400, "IncompleteSignature")


def test_missing_date(gateway, creds, namespace, expect_error):
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                        put_payload(namespace)), creds)
    del request.headers["X-Amz-Date"]
    expect_error(request, 400, "IncompleteSignature")


# --- malformed requests of every protocol --------------------------------------------

def test_bad_json(gateway, creds, expect_error):
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData", b"{not json"), creds)
    expect_error(request, 400, "SerializationException")


def test_bad_cbor(gateway, creds, expect_error):
    request = raw.sign(raw.cbor_request(gateway.endpoint, "PutMetricData", b"\xff\x00\x13"),
                       creds)
    expect_error(request, 400, "SerializationException")


def test_xml_posted_as_query(gateway, creds, expect_error):
    request = raw.AWSRequest("POST", gateway.endpoint + "/", data=b"<PutMetricData/>",
                             headers={"Content-Type": "text/xml"})
    expect_error(raw.sign(request, creds), 400, "MissingAction")


@pytest.mark.parametrize("protocol", ["query", "json", "cbor"])
def test_unknown_action(gateway, creds, protocol, expect_error):
    if protocol == "query":
        request = raw.query_request(gateway.endpoint, {"Action": "PutMetricDatum"})
        code = "InvalidAction"
    elif protocol == "json":
        request = raw.json_request(gateway.endpoint, "PutMetricDatum", {})
        code = "UnknownOperationException"
    else:
        request = raw.cbor_request(gateway.endpoint, "PutMetricDatum", {})
        code = "UnknownOperationException"
    expect_error(raw.sign(request, creds), 400, code)


def test_wrong_types(gateway, creds, namespace, expect_error):
    payload = put_payload(namespace)
    payload["MetricData"][0]["Value"] = "one"
    request = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData", payload), creds)
    status = raw.send(request).status_code
    assert status == 400
    cbor_payload = put_payload(namespace)
    cbor_payload["MetricData"] = {"not": "a list"}
    expect_error(raw.sign(raw.cbor_request(gateway.endpoint, "PutMetricData", cbor_payload),
                          creds), 400, "SerializationException")


def test_huge_values(gateway, creds, namespace, expect_error):
    too_long = raw.sign(raw.query_request(
        gateway.endpoint, put_params(namespace) | {"MetricData.member.1.MetricName": "m" * 300}),
        creds)
    response = raw.send(too_long)
    assert response.status_code == 400
    too_big_int = raw.sign(raw.json_request(gateway.endpoint, "GetMetricStatistics", {
        "Namespace": namespace, "MetricName": "Bad", "Period": 2**70,
        "StartTime": 0, "EndTime": 60, "Statistics": ["Sum"]}), creds)
    assert raw.send(too_big_int).status_code == 400
    big_body = raw.sign(raw.json_request(gateway.endpoint, "PutMetricData",
                                         b" " * (2 * 1024 * 1024)), creds)
    expect_error(big_body, 413, "RequestEntityTooLarge")


def test_a_bad_member_among_good_ones_in_json_stores_nothing(gateway, creds, namespace,
                                                             expect_error):
    """A JSON body valid for the model whose third member PutMetricData refuses: the error
    names that member, as for the same request in any protocol, and no member is kept."""
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=15)
    for bad, message in (
        ({"Dimensions": [{"Name": "Host", "Value": " "}]},
         "The value   for parameter MetricData.member.3.Dimensions.member.1.Value is invalid."),
        ({"Timestamp": old.timestamp()},
         "The parameter MetricData.member.3.Timestamp must specify a time within the past "
         "two weeks."),
        ({"Values": [1.0, 2.0], "Counts": [1.0]},
         "The parameters MetricData.member.3.Values and MetricData.member.3.Counts must be "
         "of the same size."),
    ):
        members = [{"MetricName": "Good", "Value": float(i),
                    "Dimensions": [{"Name": "Host", "Value": f"h{i}"}]} for i in range(4)]
        members[2] = {"MetricName": "Bad"} | ({"Value": 1.0} if "Values" not in bad else {}
                                              ) | bad
        request = raw.json_request(gateway.endpoint, "PutMetricData",
                                   {"Namespace": namespace, "MetricData": members})
        response = expect_error(raw.sign(request, creds), 400, "InvalidParameterValue")
        assert response.json()["message"] == message


def test_gzip_bomb_is_refused(gateway, creds, expect_error):
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))
    request = raw.json_request(gateway.endpoint, "PutMetricData", bomb)
    request.headers["Content-Encoding"] = "gzip"
    expect_error(raw.sign(request, creds), 413, "RequestEntityTooLarge")


def test_gzip_body_is_accepted(gateway, creds, namespace):
    request = raw.json_request(gateway.endpoint, "PutMetricData",
                               gzip.compress(json.dumps(put_payload(namespace)).encode()))
    request.headers["Content-Encoding"] = "gzip"
    response = raw.send(raw.sign(request, creds))
    assert response.status_code == 200, response.content
    metrics = boto3_client("cloudwatch", gateway.endpoint, creds).list_metrics(
        Namespace=namespace)["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["Bad"]


# --- values outside what can be stored or rendered ------------------------------------

OUT_OF_RANGE_OFFSETS = ["9999-12-31T23:00:00-02:00", "0001-01-01T00:30:00+02:00"]


@pytest.mark.parametrize("text", OUT_OF_RANGE_OFFSETS)
@pytest.mark.parametrize("protocol", ["query", "json", "cbor"])
@pytest.mark.parametrize("member", ["Timestamp", "StartTime", "EndTime"])
def test_timestamp_outside_years_1_to_9999_in_utc(gateway, creds, namespace, expect_error,
                                                   protocol, member, text):
    """Valid text with an offset whose UTC time leaves years 1-9999: a 400, never a 500."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if protocol == "cbor":
        value: object = cbor2.CBORTag(0, text)  # RFC 8949 date/time string
        code = "SerializationException"
    elif protocol == "json":
        value = -62135596801 if text.startswith("0001") else 253402300800
        code = "SerializationException"
    else:
        value, code = text, "InvalidParameterValue"
    if member == "Timestamp":
        payload = put_payload(namespace, Timestamp=value)
        operation = "PutMetricData"
    else:
        payload = {"Namespace": namespace, "MetricName": "Bad", "Period": 60,
                   "Statistics": ["Sum"], "StartTime": now - dt.timedelta(hours=1),
                   "EndTime": now} | {member: value}
        operation = "GetMetricStatistics"
    if protocol == "query":
        params = {"Action": operation}
        if member == "Timestamp":
            params = put_params(namespace, **{"MetricData.member.1.Timestamp": text})
        else:
            params |= {"Namespace": namespace, "MetricName": "Bad", "Period": "60",
                       "Statistics.member.1": "Sum",
                       "StartTime": (now - dt.timedelta(hours=1)).isoformat(),
                       "EndTime": now.isoformat(), member: text}
        request = raw.query_request(gateway.endpoint, params)
    elif protocol == "json":
        payload = {k: v.timestamp() if isinstance(v, dt.datetime) else v
                   for k, v in payload.items()}
        request = raw.json_request(gateway.endpoint, operation, payload)
    else:
        request = raw.cbor_request(gateway.endpoint, operation, payload)
    expect_error(raw.sign(request, creds), 400, code)


@pytest.mark.parametrize("name", ["m\u0000x", "m\u001b[31m", "m\nx", "m\u007f"])
@pytest.mark.parametrize("protocol", ["query", "json", "cbor"])
def test_metric_name_with_control_characters(gateway, creds, namespace, expect_error,
                                             protocol, name):
    """The rule of namespaces and dimensions: no control characters, in every protocol."""
    if protocol == "query":
        request = raw.query_request(
            gateway.endpoint, put_params(namespace, **{"MetricData.member.1.MetricName": name}))
    elif protocol == "json":
        request = raw.json_request(gateway.endpoint, "PutMetricData",
                                   put_payload(namespace, MetricName=name))
    else:
        request = raw.cbor_request(gateway.endpoint, "PutMetricData",
                                   put_payload(namespace, MetricName=name))
    response = expect_error(raw.sign(request, creds), 400, "InvalidParameterValue")
    assert b"MetricName" in response.content


# --- gzip: every member, nothing after the last ---------------------------------------

def gzip_query_request(endpoint: str, *members: bytes, trailing: bytes = b""):
    request = raw.AWSRequest("POST", endpoint + "/",
                             data=b"".join(gzip.compress(m) for m in members) + trailing,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Content-Encoding": "gzip"})
    return request


def test_gzip_body_of_two_members_is_read_whole(gateway, creds, namespace):
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    form = (f"Action=PutMetricData&Version=2010-08-01&Namespace={namespace}"
            "&MetricData.member.1.MetricName=Split&MetricData.member.1.Value=1").encode()
    request = gzip_query_request(gateway.endpoint, form, b"2345")
    response = raw.send(raw.sign(request, creds))
    assert response.status_code == 200, response.content
    stats = boto3_client("cloudwatch", gateway.endpoint, creds).get_metric_statistics(
        Namespace=namespace, MetricName="Split", Period=60, Statistics=["Sum"],
        StartTime=now - dt.timedelta(minutes=5), EndTime=now + dt.timedelta(minutes=5))
    assert [p["Sum"] for p in stats["Datapoints"]] == [12345.0]


@pytest.mark.parametrize("trailing", [b"garbage", b"\x00" * 8, b"\x1f"])
def test_bytes_after_the_gzip_stream_are_refused(gateway, creds, namespace, expect_error,
                                                 trailing):
    form = (f"Action=PutMetricData&Version=2010-08-01&Namespace={namespace}"
            "&MetricData.member.1.MetricName=Bad&MetricData.member.1.Value=1").encode()
    request = gzip_query_request(gateway.endpoint, form, trailing=trailing)
    expect_error(raw.sign(request, creds), 400, "InvalidParameterValue")
