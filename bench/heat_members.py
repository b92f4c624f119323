"""How long the Heat instance driver takes to converge a group's stack, by size and layout.

On the running test bed (tools/testbed/up.sh: Heat 27, convergence, the fake
``OS::Nova::Server`` that is created at once), for each layout of the group's template —
``bookends`` (what the driver uses: every member depends on one ``OS::Heat::None`` and
one more depends on every member) and ``flat`` (the members alone) — and each size N
(default 10 and 100), times from ``apply`` until Heat is done and ``observe`` shows
exactly the wanted members RUNNING:

    0 -> N (create), N -> N+1 (one added), N+1 -> N (a chosen one removed, from the
    middle), N -> N (the same members again: a no-op update), then ``forget`` until the
    stack is gone.

It checks that the members kept stay the same servers (physical ids) and prints, per
step, the seconds, how long ``apply`` itself took, and how long after it returned Heat
first listed every wanted member (before that, ``observe`` does not show the new ones).
Groups are new each run (their own group ids) and deleted at the end.

    tools/testbed/up.sh && .venv/bin/python bench/heat_members.py [--sizes 10,100]
        [--layouts bookends,flat] [--json FILE]

The flat layout costs about one second per member per update (Heat waits a second after
triggering each leaf of a traversal), so the default run takes about 8 minutes, most of
it the flat 100.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keystoneauth1 import loading as ks_loading  # noqa: E402

from cfn_gateway.backends.instances import RUNNING, Member  # noqa: E402
from cfn_gateway.common import openstack_session  # noqa: E402
from cfn_gateway.config import CONF, SERVICE_CREDENTIALS  # noqa: E402
from cfn_gateway.domain.launch_configurations import LaunchConfiguration  # noqa: E402
from tests.testbed import load_testbed  # noqa: E402

LC = LaunchConfiguration(name="bench", arn="arn:lc:bench", created_at=datetime.now(UTC),
                         image_id="cirros", instance_type="m1.small")
TIMEOUT = 900.0


def configure(testbed: dict[str, Any]) -> str:
    """CONF for the gateway's service user of the test bed; the first tenant's project."""
    user = testbed["gateway"]
    CONF.register_opts(ks_loading.get_auth_plugin_conf_options("password"),
                       group=SERVICE_CREDENTIALS)
    for name, value in {
        "auth_type": "password", "auth_url": testbed["auth_url"],
        "username": user["username"], "password": user["password"],
        "project_name": user["project_name"],
        "user_domain_name": user.get("user_domain_name", "Default"),
        "project_domain_name": user.get("project_domain_name", "Default"),
    }.items():
        CONF.set_override(name, value, SERVICE_CREDENTIALS)
    CONF.set_override("region_name", testbed.get("region"), "openstack")
    openstack_session.service_session.cache_clear()
    return testbed["tenants"][0]["project_id"]


def new_members(count: int) -> list[Member]:
    return [Member("i-" + secrets.token_hex(9)[:17], "nova", LC) for _ in range(count)]


def converge(driver: Any, project: str, group_id: str, members: list[Member],
             call: Callable[[], None]) -> tuple[float, float, float]:
    """Seconds the call took, until settled, and from the call's return until every wanted
    member was listed."""
    wanted = {m.instance_id: RUNNING for m in members}
    started = time.monotonic()
    call()
    returned = time.monotonic()
    listed = None
    while True:
        observed = driver.observe(project, group_id)
        now = time.monotonic()
        if listed is None and set(wanted) <= set(observed):
            listed = now - returned
        if observed == wanted:
            stack = driver.stack(project, group_id)
            if stack is not None and not stack.in_progress:
                return returned - started, now - started, listed or 0.0
        if now - started > TIMEOUT:
            raise RuntimeError(f"group {group_id} did not settle at {len(wanted)} members: "
                               f"{driver.stack(project, group_id)}")
        time.sleep(0.1)


def run_layout(driver: Any, project: str, size: int) -> dict[str, Any]:
    group_id = str(uuid.uuid4())
    results: dict[str, Any] = {}

    def step(label: str, members: list[Member]) -> None:
        call, seconds, listed = converge(driver, project, group_id, members,
                                         lambda: driver.apply(project, group_id, members))
        results[label] = {"seconds": round(seconds, 2), "apply_call": round(call, 2),
                          "listed_after_return": round(listed, 2)}
        print(f"  {label:<22} {seconds:7.2f} s   (apply returned after {call:.2f} s, all "
              f"listed {listed:.2f} s later)", flush=True)

    try:
        group = new_members(size)
        step(f"0 -> {size}", group)
        before = {i: s.physical_id for i, s in driver.observe_members(project,
                                                                        group_id).items()}
        group.append(new_members(1)[0])
        step(f"{size} -> {size + 1}", group)
        group.pop(size // 2)
        step(f"{size + 1} -> {size}", group)
        step(f"{size} -> {size} (no-op)", group)
        after = {i: s.physical_id for i, s in driver.observe_members(project, group_id).items()}
        kept = all(after[i] == before[i] for i in after if i in before)
        results["kept_members_same_servers"] = kept
        print(f"  members kept are the same servers: {kept}")
        started = time.monotonic()
        driver.forget(project, group_id)
        while driver.stack(project, group_id) is not None:
            time.sleep(0.1)
        results["forget"] = {"seconds": round(time.monotonic() - started, 2)}
        print(f"  {'forget until gone':<22} {results['forget']['seconds']:7.2f} s")
    finally:
        driver.forget(project, group_id)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100",
                        help="group sizes N, comma-separated (default 10,100)")
    parser.add_argument("--layouts", default="bookends,flat",
                        help="bookends (the driver's), flat, or both (default)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    testbed = load_testbed()
    if testbed is None:
        print("no test bed: run tools/testbed/up.sh first", file=sys.stderr)
        return 2
    project = configure(testbed)
    from cfn_gateway.backends.openstack.heat_instances import HeatInstances

    layouts = args.layouts.split(",")
    if set(layouts) - {"bookends", "flat"}:
        parser.error(f"unknown layout in {args.layouts!r}")
    results: dict[str, Any] = {}
    for layout in layouts:
        driver = HeatInstances(bookends=(layout == "bookends"))
        for size in (int(n) for n in args.sizes.split(",")):
            print(f"{layout}, {size} members:", flush=True)
            results[f"{layout}/{size}"] = run_layout(driver, project, size)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
