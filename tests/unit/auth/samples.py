"""Sample signed requests (real client signatures) and ways to tamper with them."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

from botocore.auth import SigV4Auth, SigV4QueryAuth

from .wire import (
    REGION,
    boto2_signed,
    boto2_v2_handler,
    boto2_v4_handler,
    botocore_credentials,
    botocore_signed,
    rewire,
)

URL = "http://127.0.0.1:8080/v1/"
FORM = {
    "Action": "PutMetricData",
    "Version": "2010-08-01",
    "Namespace": "ns",
    "MetricData.member.1.MetricName": "cpu",
    "MetricData.member.1.Value": "1",
}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
# What cfn-push-stats sends, with characters that encode differently in each signer.
PUSH_STATS = {
    "Action": "PutMetricData",
    "Version": "2010-08-01",
    "Namespace": "system/linux",
    "MetricData.member.1.MetricName": "Mem Util ~ 100%",
    "MetricData.member.1.Value": "42.5",
    "MetricData.member.1.Unit": "Percent",
    "MetricData.member.1.Dimensions.member.1.Name": "AutoScalingGroupName",
    "MetricData.member.1.Dimensions.member.1.Value": "stack-grp/é +&=*x",
}


def sigv4_post(cred, secret=None, headers=None, data=None):
    creds = botocore_credentials(cred.access_key, secret or cred.secret_key)
    return botocore_signed(
        SigV4Auth(creds, "monitoring", REGION), "POST", URL,
        data=data if data is not None else dict(FORM), headers={**FORM_TYPE, **(headers or {})},
    )


def sigv4_get(cred):
    handler = boto2_v4_handler("127.0.0.1", cred.access_key, cred.secret_key)
    return boto2_signed(handler, "GET", "127.0.0.1", 8003, "/v1/", FORM)


def presigned(cred, expires=60, method="GET"):
    signer = SigV4QueryAuth(botocore_credentials(cred.access_key, cred.secret_key),
                            "monitoring", REGION, expires=expires)
    if method == "GET":
        return botocore_signed(signer, "GET", URL, params=dict(FORM))
    return botocore_signed(signer, "POST", URL, data=dict(FORM))


def sigv2_get(cred):
    handler = boto2_v2_handler("127.0.0.1", cred.access_key, cred.secret_key)
    return boto2_signed(handler, "GET", "127.0.0.1", 8003, "/v1/", FORM)


def with_query(request, **changes):
    """The query string with parameters replaced (value None: removed), order kept."""
    pairs = [(k, changes.get(k, v)) for k, v in parse_qsl(request.query_string)
             if changes.get(k, v) is not None]
    pairs += [(k, v) for k, v in changes.items()
              if v is not None and k not in dict(parse_qsl(request.query_string))]
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='-_.~')}" for k, v in pairs)
    return rewire(request, target=f"{request.path}?{query}")


def with_headers(request, **changes):
    headers = dict(request.headers)
    for name, value in changes.items():
        name = name.replace("_", "-").lower()
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return rewire(request, headers=headers)
