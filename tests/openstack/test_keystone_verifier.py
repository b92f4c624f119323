"""KeystoneVerifier against the real Keystone of the test bed (tools/testbed/up.sh).

Requests are signed by botocore and boto 2.49 with the test bed tenants' real EC2
credentials and verified through ``POST /v3/ec2tokens`` and through the secret read with the
credentials API.  Negative cases: unknown key, wrong secret, tampered request, expired
request, Keystone unreachable (a closed port, then a proxy that goes down and comes back:
the shared Keystone itself is never stopped).  A temporary user and project of this module's
own (removed afterwards) show that the local check refuses what Keystone refuses.  The last
test measures both paths.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests import testbed as _testbed

TESTBED = _testbed.load_testbed()
if TESTBED is None:
    _REASON = (f"OpenStack test bed not running ({_testbed.testbed_dir()}/testbed.json missing): "
               "start it with tools/testbed/up.sh")
    if os.environ.get("CFN_REQUIRE_TESTBED") == "1":
        raise RuntimeError(_REASON)
    pytest.skip(_REASON, allow_module_level=True)

from botocore.auth import SigV4Auth  # noqa: E402
from keystoneauth1 import session as ks_session  # noqa: E402
from keystoneauth1.identity import v3  # noqa: E402
from keystoneclient.v3 import client as ks_client  # noqa: E402

from cfn_gateway import errors  # noqa: E402
from cfn_gateway.auth.keystone import KeystoneVerifier  # noqa: E402
from cfn_gateway.auth.keystone_api import KeystoneAPI  # noqa: E402
from cfn_gateway.auth.keystone_secrets import KeystoneSecrets  # noqa: E402
from cfn_gateway.auth.signed_request import signed_request_from  # noqa: E402
from cfn_gateway.context import Identity  # noqa: E402
from tests.protocol_models import write_protocol_model  # noqa: E402
from tests.unit.auth.samples import FORM, FORM_TYPE, presigned  # noqa: E402
from tests.unit.auth.wire import (  # noqa: E402
    REGION,
    boto2_signed,
    boto2_v2_handler,
    boto2_v4_handler,
    botocore_client_request,
    botocore_credentials,
    botocore_signed,
    rewire,
)

AUTH_URL = TESTBED["auth_url"]
GATEWAY = TESTBED["gateway"]
TENANTS = TESTBED["tenants"]
MAX_SKEW = 900
URL = "http://127.0.0.1:8003/v1/"


def tenant_cred(tenant) -> SimpleNamespace:
    return SimpleNamespace(access_key=tenant["ec2_access"], secret_key=tenant["ec2_secret"])


T1, T2 = tenant_cred(TENANTS[0]), tenant_cred(TENANTS[1])


def expected(tenant) -> tuple[str, str]:
    return tenant["project_id"], tenant["user_id"]


def gateway_session(auth_url=AUTH_URL, system=False, timeout=5.0):
    scope = ({"system_scope": "all"} if system else
             {"project_name": GATEWAY["project_name"], "project_domain_name": "Default"})
    auth = v3.Password(auth_url=auth_url, username=GATEWAY["username"],
                       password=GATEWAY["password"], user_domain_name="Default", **scope)
    return ks_session.Session(auth=auth, timeout=timeout)


def make_verifier(local_check="gaps", auth_url=AUTH_URL, endpoint=None, timeout=5.0,
                  ttl=60.0):
    def api(system):
        return KeystoneAPI(gateway_session(auth_url, system, timeout), endpoint=endpoint,
                           timeout=timeout, region_name=TESTBED["region"])
    secrets = None if local_check == "never" else KeystoneSecrets(api(True), ttl=ttl)
    return KeystoneVerifier(api(False), secrets, local_check=local_check)


@pytest.fixture(scope="module")
def verifiers():
    return {mode: make_verifier(mode) for mode in ("never", "gaps", "always")}


def parsed(request, max_skew=MAX_SKEW):
    return signed_request_from(request, datetime.now(UTC), max_skew)


def assert_tenant(identity: Identity, tenant, cred) -> None:
    assert (identity.project_id, identity.user_id) == expected(tenant)
    assert identity.access_key == cred.access_key
    assert "member" in identity.roles


def v4(cred, service="monitoring", region=REGION):
    return SigV4Auth(botocore_credentials(cred.access_key, cred.secret_key), service, region)


# --- request forms -----------------------------------------------------------------------------


def botocore_post(cred):
    return botocore_signed(v4(cred), "POST", URL, data=dict(FORM), headers=FORM_TYPE)


def botocore_get(cred):
    return botocore_signed(v4(cred), "GET", URL, params=dict(FORM))


def boto2_v4(method):
    def sign(cred):
        handler = boto2_v4_handler("127.0.0.1", cred.access_key, cred.secret_key)
        return boto2_signed(handler, method, "127.0.0.1", 8003, "/v1/", FORM)
    return sign


def boto2_v2(method, sha1=False):
    def sign(cred):
        handler = boto2_v2_handler("127.0.0.1", cred.access_key, cred.secret_key, sha1=sha1)
        return boto2_signed(handler, method, "127.0.0.1", 8003, "/v1/", FORM)
    return sign


def presigned_get(cred):
    return presigned(cred, expires=300)


def presigned_post(cred):
    return presigned(cred, expires=300, method="POST")


def json_client(cred):
    return botocore_client_request("http://127.0.0.1:8003", cred.access_key, cred.secret_key,
                                   "list_metrics", {"Namespace": "ns"})


KEYSTONE_FORMS = {
    "botocore-sigv4-post": botocore_post,
    "botocore-sigv4-get": botocore_get,
    "boto2-sigv4-get": boto2_v4("GET"),
    "boto2-sigv4-post": boto2_v4("POST"),
    "botocore-presigned-get": presigned_get,
    "boto2-sigv2-sha256-get": boto2_v2("GET"),
    "boto2-sigv2-sha256-post": boto2_v2("POST"),
    "botocore-json": json_client,
}
GAP_FORMS = {
    "boto2-sigv2-sha1-get": boto2_v2("GET", sha1=True),
    "boto2-sigv2-sha1-post": boto2_v2("POST", sha1=True),
    "botocore-presigned-post": presigned_post,
}


@pytest.mark.parametrize("form", sorted(KEYSTONE_FORMS))
@pytest.mark.parametrize("mode", ["never", "gaps", "always"])
def test_forms_keystone_verifies(verifiers, form, mode):
    for tenant, cred in ((TENANTS[0], T1), (TENANTS[1], T2)):
        identity = verifiers[mode].verify(parsed(KEYSTONE_FORMS[form](cred)))
        assert_tenant(identity, tenant, cred)


def test_cbor_client(verifiers, tmp_path):
    request = botocore_client_request(
        "http://127.0.0.1:8003", T1.access_key, T1.secret_key, "list_metrics",
        {"Namespace": "ns"}, model_path=write_protocol_model(tmp_path, "smithy-rpc-v2-cbor"))
    assert_tenant(verifiers["never"].verify(parsed(request)), TENANTS[0], T1)


@pytest.mark.parametrize("form", sorted(GAP_FORMS))
def test_forms_keystone_cannot_verify_are_checked_locally(verifiers, form):
    request = GAP_FORMS[form](T1)
    assert_tenant(verifiers["gaps"].verify(parsed(request)), TENANTS[0], T1)
    assert_tenant(verifiers["always"].verify(parsed(request)), TENANTS[0], T1)
    with pytest.raises(errors.IncompleteSignature):
        verifiers["never"].verify(parsed(request))


@pytest.mark.parametrize("form", ["boto2-sigv2-sha1-get", "botocore-presigned-post"])
def test_keystone_itself_refuses_the_gap_forms(form):
    # The gap is real: what ec2tokens answers when asked anyway.
    from cfn_gateway.auth import ec2tokens

    api = make_verifier("never").api
    response = api.ec2tokens(ec2tokens.ec2tokens_body(parsed(GAP_FORMS[form](T1))))
    assert response.status_code == 401


def test_both_paths_give_the_same_identity(verifiers):
    request = botocore_post(T1)
    assert verifiers["never"].verify(parsed(request)) == verifiers["always"].verify(
        parsed(request))


# --- negative cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["never", "gaps", "always"])
def test_unknown_access_key(verifiers, mode):
    cred = SimpleNamespace(access_key=uuid.uuid4().hex, secret_key="whatever")
    with pytest.raises(errors.InvalidClientTokenId):
        verifiers[mode].verify(parsed(botocore_post(cred)))
    sha1 = parsed(boto2_v2("GET", sha1=True)(cred))
    # without the local check, a form Keystone cannot verify is refused before any lookup
    with pytest.raises(errors.IncompleteSignature if mode == "never" else
                       errors.InvalidClientTokenId):
        verifiers[mode].verify(sha1)


@pytest.mark.parametrize("mode", ["never", "gaps", "always"])
@pytest.mark.parametrize("form", ["botocore-sigv4-post", "boto2-sigv2-sha256-get",
                                  "botocore-presigned-get"])
def test_wrong_secret(verifiers, mode, form):
    wrong = SimpleNamespace(access_key=T1.access_key, secret_key=T2.secret_key)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verifiers[mode].verify(parsed(KEYSTONE_FORMS[form](wrong)))


def test_wrong_secret_for_a_gap_form(verifiers):
    wrong = SimpleNamespace(access_key=T1.access_key, secret_key=T2.secret_key)
    with pytest.raises(errors.SignatureDoesNotMatch):
        verifiers["gaps"].verify(parsed(boto2_v2("GET", sha1=True)(wrong)))


TAMPERINGS = {
    "body": lambda r: rewire(r, body=r.body.replace(b"Value=1", b"Value=9")),
    "host": lambda r: rewire(r, headers={**r.headers, "host": "127.0.0.1:9999"}),
    "path": lambda r: rewire(r, target="/v2/"),
    "method": lambda r: rewire(r, method="PUT"),
}


@pytest.mark.parametrize("mode", ["never", "always"])
@pytest.mark.parametrize("change", sorted(TAMPERINGS))
def test_tampered_sigv4_post(verifiers, mode, change):
    request = TAMPERINGS[change](botocore_post(T1))
    with pytest.raises(errors.SignatureDoesNotMatch):
        verifiers[mode].verify(parsed(request))


@pytest.mark.parametrize("mode", ["never", "gaps"])
def test_tampered_query_parameters(verifiers, mode):
    signers = [botocore_get, boto2_v2("GET"), presigned_get]
    if mode == "gaps":
        signers.append(boto2_v2("GET", sha1=True))
    for sign in signers:
        request = sign(T1)
        query = request.query_string.replace("Namespace=ns", "Namespace=other")
        assert query != request.query_string
        with pytest.raises(errors.SignatureDoesNotMatch):
            verifiers[mode].verify(parsed(rewire(request, target=f"{request.path}?{query}")))


def signed_minutes_ago(monkeypatch, minutes, sign=botocore_post, cred=T1):
    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=minutes)
    with monkeypatch.context() as patch:
        patch.setattr("botocore.auth.get_current_datetime", lambda *a, **k: past)
        return sign(cred)


def test_expired_request_keystones_answer(monkeypatch):
    # Keystone judges the timestamp itself ([credential] auth_ttl, 15 minutes) and answers
    # with the same generic 401 as for a wrong signature.
    from cfn_gateway.auth import ec2tokens

    signed = parsed(signed_minutes_ago(monkeypatch, 16), max_skew=3600)
    response = make_verifier("never").api.ec2tokens(ec2tokens.ec2tokens_body(signed))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "The request you have made requires authentication.")


def test_expired_request(verifiers, monkeypatch):
    request = signed_minutes_ago(monkeypatch, 16)
    with pytest.raises(errors.RequestExpired):  # the gateway's own window (900 s)
        parsed(request)
    signed = parsed(request, max_skew=3600)  # a gateway whose window is wider than Keystone's
    with pytest.raises(errors.RequestExpired):
        verifiers["never"].verify(signed)
    # checked locally, the gateway's window rules
    assert_tenant(verifiers["gaps"].verify(signed), TENANTS[0], T1)


def test_presigned_url_older_than_keystones_window(verifiers, monkeypatch):
    def sign(cred):
        return presigned(cred, expires=3600)
    signed = parsed(signed_minutes_ago(monkeypatch, 20, sign))
    assert_tenant(verifiers["gaps"].verify(signed), TENANTS[0], T1)
    with pytest.raises(errors.RequestExpired):
        verifiers["never"].verify(signed)


def test_keystone_on_a_closed_port_is_service_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v3"
    verifier = make_verifier("gaps", auth_url=url, endpoint=url, timeout=1.0)
    for sign in (botocore_post, boto2_v2("GET", sha1=True)):
        started = time.monotonic()
        with pytest.raises(errors.ServiceUnavailable) as caught:
            verifier.verify(parsed(sign(T1)))
        assert caught.value.status == 503
        assert time.monotonic() - started < 2


class Proxy:
    """A TCP forwarder to Keystone that can be stopped and started on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("mode", ["never", "gaps"])
def test_keystone_down_then_back(mode, caplog):
    from urllib.parse import urlsplit

    # Once in many CI runs the gap form was refused after Keystone came back; the secrets
    # log why at INFO ("EC2 access key ... not usable: <reason>"), shown if it fails again.
    caplog.set_level(logging.INFO, logger="cfn_gateway.auth.keystone_secrets")
    proxy = Proxy(urlsplit(AUTH_URL).port or 5000)
    url = f"http://127.0.0.1:{proxy.port}/v3"
    verifier = make_verifier(mode, auth_url=url, endpoint=url, timeout=2.0)
    forms = [botocore_post] + ([boto2_v2("GET", sha1=True)] if mode == "gaps" else [])
    try:
        for sign in forms:  # down from the start: nothing cached, nothing broken
            with pytest.raises(errors.ServiceUnavailable):
                verifier.verify(parsed(sign(T1)))
        proxy.start()
        for sign in forms:
            assert_tenant(verifier.verify(parsed(sign(T1))), TENANTS[0], T1)
        proxy.stop()
        with pytest.raises(errors.ServiceUnavailable):
            verifier.verify(parsed(botocore_post(T1)))
        proxy.start()
        assert_tenant(verifier.verify(parsed(botocore_post(T1))), TENANTS[0], T1)
    finally:
        proxy.stop()


# --- the local check refuses what Keystone refuses ---------------------------------------------


@pytest.fixture(scope="module")
def admin():
    ident = TESTBED["admin"]
    auth = v3.Password(auth_url=AUTH_URL, username=ident["username"],
                       password=ident["password"], user_domain_name="Default",
                       project_name=ident["project_name"], project_domain_name="Default")
    return ks_client.Client(session=ks_session.Session(auth=auth), interface="public")


@pytest.fixture
def own_tenant(admin):
    """A user, project and EC2 credential of this test's own, removed afterwards."""
    name = f"cfngw-kv-{uuid.uuid4().hex[:8]}"
    project = admin.projects.create(name, "default", description="KeystoneVerifier test")
    user = admin.users.create(name, domain="default", password=uuid.uuid4().hex,
                              default_project=project)
    member = admin.roles.find(name="member")
    admin.roles.grant(member, user=user, project=project)
    cred = admin.ec2.create(user.id, project.id)
    tenant = {"project_id": project.id, "user_id": user.id}
    try:
        yield SimpleNamespace(user=user, project=project, tenant=tenant, member=member,
                              cred=SimpleNamespace(access_key=cred.access,
                                                   secret_key=cred.secret))
    finally:
        admin.users.delete(user)
        admin.projects.delete(project)


CHANGES = {
    "user-disabled": lambda admin, t: admin.users.update(t.user, enabled=False),
    "project-disabled": lambda admin, t: admin.projects.update(t.project, enabled=False),
    "role-removed": lambda admin, t: admin.roles.revoke(t.member, user=t.user,
                                                       project=t.project),
    "credential-deleted": lambda admin, t: admin.ec2.delete(t.user.id, t.cred.access_key),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_local_check_refuses_what_keystone_refuses(admin, own_tenant, change):
    request = botocore_post(own_tenant.cred)
    by_keystone, locally = make_verifier("never"), make_verifier("always")
    ok = by_keystone.verify(parsed(request))
    assert ok == locally.verify(parsed(request))
    assert "reader" in ok.roles  # implied by member, in both
    CHANGES[change](admin, own_tenant)
    assert locally.verify(parsed(request)) == ok  # cached: works for secret_cache_ttl
    # Keystone's workers may answer from their assignment cache for a moment.
    refused_by_keystone = eventually(lambda: by_keystone.verify(parsed(request)))
    assert isinstance(refused_by_keystone, (errors.SignatureDoesNotMatch,
                                            errors.InvalidClientTokenId))
    refused_locally = eventually(lambda: make_verifier("always").verify(parsed(request)))
    assert isinstance(refused_locally, errors.InvalidClientTokenId)


def eventually(call, seconds=20.0) -> errors.AWSError:
    """The AWSError ``call`` raises, once it raises one (within ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            call()
        except errors.AWSError as exc:
            return exc
        assert time.monotonic() < deadline, "still accepted"
        time.sleep(0.5)


@pytest.fixture
def would_be_service_user(admin, own_tenant):
    """Users of own_tenant's project with given roles, all granted before their first token
    (Keystone's workers cache role assignments: a grant is not seen everywhere at once)."""
    made = []

    def make(project_roles=(), system_roles=()):
        password = uuid.uuid4().hex
        user = admin.users.create(f"{own_tenant.project.name}-{len(made)}", domain="default",
                                  password=password)
        made.append(user)
        for role in project_roles:
            admin.roles.grant(admin.roles.find(name=role), user=user, project=own_tenant.project)
        for role in system_roles:
            admin.roles.grant(admin.roles.find(name=role), user=user, system="all")

        def session(system):
            scope = {"system_scope": "all"} if system else {"project_id": own_tenant.project.id}
            auth = v3.Password(auth_url=AUTH_URL, user_id=user.id, password=password, **scope)
            return ks_session.Session(auth=auth, timeout=5.0)

        def verifier(mode, system=True):
            secrets = None if mode == "never" else KeystoneSecrets(KeystoneAPI(session(system)))
            return KeystoneVerifier(KeystoneAPI(session(False)), secrets, local_check=mode)

        return verifier

    try:
        yield make
    finally:
        for user in made:
            for role in admin.roles.list(user=user, system="all"):
                admin.roles.revoke(role, user=user, system="all")
            admin.users.delete(user)


def test_roles_the_service_user_needs(would_be_service_user, caplog):
    request = botocore_post(T1)
    member_only = would_be_service_user(["member"])
    with pytest.raises(errors.ServiceUnavailable):  # ec2tokens refused (403)
        member_only("never").verify(parsed(request))
    assert "identity:ec2tokens_validate" in caplog.text
    with pytest.raises(errors.ServiceUnavailable):  # no system role: no system token
        member_only("always").verify(parsed(request))

    service = would_be_service_user(["service"])
    assert_tenant(service("never").verify(parsed(request)), TENANTS[0], T1)
    caplog.clear()
    with pytest.raises(errors.ServiceUnavailable):  # its project token may not read secrets
        service("always", system=False).verify(parsed(request))
    assert "identity:get_credential" in caplog.text

    reader = would_be_service_user(["service"], system_roles=["reader"])
    assert_tenant(reader("always").verify(parsed(request)), TENANTS[0], T1)
    assert_tenant(reader("gaps").verify(parsed(boto2_v2("GET", sha1=True)(T1))), TENANTS[0], T1)


# --- latency -------------------------------------------------------------------------------


def test_latency_ec2tokens_vs_cached_secret(capsys):
    calls = 200
    request = botocore_post(T1)
    results = {}
    for label, verifier in (("ec2tokens", make_verifier("never")),
                            ("cached secret", make_verifier("always", ttl=3600))):
        verifier.verify(parsed(request))  # warm: token, discovery, cache
        times = []
        for _ in range(calls):
            signed = parsed(request)
            started = time.perf_counter()
            verifier.verify(signed)
            times.append(time.perf_counter() - started)
        results[label] = times
    verifier = make_verifier("always", ttl=3600)
    verifier.verify(parsed(request))  # its service token, the domain's state
    assert verifier.secrets is not None
    misses = []
    for _ in range(20):
        verifier.secrets.cache.discard(T1.access_key)
        signed = parsed(request)
        started = time.perf_counter()
        verifier.verify(signed)
        misses.append(time.perf_counter() - started)
    results["cache miss (secret read)"] = misses
    with capsys.disabled():
        print()
        for label, times in results.items():
            ms = sorted(t * 1000 for t in times)
            print(f"  {label:26s} n={len(ms):3d} median {statistics.median(ms):8.3f} ms"
                  f"  p90 {ms[int(len(ms) * 0.9)]:8.3f} ms  max {ms[-1]:8.3f} ms")
    assert statistics.median(results["cached secret"]) < statistics.median(
        results["ec2tokens"])
