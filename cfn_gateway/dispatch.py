"""The paste app at the end of the pipeline: parse, validate, call the handler, render.

Input comes from the route filter (``AWSRequest``) and the ec2auth filter (``Identity``).
The backends are opened once per process, on first use (after the server forked its
workers, so no SQLite connection crosses a fork).

Query requests may spell CloudWatch units the way Heat's ``cfn-push-stats`` does
(``Counter``, ``megabytes``): unless ``query_legacy_units`` is off, those are read as the
standard unit they mean (``cfn_gateway.domain.units``) while parsing, so validation and the
handlers only ever see AWS units.  JSON and CBOR requests keep AWS's exact rules.

A Heat stack user (``Identity.stack_user_project``) may call only what
``auth.stack_user_policy`` allows; that is checked before anything is parsed.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel

from cfn_gateway import errors
from cfn_gateway.api.registry import Declined, load_handlers, lookup, lookup_decoded
from cfn_gateway.auth import stack_user_policy
from cfn_gateway.backends import Backends, OpenedOnFirstUse
from cfn_gateway.config import CONF
from cfn_gateway.context import (
    CLOUDWATCH,
    ENV_AWS_REQUEST,
    ENV_IDENTITY,
    ENV_REQUEST_ID,
    AWSRequest,
    RequestContext,
)
from cfn_gateway.domain import units
from cfn_gateway.middleware.wsgi import Environ, StartResponse, reply
from cfn_gateway.protocol import (
    Spellings,
    decode_valid_json,
    decoded_params,
    parse_params,
    parse_valid_json,
    render_result,
    validate_params,
)
from cfn_gateway.protocol.models import operation_model

# Per service: string shape name -> reading of its legacy Query spellings.
LEGACY_QUERY_SPELLINGS: dict[str, Spellings] = {
    CLOUDWATCH: {"StandardUnit": units.standard_unit_for},
}


class Gateway:
    def __init__(self, query_legacy_units: bool = True) -> None:
        self._backends = OpenedOnFirstUse()
        self._query_spellings = LEGACY_QUERY_SPELLINGS if query_legacy_units else {}

    @property
    def backends(self) -> Backends:
        return self._backends.get()

    def close(self) -> None:
        self._backends.close()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        aws_request = environ.get(ENV_AWS_REQUEST)
        identity = environ.get(ENV_IDENTITY)
        if aws_request is None:
            raise errors.MissingAction("Could not find operation in the request.")
        if identity is None:
            raise errors.MissingAuthenticationToken("Request is missing Authentication Token")
        service, name = aws_request.service, aws_request.operation
        if identity.stack_user_project:  # a Heat stack user: PutMetricData only
            stack_user_policy.check(identity, service, name)
        op = aws_request.operation_model or operation_model(service, name,
                                                            aws_request.protocol)
        handler = lookup(service, name)
        if handler is None:
            raise errors.NotImplemented(
                f"The action {name} is not implemented by this gateway yet."
            )
        request_id = environ[ENV_REQUEST_ID]
        # A valid JSON body in one pass (to its handler of decoded bodies, if it has one);
        # else (and for any invalid body) the parser and validator, which answer the AWS
        # errors.
        decoded_handler = lookup_decoded(service, name)
        if decoded_handler is None:
            params = parse_valid_json(aws_request, op)
        else:
            params = None
            decoded = decode_valid_json(aws_request, op)
            if decoded is not None:
                try:
                    result = decoded_handler(self._context(environ, request_id), decoded)
                except Declined:
                    params = decoded_params(op, decoded)
                else:
                    return self._reply(start_response, aws_request, op, result, request_id)
        if params is None:
            params = parse_params(aws_request, op, self._query_spellings.get(service))
            validate_params(op, params)
        result = handler(self._context(environ, request_id), params)
        return self._reply(start_response, aws_request, op, result, request_id)

    def _context(self, environ: Environ, request_id: str) -> RequestContext:
        aws_request = environ[ENV_AWS_REQUEST]
        return RequestContext(
            request_id=request_id,
            identity=environ[ENV_IDENTITY],
            service=aws_request.service,
            operation=aws_request.operation,
            backends=self.backends,
        )

    @staticmethod
    def _reply(start_response: StartResponse, aws_request: AWSRequest, op: OperationModel,
               result: dict[str, Any] | None, request_id: str) -> Any:
        http = render_result(aws_request.service, aws_request.protocol, op, result,
                             request_id)
        return reply(start_response, http.status, http.headers, http.body)


def app_factory(global_conf: dict, **local_conf: str) -> Gateway:
    load_handlers()
    return Gateway(query_legacy_units=CONF.query_legacy_units)
