"""botocore on the client side of the wire: its serializers make our requests, its
parsers read our answers.  Nothing here is ours but the glue."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from botocore.awsrequest import HeadersDict
from botocore.model import OperationModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from cfn_gateway.context import AUTOSCALING, CBOR, CLOUDWATCH, JSON, QUERY, AWSRequest
from cfn_gateway.protocol import HTTPReply
from cfn_gateway.protocol.models import service_model

PROTOCOLS = {CLOUDWATCH: (QUERY, JSON, CBOR), AUTOSCALING: (QUERY,)}


def model_protocols(service: str) -> list[str]:
    return list(service_model(service).metadata["protocols"])


def request_from_botocore(service: str, protocol: str, op: OperationModel,
                          params: dict[str, Any]) -> AWSRequest:
    """What the router would build from the request botocore sends for ``params``."""
    serialized = create_serializer(protocol, include_validation=True).serialize_to_request(
        params, op)
    headers = {k.lower(): v for k, v in serialized["headers"].items()}
    body = serialized["body"]
    form: dict[str, str] = {}
    if protocol == QUERY:
        body = urlencode(body).encode("utf-8")
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return AWSRequest(service=service, protocol=protocol, operation=op.name, method="POST",
                      host="gateway.test", path=serialized["url_path"], query_string="",
                      headers=headers, body=body, payload=body, params=form)


def botocore_response(reply: HTTPReply, request_id: str = "req-1") -> dict[str, Any]:
    headers = HeadersDict(dict(reply.headers))
    headers["x-amzn-RequestId"] = request_id
    return {"status_code": reply.status, "headers": headers, "body": reply.body,
            "context": {"operation_name": "test"}}


def parse_with_botocore(protocol: str, op: OperationModel, reply: HTTPReply,
                        request_id: str = "req-1") -> dict[str, Any]:
    """botocore's reading of our answer, as a client's ``Error`` and modeled fields.

    The ``x-amzn-RequestId`` header is the request_id filter's, added here likewise."""
    parser = create_parser(protocol)
    response = botocore_response(reply, request_id)
    parsed = parser.parse(response, op.output_shape)
    if reply.status >= 300:
        code = parsed.get("Error", {}).get("Code")
        shape = op.service_model.shape_for_error_code(code) if code else None
        if shape is not None:
            parsed.update(parser.parse(botocore_response(reply, request_id), shape))
    return parsed
