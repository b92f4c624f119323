"""Heat stacks in the tests of the gateway's Heat resource plugin: made by a tenant,
awaited, deleted at the end (fixtures in ``conftest.py``); and the real cfn-push-stats, run
as a stack's server runs it."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from heatclient import exc as heat_exc
from keystoneauth1.exceptions.connection import ConnectFailure

from tests.functional.server import Credentials, GatewayProcess
from tests.functional.test_cfn_push_stats import PushStats, require_agent_sandbox

STACK_WAIT = 120.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for(what: str, probe: Callable[[], Any], timeout: float,
             quiet: bool = False) -> Any:
    """``probe()`` once it is true; after ``timeout`` seconds an AssertionError, or with
    ``quiet`` the last (false) answer.  A probe whose connection failed (a keep-alive
    connection the API server closed as it was reused, on a loaded machine) counts as a
    false answer: the next one asks on a new connection."""
    deadline = time.monotonic() + timeout
    failed: ConnectFailure | None = None
    while True:
        try:
            found = probe()
        except ConnectFailure as exc:
            found, failed = None, exc
        if found:
            return found
        if time.monotonic() > deadline:
            if quiet:
                return found
            last = f" (the last probe that failed: {failed})" if failed else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{last}")
        time.sleep(0.5)


class Stacks:
    """Stacks made by one test, deleted at its end (and their deletion awaited)."""

    def __init__(self, heat) -> None:
        self.heat = heat
        self.made: list[str] = []

    def create(self, template: dict[str, Any], environment: dict[str, Any] | None = None,
               expect: str = "CREATE_COMPLETE") -> Any:
        name = unique("cfngw-heat")
        created = self.heat.stacks.create(stack_name=name, template=template,
                                          environment=environment or {})
        self.made.append(created["stack"]["id"])
        return self.settle(created["stack"]["id"], expect)

    def settle(self, stack_id: str, expect: str) -> Any:
        stack = wait_for(f"stack {stack_id} to settle", lambda: (
            s if not (s := self.heat.stacks.get(stack_id)).stack_status.endswith(
                "IN_PROGRESS") else None), STACK_WAIT)
        assert stack.stack_status == expect, stack.stack_status_reason
        return stack

    def delete(self, stack_id: str) -> None:
        if stack_id in self.made:
            self.made.remove(stack_id)
        try:
            self.heat.stacks.delete(stack_id)
        except heat_exc.HTTPNotFound:
            return

        def gone() -> bool:
            try:
                stack = self.heat.stacks.get(stack_id)
            except heat_exc.HTTPNotFound:
                return True
            assert stack.stack_status != "DELETE_FAILED", stack.stack_status_reason
            return stack.stack_status == "DELETE_COMPLETE"

        wait_for(f"stack {stack_id} deleted", gone, STACK_WAIT)


def output(stack: Any, key: str) -> Any:
    return next(o["output_value"] for o in stack.outputs if o["output_key"] == key)


@contextlib.contextmanager
def agent_sandbox(gateway: GatewayProcess, creds: Credentials) -> Iterator[PushStats]:
    """cfn-push-stats with ``creds`` in a private mount and network namespace whose port
    8003 leads to ``gateway`` (``tests/functional/test_cfn_push_stats.PushStats``)."""
    require_agent_sandbox()
    sandbox = Path(tempfile.mkdtemp(prefix="cfn-push-stats-"))
    agent = PushStats(sandbox, gateway, creds)
    try:
        yield agent
    finally:
        agent.close()
        shutil.rmtree(sandbox, ignore_errors=True)
