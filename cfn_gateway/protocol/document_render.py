"""JSON 1.0 and RPC v2 CBOR answers, built from the output shape.

Success: JSON ``Content-Type: application/x-amz-json-1.0``, body ``{}`` when there is no
output; CBOR ``Content-Type: application/cbor`` with ``smithy-protocol: rpc-v2-cbor``, an
empty body without ``Content-Type`` when the operation has no output shape (Smithy RPC v2:
no output, no body).  Members under their wire names, missing or ``None`` left out.
Timestamps are epoch seconds (JSON number; CBOR tag 1 around an int, or a float when
there is a fraction), blobs base64 text (JSON) or byte strings (CBOR), non-finite doubles
the strings ``NaN``/``Infinity``/``-Infinity`` in JSON (Smithy's spelling) and native
floats in CBOR.  Results go through a function compiled per operation and flavour
(``compiled_render``); ``_Converter``'s walk is its reference and its fallback, and renders
the extra members of errors.

Errors: the same status as in Query, a body with ``__type`` (see ``wire_errors``),
``message`` when there is one and the error's extra members, and the header
``x-amzn-query-error: Code;Sender|Receiver``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from typing import Any

import cbor2
import msgspec
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from cfn_gateway.errors import AWSError
from cfn_gateway.protocol import compiled_render, timestamps
from cfn_gateway.protocol.models import error_shape, wire_name
from cfn_gateway.protocol.reply import HTTPReply
from cfn_gateway.protocol.wire_errors import error_type, extra_fields, message_key

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
CBOR_CONTENT_TYPE = "application/cbor"
CBOR_HEADERS = [("smithy-protocol", "rpc-v2-cbor")]


def render_document_result(op: OperationModel, result: dict[str, Any] | None,
                           cbor: bool) -> HTTPReply:
    shape = op.output_shape
    document: dict[str, Any] = {}
    if shape is not None:
        document = compiled_render.renderer(op, _CONVERTERS[cbor])(result or {})
    if not cbor:
        return HTTPReply(200, [("Content-Type", JSON_CONTENT_TYPE)], _json(document))
    if shape is None:
        return HTTPReply(200, list(CBOR_HEADERS), b"")
    return HTTPReply(200, [("Content-Type", CBOR_CONTENT_TYPE), *CBOR_HEADERS],
                     cbor2.dumps(document))


def render_document_error(service: str, error: AWSError, cbor: bool) -> HTTPReply:
    shape = error_shape(service, error.code)
    document: dict[str, Any] = {"__type": error_type(service, error)}
    if error.message:
        document[message_key(shape)] = error.message
    converter = _Converter(cbor)
    for name, value in extra_fields(error).items():
        member = shape.members.get(name) if shape is not None else None
        document[name] = converter.value(value, member) if member is not None else str(value)
    headers = [("x-amzn-query-error", f"{error.code};{error.fault_type}")]
    if cbor:
        headers += [("Content-Type", CBOR_CONTENT_TYPE), *CBOR_HEADERS]
        return HTTPReply(error.status, headers, cbor2.dumps(document))
    headers.append(("Content-Type", JSON_CONTENT_TYPE))
    return HTTPReply(error.status, headers, _json(document))


# Documents hold only JSON's own types (the converters turned timestamps, blobs and
# non-finite doubles into numbers and text).  msgspec writes them in C: 0.65 ms against the
# standard encoder's 4.8 for GetMetricStatistics' 1,440 datapoints (whose float formatting
# was most of it).  Its text is UTF-8 where the standard encoder escaped to ASCII, and its
# exponents read ``1e16``, not ``1e+16``: the same JSON values.  Text that UTF-8 cannot
# carry (a lone surrogate) goes through the standard encoder, escaped.
_FAST_JSON_ENCODER = msgspec.json.Encoder()
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False,
                                 check_circular=False)


def _json(document: dict[str, Any]) -> bytes:
    if not document:  # PutMetricData's and the other empty answers
        return b"{}"
    try:
        return _FAST_JSON_ENCODER.encode(document)
    except UnicodeEncodeError:
        return _JSON_ENCODER.encode(document).encode("utf-8")


class _Converter:
    """Handler values into the JSON or CBOR document of their shapes."""

    def __init__(self, cbor: bool) -> None:
        self.cbor = cbor

    def structure(self, value: dict[str, Any], shape: StructureShape) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out[wire_name(member, name)] = self.value(item, member)
        return out

    def value(self, value: Any, shape: Shape) -> Any:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self.structure(value, shape)
        if kind == "list":
            assert isinstance(shape, ListShape)
            return [self.value(item, shape.member) for item in value if item is not None]
        if kind == "map":
            assert isinstance(shape, MapShape)
            return {str(key): self.value(item, shape.value)
                    for key, item in value.items() if item is not None}
        if kind == "string":
            return str(value)
        if kind == "boolean":
            return bool(value)
        if kind in ("integer", "long"):
            return int(value)
        if kind in ("double", "float"):
            return self.double(float(value))
        if kind == "timestamp":
            if not isinstance(value, dt.datetime):
                value = timestamps.from_epoch(value)
            seconds = timestamps.to_epoch(value)
            return cbor2.CBORTag(1, seconds) if self.cbor else seconds
        if kind == "blob":
            data = bytes(value)
            return data if self.cbor else base64.b64encode(data).decode("ascii")
        raise TypeError(f"cannot render shape type {kind}")

    def double(self, number: float) -> float | str:
        if self.cbor or math.isfinite(number):
            return number
        if math.isnan(number):
            return "NaN"
        return "Infinity" if number > 0 else "-Infinity"


#: The reference converters, one per flavour (they keep no state but the flavour).
_CONVERTERS = {False: _Converter(False), True: _Converter(True)}
