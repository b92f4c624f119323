"""Query-protocol answers: XML built with lxml from the output shape (the reference of
the success answers that ``compiled_query_render`` writes, and every error answer).

Success: ``<OpResponse xmlns=NS><OpResult>...</OpResult><ResponseMetadata><RequestId/>
</ResponseMetadata></OpResponse>``, the result element (the model's ``resultWrapper``)
only when the operation has an output shape.  Members in model order under their wire
names, lists as ``<member>`` children (or the member's ``locationName``; flattened lists
repeat the element), maps as ``<entry><key/><value/></entry>``.  Members that are
missing or ``None`` are left out.

Scalars: timestamps ``YYYY-MM-DDTHH:MM:SSZ`` (fraction only when there is one, see
``timestamps``), booleans ``true``/``false``, doubles as Python's shortest round-trip
text (``1.5``, ``1e-07``) and ``NaN``/``Infinity``/``-Infinity`` (all parse with
``float()``, what botocore and boto2 use), blobs base64.  Characters XML 1.0 cannot carry
become U+FFFD.

Errors: ``<ErrorResponse xmlns=NS><Error><Type>Sender|Receiver</Type><Code/><Message/>
</Error><RequestId/></ErrorResponse>``; ``Message`` is left out when empty, as AWS does;
extra members of a modeled error follow it inside ``<Error>``.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from lxml import etree

from cfn_gateway.errors import AWSError
from cfn_gateway.protocol import compiled_query_render, timestamps
from cfn_gateway.protocol.models import error_shape, wire_name, xml_namespace
from cfn_gateway.protocol.reply import HTTPReply
from cfn_gateway.protocol.wire_errors import extra_fields

CONTENT_TYPE = "text/xml"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_query_result(service: str, op: OperationModel, result: dict[str, Any] | None,
                        request_id: str) -> HTTPReply:
    if op.output_shape is None and _PLAIN_ID.fullmatch(request_id):
        # The answer of an operation without output differs only in its request id:
        # rendered once per operation, then filled in.
        head, tail = _no_output_answer(service, op)
        return HTTPReply(200, [("Content-Type", CONTENT_TYPE)],
                         head + request_id.encode("ascii") + tail)
    body = compiled_query_render.renderer(service, op)(result, request_id)
    return HTTPReply(200, [("Content-Type", CONTENT_TYPE)], body)


def reference_result(service: str, op: OperationModel, result: dict[str, Any] | None,
                     request_id: str) -> HTTPReply:
    """The success answer built as a tree (what ``compiled_query_render`` writes)."""
    writer = _Writer(op.service_model.metadata["xmlNamespace"])
    root = writer.root(f"{op.name}Response")
    shape = op.output_shape
    if shape is not None:
        assert isinstance(shape, StructureShape)
        wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
        writer.structure(writer.child(root, wrapper), result or {}, shape)
    metadata = writer.child(root, "ResponseMetadata")
    writer.child(metadata, "RequestId").text = xml_text(request_id)
    return _reply(200, root)


_PLAIN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_ID_MARK = "cfn-gateway-request-id-mark"
#: (service, operation name) -> the answer of an operation without output, around its id.
_NO_OUTPUT: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _no_output_answer(service: str, op: OperationModel) -> tuple[bytes, bytes]:
    found = _NO_OUTPUT.get((service, op.name))
    if found is None:
        writer = _Writer(xml_namespace(service))
        root = writer.root(f"{op.name}Response")
        writer.child(writer.child(root, "ResponseMetadata"), "RequestId").text = _ID_MARK
        head, _, tail = _reply(200, root).body.partition(_ID_MARK.encode("ascii"))
        found = _NO_OUTPUT[(service, op.name)] = (head, tail)
    return found


def render_query_error(service: str, error: AWSError, request_id: str) -> HTTPReply:
    writer = _Writer(xml_namespace(service))
    root = writer.root("ErrorResponse")
    node = writer.child(root, "Error")
    writer.child(node, "Type").text = error.fault_type
    writer.child(node, "Code").text = xml_text(error.code)
    if error.message:
        writer.child(node, "Message").text = xml_text(error.message)
    shape = error_shape(service, error.code)
    for name, value in extra_fields(error).items():
        member = shape.members.get(name) if shape is not None else None
        if member is None:
            writer.child(node, name).text = xml_text(str(value))
        else:
            writer.member(node, wire_name(member, name), member, value)
    writer.child(root, "RequestId").text = xml_text(request_id)
    return _reply(error.status, root)


def _reply(status: int, root: etree._Element) -> HTTPReply:
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return HTTPReply(status, [("Content-Type", CONTENT_TYPE)], body)


def xml_text(text: str) -> str:
    """``text`` with each character XML 1.0 cannot carry as U+FFFD."""
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


def scalar_text(value: Any, shape: Shape) -> str:
    """One scalar as Query XML text."""
    kind = shape.type_name
    if kind == "string":
        return xml_text(str(value))
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("integer", "long"):
        return str(int(value))
    if kind in ("double", "float"):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return repr(number)
    if kind == "timestamp":
        if not isinstance(value, dt.datetime):
            value = timestamps.from_epoch(value)
        return timestamps.to_iso(value)
    if kind == "blob":
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot render shape type {kind}")


class _Writer:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.prefix = f"{{{namespace}}}"

    def root(self, name: str) -> etree._Element:
        return etree.Element(self.prefix + name, nsmap={None: self.namespace})

    def child(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, self.prefix + name)

    def structure(self, node: etree._Element, value: dict[str, Any],
                  shape: StructureShape) -> None:
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                self.member(node, wire_name(member, name), member, item)

    def member(self, parent: etree._Element, name: str, shape: Shape, value: Any) -> None:
        """``value`` as the element(s) ``name`` of ``parent``."""
        if shape.type_name == "list" and shape.serialization.get("flattened"):
            assert isinstance(shape, ListShape)
            item_name = shape.member.serialization.get("name", name)
            for item in value:
                if item is not None:
                    self.fill(self.child(parent, item_name), item, shape.member)
        elif shape.type_name == "map" and shape.serialization.get("flattened"):
            assert isinstance(shape, MapShape)
            for key, item in value.items():
                if item is not None:
                    self.entry(self.child(parent, name), key, item, shape)
        else:
            self.fill(self.child(parent, name), value, shape)

    def fill(self, node: etree._Element, value: Any, shape: Shape) -> None:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            self.structure(node, value, shape)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            item_name = shape.member.serialization.get("name", "member")
            for item in value:
                if item is not None:
                    self.fill(self.child(node, item_name), item, shape.member)
        elif kind == "map":
            assert isinstance(shape, MapShape)
            for key, item in value.items():
                if item is not None:
                    self.entry(self.child(node, "entry"), key, item, shape)
        else:
            node.text = scalar_text(value, shape)

    def entry(self, node: etree._Element, key: Any, value: Any, shape: MapShape) -> None:
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        self.fill(self.child(node, key_name), key, shape.key)
        self.fill(self.child(node, value_name), value, shape.value)
