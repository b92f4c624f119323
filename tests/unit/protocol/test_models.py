"""Model loading and operation lookup."""

from __future__ import annotations

import pytest

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CBOR, CLOUDWATCH, JSON, QUERY
from cfn_gateway.protocol.models import error_shape, operation_model, service_model


def test_models_are_loaded_once_from_botocore():
    assert service_model(CLOUDWATCH) is service_model(CLOUDWATCH)
    assert service_model(CLOUDWATCH).metadata["xmlNamespace"] == (
        "http://monitoring.amazonaws.com/doc/2010-08-01/")
    assert service_model(AUTOSCALING).api_version == "2011-01-01"
    assert operation_model(CLOUDWATCH, "PutMetricData").name == "PutMetricData"


def test_unknown_service_is_a_programming_error():
    with pytest.raises(ValueError):
        service_model("s3")


def test_unknown_query_action():
    with pytest.raises(errors.InvalidAction) as caught:
        operation_model(CLOUDWATCH, "PutMetricDatum", QUERY)
    assert caught.value.message == "The action PutMetricDatum is not valid for this web service."
    with pytest.raises(errors.InvalidAction):
        operation_model(AUTOSCALING, "PutMetricData")


@pytest.mark.parametrize("protocol", [JSON, CBOR])
def test_unknown_json_and_cbor_operation(protocol):
    with pytest.raises(errors.UnknownOperationException):
        operation_model(CLOUDWATCH, "PutMetricDatum", protocol)


def test_error_shape_prefers_the_shape_named_like_the_code():
    assert error_shape(CLOUDWATCH, "ResourceNotFound").name == "ResourceNotFound"
    assert error_shape(CLOUDWATCH, "InvalidParameterValue").name == (
        "InvalidParameterValueException")
    assert error_shape(CLOUDWATCH, "NoSuchCode") is None
