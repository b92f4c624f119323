"""Python half of the test bed driver (up.sh calls it; see README.md).

    testbed.py configure     render etc/*.conf and the paste files into $TESTBED_DIR/etc
    testbed.py keystone      create projects, users, roles, the catalog and EC2 credentials
    testbed.py write-json    write $TESTBED_DIR/testbed.json (what tests read)
    testbed.py env [WHO]     print shell exports for WHO: gateway (default), admin,
                             tenant-a, tenant-b, tenant-c, tenant-d

`configure` and `keystone` need the test bed's venv; `write-json` and `env` need only the
standard library. Settings come from the TB_* variables that lib.sh exports.
"""

import datetime
import importlib.util
import json
import os
import pathlib
import shlex
import string
import sys
import warnings

HERE = pathlib.Path(__file__).resolve().parent
ENV = os.environ

GATEWAY_USER = "cfn-gateway"
# tests/unit and tests/openstack use the first two, tests/functional, which tools/run-tests
# runs at the same time, the other two (CFN_TEST_TENANTS_FROM=2).
TENANTS = ("tenant-a", "tenant-b", "tenant-c", "tenant-d")
# OpenStack services: (user, service name, service type, URL path after host:port)
SERVICES = (
    ("gnocchi", "gnocchi", "metric", ""),
    ("aodh", "aodh", "alarming", ""),
    ("heat", "heat", "orchestration", "/v1/%(tenant_id)s"),
    ("heat", "heat-cfn", "cloudformation", "/v1"),
)


def testbed_dir():
    return pathlib.Path(ENV["TESTBED_DIR"])


def url(port_var, path=""):
    return f"http://{ENV['TB_HOST']}:{ENV[port_var]}{path}"


def keystone_url():
    return url("TB_KEYSTONE_PORT", "/v3")


def write_atomically(path, text):
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------- configure

def authtoken_section(user, service_type):
    """Body of a [keystone_authtoken] section for an OpenStack service's own user."""
    return "\n".join([
        f"www_authenticate_uri = {keystone_url()}",
        f"auth_url = {keystone_url()}",
        "auth_type = password",
        f"username = {user}",
        f"password = {ENV['TB_PASSWORD']}",
        "project_name = service",
        "user_domain_name = Default",
        "project_domain_name = Default",
        f"service_type = {service_type}",
    ])


def package_file(package, relative):
    spec = importlib.util.find_spec(package)
    return pathlib.Path(spec.origin).parent / relative


def paste_with_config_file(source, project, conf):
    """keystonemiddleware with oslo_config_project only reads /etc/<project>: name our file."""
    text = pathlib.Path(source).read_text()
    line = f"oslo_config_project = {project}"
    return text.replace(line, f"{line}\noslo_config_file = {conf}")


def key_repository(path):
    """What `keystone-manage fernet_setup` / `credential_setup` make (each costs ~2 s of
    CPU to start): key 0 staged, key 1 primary, readable by this user only."""
    from cryptography.fernet import Fernet

    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for index in ("0", "1"):
        key = path / index
        if not key.exists():
            key.touch(mode=0o600)
            key.write_bytes(Fernet.generate_key())


def configure():
    etc = pathlib.Path(ENV["TB_ETC"])
    data = pathlib.Path(ENV["TB_DATA"])
    # fernet-keys serves [fernet_tokens] and [fernet_receipts] (see etc/keystone.conf)
    key_repository(data / "keystone" / "fernet-keys")
    key_repository(data / "keystone" / "credential-keys")
    values = dict(ENV)
    values.update(
        TB_HOME=str(HERE),
        TB_AUTHTOKEN_gnocchi=authtoken_section("gnocchi", "metric"),
        TB_AUTHTOKEN_aodh=authtoken_section("aodh", "alarming"),
        TB_AUTHTOKEN_heat=authtoken_section("heat", "orchestration"),
    )
    for name in ("keystone", "gnocchi", "aodh", "heat"):
        (etc / name / (name + ".conf.d")).mkdir(parents=True, exist_ok=True)  # --config-dir
        (data / name / "oslo-locks").mkdir(parents=True, exist_ok=True)   # [oslo_concurrency]
        template = string.Template((HERE / "etc" / (name + ".conf")).read_text())
        (etc / name / (name + ".conf")).write_text(template.substitute(values))
    (data / "aodh" / "coordination").mkdir(parents=True, exist_ok=True)  # the evaluators (tooz)

    for project, source in (("gnocchi", package_file("gnocchi", "rest/api-paste.ini")),
                            ("aodh", package_file("aodh", "api/api-paste.ini"))):
        conf = etc / project / (project + ".conf")
        (etc / project / "api-paste.ini").write_text(paste_with_config_file(source, project, conf))

    # Heat keeps its paste file, default environment and templates under <venv>/etc/heat.
    heat_src = pathlib.Path(sys.prefix) / "etc" / "heat"
    (etc / "heat" / "api-paste.ini").write_text((heat_src / "api-paste.ini").read_text())
    for sub in ("environment.d", "templates"):
        (etc / "heat" / sub).mkdir(exist_ok=True)
        for f in (heat_src / sub).iterdir():
            text = f.read_text().replace("file:///etc/heat/templates/",
                                         f"file://{etc / 'heat' / 'templates'}/")
            (etc / "heat" / sub / f.name).write_text(text)


# ---------------------------------------------------------------------------- keystone

class KeystoneSetup:
    """Accounts, roles and the catalog, made with python-keystoneclient (the `openstack`
    CLI costs ~4 s a call). Safe to run twice: everything is looked up before it is made."""

    def __init__(self):
        warnings.filterwarnings("ignore")
        from keystoneauth1 import session
        from keystoneauth1.identity import v3
        from keystoneclient.v3 import client

        auth = v3.Password(auth_url=keystone_url(), username="admin", password=ENV["TB_PASSWORD"],
                           project_name="admin", user_domain_name="Default",
                           project_domain_name="Default")
        self.ks = client.Client(session=session.Session(auth=auth), interface="public",
                                region_name=ENV["TB_REGION"])
        # Each call costs Keystone tens of milliseconds: list once, then create what is missing.
        self._roles = {r.name: r for r in self.ks.roles.list()}
        self._projects = {(p.domain_id, p.name): p for p in self.ks.projects.list()}
        self._users = {(u.domain_id, u.name): u for u in self.ks.users.list()}

    def role(self, name):
        if name not in self._roles:
            self._roles[name] = self.ks.roles.create(name)
        return self._roles[name]

    def project(self, name, description=""):
        if ("default", name) not in self._projects:
            self._projects["default", name] = self.ks.projects.create(
                name, "default", description=description)
        return self._projects["default", name]

    def user(self, name, domain_id="default", project=None):
        if (domain_id, name) not in self._users:
            self._users[domain_id, name] = self.ks.users.create(
                name, domain=domain_id, password=ENV["TB_PASSWORD"], default_project=project)
        return self._users[domain_id, name]

    def grant(self, role, user, **target):
        self.ks.roles.grant(self.role(role), user=user, **target)

    def catalog(self):
        services = {s.type: s for s in self.ks.services.list()}
        endpoints = {(e.service_id, e.interface) for e in self.ks.endpoints.list()}
        for _user, name, service_type, path in SERVICES:
            port = {"metric": "TB_GNOCCHI_PORT", "alarming": "TB_AODH_PORT",
                    "orchestration": "TB_HEAT_PORT",
                    "cloudformation": "TB_HEAT_CFN_PORT"}[service_type]
            service = services.get(service_type) or self.ks.services.create(name, type=service_type)
            for interface in ("public", "internal", "admin"):
                if (service.id, interface) not in endpoints:
                    self.ks.endpoints.create(service, url(port, path), interface=interface,
                                             region=ENV["TB_REGION"])

    def ec2_credential(self, user, project):
        for cred in self.ks.ec2.list(user.id):
            if cred.tenant_id == project.id:
                return cred
        return self.ks.ec2.create(user.id, project.id)

    def run(self):
        admin = self.user("admin")
        admin_project = self.project("admin")
        service_project = self.project("service", description="OpenStack services")
        for name in ("admin", "member", "reader", "service", "heat_stack_owner", "heat_stack_user"):
            self.role(name)

        # OpenStack services' own users: admin + service in the service project.
        for name in sorted({s[0] for s in SERVICES}):
            u = self.user(name, project=service_project)
            self.grant("admin", u, project=service_project)
            self.grant("service", u, project=service_project)
        self.catalog()

        # Heat's domain for the users it makes for stacks, and that domain's admin.
        found = self.ks.domains.list(name="heat")
        heat_domain = found[0] if found else self.ks.domains.create(
            "heat", description="Heat stack users")
        domain_admin = self.user("heat_domain_admin", domain_id=heat_domain.id)
        self.grant("admin", domain_admin, domain=heat_domain)
        self.grant("heat_stack_owner", admin, project=admin_project)

        # The gateway's service user:
        #  - service on the service project: POST /v3/ec2tokens (admin or service) and
        #    validating tokens;
        #  - reader on the system: GET /v3/credentials/{id} with a system-scoped token, to
        #    fetch an EC2 secret and verify signatures Keystone's checker cannot (SigV2
        #    HmacSHA1, presigned POST); the service role alone does not allow it;
        #  - member on each tenant project: a token minted by ec2tokens cannot create the
        #    trust Heat makes at stack create, so the gateway creates stacks itself with a
        #    password token scoped to the caller's project.
        gateway = self.user(GATEWAY_USER, project=service_project)
        self.grant("service", gateway, project=service_project)
        self.grant("reader", gateway, system="all")

        tenants = []
        for name in TENANTS:
            project = self.project(name, description="cfn-gateway test tenant")
            user = self.user(name + "-user", project=project)
            self.grant("member", user, project=project)
            self.grant("member", gateway, project=project)
            cred = self.ec2_credential(user, project)
            tenants.append({
                "name": name, "project_id": project.id,
                "user": user.name, "user_id": user.id, "password": ENV["TB_PASSWORD"],
                "ec2_access": cred.access, "ec2_secret": cred.secret,
            })

        accounts = {
            "admin": self.identity("admin", admin.id, "admin", admin_project.id, ["admin"]),
            "gateway": self.identity(GATEWAY_USER, gateway.id, "service", service_project.id,
                                     ["service"], system_roles=["reader"],
                                     tenant_roles=["member"]),
            "tenants": tenants,
            "service_project_id": service_project.id,
            "stack_user_domain": {"name": "heat", "id": heat_domain.id},
        }
        write_atomically(testbed_dir() / "run" / "keystone.json", json.dumps(accounts, indent=2))

    @staticmethod
    def identity(username, user_id, project_name, project_id, roles, **extra):
        ident = {"username": username, "user_id": user_id, "password": ENV["TB_PASSWORD"],
                 "project_name": project_name, "project_id": project_id,
                 "user_domain_name": "Default", "project_domain_name": "Default", "roles": roles}
        ident.update(extra)
        return ident


# ---------------------------------------------------------------------------- testbed.json

def read_pid(name):
    try:
        return int((testbed_dir() / "run" / (name + ".pid")).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_json(timings):
    """testbed.json anew; without timings (service.sh), those of the current one are kept."""
    accounts = json.loads((testbed_dir() / "run" / "keystone.json").read_text())
    current = testbed_dir() / "testbed.json"
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    transport_url = ENV.get("TB_AMQP_URL")
    if not timings and current.exists():
        previous = json.loads(current.read_text())
        timings, started_at = previous["timings_s"], previous["started_at"]
        transport_url = previous["transport_url"]
    services = (testbed_dir() / "run" / "services").read_text().split()
    logs = pathlib.Path(ENV["TB_LOGS"])
    doc = {
        "version": 1,
        "testbed_dir": str(testbed_dir()),
        "started_at": started_at,
        "auth_url": keystone_url(),
        "region": ENV["TB_REGION"],
        "gateway": accounts["gateway"],
        "admin": accounts["admin"],
        "tenants": accounts["tenants"],
        "endpoints": {
            "keystone": keystone_url(),
            "gnocchi": url("TB_GNOCCHI_PORT"),
            "aodh": url("TB_AODH_PORT"),
            "heat": url("TB_HEAT_PORT", "/v1/%(tenant_id)s"),
        },
        "stack_user_domain": accounts["stack_user_domain"],
        # heat-engine's cfn-gateway plugin calls the gateway here ([cfn_gateway] url)
        "heat_plugin_gateway_port": int(ENV["TB_GATEWAY_PORT"]),
        "service_project_id": accounts["service_project_id"],
        "database": {db: f"{ENV['TB_PG_URL']}/{ENV['TB_DB_PREFIX']}{db}"
                     for db in ENV["TB_DATABASES"].split()},
        "transport_url": transport_url,
        "log_dir": str(logs),
        "logs": {name: str(logs / (name + ".log")) for name in services},
        "pids": {name: read_pid(name) for name in services},
        "timings_s": timings,
    }
    # The evaluators share the alarms (tooz); "logs" and "pids" have an entry for each.
    doc["aodh_evaluators"] = [name for name in services if name.startswith("aodh-evaluator")]
    if "heat-api-cfn" in services:
        doc["endpoints"]["heat_cfn"] = url("TB_HEAT_CFN_PORT", "/v1")
    write_atomically(testbed_dir() / "testbed.json", json.dumps(doc, indent=2) + "\n")


def print_env(who):
    doc = json.loads((testbed_dir() / "testbed.json").read_text())
    tenants = {t["name"]: t for t in doc["tenants"]}
    out = {"CFNGW_TESTBED_JSON": str(testbed_dir() / "testbed.json"),
           "OS_AUTH_URL": doc["auth_url"], "OS_REGION_NAME": doc["region"],
           "OS_IDENTITY_API_VERSION": "3",
           "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}
    if who in ("gateway", "admin"):
        ident = doc[who]
        out.update(OS_USERNAME=ident["username"], OS_PASSWORD=ident["password"],
                   OS_PROJECT_NAME=ident["project_name"])
    elif who in tenants:
        t = tenants[who]
        out.update(OS_USERNAME=t["user"], OS_PASSWORD=t["password"], OS_PROJECT_NAME=t["name"],
                   AWS_ACCESS_KEY_ID=t["ec2_access"], AWS_SECRET_ACCESS_KEY=t["ec2_secret"])
    else:
        sys.exit(f"unknown identity {who!r}: gateway, admin or one of {', '.join(tenants)}")
    for key, value in out.items():
        print(f"export {key}={shlex.quote(value)}")


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "configure":
        configure()
    elif command == "keystone":
        KeystoneSetup().run()
    elif command == "write-json":
        # remaining arguments: name=seconds pairs
        timings = {}
        for arg in argv[2:]:
            name, _, seconds = arg.partition("=")
            timings[name] = float(seconds)
        write_json(timings)
    elif command == "env":
        print_env(argv[2] if len(argv) > 2 else "gateway")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
