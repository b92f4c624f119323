"""How an ``AWSError`` is named on the JSON and CBOR wires, and what else it carries.

``__type`` is what real CloudWatch sends (recorded answers, JSON and CBOR alike):

- errors of the service front end keep their Coral names, e.g. a constraint violation is
  ``com.amazon.coral.validate#ValidationException`` (header ``ValidationError;Sender``),
  a body that does not parse ``com.amazon.coral.service#SerializationException``;
- modeled errors are the model's shape id, e.g. ``ResourceNotFound`` is
  ``com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound`` and ``InvalidParameterValue``
  is ``com.amazonaws.cloudwatch.v2010_08_01#InvalidParameterValueException``;
- any other code ``com.amazon.coral.service#<Code>``.

botocore strips the namespace and, because the header ``x-amzn-query-error: Code;Fault``
is present, reports the Query code as ``Error.Code`` (the stripped ``__type`` becomes
``Error.QueryErrorCode``).

An error may carry members of its modeled shape besides the message (e.g.
``ResourceNotFoundException`` has ``ResourceType`` and ``ResourceId``): set them as a
dict in the error's ``fields`` attribute, with AWS member names as keys.
"""

from __future__ import annotations

from typing import Any

from botocore.model import StructureShape

from cfn_gateway.errors import AWSError
from cfn_gateway.protocol.models import error_shape, service_model

_CORAL = "com.amazon.coral.service#"
CORAL_TYPES = {
    "ValidationError": "com.amazon.coral.validate#ValidationException",
    "SerializationException": _CORAL + "SerializationException",
    "UnknownOperationException": _CORAL + "UnknownOperationException",
    "InternalFailure": _CORAL + "InternalFailure",
    "MissingAuthenticationToken": _CORAL + "MissingAuthenticationTokenException",
    "InvalidClientTokenId": _CORAL + "UnrecognizedClientException",
    "SignatureDoesNotMatch": _CORAL + "InvalidSignatureException",
    "IncompleteSignature": _CORAL + "IncompleteSignatureException",
    "AccessDenied": _CORAL + "AccessDeniedException",
    "RequestEntityTooLarge": _CORAL + "RequestEntityTooLargeException",
    "ServiceUnavailable": _CORAL + "ServiceUnavailableException",
    "Throttling": "com.amazon.coral.availability#ThrottlingException",
}
MESSAGE_MEMBERS = ("message", "Message")


def error_type(service: str, error: AWSError) -> str:
    """The ``__type`` of ``error`` in JSON and CBOR answers."""
    if error.code in CORAL_TYPES:
        return CORAL_TYPES[error.code]
    shape = error_shape(service, error.code)
    if shape is not None:
        version = service_model(service).api_version.replace("-", "_")
        return f"com.amazonaws.{service}.v{version}#{shape.name}"
    return _CORAL + error.code


def message_key(shape: StructureShape | None) -> str:
    """The member that carries the message: the shape's own spelling, else ``message``."""
    if shape is not None:
        for name in MESSAGE_MEMBERS:
            if name in shape.members:
                return name
    return "message"


def extra_fields(error: AWSError) -> dict[str, Any]:
    """Members of the modeled error other than the message, as the error carries them."""
    fields = getattr(error, "fields", None) or {}
    return {k: v for k, v in fields.items() if k not in MESSAGE_MEMBERS and v is not None}
