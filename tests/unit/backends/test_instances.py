"""The no-cloud instance driver: declarative members, boot time, failures, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cfn_gateway.backends.instances import (
    BOOTING,
    FAILED,
    RUNNING,
    Member,
    NoCloudInstances,
)
from cfn_gateway.domain.launch_configurations import LaunchConfiguration

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LC = LaunchConfiguration(name="lc", arn="arn", created_at=T0, image_id="img",
                         instance_type="m1.small")


def member(instance_id: str) -> Member:
    return Member(instance_id, "nova", LC)


def test_members_boot_run_fail_and_go():
    now = [T0]
    driver = NoCloudInstances(lambda: now[0], boot_seconds=30)
    driver.apply("p1", "web", [member("i-1"), member("i-2")])
    assert driver.observe("p1", "web") == {"i-1": BOOTING, "i-2": BOOTING}
    now[0] = T0 + timedelta(seconds=30)
    driver.apply("p1", "web", [member("i-2"), member("i-3")])  # i-1 goes, i-3 comes
    assert driver.observe("p1", "web") == {"i-2": RUNNING, "i-3": BOOTING}
    driver.fail("p1", "web", "i-2")
    assert driver.observe("p1", "web")["i-2"] == FAILED
    assert driver.observe("p2", "web") == {}
    driver.forget("p1", "web")
    assert driver.observe("p1", "web") == {}


def test_without_boot_time_members_run_at_once():
    driver = NoCloudInstances(lambda: T0)
    driver.apply("p1", "web", [member("i-1")])
    assert driver.observe("p1", "web") == {"i-1": RUNNING}
