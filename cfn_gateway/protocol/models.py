"""The botocore service models of CloudWatch and Auto Scaling, loaded once per process.

Models come from the botocore installed with the gateway (its own ``data`` folder only, so
neither ``~/.aws/models`` nor ``AWS_DATA_PATH`` changes what the server accepts).  Also
here: the few model facts every parser and renderer needs (wire names of members, the
XML namespace, the modeled error shapes).
"""

from __future__ import annotations

import functools

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from cfn_gateway import errors
from cfn_gateway.context import AUTOSCALING, CLOUDWATCH, QUERY

SERVICES = (CLOUDWATCH, AUTOSCALING)


@functools.cache
def _loader() -> Loader:
    return Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH],
                  include_default_search_paths=False)


@functools.cache
def service_model(service: str) -> ServiceModel:
    """The botocore model of ``cloudwatch`` or ``autoscaling``."""
    if service not in SERVICES:
        raise ValueError(f"no model for service {service!r}")
    description = _loader().load_service_model(service, "service-2")
    return ServiceModel(description, service_name=service)


#: (service, operation) -> its model, for the operations asked for (names that are no
#: operation are never kept: a client chooses them).
_OPERATIONS: dict[tuple[str, str], OperationModel] = {}


def operation_model(service: str, name: str, protocol: str = QUERY) -> OperationModel:
    """The model of one operation; an unknown name is the AWS error of ``protocol``.

    Query answers ``InvalidAction``; JSON and CBOR answer ``UnknownOperationException``.
    """
    found = _OPERATIONS.get((service, name))
    if found is not None:
        return found
    model = service_model(service)
    if name in model.operation_names:
        found = _OPERATIONS[(service, name)] = model.operation_model(name)
        return found
    if protocol == QUERY:
        raise errors.InvalidAction(f"The action {name} is not valid for this web service.")
    raise errors.UnknownOperationException(f"Unknown operation {name}.")


def wire_name(member: Shape, member_name: str) -> str:
    """The name a structure member has on the wire (its ``locationName`` if it has one)."""
    return member.serialization.get("name", member_name)


def xml_namespace(service: str) -> str:
    return service_model(service).metadata["xmlNamespace"]


def error_shape(service: str, code: str) -> StructureShape | None:
    """The modeled error shape answering ``code``; the shape named like the code wins."""
    model = service_model(service)
    return _error_shapes(service).get(code) or model.shape_for_error_code(code)


@functools.cache
def _error_shapes(service: str) -> dict[str, StructureShape]:
    model = service_model(service)
    return {shape.name: shape for shape in model.error_shapes
            if shape.error_code == shape.name}
