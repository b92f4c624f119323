"""Whatever arrives, the protocol layer answers with a dict or an AWSError, never a crash."""

from __future__ import annotations

import json

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfn_gateway import errors
from cfn_gateway.context import CBOR, CLOUDWATCH, JSON, QUERY, AWSRequest
from cfn_gateway.protocol import parse_params, validate_params
from cfn_gateway.protocol.models import operation_model

OPERATIONS = ["PutMetricData", "GetMetricStatistics", "PutMetricAlarm", "GetMetricData"]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.text(max_size=20), st.binary(max_size=20))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["Namespace", "MetricData", "MetricName", "Value",
                                     "Values", "Timestamp", "Dimensions", "Name", "Period",
                                     "StartTime", "Statistics", "Metrics", "Id", "MetricStat",
                                     "Metric", "StatisticValues", "Unit", "Counts"]),
                    inner, max_size=6)), max_leaves=30)
query_keys = st.lists(st.sampled_from(["Namespace", "MetricData", "member", "entry", "1",
                                       "2", "0", "x", "MetricName", "Value", "Dimensions",
                                       "Name", "Timestamp", "Period", "Statistics", "key",
                                       "value", "StatisticValues", "Sum", "Values"]),
                      min_size=1, max_size=6).map(".".join)


def answer(protocol: str, operation: str, payload: bytes = b"",
           params: dict[str, str] | None = None) -> None:
    op = operation_model(CLOUDWATCH, operation, protocol)
    request = AWSRequest(CLOUDWATCH, protocol, operation, "POST", "h", "/", "", {}, payload,
                         payload, params or {})
    try:
        validate_params(op, parse_params(request, op))
    except errors.AWSError as error:
        assert error.status == 400 and error.code


@FUZZ
@given(st.sampled_from(OPERATIONS), st.binary(max_size=200), st.sampled_from([JSON, CBOR]))
def test_random_bytes(operation, payload, protocol):
    answer(protocol, operation, payload)


@FUZZ
@given(st.sampled_from(OPERATIONS), documents)
def test_random_json_documents(operation, document):
    try:
        payload = json.dumps(document, default=lambda b: b.hex()).encode()
    except ValueError:
        return
    answer(JSON, operation, payload)


@FUZZ
@given(st.sampled_from(OPERATIONS), documents)
def test_random_cbor_documents(operation, document):
    answer(CBOR, operation, cbor2.dumps(document))


@FUZZ
@given(st.sampled_from(OPERATIONS),
       st.dictionaries(query_keys, st.text(max_size=12), max_size=8))
def test_random_query_parameters(operation, params):
    answer(QUERY, operation, params=params)
