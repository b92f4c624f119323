"""Keystone tokens in place of AWS signatures (OpenStack mode, ``[keystone_token]``).

Heat resource plugins call the gateway's AWS APIs on behalf of a stack's owner with the
owner's Keystone token in ``X-Auth-Token`` and no AWS signature: the user's own token during
stack operations, a trust-scoped token impersonating the owner for deferred work.  The
ec2auth filter hands such a request's token to ``KeystoneTokens.identity``, which has
Keystone validate it (``GET /v3/auth/tokens?nocatalog`` with ``X-Subject-Token``, sent with
the gateway's service session: Keystone's ``identity:validate_token`` allows the
``service`` role) and returns the token's project, user and role names as an ``Identity``
(``authenticated_by = BY_KEYSTONE_TOKEN``, no access key).

Keystone's answers: 200 with a ``project`` -> the Identity; 200 without one (unscoped,
domain- or system-scoped) -> InvalidClientTokenId saying a project-scoped token is needed;
400 / 401 / 404 (malformed, expired, revoked, a user without roles left) ->
InvalidClientTokenId; 403 (the service user may not validate tokens), 5xx, timeouts and
connection errors -> ServiceUnavailable, logged.

Per process, validations are cached under the token's SHA-256 (the token itself is neither
kept nor logged; logs name a token by the first 12 hex digits of that digest): a valid
token for ``ttl`` seconds or until it expires, whichever comes first, and a token past its
``expires_at`` is refused even when cached.  Refusals are kept ``NEGATIVE_TTL`` seconds and
a Keystone failure ``UNAVAILABLE_TTL`` (so callers queued behind it do not each wait out the
timeout), in a cache of their own so that a flood of bad tokens cannot push good ones out.
One validation per token at a time: concurrent callers with the same token wait for the
first one's answer (``KeyedLocks``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cfn_gateway import errors
from cfn_gateway.auth import messages
from cfn_gateway.auth.keystone import keystone_api
from cfn_gateway.auth.keystone_api import Answer, KeystoneAPI, unexpected
from cfn_gateway.common.expiring_cache import ExpiringCache
from cfn_gateway.common.keyed_locks import KeyedLocks
from cfn_gateway.common.openstack_session import service_session
from cfn_gateway.config import CONF, KEYSTONE_TOKEN
from cfn_gateway.context import BY_KEYSTONE_TOKEN, Identity

LOG = logging.getLogger(__name__)

NEGATIVE_TTL = 3.0  # seconds a refused token is refused without asking Keystone again
UNAVAILABLE_TTL = 1.0  # seconds a Keystone failure is the answer for the same token
NEGATIVE_CACHE_SIZE = 1024
MAX_TOKEN_LENGTH = 8192  # Fernet tokens have about 200 characters, JWS tokens under 1000
REFUSING_STATUSES = (400, 401, 404)

#: An error to raise anew each time: (class, message).
Refusal = tuple[type[errors.AWSError], str]

INVALID: Refusal = (errors.InvalidClientTokenId, messages.INVALID_CLIENT_TOKEN_ID)
NOT_PROJECT_SCOPED: Refusal = (errors.InvalidClientTokenId, messages.PROJECT_SCOPED_TOKEN_REQUIRED)


def utcnow() -> datetime:
    return datetime.now(UTC)


def token_digest(token: str) -> str:
    """The cache key of ``token``, and (its first 12 digits) its name in logs."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class ValidToken:
    """What Keystone said of a valid project-scoped token."""

    identity: Identity
    expires_at: datetime  # UTC


class KeystoneTokens:
    """Validates callers' Keystone tokens through ``api``, cached (see the module docstring)."""

    def __init__(
        self,
        api: KeystoneAPI,
        *,
        ttl: float = 300.0,
        size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.api = api
        self.ttl = ttl
        self.valid: ExpiringCache[ValidToken] = ExpiringCache(size, clock)
        self.refused: ExpiringCache[Refusal] = ExpiringCache(min(size, NEGATIVE_CACHE_SIZE),
                                                             clock)
        self._wall_clock = wall_clock
        self._validations = KeyedLocks()

    def identity(self, token: str) -> Identity:
        """The caller ``token`` stands for; raises InvalidClientTokenId when Keystone does
        not accept it as a project-scoped token, ServiceUnavailable when Keystone cannot say.
        """
        token = token.strip()
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii() \
                or not token.isprintable():
            raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
        key = token_digest(token)
        outcome = self._cached(key)
        if outcome is None:
            with self._validations.hold(key):
                outcome = self._cached(key)  # validated by another caller meanwhile?
                if outcome is None:
                    outcome = self._validate(key, token)
        if isinstance(outcome, tuple):
            error, message = outcome
            raise error(message)
        if outcome.expires_at <= self._wall_clock():
            self.valid.discard(key)
            LOG.info("Keystone token sha256:%s refused: expired at %s", key[:12],
                     outcome.expires_at.isoformat())
            raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
        return outcome.identity

    def _cached(self, key: str) -> ValidToken | Refusal | None:
        return self.valid.get(key) or self.refused.get(key)

    def _validate(self, key: str, token: str) -> ValidToken | Refusal:
        try:
            outcome = self._ask_keystone(key, token)
        except errors.ServiceUnavailable as exc:
            unavailable: Refusal = (errors.ServiceUnavailable, exc.message)
            self.refused.put(key, unavailable, UNAVAILABLE_TTL)
            return unavailable
        if isinstance(outcome, tuple):
            self.refused.put(key, outcome, NEGATIVE_TTL)
        else:
            self.refused.discard(key)
            left = (outcome.expires_at - self._wall_clock()).total_seconds()
            self.valid.put(key, outcome, min(self.ttl, left))
        return outcome

    def _ask_keystone(self, key: str, token: str) -> ValidToken | Refusal:
        response = self.api.validate_token(token)
        status = response.status_code
        if status == 200:
            return self._read_token(key, response)
        if status in REFUSING_STATUSES:
            LOG.info("Keystone token sha256:%s refused by Keystone (HTTP %s)", key[:12], status)
            return INVALID
        raise unexpected(response, "validating a caller's token (GET /v3/auth/tokens)")

    def _read_token(self, key: str, response: Answer) -> ValidToken | Refusal:
        try:
            token = response.json()["token"]
            user_id = str(token["user"]["id"])
            expires_at = parse_expiry(token["expires_at"])
            project = token.get("project") or {}
            project_id = str(project.get("id") or "")
            domain = project.get("domain") or {}
            names = (str(project.get("name") or ""), str(domain.get("id") or ""),
                     str(domain.get("name") or ""))
            roles = tuple(sorted({role["name"] for role in token.get("roles") or ()}))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            LOG.error("unexpected token validation answer from Keystone: %s",
                      response.text[:300])
            raise errors.InternalFailure("An internal error occurred.") from exc
        if not project_id:
            scope = ("domain" if "domain" in token else "system" if "system" in token
                     else "no")
            LOG.info("Keystone token sha256:%s refused: %s scope, not a project", key[:12],
                     scope)
            return NOT_PROJECT_SCOPED
        if expires_at <= self._wall_clock():
            LOG.info("Keystone token sha256:%s refused: expired at %s", key[:12],
                     expires_at.isoformat())
            return INVALID
        identity = Identity(project_id=project_id, user_id=user_id, roles=roles,
                            authenticated_by=BY_KEYSTONE_TOKEN, project_name=names[0],
                            project_domain_id=names[1], project_domain_name=names[2])
        return ValidToken(identity, expires_at)


def parse_expiry(text: str) -> datetime:
    """Keystone's ``expires_at`` (``2026-11-30T11:57:15.000000Z``) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def keystone_tokens() -> KeystoneTokens:
    """The validator ``[keystone_token]`` describes (the ec2auth filter's factory): the
    gateway's service session, Keystone as ``[keystone_ec2]`` finds it and times it."""
    group = getattr(CONF, KEYSTONE_TOKEN)
    return KeystoneTokens(keystone_api(service_session()), ttl=group.cache_ttl,
                          size=group.cache_size)
