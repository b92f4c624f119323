"""A small stand-in for Keystone's v3 API on 127.0.0.1, for the Keystone auth unit tests.

It answers what the verifier calls, the way keystone 30 answers (facts from
keystone/api/ec2tokens.py and api/_shared/EC2_S3_Resource.py): password tokens
(project- or system-scoped, with a catalog), ``POST /v3/ec2tokens`` (caller token required;
404 for an unknown key; the signature recomputed with python-keystoneclient's ``Ec2Signer``,
retried without the port; user, project, timestamp and roles checked; every refusal a
generic 401), and the credentials, users, projects, domains and role-assignments reads a
system reader may make.  Tests can make any path fail with a status, answer slowly, or
revoke the tokens it issued.  Token validation (``GET /v3/auth/tokens`` with
``X-Subject-Token``) answers for the callers' tokens tests register with ``add_user_token``
(any scope, any expiry), the way keystone 30 does: 404 for an unknown or expired token,
403 unless the caller may validate tokens (its ``service`` role).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from keystoneclient.contrib.ec2.utils import Ec2Signer

from cfn_gateway.auth.keystone_secrets import credential_id

USER, PASSWORD = "cfngw", "gw-password"
SERVICE_USER_ID, SERVICE_PROJECT_ID = "svc-user-id", "svc-project-id"
UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                          "message": "The request you have made requires authentication."}}


@dataclass
class Ec2Credential:
    access: str
    secret: str
    user_id: str
    project_id: str
    extra: dict[str, str] = field(default_factory=dict)  # trust_id, app_cred_id, ...


def _error(code: int, title: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "title": title, "message": message}}


def _token(user_id: str, methods: list[str], roles: list[str], *, project_id: str = "",
           system: bool = False, catalog: list[dict[str, Any]] | None = None) -> dict:
    now = datetime.now(UTC)
    token: dict[str, Any] = {
        "methods": methods,
        "user": {"id": user_id, "name": user_id, "domain": {"id": "default",
                                                             "name": "Default"}},
        "roles": [{"id": f"id-{name}", "name": name} for name in roles],
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "expires_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "audit_ids": [uuid.uuid4().hex[:22]],
    }
    if system:
        token["system"] = {"all": True}
    else:
        token["project"] = {"id": project_id, "name": project_id,
                            "domain": {"id": "default", "name": "Default"}}
    if catalog is not None:
        token["catalog"] = catalog
    return {"token": token}


def _version(url: str) -> dict[str, Any]:
    return {"id": "v3.14", "status": "stable", "updated": "2024-01-01T00:00:00Z",
            "links": [{"rel": "self", "href": url}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}]}


def _parse_time(text: str) -> datetime:
    for pattern in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return datetime.fromisoformat(text)


class FakeKeystone:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self.domains: dict[str, dict[str, Any]] = {
            "default": {"id": "default", "name": "Default", "enabled": True}}
        self.roles: dict[tuple[str, str], list[str]] = {}
        self.credentials: dict[str, Ec2Credential] = {}
        self.tokens: dict[str, dict[str, Any]] = {}  # id -> scope
        self.calls: Counter[str] = Counter()
        self.fail: dict[str, int] = {}  # path prefix -> HTTP status to answer
        self.delay = 0.0
        self.empty_role_lists = 0  # the next N role assignment lists answered empty
        self.auth_ttl = timedelta(minutes=15)
        self.now = lambda: datetime.now(UTC)
        self.system_readers: set[str] = {SERVICE_USER_ID}
        self.token_validators: set[str] = {SERVICE_USER_ID}  # users with the service role
        self.user_tokens: dict[str, dict[str, Any]] = {}  # token id -> validation body
        self.user_token_status: dict[str, int] = {}  # token id -> error status to answer
        self.validation_queries: list[dict[str, list[str]]] = []
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    # --- set-up --------------------------------------------------------------------------

    def add_credential(self, access: str, secret: str, user_id: str = "user-a",
                       project_id: str = "project-a", roles: tuple[str, ...] = ("member",),
                       project_name: str | None = None, domain_id: str = "default",
                       **extra: str) -> Ec2Credential:
        self.users.setdefault(user_id, {"id": user_id, "enabled": True, "domain_id": domain_id})
        self.add_project(project_id, project_name, domain_id)
        self.roles[(user_id, project_id)] = list(roles)
        credential = Ec2Credential(access, secret, user_id, project_id, dict(extra))
        self.credentials[access] = credential
        return credential

    def add_project(self, project_id: str, name: str | None = None,
                    domain_id: str = "default", enabled: bool = True) -> dict[str, Any]:
        """A project (kept as it is when it exists), and its domain."""
        self.domains.setdefault(domain_id, {"id": domain_id, "name": domain_id,
                                            "enabled": True})
        return self.projects.setdefault(project_id, {
            "id": project_id, "name": name or project_id, "enabled": enabled,
            "domain_id": domain_id})

    def project_reference(self, project_id: str) -> dict[str, Any]:
        """A token's ``project``: id, name and domain (id and name)."""
        project = self.projects.get(project_id) or {"name": project_id,
                                                    "domain_id": "default"}
        domain = self.domains.get(project["domain_id"], {})
        return {"id": project_id, "name": project["name"],
                "domain": {"id": project["domain_id"], "name": domain.get("name", "")}}

    def add_user_token(self, user_id: str = "user-a", project_id: str = "project-a",
                       roles: tuple[str, ...] = ("member",), scope: str = "project",
                       expires_in: timedelta = timedelta(hours=1)) -> str:
        """A caller's token (``scope``: project, domain, system or unscoped) and its id."""
        body = _token(user_id, ["password"], list(roles), project_id=project_id,
                      system=scope == "system")
        token = body["token"]
        token["expires_at"] = (datetime.now(UTC) + expires_in).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        if scope == "project":
            token["project"] = self.project_reference(project_id)
        else:
            token.pop("project", None)
        if scope == "domain":
            token["domain"] = {"id": "default", "name": "Default"}
        if scope == "unscoped":
            token.pop("roles")
        token_id = "gAAAAAB" + uuid.uuid4().hex + uuid.uuid4().hex  # Fernet-like
        self.user_tokens[token_id] = body
        return token_id

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> FakeKeystone:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- answers -------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]], headers: Any,
               body: dict[str, Any] | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.calls[f"{method} {re.sub(r'/[0-9a-f]{64}$', '/<id>', path)}"] += 1
        if self.delay:
            time.sleep(self.delay)
        for prefix, status in self.fail.items():
            if path.startswith(prefix):
                return status, _error(status, "Failure", "failing on purpose"), {}
        if method == "GET" and path in ("/", ""):
            return 300, {"versions": {"values": [_version(self.url + "/v3/")]}}, {}
        if method == "GET" and path.rstrip("/") == "/v3":
            return 200, {"version": _version(self.url + "/v3/")}, {}
        if method == "POST" and path == "/v3/auth/tokens":
            return self._issue(body or {})
        scope = self.tokens.get(headers.get("X-Auth-Token", ""))
        if scope is None:
            return 401, UNAUTHORIZED, {}
        if method == "POST" and path == "/v3/ec2tokens":
            return self._ec2tokens((body or {}).get("credentials", {}))
        if method == "GET" and path == "/v3/auth/tokens":
            self.validation_queries.append(query)
            return self._validate(scope, headers.get("X-Subject-Token", ""))
        if method == "GET":
            if not (scope.get("system") and scope["user"] in self.system_readers):
                return 403, _error(403, "Forbidden", "You are not authorized"), {}
            return self._read(path, query)
        return 404, _error(404, "Not Found", "no such path"), {}

    def _issue(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        auth = body.get("auth", {})
        user = auth.get("identity", {}).get("password", {}).get("user", {})
        if (user.get("name") or user.get("id")) != USER or user.get("password") != PASSWORD:
            return 401, UNAUTHORIZED, {}
        requested = auth.get("scope", {})
        endpoints = [{"id": uuid.uuid4().hex, "interface": interface, "region": "RegionOne",
                      "region_id": "RegionOne", "url": self.url + "/v3"}
                     for interface in ("public", "internal", "admin")]
        catalog = [{"id": "identity-id", "type": "identity", "name": "keystone",
                    "endpoints": endpoints}]
        token = _token(SERVICE_USER_ID, ["password"], ["service"], catalog=catalog,
                       project_id=SERVICE_PROJECT_ID, system="system" in requested)
        token_id = uuid.uuid4().hex
        self.tokens[token_id] = {"user": SERVICE_USER_ID, "system": "system" in requested}
        return 201, token, {"X-Subject-Token": token_id}

    def _validate(self, caller: dict[str, Any],
                  subject: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if caller["user"] not in self.token_validators:
            return 403, _error(403, "Forbidden", "You are not authorized to perform the "
                               "requested action: identity:validate_token."), {}
        if subject in self.user_token_status:
            status = self.user_token_status[subject]
            return status, _error(status, "Refused", "refusing on purpose"), {}
        body = self.user_tokens.get(subject)
        if body is None or _parse_time(body["token"]["expires_at"]) <= self.now():
            return 404, _error(404, "Not Found", "Could not recognize Fernet token"), {}
        return 200, body, {"X-Subject-Token": subject}

    def _ec2tokens(self, creds: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if "access" not in creds:
            return 401, UNAUTHORIZED, {}
        credential = self.credentials.get(creds["access"])
        if credential is None:
            return 404, _error(404, "Not Found", "EC2 access key not found."), {}
        try:
            ok = Ec2Signer(credential.secret).generate(copy.deepcopy(creds)) == creds.get(
                "signature")
            if not ok and ":" in creds.get("host", ""):
                portless = {**copy.deepcopy(creds), "host": creds["host"].split(":")[0]}
                ok = Ec2Signer(credential.secret).generate(portless) == creds.get("signature")
        except Exception:  # the signer raises on what it does not understand
            return 500, _error(500, "Internal Server Error", "unexpected error"), {}
        user = self.users.get(credential.user_id, {})
        project = self.projects.get(credential.project_id, {})
        roles = self.roles.get((credential.user_id, credential.project_id), [])
        stamp = (creds.get("params", {}).get("Timestamp")
                 or creds.get("headers", {}).get("X-Amz-Date")
                 or creds.get("params", {}).get("X-Amz-Date"))
        expired = stamp and self.now() > _parse_time(stamp) + self.auth_ttl
        if not ok or not user.get("enabled") or not project.get("enabled") or expired \
                or not roles:
            return 401, UNAUTHORIZED, {}
        token = _token(credential.user_id, ["ec2credential"], roles,
                       project_id=credential.project_id)
        token["token"]["project"] = self.project_reference(credential.project_id)
        return 200, token, {"X-Subject-Token": uuid.uuid4().hex}

    def _read(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict, dict]:
        parts = path.strip("/").split("/")
        by_id = {c: cred for cred in self.credentials.values()
                 for c in [credential_id(cred.access)]}
        not_found = (404, _error(404, "Not Found", "Could not find it."), {})
        if parts[:2] == ["v3", "credentials"] and len(parts) == 3:
            cred = by_id.get(parts[2])
            if cred is None:
                return not_found
            blob = json.dumps({"access": cred.access, "secret": cred.secret, "trust_id": None,
                               **cred.extra})
            return 200, {"credential": {"id": parts[2], "type": "ec2", "blob": blob,
                                        "user_id": cred.user_id,
                                        "project_id": cred.project_id}}, {}
        tables = {"users": ("user", self.users), "projects": ("project", self.projects),
                  "domains": ("domain", self.domains)}
        if len(parts) == 3 and parts[1] in tables:
            key, table = tables[parts[1]]
            entry = table.get(parts[2])
            return (200, {key: entry}, {}) if entry else not_found
        if parts[:2] == ["v3", "role_assignments"]:
            user, project = query["user.id"][0], query["scope.project.id"][0]
            assert "effective" in query and "include_names" in query
            roles = self.roles.get((user, project), [])
            if self.empty_role_lists:  # as Keystone 30 answered now and then under load
                self.empty_role_lists -= 1
                roles = []
            return 200, {"role_assignments": [
                {"role": {"id": f"id-{name}", "name": name}, "user": {"id": user},
                 "scope": {"project": {"id": project}}} for name in roles]}, {}
        return not_found


def _handler(fake: FakeKeystone) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(parts.query, keep_blank_values=True)
            status, answer, headers = fake.answer(self.command, parts.path, query,
                                                  self.headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve  # http.server's method names

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
