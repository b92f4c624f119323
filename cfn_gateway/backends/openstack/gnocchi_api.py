"""Gnocchi's REST API, failures as AWS errors.

Requests go over ``keepalive`` connections where it can serve the endpoint, through
gnocchiclient's keystoneauth1 adapter otherwise.

``GnocchiAPI.call`` returns the decoded JSON answer.  The answers a caller says it handles
(``handled``: gnocchiclient's ``NotFound``, ``Conflict``, ``BadRequest``) come back as those
exceptions; everything else becomes an AWS error the gateway's clients can act on:

- Gnocchi or Keystone unreachable, timing out, answering 5xx, or refusing the gateway's own
  credentials (401/403, an operator's problem, not the caller's): ``ServiceUnavailable``
  (503, a Receiver fault that SDKs retry).
- Gnocchi's "metric is locked" 503 while refreshing: retried briefly first.
- A connection that fails (typically a kept-alive one the server closed while idle): the
  request is sent once more on a new connection.  Every call the driver makes may be
  repeated: resource creation answers 409 the second time, and a measures batch carries
  the same timestamps, which Gnocchi overwrites.
- Any other answer (a request the driver should never make): ``InternalFailure`` with a
  generic message; details go to the log only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from gnocchiclient import exceptions as g_exc
from gnocchiclient.v1.client import Client
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.common import keepalive

LOG = logging.getLogger(__name__)

_UNAVAILABLE = "The metric service is unavailable. Please try again later."
_LOCKED_RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8)

T = TypeVar("T")
R = TypeVar("R")


def unavailable(reason: object) -> errors.ServiceUnavailable:
    LOG.warning("Gnocchi unavailable: %s", reason)
    return errors.ServiceUnavailable(_UNAVAILABLE)


def internal(reason: object) -> errors.InternalFailure:
    LOG.error("unexpected Gnocchi answer: %s", reason)
    return errors.InternalFailure("The metric service failed to process the request.")


class GnocchiAPI:
    """One keystoneauth1 session's view of Gnocchi."""

    def __init__(self, session: ks_session.Session, endpoint_filter: dict[str, Any],
                 timeout: float | None = None) -> None:
        adapter_options = {k: v for k, v in endpoint_filter.items() if v is not None}
        self._transport = keepalive.transport_for(
            session, adapter_options, timeout,
            lambda: Client(session=session, adapter_options=adapter_options).api)
        self._timeout = timeout

    def call(self, method: str, path: str, *, json: Any = None,
             params: dict[str, Any] | None = None,
             handled: tuple[type[g_exc.ClientException], ...] = ()) -> Any:
        """``method path`` (relative to the catalog's metric endpoint): the JSON answer.

        Errors of the ``handled`` classes are raised as they are, for the caller.
        """
        kwargs: dict[str, Any] = {"headers": {"Accept": "application/json"}}
        if json is not None:
            kwargs["json"] = json
        if params:
            kwargs["params"] = params
        if self._timeout is not None:
            kwargs["timeout"] = self._timeout
        for delay in (*_LOCKED_RETRIES, None):
            try:
                response = self._send_once_more_on_connect_failure(path, method, kwargs)
                if response.status_code >= 400:  # gnocchiclient's adapter raises these
                    raise g_exc.from_response(response, method)
            except g_exc.ClientException as exc:
                if isinstance(exc, handled):
                    raise
                if exc.code == 503 and "locked" in str(exc.message) and delay is not None:
                    time.sleep(delay)  # metricd is processing this metric right now
                    continue
                if exc.code is None or exc.code >= 500 or exc.code in (401, 403, 429):
                    raise unavailable(f"{method} {path}: {exc}") from None
                raise internal(f"{method} {path}: {exc}") from None
            except ks_exc.ClientException as exc:
                raise unavailable(f"{method} {path}: {exc!r}") from None
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise internal(f"{method} {path}: answer is not JSON") from None
        raise AssertionError("unreachable")

    def _send_once_more_on_connect_failure(self, path: str, method: str,
                                           kwargs: dict[str, Any]) -> Any:
        try:
            return self._transport.request(path, method, **kwargs)
        except (g_exc.ConnectionFailure, ks_exc.ConnectFailure) as exc:
            LOG.info("Gnocchi connection failed (%s); sending %s %s again", exc, method, path)
            return self._transport.request(path, method, **kwargs)


def description(exc: g_exc.ClientException) -> Any:
    """The ``description`` Gnocchi sent with an error (a dict for structured ones)."""
    return exc.message


class Parallel:
    """A bounded thread pool for independent Gnocchi calls of one request."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="gnocchi")

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``fn`` over ``items`` concurrently; the first failure is raised after all ran."""
        items = list(items)
        if len(items) <= 1:
            return [fn(item) for item in items]
        futures = [self._pool.submit(fn, item) for item in items]
        results: list[R] = []
        failure: BaseException | None = None
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as exc:  # re-raised below, once every call has ended
                failure = failure or exc
        if failure is not None:
            raise failure
        return results

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def chunked(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
