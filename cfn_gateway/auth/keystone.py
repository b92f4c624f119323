"""``KeystoneVerifier``: AWS signatures checked against Keystone's EC2 credentials.

Used in ``mode = openstack`` (``[keystone_ec2]`` options).  Two ways to check a request:

- ``POST /v3/ec2tokens`` with the gateway's service token (Keystone refuses anonymous
  callers): Keystone recomputes the signature from the request parts the gateway sends
  (``cfn_gateway.auth.ec2tokens`` has the exact shape and why), checks the user, project
  and roles, and issues a token whose project, user and role names become the ``Identity``.
  One Keystone call (and one token issued) per request.
- Locally: the EC2 secret and its owner's state are read through the credentials API
  (``cfn_gateway.auth.keystone_secrets``) and cached for ``secret_cache_ttl``; the
  signature is checked with the gateway's own SigV4/SigV2 code.  When a cached secret does
  not match, the entry is read again once (a rotated secret) unless it is under
  ``MIN_REFETCH_AGE`` old.

``local_check`` chooses: ``never`` (ec2tokens only; forms Keystone cannot verify are
refused with IncompleteSignature), ``gaps`` (default: ec2tokens, and the local check for
those forms) or ``always`` (local check for every request; credentials bound to a trust,
application credential or OAuth1 token still go to ec2tokens).  ``gaps`` is the default
because it keeps Keystone's own verdict (revocations at once, no secrets held) at a steady
cost: measured on the test bed (keystone 30, 2 cores), ec2tokens took 10-13 ms per request,
a cached secret 0.06 ms, a cache miss 250-350 ms (its reads use a system-scoped token,
which this Keystone validates about five times slower than a project-scoped one).  A key
that signs about one request a minute (cfn-push-stats) would miss the cache nearly every
time under ``always``; keys that sign dozens of requests per ``secret_cache_ttl`` gain.

Forms Keystone cannot verify (``ec2tokens.keystone_gap``): SigV2 with HmacSHA1; SigV4 POST
with a query string (presigned POST among them: Keystone takes a POST's canonical query
string as empty); repeated query parameters; parameter names whose order changes once
encoded; a SigV4 query string carrying SignatureVersion or Timestamp; presigned
X-Amz-SignedHeaders not in canonical form; paths and header values boto 2 and botocore
canonicalise differently; a signed old-boto User-Agent or Authorization header; SigV2
with a mixed-case Host; and timestamps near or past Keystone's ``[credential] auth_ttl``
(presigned URLs that live longer than 15 minutes).

Keystone's answers to ec2tokens: 200 -> Identity; 404 (unknown access key) ->
InvalidClientTokenId; 401 -> RequestExpired when the timestamp is older than Keystone's
auth_ttl (Keystone says "Credential is expired" only with ``insecure_debug``), else
SignatureDoesNotMatch (also for a disabled user or project, which Keystone does not tell
apart); 400 -> InternalFailure (a request the gateway should not have made); 403, 5xx,
timeouts and connection errors -> ServiceUnavailable (503), logged.

Roles the gateway's service user needs:

- ``service`` (or ``admin``) on its own project ([service_credentials]): the
  ``identity:ec2tokens_validate`` policy (``rule:service_or_admin``).
- ``reader`` on the system (``openstack role add --system all --user <gateway user>
  reader``), for ``local_check`` ``gaps`` / ``always`` with ``credentials_scope = system``:
  ``identity:get_credential`` on other users' credentials, ``get_user``, ``get_project``,
  ``get_domain`` and ``list_role_assignments`` allow a system reader.  This role reads every
  EC2 secret of the cloud: grant it only to this user.  (``credentials_scope = project``
  uses the service project token instead, which then needs ``admin``: broader.)
  Keystone 30 refuses the credentials API to delegated tokens: the service user must log
  in with a password (or another primary method), not an application credential.
- ``member`` on each tenant project for the backends (see
  ``cfn_gateway.common.openstack_session``), not for verification.

What the local check does not reproduce: trusts, application credentials and OAuth1
tokens (left to ec2tokens; a gap form with such a key is refused), Keystone's account
lockout and password expiry (ec2tokens does not check them either), and changes in
Keystone (credential deleted, user or project disabled, role removed) are seen only after
``secret_cache_ttl``.  SigV2 through ec2tokens also accepts a signature over the host
without its port (Keystone retries so); the local check does not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.auth import ec2tokens, messages
from cfn_gateway.auth.keystone_api import Answer, KeystoneAPI, unexpected
from cfn_gateway.auth.keystone_secrets import Ec2Secret, KeystoneSecrets
from cfn_gateway.auth.signed_request import SignedRequest
from cfn_gateway.auth.verifier import mismatch_error, signature_matches
from cfn_gateway.common.openstack_session import environment_once
from cfn_gateway.config import CONF, KEYSTONE_EC2, SERVICE_CREDENTIALS
from cfn_gateway.context import Identity

LOG = logging.getLogger(__name__)

LOCAL_CHECKS = ("never", "gaps", "always")
MIN_REFETCH_AGE = 1.0  # seconds: at most one re-read per key and second on bad signatures
DELEGATED = "for an access key bound to a trust, application credential or OAuth1 token"
SCOPE_OPTIONS = ("project_id", "project_name", "project_domain_id", "project_domain_name",
                 "domain_id", "domain_name", "trust_id")


def utcnow() -> datetime:
    return datetime.now(UTC)


class KeystoneVerifier:
    """Implements ``Verifier`` with Keystone (see the module docstring)."""

    def __init__(
        self,
        api: KeystoneAPI,
        secrets: KeystoneSecrets | None = None,
        *,
        local_check: str = "gaps",
        auth_ttl: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if local_check not in LOCAL_CHECKS:
            raise ValueError(f"local_check must be one of {LOCAL_CHECKS}")
        if local_check != "never" and secrets is None:
            raise ValueError(f"local_check = {local_check} needs KeystoneSecrets")
        self.api = api
        self.secrets = secrets
        self.local_check = local_check
        self.auth_ttl = auth_ttl
        self._clock = clock

    def verify(self, signed: SignedRequest) -> Identity:
        now = self._clock()
        gap = ec2tokens.keystone_gap(signed, now, self.auth_ttl)
        if self.secrets is not None and (gap or self.local_check == "always"):
            return self._verify_locally(self.secrets, signed, gap, now)
        if gap and gap != ec2tokens.GAP_AUTH_TTL:
            raise errors.IncompleteSignature(cannot_verify(gap))
        return self._verify_with_ec2tokens(signed, now)

    # --- /v3/ec2tokens ------------------------------------------------------------------

    def _verify_with_ec2tokens(self, signed: SignedRequest, now: datetime) -> Identity:
        response = self.api.ec2tokens(ec2tokens.ec2tokens_body(signed))
        status = response.status_code
        if status == 200:
            return self._identity(signed, response)
        if status == 404:
            raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
        if status == 401:
            if self._expired_for_keystone(signed, now, response):
                earliest = now - self.auth_ttl
                raise errors.RequestExpired(messages.signature_expired(
                    signed.timestamp or earliest, now, earliest,
                    int(self.auth_ttl.total_seconds())))
            raise mismatch_error(signed)
        if status == 400:
            LOG.error("Keystone refused the ec2tokens request as malformed: %s",
                      response.text[:300])
            raise errors.InternalFailure("An internal error occurred.")
        raise unexpected(response, "verifying a signature (POST /v3/ec2tokens)")

    def _expired_for_keystone(
        self, signed: SignedRequest, now: datetime, response: Answer
    ) -> bool:
        if "expired" in response.text.lower():  # Keystone with insecure_debug = true
            return True
        return signed.timestamp is not None and now - signed.timestamp > self.auth_ttl

    @staticmethod
    def _identity(signed: SignedRequest, response: Answer) -> Identity:
        try:
            token = response.json()["token"]
            project = token["project"]
            project_id = project["id"]
            user_id = token["user"]["id"]
            roles = tuple(sorted({role["name"] for role in token.get("roles", ())}))
            domain = project.get("domain") or {}
            names = (str(project.get("name") or ""), str(domain.get("id") or ""),
                     str(domain.get("name") or ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            LOG.error("unexpected ec2tokens answer from Keystone: %s", response.text[:300])
            raise errors.InternalFailure("An internal error occurred.") from exc
        return Identity(project_id=project_id, access_key=signed.access_key,
                        user_id=user_id, roles=roles, project_name=names[0],
                        project_domain_id=names[1], project_domain_name=names[2])

    # --- local check with the secret from the credentials API ----------------------------

    def _verify_locally(
        self, secrets: KeystoneSecrets, signed: SignedRequest, gap: str | None, now: datetime
    ) -> Identity:
        entry = secrets.get(signed.access_key)
        if not entry.delegated and not signature_matches(signed, entry.secret):
            if secrets.age(entry) < MIN_REFETCH_AGE:
                raise mismatch_error(signed)
            entry = secrets.get(signed.access_key, refresh=True)  # rotated since cached?
            if not entry.delegated and not signature_matches(signed, entry.secret):
                raise mismatch_error(signed)
        if entry.delegated:
            if gap and gap != ec2tokens.GAP_AUTH_TTL:
                raise errors.IncompleteSignature(cannot_verify(f"{gap} {DELEGATED}"))
            return self._verify_with_ec2tokens(signed, now)
        return _local_identity(entry)


def _local_identity(entry: Ec2Secret) -> Identity:
    if entry.refusal:
        raise errors.InvalidClientTokenId(messages.INVALID_CLIENT_TOKEN_ID)
    return Identity(project_id=entry.project_id, access_key=entry.access_key,
                    user_id=entry.user_id, roles=entry.roles,
                    project_name=entry.project_name,
                    project_domain_id=entry.project_domain_id,
                    project_domain_name=entry.project_domain_name)


def cannot_verify(reason: str) -> str:  # gateway wording
    return (
        f"This gateway verifies signatures with Keystone, which cannot verify {reason}. "
        "Sign with Signature Version 4 in the Authorization header."
    )


# --- built from the configuration -----------------------------------------------------------


def _session(**auth_overrides: object) -> ks_session.Session:
    """A session of the service user ([service_credentials]) with the verifier's timeout.

    Its own auth plugin, so that its token fetches obey that timeout too.
    """
    auth = ks_loading.load_auth_from_conf_options(CONF, SERVICE_CREDENTIALS, **auth_overrides)
    return environment_once(ks_loading.load_session_from_conf_options(
        CONF, SERVICE_CREDENTIALS, auth=auth, timeout=CONF.keystone_ec2.timeout))


def _system_scope_overrides() -> dict[str, object]:
    """Auth options that turn the service user's login into a system-scoped one."""
    auth_type = getattr(CONF, SERVICE_CREDENTIALS).auth_type
    names = {opt.dest for opt in ks_loading.get_plugin_loader(auth_type).get_options()}
    if "system_scope" not in names or "application_credential_id" in names:
        # (Keystone gives application credentials neither system scope nor the
        # credentials API.)
        raise ValueError(f"[{KEYSTONE_EC2}] credentials_scope = system needs an auth_type "
                         f"that can be system-scoped (password), not {auth_type}")
    overrides: dict[str, object] = {name: None for name in SCOPE_OPTIONS if name in names}
    overrides["system_scope"] = "all"
    return overrides


def keystone_api(session: ks_session.Session) -> KeystoneAPI:
    group = getattr(CONF, KEYSTONE_EC2)
    return KeystoneAPI(session, endpoint=group.endpoint_override,
                       interface=CONF.openstack.interface,
                       region_name=CONF.openstack.region_name, timeout=group.timeout)


def reader_api() -> KeystoneAPI:
    """Keystone as the service user reads other users' credentials and projects
    (``[keystone_ec2] credentials_scope``: system-scoped, or the service project's token)."""
    group = getattr(CONF, KEYSTONE_EC2)
    overrides = _system_scope_overrides() if group.credentials_scope == "system" else {}
    return keystone_api(_session(**overrides))


def keystone_verifier() -> KeystoneVerifier:
    """The verifier ``[keystone_ec2]`` describes (the ec2auth filter's factory)."""
    group = getattr(CONF, KEYSTONE_EC2)
    local = group.local_check != "never"
    system = local and group.credentials_scope == "system"
    overrides = _system_scope_overrides() if system else {}  # fails before any session
    api = keystone_api(_session())
    secrets = None
    if local:
        reader = keystone_api(_session(**overrides)) if system else api
        secrets = KeystoneSecrets(reader, ttl=group.secret_cache_ttl,
                                  size=group.secret_cache_size)
    return KeystoneVerifier(api, secrets, local_check=group.local_check,
                            auth_ttl=timedelta(minutes=group.keystone_auth_ttl))
