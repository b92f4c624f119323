"""Paste filter ``ec2auth``: the caller's identity from the request's AWS signature.

It reads the ``AWSRequest`` the route filter stored (a request without one, such as the
health check, passes through untouched), parses its signature, has the configured verifier
check it and stores the resulting ``Identity`` at ``environ[ENV_IDENTITY]``.  Failures are
raised as ``AWSError`` subclasses for the faultwrap filter outside to render.

The verifier is chosen by ``[DEFAULT] mode`` and built once per filter instance, on first use
(so in each worker process after the server forks): ``standalone`` checks the local
credential store, ``openstack`` asks Keystone (``cfn_gateway.auth.keystone``).  A factory that
fails (Keystone options missing) is tried again on the next request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cfn_gateway.auth.credential_store import CREDENTIALS_FILE, CredentialStore
from cfn_gateway.auth.keystone import keystone_verifier
from cfn_gateway.auth.signed_request import signed_request_from
from cfn_gateway.auth.verifier import LocalVerifier, Verifier
from cfn_gateway.config import CONF, data_path
from cfn_gateway.context import ENV_AWS_REQUEST, ENV_IDENTITY, AWSRequest
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp

LOG = logging.getLogger(__name__)

VerifierFactory = Callable[[], Verifier]


def local_verifier() -> Verifier:
    return LocalVerifier(CredentialStore(data_path(CREDENTIALS_FILE)))


VERIFIER_FACTORIES: dict[str, VerifierFactory] = {
    "standalone": local_verifier,
    "openstack": keystone_verifier,
}


def verifier_factory_for(mode: str) -> VerifierFactory:
    factory = VERIFIER_FACTORIES.get(mode)
    if factory is None:
        LOG.warning("no request verifier for mode %r yet; using the local credential store", mode)
        factory = local_verifier
    return factory


def utcnow() -> datetime:
    return datetime.now(UTC)


class EC2Auth:
    def __init__(
        self,
        app: WSGIApp,
        verifier_factory: VerifierFactory | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app = app
        self.max_skew: int = CONF.signature_max_skew
        self._factory = verifier_factory or verifier_factory_for(CONF.mode)
        self._clock = clock
        self._verifier: Verifier | None = None
        self._lock = threading.Lock()

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            with self._lock:
                if self._verifier is None:
                    self._verifier = self._factory()
        return self._verifier

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        request: AWSRequest | None = environ.get(ENV_AWS_REQUEST)
        if request is not None:
            signed = signed_request_from(request, now=self._clock(), max_skew=self.max_skew)
            environ[ENV_IDENTITY] = self.verifier.verify(signed)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict, **local_conf: str) -> Callable[[WSGIApp], WSGIApp]:
    def ec2auth(app: WSGIApp) -> WSGIApp:
        return EC2Auth(app)

    return ec2auth
