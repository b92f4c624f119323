"""Wire protocols: botocore models, request parsers, validation, response renderers.

Everything is driven by the botocore service models of ``cloudwatch`` (Query, JSON 1.0
and RPC v2 CBOR) and ``autoscaling`` (Query).  Parsed values use AWS member names as keys:
timestamps are tz-aware UTC ``datetime``, blobs ``bytes``, integers and longs ``int``,
doubles ``float``, booleans ``bool``, lists and maps ``list`` and ``dict``.  Handlers
answer with the same kinds of values, which the renderers serialize per output shape.

JSON and CBOR bodies and Query parameters are parsed, and every input validated, by
functions compiled from the model per operation (``compiled_document``, ``compiled_query``,
``compiled_validation``); the walks of ``document_parser``, ``query_parser`` and
``validation`` are their reference.  In front of them, a valid JSON body is decoded and
validated in one pass by msgspec (``fast_json``, see ``parse_valid_json``, and
``decode_valid_json`` for a handler that reads the decoded structs); anything else takes
the path above, which answers the AWS errors.  Answers are likewise rendered by
functions compiled per operation (``compiled_render`` for JSON and CBOR,
``compiled_query_render`` for Query), with the walks of ``document_render`` and
``query_render`` as their reference.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from cfn_gateway.context import CBOR, JSON, QUERY, AWSRequest
from cfn_gateway.errors import AWSError
from cfn_gateway.protocol import compiled_query, fast_json
from cfn_gateway.protocol.compiled_document import parse_cbor, parse_json
from cfn_gateway.protocol.compiled_validation import validate_params
from cfn_gateway.protocol.document_render import render_document_error, render_document_result
from cfn_gateway.protocol.query_parser import Spellings, parse_query
from cfn_gateway.protocol.query_render import render_query_error, render_query_result
from cfn_gateway.protocol.reply import HTTPReply

__all__ = ["HTTPReply", "Spellings", "decode_valid_json", "decoded_params", "parse_params",
           "parse_valid_json", "render_error", "render_result", "validate_params"]


def parse_valid_json(request: AWSRequest, op: OperationModel) -> dict[str, Any] | None:
    """The input of a JSON request whose body is valid for ``op``, decoded and validated in
    one pass (``fast_json``); None for any other request or body: then ``parse_params``
    and ``validate_params`` answer, errors included, as without this."""
    if request.protocol != JSON:
        return None
    return fast_json.parse_json(request.payload, op)


def decode_valid_json(request: AWSRequest, op: OperationModel) -> Any | None:
    """A JSON request's body, valid for ``op``, decoded into its structs (``fast_json``:
    members as attributes, absent ones ``msgspec.UNSET``, timestamps in epoch seconds);
    None for any other request or body.  ``decoded_params`` makes params of it."""
    if request.protocol != JSON:
        return None
    found = fast_json.decoder(op)
    return None if found is None else found.decode(request.payload)


def decoded_params(op: OperationModel, decoded: Any) -> dict[str, Any] | None:
    """What ``parse_valid_json`` answers for the body ``decoded`` came from."""
    found = fast_json.decoder(op)
    return None if found is None else found.params(decoded)


def parse_params(request: AWSRequest, op: OperationModel,
                 query_spellings: Spellings | None = None) -> dict[str, Any]:
    """The operation's input from the request: Query parameters or the JSON/CBOR body.

    ``query_spellings``: legacy spellings of string shapes accepted in Query requests only
    (see ``query_parser``); JSON and CBOR requests get the model's exact rules.
    """
    if request.protocol == QUERY:
        spellings = query_spellings or {}
        params = compiled_query.parse_query(request.params, op, spellings)
        if params is None:
            params = parse_query(request.params, op.input_shape, spellings)
        return params
    if request.protocol == JSON:
        return parse_json(request.payload, op)
    if request.protocol == CBOR:
        return parse_cbor(request.payload, op)
    raise ValueError(f"unknown protocol {request.protocol!r}")


def render_result(service: str, protocol: str, op: OperationModel,
                  result: dict[str, Any] | None, request_id: str) -> HTTPReply:
    """A handler's result as the success answer of ``protocol``."""
    if protocol == QUERY:
        return render_query_result(service, op, result, request_id)
    if protocol in (JSON, CBOR):
        return render_document_result(op, result, cbor=protocol == CBOR)
    raise ValueError(f"unknown protocol {protocol!r}")


def render_error(service: str, protocol: str, error: AWSError, request_id: str) -> HTTPReply:
    """An ``AWSError`` as the error answer of ``protocol`` (Query XML when unknown)."""
    if protocol in (JSON, CBOR):
        return render_document_error(service, error, cbor=protocol == CBOR)
    return render_query_error(service, error, request_id)
