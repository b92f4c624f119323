"""The table of handlers: ``@action(service, name)`` registers a plain function.

A handler takes ``(ctx: RequestContext, params: dict)`` where ``params`` holds the
operation's input members by their AWS names, already parsed and validated against the
botocore model, and returns a dict shaped like the operation's output shape (or None when
the operation has no output).

An action may also have a handler of its decoded JSON body (``@decoded_action``): it takes
``(ctx, decoded)``, the body as ``protocol.decode_valid_json`` answers it (structs, valid
for the model), and is tried first for JSON requests whose body decodes so.  It either
answers as the handler would answer the same request, or raises ``Declined`` before doing
anything, and the handler gets the request's params as usual.  It exists for speed only.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from cfn_gateway.context import RequestContext

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | None]

DecodedHandler = Callable[[RequestContext, Any], dict[str, Any] | None]

_HANDLERS: dict[tuple[str, str], Handler] = {}
_DECODED_HANDLERS: dict[tuple[str, str], DecodedHandler] = {}


class Declined(Exception):
    """A decoded handler leaves the request to the action's handler (nothing was done)."""

# Modules whose import registers handlers.  Add a module here when it gains actions.
HANDLER_MODULES = (
    "cfn_gateway.api.cloudwatch.metrics",
    "cfn_gateway.api.cloudwatch.metric_data",
    "cfn_gateway.api.cloudwatch.alarms",
    "cfn_gateway.api.cloudwatch.dashboards",
    "cfn_gateway.api.autoscaling.catalogs",
    "cfn_gateway.api.autoscaling.launch_configurations",
    "cfn_gateway.api.autoscaling.groups",
    "cfn_gateway.api.autoscaling.instances",
    "cfn_gateway.api.autoscaling.activities",
    "cfn_gateway.api.autoscaling.policies",
    "cfn_gateway.api.autoscaling.scheduled_actions",
    "cfn_gateway.api.autoscaling.processes",
    "cfn_gateway.api.autoscaling.lifecycle_hooks",
    "cfn_gateway.api.autoscaling.tags",
    "cfn_gateway.api.autoscaling.notifications",
)


def action(service: str, name: str) -> Callable[[Handler], Handler]:
    """Register ``func`` as the handler of AWS action ``name`` of ``service``."""
    return _registrar(_HANDLERS, service, name)


def decoded_action(service: str, name: str) -> Callable[[DecodedHandler], DecodedHandler]:
    """Register ``func`` as the handler of the decoded JSON bodies of action ``name``."""
    return _registrar(_DECODED_HANDLERS, service, name)


def _registrar(table: dict[tuple[str, str], Any], service: str,
               name: str) -> Callable[[Any], Any]:
    def register(func: Any) -> Any:
        key = (service, name)
        if key in table:
            raise RuntimeError(f"two handlers for {service}.{name}")
        table[key] = func
        return func

    return register


@functools.cache
def load_handlers() -> None:
    """Import every handler module once, registering its actions."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)


def lookup(service: str, name: str) -> Handler | None:
    load_handlers()  # a cached no-op after the first call
    return _HANDLERS.get((service, name))


def lookup_decoded(service: str, name: str) -> DecodedHandler | None:
    load_handlers()
    return _DECODED_HANDLERS.get((service, name))
