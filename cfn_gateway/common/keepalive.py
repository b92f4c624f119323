"""Requests to an OpenStack endpoint over pooled keep-alive connections, with a session's token.

What keystoneauth1, requests and urllib3 do for each call costs about 1.6 ms of CPU (a
Gnocchi batch write from the gateway: 2.35 ms through them, 0.77 ms over a plain
``http.client`` connection, measured in-process on the test bed), more than a third of
what a one-datum PutMetricData costs the gateway in OpenStack mode.  Gnocchi's calls
(``backends.openstack.gnocchi_api``) and Keystone's (``auth.keystone_api``: ec2tokens,
token validation, the credentials reads) go through it.  ``KeepAliveTransport``
does only what the gateway needs of them, for an endpoint already found in the catalog:

- the token comes from the keystoneauth1 session (which renews it); a 401 invalidates the
  token and sends the request once more with a new one, as keystoneauth1 does;
- connections to an endpoint are kept per process and reused; a request that fails on a
  reused connection (the server closed it while idle) is sent again on a new one, which is
  safe because every call the gateway makes may be repeated;
- a request goes out in one ``sendall`` (http.client writes the head and the body in two,
  two trips through the loopback's TCP stack); the answer is read by http.client's own
  ``HTTPResponse`` (chunked or sized bodies, ``Connection: close``);
- the token's headers are kept per session while its token stays the same (keystoneauth1
  checks the token's expiry on every request, parsing its time stamp each time); they are
  asked for again every ``AUTH_RECHECK_S``, which leaves keystoneauth1 time to renew a
  token two minutes before it expires, as it does;
- a connection that cannot be made is ``ConnectFailure`` and a timeout ``ConnectTimeout``
  (keystoneauth1's exceptions, so callers handle both transports alike).

``transport_for`` chooses: this transport for a plain ``http`` endpoint that no proxy of
the environment applies to; the keystoneauth1 adapter otherwise (``https``, proxies).
"""

from __future__ import annotations

import functools
import http.client
import json as jsonlib
import socket
import threading
import time
import urllib.request
import weakref
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

USER_AGENT = "cfn-gateway"
MAX_IDLE = 64  # connections kept per endpoint and timeout
#: Seconds a session's token headers are reused before keystoneauth1 is asked again.
AUTH_RECHECK_S = 10.0
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
          ConnectionAbortedError)
_BAD_HEADER_TEXT = ("\r", "\n")
#: session -> (the auth_ref its headers came from, the headers, monotonic time to recheck)
_auth_headers: weakref.WeakKeyDictionary[ks_session.Session,
                                         tuple[Any, dict[str, str], float]] = (
    weakref.WeakKeyDictionary())

_pools_lock = threading.Lock()
_pools: dict[tuple[str, float | None], _Pool] = {}


class Response:
    """What callers (and gnocchiclient's ``from_response``) read of an answer."""

    __slots__ = ("content", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: Message, content: bytes, url: str) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class _Pool:
    """Idle connections to one ``host:port``, taken and given back by request threads."""

    def __init__(self, netloc: str, timeout: float | None) -> None:
        self._netloc = netloc
        split = urlsplit(f"//{netloc}")
        self._address = (split.hostname or "", split.port or 80)
        self._timeout = timeout
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def send(self, method: str, target: str, body: bytes | None,
             headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
        message = self._message(method, target, body, headers)
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None:
            try:
                return self._exchange(connection, method, message)
            except _STALE:
                connection.close()  # closed by the server while idle: a new one
        return self._exchange(self._connect(), method, message)

    def _message(self, method: str, target: str, body: bytes | None,
                 headers: dict[str, str]) -> bytes:
        """The whole request, head and body, as it goes on the wire."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._netloc}",
                 "Accept-Encoding: identity"]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        for name, value in headers.items():
            if any(c in name or c in value for c in _BAD_HEADER_TEXT):
                raise ValueError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1") + (body or b"")

    def _connect(self) -> socket.socket:
        try:
            connection = socket.create_connection(self._address, timeout=self._timeout)
        except TimeoutError as exc:
            raise ks_exc.ConnectTimeout(f"connecting to {self._netloc}: {exc}") from None
        except OSError as exc:
            raise ks_exc.ConnectFailure(f"connecting to {self._netloc}: {exc}") from None
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _exchange(self, connection: socket.socket, method: str, message: bytes
                  ) -> tuple[http.client.HTTPResponse, bytes]:
        try:
            connection.sendall(message)
            response = http.client.HTTPResponse(connection, method=method)
            response.begin()
            content = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            with self._lock:
                if len(self._idle) < MAX_IDLE:
                    self._idle.append(connection)
                    connection = None  # type: ignore[assignment]
            if connection is not None:
                connection.close()
        return response, content


def _pool(netloc: str, timeout: float | None) -> _Pool:
    key = (netloc, timeout)
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.setdefault(key, _Pool(netloc, timeout))
    return pool


@functools.cache
def _proxied(scheme: str, host: str) -> bool:
    """Whether the environment routes ``scheme://host`` through a proxy (as requests
    reads it: ``*_proxy`` and ``no_proxy``); read once, a server's environment is fixed."""
    proxies = urllib.request.getproxies_environment()
    if scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass_environment(host, proxies)


class KeepAliveTransport:
    """``request`` as keystoneauth1's adapter offers it, for an endpoint URL: relative
    paths, ``json`` and ``params`` arguments, the answer whatever its status."""

    def __init__(self, session: ks_session.Session, endpoint: str,
                 timeout: float | None) -> None:
        split = urlsplit(endpoint)
        self._session = session
        self._pool = _pool(split.netloc, timeout)
        self._base = f"{split.scheme}://{split.netloc}"
        self._prefix = split.path.rstrip("/") + "/"

    def request(self, path: str, method: str, *, json: Any = None,
                params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                timeout: float | None = None, reauth: bool = True) -> Response:
        """``timeout`` is the pool's (the transport is made with it); accepted for the
        adapter's signature.  ``reauth=False``: a 401 is the answer, not a reason to send
        the request again with a new token (keystoneauth1's ``allow_reauth``)."""
        del timeout
        target = self._prefix + path.lstrip("/")
        if params:
            target += "?" + urlencode(params, doseq=True)
        base = {"User-Agent": USER_AGENT, **(headers or {})}
        body = None
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            base["Content-Type"] = "application/json"
        for attempt in (1, 2):
            sent = {**base, **self._auth_headers()}
            try:
                response, content = self._pool.send(method, target, body, sent)
            except TimeoutError as exc:
                raise ks_exc.ConnectTimeout(f"{method} {target}: {exc}") from None
            except (OSError, http.client.HTTPException) as exc:
                raise ks_exc.ConnectFailure(f"{method} {target}: {exc!r}") from None
            if (response.status == 401 and attempt == 1 and reauth
                    and self._session.auth is not None):
                self._session.invalidate()
                continue
            break
        return Response(response.status, response.headers, content, self._base + target)

    def _auth_headers(self) -> dict[str, str]:
        auth = self._session.auth
        if auth is None:
            return {}
        ref = getattr(auth, "auth_ref", None)
        kept = _auth_headers.get(self._session)
        now = time.monotonic()
        if kept is not None and ref is not None and kept[0] is ref and now < kept[2]:
            return kept[1]
        headers = self._session.get_auth_headers() or {}
        ref = getattr(auth, "auth_ref", None)  # as renewed for these headers, if it was
        if ref is not None:
            _auth_headers[self._session] = (ref, headers, now + AUTH_RECHECK_S)
        return headers


def transport_for(session: ks_session.Session, endpoint_filter: dict[str, Any],
                  timeout: float | None, fallback: Any) -> Any:
    """A ``KeepAliveTransport`` for the filter's ``endpoint_override`` when it can serve
    it (plain ``http``, no proxy, nothing for keystoneauth1 to %-format: the catalog URLs
    of ``openstack_session.with_catalog_endpoint`` qualify unless they hold a ``%``);
    ``fallback()`` (the keystoneauth1 adapter) otherwise."""
    endpoint = endpoint_filter.get("endpoint_override")
    if endpoint and "%" not in endpoint:  # keystoneauth1 %-formats an override
        split = urlsplit(endpoint)
        if split.scheme == "http" and split.hostname and not _proxied("http", split.hostname):
            return KeepAliveTransport(session, endpoint, timeout)
    return fallback()
