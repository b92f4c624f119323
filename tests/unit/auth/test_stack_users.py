"""Heat stack users: the owner derived from the stack user project's name, checked with a
fake Keystone and cached; the identities both verification paths give them; the ec2auth
filter's use of it; and the policy that leaves them PutMetricData only."""

from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest

from cfn_gateway import errors
from cfn_gateway.auth import filter as ec2auth
from cfn_gateway.auth import stack_user_policy
from cfn_gateway.auth.keystone_api import KeystoneAPI
from cfn_gateway.auth.stack_users import (
    OWNER_TTL,
    REFUSED_TTL,
    StackUsers,
    in_domain,
    owner_project_id,
)
from cfn_gateway.context import AUTOSCALING, CLOUDWATCH, Identity

from .fake_keystone import FakeKeystone
from .samples import sigv4_post
from .test_keystone_token_filter import authenticate
from .test_keystone_verifier import Clock, make_verifier, parsed, service_session, sha1

OWNER = "0123456789abcdef0123456789abcdef"
STACK_ID = "6f2c9a1e-1111-4222-8333-944455556666"
HEAT_DOMAIN_ID, HEAT_DOMAIN = "d0m41n1d", "heat"
STACK_PROJECT = "stack-project-id"
SERVER = SimpleNamespace(access_key="AKIASTACKUSERKEY0001", secret_key="server-secret")


def stack_user(project_name: str = f"{OWNER}-{STACK_ID}"[:64], **changes) -> Identity:
    base = dict(project_id=STACK_PROJECT, access_key=SERVER.access_key, user_id="server-user",
                roles=("heat_stack_user",), project_name=project_name,
                project_domain_id=HEAT_DOMAIN_ID, project_domain_name=HEAT_DOMAIN)
    base.update(changes)
    return Identity(**base)


@pytest.fixture
def fake():
    fake = FakeKeystone().start()
    fake.domains[HEAT_DOMAIN_ID] = {"id": HEAT_DOMAIN_ID, "name": HEAT_DOMAIN,
                                    "enabled": True}
    fake.add_project(OWNER, "tenant-a")
    fake.add_credential(SERVER.access_key, SERVER.secret_key, user_id="server-user",
                        project_id=STACK_PROJECT, roles=("heat_stack_user",),
                        project_name=f"{OWNER}-{STACK_ID}"[:64], domain_id=HEAT_DOMAIN_ID)
    yield fake
    fake.stop()


def make(fake, domain: str = HEAT_DOMAIN, clock=None) -> StackUsers:
    api = KeystoneAPI(service_session(fake, system=True), endpoint=fake.url + "/v3",
                      timeout=2.0)
    return StackUsers(api, domain, clock=clock or Clock())


def owner_reads(fake) -> int:
    return fake.calls[f"GET /v3/projects/{OWNER}"]


# --- the owner in the project's name ---------------------------------------------------------

@pytest.mark.parametrize(("name", "owner"), [
    (f"{OWNER}-{STACK_ID}"[:64], OWNER),  # Heat's name, cut to 64 characters
    (f"{OWNER}-x", OWNER),
    (f"{OWNER}-{STACK_ID}-more-dashes", OWNER),  # up to the first dash
    (OWNER, None),  # no stack part
    (f"{OWNER}-", None),
    (f"{OWNER.upper()}-{STACK_ID}", None),  # Keystone's ids are lower-case
    (f"{OWNER[:-1]}-{STACK_ID}", None),  # 31 digits
    (f"{OWNER}0-{STACK_ID}", None),  # 33 digits
    (f"{OWNER[:-1]}g-{STACK_ID}", None),
    (f"-{OWNER}-{STACK_ID}", None),
    ("", None),
    ("tenant-a", None),
])
def test_the_owner_is_the_names_32_hex_digits_before_the_first_dash(name, owner):
    assert owner_project_id(name) == owner


def test_the_domain_matches_by_id_or_name():
    identity = stack_user()
    assert in_domain(identity, HEAT_DOMAIN) and in_domain(identity, HEAT_DOMAIN_ID)
    assert not in_domain(identity, "Default") and not in_domain(identity, "")
    assert not in_domain(Identity(project_id="p"), "")  # standalone: nothing to match


# --- resolving -------------------------------------------------------------------------------

def test_a_stack_user_acts_in_its_owners_project(fake):
    resolved = make(fake).resolve(stack_user())
    assert resolved == replace(stack_user(), project_id=OWNER, stack_user_project=STACK_PROJECT)
    assert make(fake, HEAT_DOMAIN_ID).resolve(stack_user()).project_id == OWNER


def test_other_callers_are_left_alone_without_asking_keystone(fake):
    users = make(fake)
    tenant = Identity(project_id=OWNER, user_id="u", project_name="tenant-a",
                      project_domain_id="default", project_domain_name="Default")
    assert users.resolve(tenant) is tenant
    # A name of Heat's form outside the domain is nobody's business either.
    lookalike = stack_user(project_domain_id="default", project_domain_name="Default")
    assert users.resolve(lookalike) is lookalike
    assert not any("/projects/" in call for call in fake.calls)


@pytest.mark.parametrize("name", ["tenant-a", OWNER, f"{OWNER.upper()}-{STACK_ID}"])
def test_a_name_without_an_owner_is_access_denied(fake, name):
    with pytest.raises(errors.AccessDenied, match="does not name a stack owner's project"):
        make(fake).resolve(stack_user(name))
    assert not any("/projects/" in call for call in fake.calls)


@pytest.mark.parametrize("change", ["missing", "disabled", "in the stack user domain"])
def test_an_owner_keystone_does_not_vouch_for_is_access_denied(fake, change):
    if change == "missing":
        del fake.projects[OWNER]
    elif change == "disabled":
        fake.projects[OWNER]["enabled"] = False
    else:
        fake.projects[OWNER]["domain_id"] = HEAT_DOMAIN_ID
    with pytest.raises(errors.AccessDenied, match=f"owner project {OWNER} .* does not exist"):
        make(fake).resolve(stack_user())


def test_answers_are_cached_positive_for_minutes_negative_for_seconds(fake):
    clock = Clock()
    users = make(fake, clock=clock)
    users.resolve(stack_user())
    fake.projects[OWNER]["enabled"] = False
    clock.now += OWNER_TTL - 1
    assert users.resolve(stack_user()).project_id == OWNER  # still cached
    assert owner_reads(fake) == 1
    clock.now += 2
    with pytest.raises(errors.AccessDenied):
        users.resolve(stack_user())
    fake.projects[OWNER]["enabled"] = True
    clock.now += REFUSED_TTL - 1
    with pytest.raises(errors.AccessDenied):  # the refusal is cached too
        users.resolve(stack_user())
    assert owner_reads(fake) == 2
    clock.now += 2
    assert users.resolve(stack_user()).project_id == OWNER
    assert owner_reads(fake) == 3


def test_the_caches_are_bounded(fake):
    users = StackUsers(make(fake).api, HEAT_DOMAIN, size=2, clock=Clock())
    owners = [f"{i:032x}" for i in range(1, 4)]
    for owner in owners:
        fake.add_project(owner)
        users.resolve(stack_user(f"{owner}-{STACK_ID}"))
    assert len(users.owners) == 2


def test_keystone_unavailable_is_service_unavailable_briefly(fake):
    clock = Clock()
    users = make(fake, clock=clock)
    fake.fail["/v3/projects"] = 503
    with pytest.raises(errors.ServiceUnavailable):
        users.resolve(stack_user())
    del fake.fail["/v3/projects"]
    with pytest.raises(errors.ServiceUnavailable):  # kept a second for queued callers
        users.resolve(stack_user())
    clock.now += 1.5
    assert users.resolve(stack_user()).project_id == OWNER


def test_one_read_per_owner_at_a_time(fake):
    users = make(fake)
    fake.delay = 0.2
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(
        users.resolve(stack_user()).project_id)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [OWNER] * 6
    assert owner_reads(fake) == 1


# --- what Keystone says of the caller's project, both ways -----------------------------------

@pytest.mark.parametrize("local_check", ["never", "always"])
def test_both_verification_paths_give_the_project_name_and_domain(fake, local_check):
    verifier = make_verifier(fake, local_check=local_check)
    identity = verifier.verify(parsed(sigv4_post(SERVER)))
    assert (identity.project_id, identity.project_name, identity.project_domain_id,
            identity.project_domain_name) == (STACK_PROJECT, f"{OWNER}-{STACK_ID}"[:64],
                                              HEAT_DOMAIN_ID, HEAT_DOMAIN)
    assert make(fake).resolve(identity).project_id == OWNER


def test_the_local_check_of_a_gap_form_gives_them_too(fake):
    identity = make_verifier(fake, local_check="gaps").verify(parsed(sha1(SERVER)))
    assert identity.project_domain_name == HEAT_DOMAIN


# --- the ec2auth filter ----------------------------------------------------------------------

def run_filter(fake, stack_users_factory, request) -> Identity:
    auth = ec2auth.EC2Auth(None, lambda: make_verifier(fake, local_check="never"),
                           stack_users_factory=stack_users_factory)
    return authenticate(auth, request)


def test_the_filter_turns_stack_users_into_their_owners(fake):
    users = make(fake)
    identity = run_filter(fake, lambda: users, sigv4_post(SERVER))
    assert (identity.project_id, identity.stack_user_project) == (OWNER, STACK_PROJECT)


def test_without_the_option_a_stack_user_stays_in_its_own_project(fake):
    assert ec2auth.stack_users_factory_for("openstack") is None  # the option is unset
    assert ec2auth.stack_users_factory_for("standalone") is None
    identity = run_filter(fake, None, sigv4_post(SERVER))
    assert (identity.project_id, identity.stack_user_project) == (STACK_PROJECT, "")


# --- the policy ------------------------------------------------------------------------------

def test_a_stack_user_may_put_metric_data_only():
    resolved = replace(stack_user(), project_id=OWNER, stack_user_project=STACK_PROJECT)
    stack_user_policy.check(resolved, CLOUDWATCH, "PutMetricData")
    for service, operation in [(CLOUDWATCH, "DescribeAlarms"), (CLOUDWATCH, "ListMetrics"),
                               (CLOUDWATCH, "GetMetricData"), (CLOUDWATCH, "PutMetricAlarm"),
                               (AUTOSCALING, "DescribeAutoScalingGroups"),
                               (AUTOSCALING, "PutMetricData")]:
        with pytest.raises(errors.AccessDenied) as caught:
            stack_user_policy.check(resolved, service, operation)
        assert caught.value.status == 403
        assert caught.value.message == (
            f"User: arn:aws:iam::{OWNER}:user/server-user is not authorized to perform: "
            f"{service}:{operation}")


def test_other_callers_may_call_anything():
    stack_user_policy.check(Identity(project_id="p"), CLOUDWATCH, "DescribeAlarms")
    stack_user_policy.check(stack_user(), AUTOSCALING, "DeleteAutoScalingGroup")  # unresolved
