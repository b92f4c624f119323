"""Smoke test of a running test bed: does each service answer the way the gateway needs?

    .venv/bin/python tools/testbed/smoke.py            # the gateway's venv, or
    .testbed/venv/bin/python tools/testbed/smoke.py    # the test bed's own

Reads $TESTBED_DIR/testbed.json (default <repo>/.testbed). Checks:
  keystone    the gateway user's token carries the service role
  ec2tokens   POST /v3/ec2tokens as the gateway user, for each tenant's EC2 credential
              signed with botocore's SigV4, returns that tenant's project; wrong secret 401,
              unknown key 404, no caller token 401
  credentials the gateway user reads an EC2 secret through /v3/credentials with a
              system-scoped token (its service-project token may not)
  gnocchi     a tenant creates a metric, writes measures, reads them back (refresh=true)
  aodh        a tenant creates, lists and deletes a threshold alarm on that metric
  heat        the gateway user, in a tenant's project, creates a stack with an
              OS::Heat::AutoScalingGroup of two (fake) OS::Nova::Server members; deletes it
  heat-aws    the same with AWS::AutoScaling::AutoScalingGroup + LaunchConfiguration
Prints one line per check and 'N passed, N failed'; exit status 0 when all pass.
"""

import hashlib
import json
import os
import pathlib
import sys
import time
import traceback
import urllib.parse
import uuid
import warnings

warnings.filterwarnings("ignore")

from aodhclient.v2 import client as aodh_client  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from gnocchiclient.v1 import client as gnocchi_client  # noqa: E402
from heatclient import client as heat_client  # noqa: E402
from heatclient import exc as heat_exc  # noqa: E402
from keystoneauth1 import session as ks_session  # noqa: E402
from keystoneauth1.identity import v3  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
TESTBED_DIR = pathlib.Path(os.environ.get("TESTBED_DIR", REPO / ".testbed"))
TB = json.loads((TESTBED_DIR / "testbed.json").read_text())
GATEWAY = TB["gateway"]
TENANT = TB["tenants"][0]
RESULTS = []


def check(fn):
    t0 = time.monotonic()
    try:
        fn()
    except Exception as e:
        RESULTS.append(False)
        print(f"FAIL {fn.__name__:15} {time.monotonic() - t0:5.1f}s  {e!r}", flush=True)
        traceback.print_exc()
    else:
        RESULTS.append(True)
        print(f"PASS {fn.__name__:15} {time.monotonic() - t0:5.1f}s", flush=True)
    return fn


def session(user, password, project_id=None, project_name=None, system=False):
    scope = {"system_scope": "all"} if system else (
        {"project_id": project_id} if project_id else
        {"project_name": project_name, "project_domain_name": "Default"})
    auth = v3.Password(auth_url=TB["auth_url"], username=user, password=password,
                       user_domain_name="Default", **scope)
    return ks_session.Session(auth=auth)


def gateway_session(**scope):
    return session(GATEWAY["username"], GATEWAY["password"], **scope)


def tenant_session(tenant):
    return session(tenant["user"], tenant["password"], project_id=tenant["project_id"])


def poll(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ------------------------------------------------------------------------- keystone
@check
def keystone():
    sess = gateway_session(project_name=GATEWAY["project_name"])
    roles = sess.auth.get_access(sess).role_names
    assert "service" in roles, roles


def signed_request(access, secret, url="http://127.0.0.1:8085/"):
    """A CloudWatch Query request as boto3 would send it, and its /v3/ec2tokens body."""
    body = "Action=ListMetrics&Version=2010-08-01&Namespace=AWS%2FEC2"
    req = AWSRequest(method="POST", url=url, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(access, secret), "monitoring", TB["region"]).add_auth(req)
    auth = req.headers["Authorization"]
    parts = urllib.parse.urlsplit(url)
    headers = {k: v for k, v in req.headers.items()}
    headers["Host"] = parts.netloc        # Keystone's checker wants these Title-Case names
    return {"credentials": {
        "access": access,
        "signature": auth.partition("Signature=")[2],
        "host": parts.netloc,
        "verb": "POST",
        "path": parts.path,
        "params": {},                     # for POST the canonical query string is empty
        "headers": headers,
        "body_hash": hashlib.sha256(body.encode()).hexdigest(),
    }}


def ec2tokens(body, sess=None):
    kwargs = {"authenticated": True} if sess else {"authenticated": False}
    s = sess or ks_session.Session()
    return s.post(TB["auth_url"] + "/ec2tokens", json=body, raise_exc=False, **kwargs)


@check
def ec2tokens_sigv4():
    sess = gateway_session(project_name=GATEWAY["project_name"])
    for tenant in TB["tenants"]:
        r = ec2tokens(signed_request(tenant["ec2_access"], tenant["ec2_secret"]), sess)
        assert r.status_code == 200, (tenant["name"], r.status_code, r.text)
        token = r.json()["token"]
        assert token["project"]["id"] == tenant["project_id"], token["project"]
        assert "member" in [role["name"] for role in token["roles"]], token["roles"]
    a = TB["tenants"][0]
    assert ec2tokens(signed_request(a["ec2_access"], "wrong-secret"), sess).status_code == 401
    assert ec2tokens(signed_request("no-such-key", "x"), sess).status_code == 404
    assert ec2tokens(signed_request(a["ec2_access"], a["ec2_secret"])).status_code == 401


@check
def credentials():
    credential_id = hashlib.sha256(TENANT["ec2_access"].encode()).hexdigest()
    path = TB["auth_url"] + "/credentials/" + credential_id
    r = gateway_session(system=True).get(path, raise_exc=False)
    assert r.status_code == 200, (r.status_code, r.text)
    blob = json.loads(r.json()["credential"]["blob"])
    assert blob["secret"] == TENANT["ec2_secret"], blob
    assert r.json()["credential"]["project_id"] == TENANT["project_id"]
    r = gateway_session(project_name=GATEWAY["project_name"]).get(path, raise_exc=False)
    assert r.status_code == 403, ("service role alone should not read credentials", r.status_code)


# ------------------------------------------------------------------------- gnocchi / aodh
METRIC = {}


@check
def gnocchi():
    gn = gnocchi_client.Client(session=tenant_session(TENANT))
    metric = gn.metric.create(name="smoke-" + uuid.uuid4().hex[:8], archive_policy_name="medium")
    METRIC.update(metric)
    now = time.time() // 60 * 60
    stamps = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60 * i)) for i in (2, 1, 0)]
    values = (1.0, 2.0, 4.0)
    gn.metric.add_measures(metric["id"], [{"timestamp": t, "value": v}
                                          for t, v in zip(stamps, values, strict=True)])
    points = gn.metric.get_measures(metric["id"], granularity=60, refresh=True)
    assert [p[2] for p in points] == list(values), points


@check
def aodh():
    ao = aodh_client.Client(session=tenant_session(TENANT))
    alarm = ao.alarm.create({
        "name": "smoke-" + uuid.uuid4().hex[:8],
        "type": "gnocchi_aggregation_by_metrics_threshold",
        "gnocchi_aggregation_by_metrics_threshold_rule": {
            "metrics": [METRIC["id"]], "threshold": 50.0, "comparison_operator": "gt",
            "aggregation_method": "mean", "granularity": 60, "evaluation_periods": 1},
        "alarm_actions": ["http://127.0.0.1:9/never-called"]})
    assert alarm["alarm_id"] in [a["alarm_id"] for a in ao.alarm.list()]
    ao.alarm.delete(alarm["alarm_id"])
    gnocchi_client.Client(session=tenant_session(TENANT)).metric.delete(METRIC["id"])


# ------------------------------------------------------------------------- heat
HOT = """
heat_template_version: 2021-04-16
resources:
  group:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 3
      desired_capacity: 2
      resource:
        type: OS::Nova::Server
        properties: {image: cirros, flavor: m1.tiny}
outputs:
  addresses: {value: {get_attr: [group, outputs_list, first_address]}}
"""

AWS = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "LaunchConfig": {"Type": "AWS::AutoScaling::LaunchConfiguration",
                         "Properties": {"ImageId": "ami-12345678", "InstanceType": "m1.small"}},
        "Group": {"Type": "AWS::AutoScaling::AutoScalingGroup",
                  "Properties": {"AvailabilityZones": ["nova"],
                                 "LaunchConfigurationName": {"Ref": "LaunchConfig"},
                                 "MinSize": "1", "MaxSize": "3", "DesiredCapacity": "2"}}}}


def stack_round_trip(template, group, check_member):
    # The gateway's own user, with a password token scoped to the tenant's project: a token
    # minted by /v3/ec2tokens cannot create the trust Heat makes at stack create.
    heat = heat_client.Client("1", session=gateway_session(project_id=TENANT["project_id"]),
                              region_name=TB["region"])
    name = "smoke-" + uuid.uuid4().hex[:8]
    stack_id = heat.stacks.create(stack_name=name, template=template)["stack"]["id"]
    try:
        stack = poll(lambda: (lambda s: s if not s.stack_status.endswith("IN_PROGRESS") else None)(
            heat.stacks.get(stack_id)), 120, "stack create")
        assert stack.stack_status == "CREATE_COMPLETE", (stack.stack_status,
                                                          stack.stack_status_reason)
        nested = heat.resources.get(stack_id, group).physical_resource_id
        members = [(m.resource_type, m.physical_resource_id) for m in heat.resources.list(nested)]
        assert len(members) == 2 and all(check_member(*m) for m in members), members
    finally:
        heat.stacks.delete(stack_id)

    def gone():
        try:
            return heat.stacks.get(stack_id).stack_status == "DELETE_COMPLETE"
        except heat_exc.HTTPNotFound:
            return True
    poll(gone, 60, "stack delete")


@check
def heat():
    stack_round_trip(HOT, "group", lambda kind, _id: kind == "OS::Nova::Server")


@check
def heat_aws():
    # members are AWS::EC2::Instance behind Heat's OS::Heat::ScaledResource alias
    stack_round_trip(json.dumps(AWS), "Group",
                     lambda kind, physical_id: (kind == "OS::Heat::ScaledResource"
                                                and physical_id.startswith("i-")))


if __name__ == "__main__":
    passed = sum(RESULTS)
    print(f"{passed} passed, {len(RESULTS) - passed} failed")
    sys.exit(0 if passed == len(RESULTS) else 1)
