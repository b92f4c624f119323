"""Error answers in every protocol, read back by botocore as a client sees them."""

from __future__ import annotations

import json

import cbor2
import pytest
from lxml import etree

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CBOR, CLOUDWATCH, JSON, QUERY
from cfn_gateway.protocol import render_error
from cfn_gateway.protocol.models import operation_model

from .wire import parse_with_botocore


class ResourceNotFound(errors.AWSError):
    status = 404


class ResourceNotFoundException(errors.AWSError):
    status = 404


class InvalidParameterInput(errors.AWSError):
    """Modeled as ``DashboardInvalidInputError`` with a list of structures besides."""


class AlreadyExists(errors.AWSError):
    pass


class ResourceContention(errors.AWSError):
    status = 500


CW_OP = "SetAlarmState"
CW_CASES = [
    # error, Query code botocore must report, status, fault type
    (errors.InvalidParameterValue("The value x is invalid."), "InvalidParameterValue", 400),
    (errors.MissingParameter("The parameter Namespace is required."), "MissingParameter", 400),
    (errors.ValidationError("1 validation error detected: x"), "ValidationError", 400),
    (errors.InvalidParameterCombination("both"), "InvalidParameterCombination", 400),
    (errors.InternalFailure("An internal error occurred."), "InternalFailure", 500),
    (errors.SerializationException("bad body"), "SerializationException", 400),
    (errors.UnknownOperationException("Unknown operation Foo."), "UnknownOperationException",
     400),
    (errors.SignatureDoesNotMatch("no"), "SignatureDoesNotMatch", 403),
    (errors.RequestEntityTooLarge("big"), "RequestEntityTooLarge", 413),
    (errors.NotImplemented("later"), "NotImplemented", 501),
    (ResourceNotFound("Alarm a does not exist."), "ResourceNotFound", 404),
    (ResourceNotFound(""), "ResourceNotFound", 404),
]


@pytest.mark.parametrize("protocol", [QUERY, JSON, CBOR])
@pytest.mark.parametrize(("error", "code", "status"), CW_CASES,
                         ids=[f"{c[1]}-{bool(c[0].message)}" for c in CW_CASES])
def test_cloudwatch_errors_as_botocore_reads_them(protocol, error, code, status):
    op = operation_model(CLOUDWATCH, CW_OP, protocol)
    reply = render_error(CLOUDWATCH, protocol, error, "req-9")
    assert reply.status == status
    parsed = parse_with_botocore(protocol, op, reply, request_id="req-9")
    assert parsed["Error"]["Code"] == code
    # Query answers leave an empty Message out, as CloudWatch does for ResourceNotFound
    assert parsed["Error"].get("Message", "") == error.message
    assert parsed["Error"]["Type"] == error.fault_type
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"


@pytest.mark.parametrize(("error", "wire_type"), [
    (ResourceNotFound("gone"), "com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound"),
    (errors.InvalidParameterValue("x"),
     "com.amazonaws.cloudwatch.v2010_08_01#InvalidParameterValueException"),
    (errors.MissingParameter("x"),
     "com.amazonaws.cloudwatch.v2010_08_01#MissingRequiredParameterException"),
    (errors.ValidationError("x"), "com.amazon.coral.validate#ValidationException"),
    (errors.SerializationException("x"), "com.amazon.coral.service#SerializationException"),
    (errors.InternalFailure("x"), "com.amazon.coral.service#InternalFailure"),
    (errors.InvalidClientTokenId("x"),
     "com.amazon.coral.service#UnrecognizedClientException"),
])
@pytest.mark.parametrize("protocol", [JSON, CBOR])
def test_document_error_type_is_what_cloudwatch_sends(protocol, error, wire_type):
    reply = render_error(CLOUDWATCH, protocol, error, "r")
    body = json.loads(reply.body) if protocol == JSON else cbor2.loads(reply.body)
    headers = dict(reply.headers)
    assert body["__type"] == wire_type
    assert headers["x-amzn-query-error"] == f"{error.code};{error.fault_type}"
    if protocol == JSON:
        assert headers["Content-Type"] == "application/x-amz-json-1.0"
    else:
        assert headers["Content-Type"] == "application/cbor"
        assert headers["smithy-protocol"] == "rpc-v2-cbor"


@pytest.mark.parametrize("protocol", [QUERY, JSON, CBOR])
def test_json_query_error_code_differs_from_wire_type(protocol):
    op = operation_model(CLOUDWATCH, "PutMetricData", protocol)
    parsed = parse_with_botocore(protocol, op, render_error(
        CLOUDWATCH, protocol, errors.InvalidParameterValue("bad"), "r"))
    assert parsed["Error"]["Code"] == "InvalidParameterValue"
    if protocol != QUERY:
        assert parsed["Error"]["QueryErrorCode"] == "InvalidParameterValueException"


@pytest.mark.parametrize("protocol", [QUERY, JSON, CBOR])
def test_modeled_error_members_reach_the_client(protocol):
    error = ResourceNotFoundException("No such resource.")
    error.fields = {"ResourceType": "alarm", "ResourceId": "a-1"}
    op = operation_model(CLOUDWATCH, "TagResource", protocol)
    parsed = parse_with_botocore(protocol, op, render_error(CLOUDWATCH, protocol, error, "r"))
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    assert parsed["ResourceType"] == "alarm"
    assert parsed["ResourceId"] == "a-1"


@pytest.mark.parametrize("protocol", [QUERY, JSON, CBOR])
def test_modeled_error_list_of_structures(protocol):
    error = InvalidParameterInput("The dashboard body is invalid.")
    messages = [{"DataPath": "/widgets/0", "Message": "bad <widget>"}, {"Message": "two"}]
    error.fields = {"dashboardValidationMessages": messages}
    op = operation_model(CLOUDWATCH, "PutDashboard", protocol)
    parsed = parse_with_botocore(protocol, op, render_error(CLOUDWATCH, protocol, error, "r"))
    assert parsed["Error"]["Code"] == "InvalidParameterInput"
    assert parsed["Error"]["Message"] == "The dashboard body is invalid."
    assert parsed["dashboardValidationMessages"] == messages


@pytest.mark.parametrize(("error", "code", "status", "fault"), [
    (errors.ValidationError("1 validation error detected: x"), "ValidationError", 400, "Sender"),
    (AlreadyExists("AutoScalingGroup by this name already exists"), "AlreadyExists", 400,
     "Sender"),
    (ResourceContention("busy"), "ResourceContention", 500, "Sender"),
    (errors.InvalidAction("The action Foo is not valid for this web service."),
     "InvalidAction", 400, "Sender"),
])
def test_autoscaling_query_errors(error, code, status, fault):
    op = operation_model(AUTOSCALING, "CreateAutoScalingGroup")
    reply = render_error(AUTOSCALING, QUERY, error, "req-as")
    parsed = parse_with_botocore(QUERY, op, reply)
    assert (parsed["Error"]["Code"], parsed["Error"]["Type"]) == (code, fault)
    assert parsed["Error"]["Message"] == error.message
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    root = etree.fromstring(reply.body)
    assert root.tag == "{http://autoscaling.amazonaws.com/doc/2011-01-01/}ErrorResponse"
    assert root.findtext("{*}RequestId") == "req-as"


def test_query_error_document_shape():
    reply = render_error(CLOUDWATCH, QUERY, ResourceNotFound(""), "rid")
    assert dict(reply.headers)["Content-Type"] == "text/xml"
    root = etree.fromstring(reply.body)
    ns = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"
    assert root.tag == ns + "ErrorResponse"
    assert [child.tag for child in root] == [ns + "Error", ns + "RequestId"]
    assert [child.tag for child in root[0]] == [ns + "Type", ns + "Code"]  # no empty Message


def test_unknown_protocol_hint_renders_query():
    reply = render_error(CLOUDWATCH, "", errors.MissingAction("Could not find operation."), "r")
    assert etree.fromstring(reply.body).findtext("{*}Error/{*}Code") == "MissingAction"
