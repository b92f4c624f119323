"""What one request carries through the pipeline: the routed AWS request and the caller.

The route filter stores an ``AWSRequest`` in the WSGI environ, the ec2auth filter an
``Identity`` (from an AWS signature, or in OpenStack mode from a Keystone token); the
dispatcher builds a ``RequestContext`` from both for the handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import OperationModel

    from cfn_gateway.backends import Backends

ENV_REQUEST_ID = "cfn_gateway.request_id"
ENV_AWS_REQUEST = "cfn_gateway.aws_request"
ENV_PROTOCOL_HINT = "cfn_gateway.protocol_hint"
ENV_IDENTITY = "cfn_gateway.identity"

#: How a caller authenticated (``Identity.authenticated_by``).
BY_SIGNATURE = "signature"  # an AWS signature (SigV4 / SigV2) over an access key
BY_KEYSTONE_TOKEN = "keystone-token"  # a project-scoped Keystone token in X-Auth-Token

CLOUDWATCH = "cloudwatch"
AUTOSCALING = "autoscaling"

QUERY = "query"
JSON = "json"
CBOR = "smithy-rpc-v2-cbor"


@dataclass(frozen=True)
class ProtocolHint:
    """As much as the router knew of service and protocol, so errors render right."""

    service: str
    protocol: str


@dataclass
class AWSRequest:
    """An HTTP request the router recognised as one AWS operation call."""

    service: str  # CLOUDWATCH | AUTOSCALING
    protocol: str  # QUERY | JSON | CBOR
    operation: str  # e.g. "PutMetricData"
    method: str
    host: str  # the Host header as sent
    path: str  # raw path, not unquoted
    query_string: str  # raw, as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes  # exactly as received (still gzip-compressed when it was)
    payload: bytes  # the body after Content-Encoding is undone
    # Query protocol only: query-string and form parameters merged (form wins); for other
    # protocols the query-string parameters.  Signature parameters are included.
    params: dict[str, str] = field(default_factory=dict)
    #: The query string's pairs in order, parsed once by the router (None: parse
    #: ``query_string``).
    query_pairs: list[tuple[str, str]] | None = None
    #: The operation's botocore model, looked up once by the router.
    operation_model: OperationModel | None = None


@dataclass(frozen=True)
class Identity:
    """Who made the request: the project owns everything the request touches.

    ``access_key`` is the signing key's id for a signed request and "" for a Keystone
    token caller; ``authenticated_by`` says which (``BY_SIGNATURE`` / ``BY_KEYSTONE_TOKEN``).
    ``project_name`` and the project's domain are filled where Keystone says them ("" in
    standalone mode).  A Heat stack user (``cfn_gateway.auth.stack_users``) acts in its
    stack owner's project (``project_id``); ``stack_user_project`` keeps the project its
    key belongs to ("" for every other caller).
    """

    project_id: str
    access_key: str = ""
    user_id: str = ""
    roles: tuple[str, ...] = ()
    authenticated_by: str = BY_SIGNATURE
    project_name: str = ""
    project_domain_id: str = ""
    project_domain_name: str = ""
    stack_user_project: str = ""


@dataclass
class RequestContext:
    """Handed to every handler with the parsed, validated parameters."""

    request_id: str
    identity: Identity
    service: str
    operation: str
    backends: Backends
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def project_id(self) -> str:
        return self.identity.project_id
