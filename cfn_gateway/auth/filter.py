"""Paste filter ``ec2auth``: the caller's identity from the request's AWS signature, or in
OpenStack mode from a Keystone token.

It reads the ``AWSRequest`` the route filter stored (a request without one, such as the
health check, passes through untouched), parses its signature, has the configured verifier
check it and stores the resulting ``Identity`` at ``environ[ENV_IDENTITY]``.  Failures are
raised as ``AWSError`` subclasses for the faultwrap filter outside to render.

The verifier is chosen by ``[DEFAULT] mode`` and built once per filter instance, on first use
(so in each worker process after the server forks): ``standalone`` checks the local
credential store, ``openstack`` asks Keystone (``cfn_gateway.auth.keystone``).  A factory that
fails (Keystone options missing) is tried again on the next request.

Keystone tokens (``mode = openstack`` with ``[keystone_token] enabled``): a request that
carries ``X-Auth-Token`` and no part of an AWS signature at all
(``signed_request.carries_signature``: no Authorization header, no signature parameter in
its query string or form) is authenticated by that token
(``cfn_gateway.auth.keystone_tokens``).  A request with any part of a signature is judged
by its signature alone, its X-Auth-Token ignored, so a bad signature is never rescued by a
token.  In standalone mode X-Auth-Token is ignored: an unsigned request stays
MissingAuthenticationToken.

Heat stack users (``mode = openstack`` with ``[heat] stack_user_domain``): whichever way
the caller authenticated, an identity whose project is in that domain is turned into its
stack owner's (``cfn_gateway.auth.stack_users``), or refused with AccessDenied; other
callers pay one string comparison.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cfn_gateway.auth.credential_store import CREDENTIALS_FILE, CredentialStore
from cfn_gateway.auth.keystone import keystone_verifier
from cfn_gateway.auth.keystone_tokens import KeystoneTokens, keystone_tokens
from cfn_gateway.auth.signed_request import carries_signature, signed_request_from
from cfn_gateway.auth.stack_users import StackUsers, stack_users
from cfn_gateway.auth.verifier import LocalVerifier, Verifier
from cfn_gateway.config import CONF, KEYSTONE_TOKEN, data_path
from cfn_gateway.context import ENV_AWS_REQUEST, ENV_IDENTITY, AWSRequest, Identity
from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp

LOG = logging.getLogger(__name__)

VerifierFactory = Callable[[], Verifier]
TokensFactory = Callable[[], KeystoneTokens]
StackUsersFactory = Callable[[], "StackUsers | None"]


def local_verifier() -> Verifier:
    return LocalVerifier(CredentialStore(data_path(CREDENTIALS_FILE)),
                         ttl=CONF.credential_cache_ttl)


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


def tokens_factory_for(mode: str) -> TokensFactory | None:
    """What validates Keystone tokens in ``mode``, or None where they are not accepted."""
    if mode == "openstack" and getattr(CONF, KEYSTONE_TOKEN).enabled:
        return keystone_tokens
    return None


def stack_users_factory_for(mode: str) -> StackUsersFactory | None:
    """What recognises Heat stack users in ``mode``, or None where there are none."""
    if mode == "openstack" and CONF.heat.stack_user_domain:
        return stack_users
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)


class EC2Auth:
    def __init__(
        self,
        app: WSGIApp,
        verifier_factory: VerifierFactory | None = None,
        clock: Callable[[], datetime] = utcnow,
        tokens_factory: TokensFactory | None = None,
        stack_users_factory: StackUsersFactory | None = None,
    ) -> None:
        self.app = app
        self.max_skew: int = CONF.signature_max_skew
        self._factory = verifier_factory or verifier_factory_for(CONF.mode)
        self._tokens_factory = tokens_factory or tokens_factory_for(CONF.mode)
        self._clock = clock
        self._verifier: Verifier | None = None
        self._tokens: KeystoneTokens | None = None
        self._stack_users_factory = stack_users_factory or stack_users_factory_for(CONF.mode)
        self._stack_users: StackUsers | None = None
        self._lock = threading.Lock()

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            with self._lock:
                if self._verifier is None:
                    self._verifier = self._factory()
        return self._verifier

    @property
    def accepts_tokens(self) -> bool:
        return self._tokens_factory is not None

    @property
    def tokens(self) -> KeystoneTokens:
        if self._tokens is None:
            assert self._tokens_factory is not None
            with self._lock:
                if self._tokens is None:
                    self._tokens = self._tokens_factory()
        return self._tokens

    @property
    def stack_users(self) -> StackUsers | None:
        if self._stack_users is None and self._stack_users_factory is not None:
            with self._lock:
                if self._stack_users is None:
                    self._stack_users = self._stack_users_factory()
        return self._stack_users

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        request: AWSRequest | None = environ.get(ENV_AWS_REQUEST)
        if request is not None:
            token = request.headers.get("x-auth-token", "").strip()
            identity: Identity
            if token and self.accepts_tokens and not carries_signature(request):
                identity = self.tokens.identity(token)
            else:
                signed = signed_request_from(request, now=self._clock(),
                                             max_skew=self.max_skew)
                identity = self.verifier.verify(signed)
            if self._stack_users_factory is not None:
                resolver = self.stack_users
                if resolver is not None:
                    identity = resolver.resolve(identity)
            environ[ENV_IDENTITY] = identity
        return self.app(environ, start_response)


def filter_factory(global_conf: dict, **local_conf: str) -> Callable[[WSGIApp], WSGIApp]:
    def ec2auth(app: WSGIApp) -> WSGIApp:
        return EC2Auth(app)

    return ec2auth
