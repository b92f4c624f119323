"""Calls to the gateway's CloudWatch and Auto Scaling APIs in the AWS Query protocol.

Request bodies are serialised and answers parsed by botocore from its own shipped models,
so every member name, list encoding and timestamp is exactly what an AWS SDK would send.
The request goes as a form POST over a keystoneauth1 session, which adds the caller's
``X-Auth-Token``; nothing is signed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import botocore.session
from botocore import parsers, serialize
from botocore.utils import percent_encode_sequence
from keystoneauth1 import exceptions as ks_exc

LOG = logging.getLogger(__name__)

#: Error codes worth another attempt besides any 5xx answer.
RETRYABLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled",
    "TooManyRequestsException", "ServiceUnavailable", "InternalFailure",
})

_models_lock = threading.Lock()
_models: dict[str, Any] = {}


def service_model(service: str):
    """botocore's model of ``service`` ('cloudwatch' or 'autoscaling'), loaded once."""
    with _models_lock:
        model = _models.get(service)
        if model is None:
            model = botocore.session.get_session().get_service_model(service)
            _models[service] = model
        return model


class GatewayError(Exception):
    """The gateway refused a call (an AWS error answer), or could not be asked.

    ``code`` and ``message`` are the AWS error's (``ValidationError``, ``ResourceNotFound``
    ...), ``status`` the HTTP status (None when no answer came).
    """

    def __init__(self, code: str, message: str, status: int | None = None,
                 operation: str | None = None, request_id: str | None = None) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.request_id = request_id
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" to {self.operation}" if self.operation else ""
        status = f", HTTP {self.status}" if self.status is not None else ""
        return f"cfn-gateway answered{where}: {self.code}{status}: {self.message}"

    @property
    def retryable(self) -> bool:
        return (self.status is not None and self.status >= 500) or self.status == 429 \
            or self.code in RETRYABLE_CODES


class GatewayConnectionError(GatewayError):
    """No answer: the endpoint could not be found, connected to or did not answer in time.

    ``request_sent`` is False when the request certainly never left (no endpoint, the
    connection refused or the name not resolved): the gateway did nothing.
    """

    def __init__(self, code: str, message: str, *, operation: str | None = None,
                 request_sent: bool = True) -> None:
        self.request_sent = request_sent
        super().__init__(code, message, operation=operation)

    def _text(self) -> str:
        where = f" ({self.operation})" if self.operation else ""
        return f"cfn-gateway unreachable{where}: {self.code}: {self.message}"

    @property
    def retryable(self) -> bool:
        return self.code != "EndpointNotFound"


class GatewayClient:
    """One gateway endpoint, reached over ``session`` (a keystoneauth1 Session).

    ``url``: the endpoint; None to look it up in the catalog with ``endpoint_filter``
    (``service_type``, ``interface``, ``region_name``) on first use.  ``attempts``: tries
    per call when the answer is a 5xx or throttling error or no answer came; the waits
    between them start at ``first_delay`` seconds and double.
    """

    def __init__(self, session, url: str | None = None, timeout: float = 30.0, *,
                 endpoint_filter: Mapping[str, Any] | None = None, region: str = "RegionOne",
                 attempts: int = 4, first_delay: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = session
        self.url = url
        self.timeout = timeout
        self.endpoint_filter = dict(endpoint_filter or {})
        self.region = region
        self.attempts = max(1, attempts)
        self.first_delay = first_delay
        self._sleep = sleep
        self._serializer = serialize.create_serializer("query")
        self._parser = parsers.create_parser("query")

    # --- public

    def call(self, service: str, operation: str, params: Mapping[str, Any] | None = None,
             ) -> dict[str, Any]:
        """Run ``operation`` of ``service`` with ``params`` (botocore's member names).

        Returns the parsed answer (without ``ResponseMetadata``); raises GatewayError for
        an AWS error answer, GatewayConnectionError when the gateway could not be reached.
        """
        op_model = service_model(service).operation_model(operation)
        request = self._serializer.serialize_to_request(dict(params or {}), op_model)
        body = percent_encode_sequence(request["body"])
        headers = {"Content-Type": request["headers"].get(
            "Content-Type", "application/x-www-form-urlencoded; charset=utf-8")}
        delay = self.first_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return self._once(operation, op_model, body, headers)
            except GatewayError as exc:
                if not exc.retryable or attempt == self.attempts:
                    raise
                LOG.warning("%s; trying again in %.1f s (attempt %d of %d)",
                            exc, delay, attempt + 1, self.attempts)
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def endpoint(self) -> str:
        """The gateway's URL, from the configuration or the catalog."""
        if self.url is None:
            try:
                url = self.session.get_endpoint(**self.endpoint_filter)
            except ks_exc.EndpointNotFound as exc:
                url = None
                detail = str(exc)
            else:
                detail = "no such endpoint"
            if not url:
                raise GatewayConnectionError(
                    "EndpointNotFound",
                    f"no gateway endpoint in the Keystone catalog for "
                    f"{self._filter_text()} ({detail}); set [cfn_gateway] url",
                    request_sent=False)
            self.url = url
        return self.url

    # --- one attempt

    def _once(self, operation: str, op_model, body: str,
              headers: dict[str, str]) -> dict[str, Any]:
        url = self.endpoint()
        try:
            resp = self.session.post(url, data=body, headers=headers, raise_exc=False,
                                     authenticated=True, timeout=self.timeout,
                                     connect_retries=0)
        except ks_exc.ConnectTimeout as exc:
            raise GatewayConnectionError(
                "Timeout", f"no answer from {url} within {self.timeout:g} s ({exc})",
                operation=operation) from exc
        except ks_exc.ConnectionError as exc:
            raise GatewayConnectionError(
                "ConnectionFailure", f"cannot connect to {url}: {exc}",
                operation=operation, request_sent=not _never_connected(exc)) from exc
        except ks_exc.ClientException as exc:
            # the session could not get a token for the caller (Keystone's answer)
            raise GatewayError(
                "KeystoneAuthFailure", f"no Keystone token for the call: {exc}",
                operation=operation) from exc
        return self._parse(operation, op_model, resp)

    def _parse(self, operation: str, op_model, resp) -> dict[str, Any]:
        status = resp.status_code
        answer = {"body": resp.content or b"", "headers": dict(resp.headers),
                  "status_code": status}
        try:
            parsed = self._parser.parse(answer, op_model.output_shape)
        except parsers.ResponseParserError as exc:
            raise GatewayError(
                "InvalidResponse",
                f"the answer (HTTP {status}) is not an AWS Query document: "
                f"{_excerpt(resp.content)}",
                status=status, operation=operation) from exc
        meta = parsed.pop("ResponseMetadata", {}) or {}
        request_id = meta.get("RequestId")
        if status >= 300 or "Error" in parsed:
            error = parsed.get("Error") or {}
            code = error.get("Code") or str(status)
            message = error.get("Message") or ""
            if code == str(status) and not error.get("Type"):
                # not an <ErrorResponse>: a proxy's or server's own page
                message = f"{message or 'error'}: {_excerpt(resp.content)}"
            raise GatewayError(code, message, status=status, operation=operation,
                               request_id=request_id)
        return parsed

    def _filter_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.endpoint_filter.items())) or \
            "no filter"


#: Exceptions (by class name, anywhere in a chain) that mean no connection was made.
_NOT_CONNECTED = frozenset({"NewConnectionError", "NameResolutionError",
                            "ConnectionRefusedError", "gaierror"})


def _never_connected(exc: BaseException) -> bool:
    """True when ``exc`` (keystoneauth's, wrapping requests' and urllib3's) says the
    connection was never established, so the request was not sent."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if any(cls.__name__ in _NOT_CONNECTED for cls in type(item).__mro__):
            return True
        todo.extend((item.__cause__, item.__context__, getattr(item, "reason", None),
                     *item.args))
    return False


def _excerpt(content: bytes | None, limit: int = 200) -> str:
    text = (content or b"").decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty)")
