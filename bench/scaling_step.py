"""How long one Auto Scaling scaling step takes, by group size, in both gateway modes.

Run on demand (it is not a test), from the repository root::

    tools/testbed/up.sh                                  # OpenStack mode needs the test bed
    .venv/bin/python bench/scaling_step.py               # sizes 1,10,50,100, both modes
    .venv/bin/python bench/scaling_step.py --modes standalone --sizes 10,100 --rounds 3

For each mode (``standalone``: SQLite and the no-cloud instance driver, whose instances
run at once; ``openstack``: the test bed's Keystone and Heat, whose fake servers are
created at once) a real ``cfn-gateway serve`` is started on 127.0.0.1
(``tests.functional.server``), with the engine it runs beside its workers, which steps
unsettled groups about once a second.  Then, for each group size N, through boto3
(``tests.functional.clients``; a credential of the gateway's own CLI in standalone mode,
the first test-bed tenant's EC2 credential in OpenStack mode):

1. **create**: CreateAutoScalingGroup (MinSize 0, MaxSize N+1, DesiredCapacity N) until
   DescribeAutoScalingGroups shows N instances, all InService;
2. **+1**: SetDesiredCapacity N+1 until N+1 InService;
3. **-1**: SetDesiredCapacity N until exactly N InService and the instance taken out no
   longer listed;
4. **policy +1**: ExecutePolicy (HonorCooldown) of a SimpleScaling ChangeInCapacity +1
   policy with Cooldown 0 until N+1 InService;
5. **delete**: DeleteAutoScalingGroup with ForceDelete until the group is no longer
   listed.

DescribeAutoScalingGroups is polled every 0.2 s, so every time is rounded up to the
next poll.  Each step also records how long its own call took (the SetDesiredCapacity
latency is a column) and when every new instance was first listed (any state), or the
instance taken out first Terminating.  In OpenStack mode the bench also counts, in the
test bed's heat-api log, the requests that named the group's stack during each step
(stack updates: PUT; ``observe``: GET .../resources; DELETE), by the stack's name
``cfngw-asg-<group id>``, so that other users of the test bed do not count.

A step that has not settled after ``--timeout`` seconds is reported as not settled, the
steps after it are skipped, and the group is force-deleted; in OpenStack mode, when that
does not end within a minute either, the bench deletes the group's Heat stack itself
(with the gateway's service user, as bench/heat_members.py does), which lets the
gateway finish the deletion.

``--rounds`` repeats every (mode, size), interleaved; the table shows medians.  A default
run takes about 5-15 minutes; progress goes to stderr.  Every gateway this starts is
stopped by its pid (its own process group) at the end, even after an error, SIGTERM or
Ctrl-C; a Heat stack of a group that could not be deleted through the gateway is deleted
after that.  Results and their reading: README.md in this folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.functional.clients import boto3_client  # noqa: E402
from tests.functional.conftest import openstack_config, tenant_credentials  # noqa: E402
from tests.functional.server import Credentials, GatewayProcess, free_port  # noqa: E402
from tests.testbed import load_testbed  # noqa: E402

MODES = ("standalone", "openstack")
PHASES = ("create", "+1", "-1", "policy +1", "delete")
POLL_SECONDS = 0.2
#: How long a clean-up waits for a force-deleted group before it helps in Heat.
CLEANUP_WAIT = 60.0
HEAT_REQUEST = re.compile(r"Processing request: (\w+) (\S+)")

Instances = list[dict[str, Any]] | None
Check = Callable[[Instances], bool]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


class NotSettled(BenchError):
    def __init__(self, message: str, early_s: float | None, last_seen: str) -> None:
        super().__init__(message)
        self.early_s = early_s
        self.last_seen = last_seen


# --- the gateways and the test bed ----------------------------------------------------------


@dataclass
class Gateway:
    mode: str
    process: GatewayProcess
    creds: Credentials
    testbed: dict[str, Any] | None = None
    heat_log: Path | None = None
    #: group ids whose Heat stacks may outlive the gateway (their deletion did not end)
    leftovers: list[str] = field(default_factory=list)

    def client(self) -> Any:
        return boto3_client("autoscaling", self.process.endpoint, self.creds)


def testbed_or_fail() -> dict[str, Any]:
    """The test bed's facts, once ``tools/testbed/status.sh`` says every service runs."""
    testbed = load_testbed()
    if testbed is None:
        raise BenchError("OpenStack mode needs the test bed, and .testbed/testbed.json is "
                         "missing: start it with tools/testbed/up.sh (or leave it out: "
                         "--modes standalone)")
    status = subprocess.run([str(ROOT / "tools/testbed/status.sh")], capture_output=True,
                            text=True, timeout=60)
    if status.returncode != 0:
        raise BenchError("the test bed is not (fully) up; tools/testbed/status.sh says:\n"
                         f"{status.stdout}{status.stderr}\nstart it with tools/testbed/up.sh")
    return testbed


def start_gateway(mode: str, root: Path, workers: int,
                  testbed: dict[str, Any] | None) -> Gateway:
    folder = root / mode
    folder.mkdir(parents=True)
    config = None
    if mode == "openstack":
        assert testbed is not None
        config = openstack_config(folder / "cfn-gateway.conf", testbed)
    process = GatewayProcess(data_dir=folder / "data", port=free_port(),
                             log_path=folder / "gateway.log", config_file=config)
    started = time.monotonic()
    process.start(workers=workers, timeout=60)
    assert process.process is not None
    log(f"{mode}: gateway pid {process.process.pid} on {process.endpoint}, healthy after "
        f"{time.monotonic() - started:.1f} s")
    if mode == "openstack":
        assert testbed is not None
        heat_log = testbed.get("logs", {}).get("heat-api")
        return Gateway(mode, process, tenant_credentials(testbed, 0), testbed,
                       Path(heat_log) if heat_log else None)
    return Gateway(mode, process, process.create_credentials("bench-scaling"))


def gateway_problems(gateway: Gateway) -> list[str]:
    """What the gateway's log shows that it should not: tracebacks, 500s, errors."""
    try:
        text = gateway.process.log_text()
    except OSError:
        return []
    problems = []
    for marker in ("Traceback", "status=500", " ERROR "):
        count = text.count(marker)
        if count:
            problems.append(f"{count} x {marker.strip()!r}")
    return problems


def heat_driver(testbed: dict[str, Any]) -> tuple[Any, str]:
    """The gateway's Heat driver with the test bed's service user (bench/heat_members.py's
    set-up), and the first tenant's project: to delete a stack the gateway left."""
    sys.path.insert(0, str(ROOT / "bench"))
    from heat_members import configure

    project = configure(testbed)
    from cfn_gateway.backends.openstack.heat_instances import HeatInstances

    return HeatInstances(), project


def delete_stack(testbed: dict[str, Any], group_id: str, timeout: float) -> bool:
    """Delete the group's Heat stack; whether it was gone within ``timeout``."""
    driver, project = heat_driver(testbed)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        driver.forget(project, group_id)  # again if the gateway made a new one meanwhile
        if driver.stack(project, group_id) is None:
            return True
        time.sleep(1.0)
    return False


class HeatCounter:
    """Requests naming one stack that heat-api logged since ``mark()``."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.stack: str | None = None
        self.offset = 0

    def mark(self) -> None:
        if self.path is not None and self.path.exists():
            self.offset = self.path.stat().st_size

    def counts(self) -> dict[str, int] | None:
        if self.path is None or self.stack is None or not self.path.exists():
            return None
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode(errors="replace")
        out = {"PUT": 0, "GET resources": 0, "DELETE": 0, "other": 0}
        for method, path in HEAT_REQUEST.findall(text):
            if self.stack not in path:
                continue
            if method == "GET" and path.endswith("/resources"):
                out["GET resources"] += 1
            elif method in out:
                out[method] += 1
            else:
                out["other"] += 1
        return out


def heat_text(phase: Phase) -> str:
    counts = phase.heat
    if counts is None:
        return ""
    return (f", Heat: {counts['PUT']} PUT, {counts['GET resources']} GET resources, "
            f"{counts['DELETE']} DELETE")


# --- one group ------------------------------------------------------------------------------


def instances_of(client: Any, name: str) -> Instances:
    """The group's instances; None once the group is no longer listed."""
    groups = client.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return groups[0]["Instances"] if groups else None


def summary(instances: Instances) -> str:
    if instances is None:
        return "group gone"
    states: dict[str, int] = {}
    for instance in instances:
        states[instance["LifecycleState"]] = states.get(instance["LifecycleState"], 0) + 1
    return ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "empty"


def wait(client: Any, name: str, started: float, timeout: float, done: Check,
         early: Check | None = None) -> tuple[float, float | None, Instances]:
    """Poll DescribeAutoScalingGroups every POLL_SECONDS until ``done``; returns the
    seconds since ``started``, the seconds until ``early`` first held, and the last
    instances seen.  Raises ``NotSettled`` after ``timeout`` seconds."""
    early_at = None
    polls = 0
    while True:
        instances = instances_of(client, name)
        now = time.monotonic()
        if early is not None and early_at is None and early(instances):
            early_at = now - started
        if done(instances):
            return now - started, early_at, instances
        if now - started > timeout:
            raise NotSettled(f"group {name}: not settled after {timeout:.0f} s",
                             early_at, summary(instances))
        polls += 1
        time.sleep(max(0.0, started + polls * POLL_SECONDS - time.monotonic()))


def in_service(count: int) -> Check:
    return lambda instances: instances is not None and len(instances) == count and all(
        i["LifecycleState"] == "InService" for i in instances)


def listed(count: int) -> Check:
    return lambda instances: instances is not None and len(instances) >= count


def terminating(instances: Instances) -> bool:
    return any(i["LifecycleState"].startswith("Terminating") for i in instances or [])


def gone(instances: Instances) -> bool:
    return instances is None


@dataclass
class Phase:
    #: None: not settled within the timeout
    seconds: float | None
    call_ms: float
    #: seconds until every new instance was listed / the one taken out was Terminating
    early_s: float | None = None
    heat: dict[str, int] | None = None
    #: what the last poll showed, when the step did not settle
    last_seen: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "settled": self.seconds is not None, "call_ms": round(self.call_ms, 1)}
        if self.early_s is not None:
            out["first_seen_s"] = round(self.early_s, 3)
        if self.heat is not None:
            out["heat_requests"] = self.heat
        if self.last_seen is not None:
            out["last_seen"] = self.last_seen
        return out


@dataclass
class Run:
    mode: str
    size: int
    round: int
    phases: dict[str, Phase] = field(default_factory=dict)
    #: the UUID in the group's ARN (its Heat stack is cfngw-asg-<group id>)
    group_id: str | None = None
    #: what the clean-up after a step that did not settle had to do
    cleanup: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "size": self.size, "round": self.round,
                "group_id": self.group_id,
                "phases": {k: v.as_dict() for k, v in self.phases.items()},
                "cleanup": self.cleanup}


def timed_call(call: Callable[[], Any]) -> tuple[float, float]:
    """(when it started, how long it took in ms)."""
    started = time.monotonic()
    call()
    return started, (time.monotonic() - started) * 1000


def run_group(gateway: Gateway, size: int, round_no: int, timeout: float) -> Run:
    """The five steps on a new group of ``size``.  A step that does not settle within
    ``timeout`` is recorded as such, the steps after it are skipped and the group is
    cleaned up."""
    client = gateway.client()
    name = f"bench-{gateway.mode[:5]}-{size}-{round_no}-{uuid.uuid4().hex[:6]}"
    run = Run(gateway.mode, size, round_no)
    heat = HeatCounter(gateway.heat_log if gateway.mode == "openstack" else None)
    group_id: str | None = None

    def settle(phase: str, started: float, call_ms: float, done: Check,
               early: Check) -> Instances:
        try:
            seconds, early_s, instances = wait(client, name, started, timeout, done, early)
        except NotSettled as exc:
            run.phases[phase] = Phase(None, call_ms, exc.early_s, heat.counts(),
                                      exc.last_seen)
            log(f"  {gateway.mode} N={size} round {round_no}: {phase:<9} NOT SETTLED after "
                f"{timeout:.0f} s (call {call_ms:.0f} ms{heat_text(run.phases[phase])}); "
                f"last seen: {exc.last_seen}")
            raise
        run.phases[phase] = Phase(seconds, call_ms, early_s, heat.counts())
        extra = "" if early_s is None else f", first seen {early_s:.2f} s"
        log(f"  {gateway.mode} N={size} round {round_no}: {phase:<9} {seconds:7.2f} s "
            f"(call {call_ms:.0f} ms{extra}{heat_text(run.phases[phase])})")
        return instances

    def step(phase: str, call: Callable[[], Any], done: Check, early: Check) -> Instances:
        heat.mark()
        started, call_ms = timed_call(call)
        return settle(phase, started, call_ms, done, early)

    client.create_launch_configuration(LaunchConfigurationName=name, ImageId="cirros",
                                       InstanceType="m1.tiny")
    try:
        heat.mark()
        started, call_ms = timed_call(lambda: client.create_auto_scaling_group(
            AutoScalingGroupName=name, LaunchConfigurationName=name, MinSize=0,
            MaxSize=size + 1, DesiredCapacity=size, AvailabilityZones=["nova"]))
        arn = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"][0]["AutoScalingGroupARN"]
        group_id = arn.split(":")[6]  # ...:autoScalingGroup:<group id>:autoScalingGroupName/..
        # Until its deletion is seen to end: if the bench stops on the way, the stack is
        # deleted in Heat once the gateway has stopped.
        gateway.leftovers.append(group_id)
        run.group_id = group_id
        heat.stack = "cfngw-asg-" + group_id
        settle("create", started, call_ms, in_service(size), listed(size))

        instances = step("+1", lambda: client.set_desired_capacity(
            AutoScalingGroupName=name, DesiredCapacity=size + 1),
            in_service(size + 1), listed(size + 1))
        before = {i["InstanceId"] for i in instances or []}

        def scaled_in(instances: Instances) -> bool:
            return (in_service(size)(instances)
                    and {i["InstanceId"] for i in instances or []} < before)

        step("-1", lambda: client.set_desired_capacity(
            AutoScalingGroupName=name, DesiredCapacity=size),
            scaled_in, lambda instances: terminating(instances) or scaled_in(instances))

        client.put_scaling_policy(AutoScalingGroupName=name, PolicyName="up",
                                  PolicyType="SimpleScaling",
                                  AdjustmentType="ChangeInCapacity", ScalingAdjustment=1,
                                  Cooldown=0)
        step("policy +1", lambda: client.execute_policy(
            AutoScalingGroupName=name, PolicyName="up", HonorCooldown=True),
            in_service(size + 1), listed(size + 1))

        step("delete", lambda: client.delete_auto_scaling_group(
            AutoScalingGroupName=name, ForceDelete=True),
            gone, lambda instances: terminating(instances) or gone(instances))
        gateway.leftovers.remove(group_id)
    except NotSettled:
        run.cleanup = cleanup(gateway, client, name, group_id)
    except BaseException:
        if group_id is not None:  # interrupted or failed: ask for the deletion at least
            try:
                client.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
            except Exception as exc:  # best effort, on the way out
                log(f"  could not delete group {name}: {exc}")
        raise
    finally:
        try:
            client.delete_launch_configuration(LaunchConfigurationName=name)
        except Exception as exc:  # best effort: in use while the group is still there
            log(f"  could not delete launch configuration {name}: {exc}")
    return run


def cleanup(gateway: Gateway, client: Any, name: str, group_id: str | None) -> str:
    """Force-delete a group whose step did not settle; in OpenStack mode, delete its
    stack in Heat when the gateway does not end the deletion in CLEANUP_WAIT seconds.
    Returns what it took."""
    log(f"  cleaning up: force-deleting group {name}")
    started = time.monotonic()
    try:
        client.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
        wait(client, name, started, CLEANUP_WAIT, gone)
        what = f"ForceDelete ended in {time.monotonic() - started:.1f} s"
        if group_id in gateway.leftovers:
            gateway.leftovers.remove(group_id)
    except NotSettled as exc:
        if gateway.testbed is None or group_id is None:
            return f"ForceDelete did not end in {CLEANUP_WAIT:.0f} s ({exc.last_seen})"
        log(f"  the deletion did not end in {CLEANUP_WAIT:.0f} s ({exc.last_seen}); "
            "deleting the group's Heat stack directly")
        delete_stack(gateway.testbed, group_id, CLEANUP_WAIT)
        try:
            wait(client, name, time.monotonic(), CLEANUP_WAIT, gone)
        except NotSettled as again:
            return (f"ForceDelete did not end in {CLEANUP_WAIT:.0f} s, nor after the stack "
                    f"was deleted in Heat ({again.last_seen})")
        what = (f"ForceDelete did not end in {CLEANUP_WAIT:.0f} s; after the bench deleted "
                f"the Heat stack it ended, {time.monotonic() - started:.1f} s in all")
        gateway.leftovers.remove(group_id)
    log(f"  {what}")
    return what


# --- the report -----------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def seconds_cell(phases: list[Phase], rounds: int, timeout: float) -> str:
    settled = [p.seconds for p in phases if p.seconds is not None]
    stuck = len(phases) - len(settled)
    if not phases:
        return "skipped"
    if not settled:
        return f"> {timeout:.0f} (not settled)"
    text = cell(median(settled), 2)
    if rounds > 1 and len(settled) > 1:
        text += f" ({min(settled):.2f}-{max(settled):.2f})"
    if stuck:
        text += f"; {stuck} of {len(phases)} > {timeout:.0f}"
    return text


def table(runs: list[Run], modes: list[str], sizes: list[int], rounds: int,
          timeout: float) -> str:
    head = ["mode", "N", *(f"{p} s" for p in PHASES), "SetDesiredCapacity ms (+1 / -1)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mode in modes:
        for size in sizes:
            mine = [r for r in runs if r.mode == mode and r.size == size]
            if not mine:
                continue
            row = [mode, str(size)]
            for phase in PHASES:
                row.append(seconds_cell([r.phases[phase] for r in mine
                                         if phase in r.phases], rounds, timeout))
            row.append(" / ".join(cell(median([r.phases[p].call_ms for r in mine
                                               if p in r.phases]), 0) for p in ("+1", "-1")))
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def detail_table(runs: list[Run], modes: list[str], sizes: list[int]) -> str:
    """Per step: the call's own ms, when the change was first seen, and (OpenStack) the
    Heat requests that named the group's stack."""
    head = ["mode", "N", "step", "call ms", "first seen s", "settled s",
            "Heat PUT", "Heat GET resources", "Heat DELETE"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mode in modes:
        for size in sizes:
            mine = [r for r in runs if r.mode == mode and r.size == size]
            for phase in PHASES:
                done = [r.phases[phase] for r in mine if phase in r.phases]
                if not done:
                    continue
                heat = [p.heat for p in done if p.heat is not None]
                settled = [p.seconds for p in done if p.seconds is not None]
                lines.append("| " + " | ".join([
                    mode, str(size), phase, cell(median([p.call_ms for p in done]), 0),
                    cell(median([p.early_s for p in done if p.early_s is not None]), 2),
                    cell(median(settled), 2) if settled else "not settled",
                    cell(median([h["PUT"] for h in heat]), 0),
                    cell(median([h["GET resources"] for h in heat]), 0),
                    cell(median([h["DELETE"] for h in heat]), 0)]) + " |")
    return "\n".join(lines)


def interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50,100",
                        help="group sizes N, comma-separated (default 1,10,50,100)")
    parser.add_argument("--modes", default="standalone,openstack",
                        help="standalone, openstack, or both (default)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every (mode, size) this many times, interleaved; "
                        "medians are shown (default 1)")
    parser.add_argument("--workers", type=int, default=2,
                        help="cfn-gateway serve workers (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds one step may take before it counts as not settled "
                        "(default 120)")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="also write every measurement as JSON to FILE (without FILE: "
                        "to stdout, after the tables)")
    parser.add_argument("--keep-tmp", action="store_true",
                        help="keep the data folders and the gateway logs")
    args = parser.parse_args()

    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes: choose from {', '.join(MODES)}")
    try:
        sizes = [int(n) for n in args.sizes.split(",") if n]
    except ValueError:
        parser.error("--sizes: comma-separated integers")
    if not sizes or min(sizes) < 0 or args.rounds < 1:
        parser.error("--sizes must be >= 0 and --rounds >= 1")

    try:
        testbed = testbed_or_fail() if "openstack" in modes else None
    except BenchError as exc:
        log(f"scaling_step: {exc}")
        return 2

    signal.signal(signal.SIGTERM, interrupt)
    root = Path(tempfile.mkdtemp(prefix="cfn-bench-scaling-"))
    gateways: dict[str, Gateway] = {}
    runs: list[Run] = []
    failed = False
    began = time.monotonic()
    load_before = os.getloadavg()[0]
    try:
        for mode in modes:
            gateways[mode] = start_gateway(mode, root, args.workers, testbed)
        for round_no in range(1, args.rounds + 1):
            for size in sizes:
                # Alternate which mode goes first, so that drift hits both alike.
                order = modes if round_no % 2 else list(reversed(modes))
                for mode in order:
                    log(f"{mode}, N={size}, round {round_no}/{args.rounds} "
                        f"({time.monotonic() - began:.0f} s so far)")
                    runs.append(run_group(gateways[mode], size, round_no, args.timeout))
    except (Exception, KeyboardInterrupt) as exc:  # report what was measured so far
        failed = True
        log(f"scaling_step: stopped: {exc!r}")
    finally:
        for gateway in gateways.values():
            gateway.process.stop()
            problems = gateway_problems(gateway)
            if problems:
                failed = True
                log(f"{gateway.mode}: the gateway's log shows {', '.join(problems)}: "
                    f"{gateway.process.log_path}")
            if gateway.testbed is not None:
                for group_id in gateway.leftovers:
                    log(f"{gateway.mode}: deleting the Heat stack of group {group_id}, "
                        "whose deletion did not end")
                    if not delete_stack(gateway.testbed, group_id, 120.0):
                        log(f"  stack cfngw-asg-{group_id} still there: delete it by hand")
        if failed or args.keep_tmp:
            log(f"data folders and gateway logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    elapsed = time.monotonic() - began
    load_after = os.getloadavg()[0]
    print(f"Scaling steps, medians of {args.rounds} round(s), {elapsed:.0f} s in all, load "
          f"average {load_before:.2f} before and {load_after:.2f} after (seconds until "
          f"DescribeAutoScalingGroups, polled every {POLL_SECONDS} s, showed the step done; "
          f"a step that did not settle in {args.timeout:.0f} s skips the rest of its "
          "group):\n")
    print(table(runs, modes, sizes, args.rounds, args.timeout))
    print("\nPer step: the call's own latency, when its change was first listed (every new "
          "instance listed, or the one taken out Terminating), and the Heat requests "
          "naming the group's stack (its creation, POST .../stacks, does not name it and "
          "is not counted):\n")
    print(detail_table(runs, modes, sizes))
    notes = [f"- {r.mode} N={r.size} round {r.round}: {p} did not settle "
             f"(last seen: {r.phases[p].last_seen}); clean-up: {r.cleanup}"
             for r in runs for p in PHASES if p in r.phases and r.phases[p].seconds is None]
    if notes:
        print("\nNot settled:\n" + "\n".join(notes))
    if args.json:
        text = json.dumps({"rounds": args.rounds, "poll_seconds": POLL_SECONDS,
                           "timeout_s": args.timeout, "elapsed_s": round(elapsed, 1),
                           "load_average": [load_before, load_after],
                           "runs": [r.as_dict() for r in runs]}, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
