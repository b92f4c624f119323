"""EC2 secrets read through Keystone's credentials API, and a small cache of them.

An EC2 credential's id in Keystone is the SHA-256 hex digest of its access key, so
``GET /v3/credentials/{sha256(access)}`` finds it (404: no such key).  Its ``blob`` holds
``access`` and ``secret`` (and ``trust_id`` / ``app_cred_id`` / ``access_token_id`` when it
was made with a delegated token); the credential's ``user_id`` and ``project_id`` say whose
it is.  What ``/v3/ec2tokens`` checks after the signature is read too, so that a request
verified here is refused where Keystone would refuse it: the user and its domain enabled,
the project and its domain enabled, and at least one (effective) role of the user on the
project (``GET /v3/role_assignments?effective&include_names``), whose names become the
identity's roles.  A cache miss costs the credential read, then the user, project and
role-assignment reads side by side (and a domain read when its state is not cached); those
owner reads are made once more before a refusal is believed (a refused key stays refused
for ``ttl``, and Keystone has been seen to answer one read wrongly under load); the
project's name and domain (id and name) are kept for the identity, as a token says them
(Heat stack users are recognised by them: ``cfn_gateway.auth.stack_users``).
Credentials bound to a delegation are only marked as such: their secret is not kept, and
the verifier leaves them to ``/v3/ec2tokens``.

Reading other users' credentials needs ``identity:get_credential`` on them: by default
the ``reader`` role on the system (or ``admin``).  ``KeystoneSecrets`` keeps what it read
for ``ttl`` seconds in a least-recently-used cache of ``size`` entries.

One read per key at a time: callers that find no entry for a key while it is being read
wait for that read and take its entry (eight threads of a busy key once made eight reads
of it at each expiry, each with its user, project and role reads).  In the last tenth of
an entry's life (``REFRESH_AHEAD``) the first caller reads it again while the others go on
with the entry they have, so a busy key is not held up at expiry at all; when that early
read fails for want of Keystone, the entry serves until it expires.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cfn_gateway import errors
from cfn_gateway.auth import messages
from cfn_gateway.auth.keystone_api import Answer, KeystoneAPI, unexpected
from cfn_gateway.common.expiring_cache import ExpiringCache
from cfn_gateway.common.keyed_locks import KeyedLocks

LOG = logging.getLogger(__name__)

DELEGATION_KEYS = ("trust_id", "app_cred_id", "access_token_id")
#: The share of ``ttl`` at the end of an entry's life in which it is read again early.
REFRESH_AHEAD = 0.1


@dataclass(frozen=True)
class Ec2Secret:
    """What Keystone says of one access key, as read at ``fetched_at`` (monotonic)."""

    access_key: str
    secret: str = field(repr=False)  # "" for a delegated credential
    user_id: str
    project_id: str
    roles: tuple[str, ...] = ()
    delegated: bool = False  # bound to a trust, application credential or OAuth1 token
    refusal: str = ""  # why Keystone would not issue a token for it ("" when it would)
    fetched_at: float = 0.0
    project_name: str = ""
    project_domain_id: str = ""
    project_domain_name: str = ""


class SecretCache:
    """A bounded LRU mapping of access key to ``Ec2Secret``, each entry fresh for ``ttl``
    from its ``fetched_at``."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._entries: ExpiringCache[Ec2Secret] = ExpiringCache(size, clock)

    @property
    def size(self) -> int:
        return self._entries.size

    def get(self, access_key: str) -> Ec2Secret | None:
        return self._entries.get(access_key)

    def put(self, entry: Ec2Secret) -> None:
        age = self._entries.clock() - entry.fetched_at
        self._entries.put(entry.access_key, entry, self.ttl - age)

    def discard(self, access_key: str) -> None:
        self._entries.discard(access_key)

    def __len__(self) -> int:
        return len(self._entries)


def credential_id(access_key: str) -> str:
    """Keystone's id of the EC2 credential with ``access_key``."""
    return hashlib.sha256(access_key.encode("utf-8")).hexdigest()


class KeystoneSecrets:
    """EC2 secrets and the state of their owners, from Keystone, cached."""

    def __init__(
        self,
        api: KeystoneAPI,
        ttl: float = 60.0,
        size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.clock = clock
        self.cache = SecretCache(ttl, size, clock)
        # domain id -> (enabled, name, fetched_at)
        self._domains: dict[str, tuple[bool, str, float]] = {}
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="keystone-read")
        self._reads = KeyedLocks()

    def get(self, access_key: str, refresh: bool = False) -> Ec2Secret:
        """The cached entry, or a fresh one (``refresh``: one read after this call began).

        Raises InvalidClientTokenId for an access key Keystone does not know, and
        ServiceUnavailable when Keystone cannot answer or refuses the service user.
        """
        asked_at = self.clock()
        if not refresh:
            entry = self.cache.get(access_key)
            if entry is not None:
                if asked_at - entry.fetched_at < self.cache.ttl * (1 - REFRESH_AHEAD):
                    return entry
                return self._refresh_ahead(entry)
        with self._reads.hold(access_key):
            entry = self.cache.get(access_key)  # read by another caller meanwhile?
            if entry is not None and (not refresh or entry.fetched_at >= asked_at):
                return entry
            return self._read(access_key)

    def _refresh_ahead(self, entry: Ec2Secret) -> Ec2Secret:
        """A fresh entry if this caller is the one to read it early, else ``entry``."""
        with self._reads.hold(entry.access_key, blocking=False) as reading:
            if not reading:
                return entry
            try:
                return self._read(entry.access_key)
            except errors.ServiceUnavailable:
                return entry  # still valid; the next caller in the window tries again

    def _read(self, access_key: str) -> Ec2Secret:
        try:
            entry = self._fetch(access_key)
        except errors.InvalidClientTokenId:
            self.cache.discard(access_key)
            raise
        self.cache.put(entry)
        return entry

    def age(self, entry: Ec2Secret) -> float:
        return self.clock() - entry.fetched_at

    # --- reading Keystone ---------------------------------------------------------------

    def _fetch(self, access_key: str) -> Ec2Secret:
        fetched_at = self.clock()
        response = self.api.get(f"/credentials/{credential_id(access_key)}")
        if response.status_code == 404:
            raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
        credential = self._body(response, "reading an EC2 credential")["credential"]
        blob = credential.get("blob")
        if isinstance(blob, str):
            try:
                blob = json.loads(blob)
            except ValueError:
                blob = None
        if (
            credential.get("type") != "ec2"
            or not isinstance(blob, dict)
            or blob.get("access") != access_key
        ):
            raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
        user_id, project_id = credential.get("user_id") or "", credential.get("project_id") or ""
        if any(blob.get(key) for key in DELEGATION_KEYS):
            return Ec2Secret(access_key, "", user_id, project_id, delegated=True,
                             fetched_at=fetched_at)
        roles, refusal, names = self._owner_state(user_id, project_id)
        if refusal:
            # A refusal shuts the key out for ttl: it is believed when a second read says
            # it too.  Keystone 30 (1 worker x 4 threads, the test bed's) was seen to answer
            # 200 with an empty role_assignments list for an assignment it holds, a few times
            # in a thousand reads while the test suite ran beside it; the later read wins.
            first = refusal
            roles, refusal, names = self._owner_state(user_id, project_id)
            if refusal:
                LOG.info("EC2 access key %s not usable: %s", access_key, refusal)
            else:
                LOG.warning("EC2 access key %s: Keystone's first answer refused it (%s), "
                            "its second did not; the second holds", access_key, first)
        return Ec2Secret(access_key, str(blob.get("secret") or ""), user_id, project_id,
                         roles, refusal=refusal, fetched_at=fetched_at,
                         project_name=names[0], project_domain_id=names[1],
                         project_domain_name=names[2])

    def _owner_state(self, user_id: str, project_id: str
                     ) -> tuple[tuple[str, ...], str, tuple[str, str, str]]:
        """The user's role names on the project, why Keystone would refuse a token, and
        the project's name, domain id and domain name (as a token would say them).

        The user, the project and the role assignments are read at the same time; the
        domains' states are kept for ``ttl`` like the secrets (there are few of them).
        """
        unknown = ("", "", "")
        if not user_id or not project_id:
            return (), "credential without user or project", unknown
        user_call = self._pool.submit(self._member, f"/users/{user_id}", "user")
        project_call = self._pool.submit(self._member, f"/projects/{project_id}", "project")
        roles = self._roles(user_id, project_id)
        user, project = user_call.result(), project_call.result()
        if user is None:
            return (), f"user {user_id} not found", unknown
        if project is None:
            return (), f"project {project_id} not found", unknown
        if not user.get("enabled", True):
            return (), f"user {user_id} disabled", unknown
        if not project.get("enabled", True):
            return (), f"project {project_id} disabled", unknown
        domain_names: dict[str, str] = {}
        for domain_id in dict.fromkeys((user.get("domain_id"), project.get("domain_id"))):
            if domain_id:
                enabled, domain_names[domain_id] = self._domain(domain_id)
                if not enabled:
                    return (), f"domain {domain_id} disabled or gone", unknown
        if not roles:
            return (), f"user {user_id} has no role on project {project_id}", unknown
        project_domain = str(project.get("domain_id") or "")
        return roles, "", (str(project.get("name") or ""), project_domain,
                           domain_names.get(project_domain, ""))

    def _roles(self, user_id: str, project_id: str) -> tuple[str, ...]:
        response = self.api.get(
            "/role_assignments",
            params={"user.id": user_id, "scope.project.id": project_id,
                    "effective": "", "include_names": ""},
        )
        assignments = self._body(response, "listing role assignments")["role_assignments"]
        return tuple(sorted({a["role"].get("name") or a["role"]["id"] for a in assignments}))

    def _domain(self, domain_id: str) -> tuple[bool, str]:
        """Whether the domain exists and is enabled, and its name."""
        known = self._domains.get(domain_id)
        if known is not None and self.clock() - known[2] < self.cache.ttl:
            return known[0], known[1]
        fetched_at = self.clock()
        domain = self._member(f"/domains/{domain_id}", "domain")
        enabled = domain is not None and bool(domain.get("enabled", True))
        name = str(domain.get("name") or "") if domain is not None else ""
        self._domains[domain_id] = (enabled, name, fetched_at)
        return enabled, name

    def _member(self, path: str, key: str) -> dict[str, Any] | None:
        response = self.api.get(path)
        if response.status_code == 404:
            return None
        return self._body(response, f"reading a {key}")[key]

    @staticmethod
    def _body(response: Answer, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise unexpected(response, what)
        try:
            return response.json()
        except ValueError as exc:
            raise unexpected(response, what) from exc
