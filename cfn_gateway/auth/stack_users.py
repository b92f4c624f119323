"""Heat stack users: callers whose project is in Heat's stack user domain act for the
stack's owner (OpenStack mode, ``[heat] stack_user_domain``).

Heat gives servers EC2 keys (``AWS::IAM::AccessKey``, the instance's cfn-credentials) of a
per-stack user in its stack user domain; the key's credential is scoped to a per-stack
project of that domain, which Heat names ``<owner project id>-<stack id>`` cut to 64
characters (``heat_keystoneclient.create_stack_domain_project``; only Heat's domain admin
can create projects there).  cfn-push-stats signs with that key.  Nothing of the stack
lives in that project: its alarms are in the owner's project.  So a caller whose
project's domain (id or name) is the configured one is a **stack user**: it acts in the
owner's project (``Identity.project_id``), its own project kept as
``Identity.stack_user_project``; what it may do is ``stack_user_policy``'s business.

The owner is the project name's part before the first ``-``; it must be a 32-hex-digit
project id of an existing, enabled project outside the stack user domain, as Keystone says
(``GET /v3/projects/{id}`` with the reader session of ``[keystone_ec2]
credentials_scope``: the system reader of the README).  Anything else is refused with
``AccessDenied`` (403).  Keystone's answers are cached per owner id: existing and enabled
for ``OWNER_TTL`` seconds, refusals for ``REFUSED_TTL``, a Keystone failure for
``UNAVAILABLE_TTL`` (then ``ServiceUnavailable``), in bounded caches; one read per owner
at a time (``KeyedLocks``).  A project disabled or deleted is seen after ``OWNER_TTL``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace

from cfn_gateway import errors
from cfn_gateway.auth.keystone import reader_api
from cfn_gateway.auth.keystone_api import KeystoneAPI, unexpected
from cfn_gateway.common.expiring_cache import ExpiringCache
from cfn_gateway.common.keyed_locks import KeyedLocks
from cfn_gateway.config import CONF
from cfn_gateway.context import Identity

LOG = logging.getLogger(__name__)

OWNER_TTL = 300.0  # seconds an existing, enabled owner project is trusted
REFUSED_TTL = 30.0  # seconds a missing or disabled owner stays refused
UNAVAILABLE_TTL = 1.0  # seconds a Keystone failure is the answer for the same owner
CACHE_SIZE = 4096

#: Keystone's project ids (uuid4 hex), the prefix Heat puts before the stack id.
OWNER_ID = re.compile(r"[0-9a-f]{32}")

#: An error to raise anew each time: (class, message).
Refusal = tuple[type[errors.AWSError], str]
OWNER_OK = "ok"


def owner_project_id(project_name: str) -> str | None:
    """The stack owner's project id in a stack user project's name, or None when the name
    is not Heat's ``<owner project id>-<stack id>``."""
    owner, dash, stack = project_name.partition("-")
    if not dash or not stack or not OWNER_ID.fullmatch(owner):
        return None
    return owner


def in_domain(identity: Identity, domain: str) -> bool:
    """Whether the caller's project is in ``domain`` (an id or a name)."""
    return bool(domain) and domain in (identity.project_domain_id,
                                       identity.project_domain_name)


def not_an_owner(name: str) -> str:
    return (f"The project {name!r} of this stack user does not name a stack owner's "
            "project: Heat names stack user projects '<owner project id>-<stack id>'.")


def owner_refused(owner: str) -> str:
    return (f"The owner project {owner} of this stack user does not exist, is disabled, or "
            "is itself in the stack user domain.")


class StackUsers:
    """Turns stack users' identities into their owners' (see the module docstring)."""

    def __init__(
        self,
        api: KeystoneAPI,
        domain: str,
        *,
        size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.domain = domain
        self.owners: ExpiringCache[str] = ExpiringCache(size, clock)
        self.refused: ExpiringCache[Refusal] = ExpiringCache(size, clock)
        self._reads = KeyedLocks()

    def resolve(self, identity: Identity) -> Identity:
        """``identity`` itself for an ordinary caller; a stack user's identity in its
        owner's project; AccessDenied for a stack user without a valid owner."""
        if not in_domain(identity, self.domain):
            return identity
        owner = owner_project_id(identity.project_name)
        if owner is None:
            LOG.info("stack user %s refused: project %s (%r) names no owner",
                     identity.user_id, identity.project_id, identity.project_name)
            raise errors.AccessDenied(not_an_owner(identity.project_name))
        outcome = self._owner(owner, identity.project_domain_id)
        if outcome != OWNER_OK:
            error, message = outcome
            raise error(message)
        return replace(identity, project_id=owner, stack_user_project=identity.project_id)

    def _owner(self, owner: str, stack_domain_id: str) -> str | Refusal:
        outcome = self.owners.get(owner) or self.refused.get(owner)
        if outcome is None:
            with self._reads.hold(owner):
                outcome = self.owners.get(owner) or self.refused.get(owner)
                if outcome is None:
                    outcome = self._read(owner, stack_domain_id)
        return outcome

    def _read(self, owner: str, stack_domain_id: str) -> str | Refusal:
        try:
            refusal = self._ask_keystone(owner, stack_domain_id)
        except errors.ServiceUnavailable as exc:
            unavailable: Refusal = (errors.ServiceUnavailable, exc.message)
            self.refused.put(owner, unavailable, UNAVAILABLE_TTL)
            return unavailable
        if refusal:
            LOG.info("stack users of owner project %s refused: %s", owner, refusal)
            outcome: Refusal = (errors.AccessDenied, owner_refused(owner))
            self.refused.put(owner, outcome, REFUSED_TTL)
            return outcome
        self.refused.discard(owner)
        self.owners.put(owner, OWNER_OK, OWNER_TTL)
        return OWNER_OK

    def _ask_keystone(self, owner: str, stack_domain_id: str) -> str:
        """Why ``owner`` cannot own stacks ("" when it can)."""
        response = self.api.get(f"/projects/{owner}")
        if response.status_code == 404:
            return "no such project"
        if response.status_code != 200:
            raise unexpected(response, "reading a stack owner's project")
        try:
            project = response.json()["project"]
        except (ValueError, KeyError, TypeError) as exc:
            raise unexpected(response, "reading a stack owner's project") from exc
        if not project.get("enabled", True):
            return "project disabled"
        if project.get("domain_id") in (stack_domain_id, self.domain):
            return "a project of the stack user domain"
        return ""


def stack_users() -> StackUsers | None:
    """The resolver ``[heat] stack_user_domain`` asks for (OpenStack mode), or None."""
    domain = CONF.heat.stack_user_domain
    if CONF.mode != "openstack" or not domain:
        return None
    return StackUsers(reader_api(), domain)
