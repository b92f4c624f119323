"""What an operator relies on: honest logs, private files, a full disk, start-up checks.

- The access log cannot be forged: whatever the path holds, one request is one line and
  no control character reaches the log raw.
- Everything the gateway writes under its data folder is 0600 (files) / 0700 (folders).
- A full disk: writers get a retryable ``ServiceUnavailable`` (503), nothing half-stored,
  reads keep working, writes work again once there is room, without a restart; the server
  logs it once in a while, not per request.  The disk is a small tmpfs mounted over the
  data folder in a private mount namespace of the server (``unshare -m``).
- ``mode = openstack`` without the ``openstack`` extra, or without a Keystone that accepts
  the service credentials: ``serve`` exits non-zero and says what to install or fix.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.functional import raw
from tests.functional.clients import boto3_client
from tests.functional.conftest import openstack_config
from tests.functional.server import Credentials, GatewayProcess, cfn_gateway_command, free_port
from tests.testbed import require_testbed

pytestmark = pytest.mark.functional
ROOT = Path(__file__).resolve().parents[2]


def put(gateway: GatewayProcess, creds: Credentials, namespace: str, count: int = 1,
        tag: str = "") -> requests.Response:
    """A signed JSON PutMetricData of ``count`` new metrics (new rows: it needs disk)."""
    data = [{"MetricName": f"m{i}", "Value": float(i),
             "Dimensions": [{"Name": "Host", "Value": f"{tag}{i:04d}-" + "x" * 200}]}
            for i in range(count)]
    request = raw.json_request(gateway.endpoint, "PutMetricData",
                               {"Namespace": namespace, "MetricData": data})
    return raw.send(raw.sign(request, creds))


def metric_count(gateway: GatewayProcess, creds: Credentials, namespace: str) -> int:
    paginator = boto3_client("cloudwatch", gateway.endpoint, creds).get_paginator(
        "list_metrics")
    return sum(len(page["Metrics"]) for page in paginator.paginate(Namespace=namespace))


# --- the access log ----------------------------------------------------------------------

def access_lines(gateway: GatewayProcess, marker: str) -> list[str]:
    return [line for line in gateway.log_text().splitlines() if marker in line]


def test_access_log_line_cannot_be_forged(gateway):
    marker = uuid.uuid4().hex
    fake = (f"2026-01-01 00:00:00,000 1 INFO cfn_gateway.access request_id={marker} "
            "tenant=admin service=cloudwatch action=DeleteAlarms status=200")
    response = requests.get(f"{gateway.endpoint}/x%0a{fake.replace(' ', '%20')}", timeout=10)
    assert response.status_code in (400, 403, 404)
    lines = access_lines(gateway, marker)
    assert len(lines) == 1, lines
    assert "cfn_gateway.access request_id=" in lines[0].split(marker)[0]
    assert "path=/x%0A2026-01-01%2000:00:00,000%201%20INFO" in lines[0]
    assert not any(line.startswith("2026-01-01 00:00:00,000 1 INFO") for line in
                   gateway.log_text().splitlines())


@pytest.mark.parametrize("encoded, raw_char, logged", [
    ("%1b[31m", "\x1b", "%1B[31m"), ("%0d%0a", "\r", "%0D%0A"), ("%00", "\x00", "%00"),
    ("%c2%85", "\x85", "%C2%85")])
def test_control_characters_never_reach_the_log_raw(gateway, encoded, raw_char, logged):
    marker = uuid.uuid4().hex
    requests.get(f"{gateway.endpoint}/{marker}{encoded}tail", timeout=10)
    lines = access_lines(gateway, marker)
    assert len(lines) == 1, lines
    assert raw_char not in lines[0]
    assert f"{marker}{logged}tail" in lines[0]


def test_a_space_in_the_path_cannot_add_fields(gateway):
    marker = uuid.uuid4().hex
    requests.get(f"{gateway.endpoint}/{marker}%20status=200%20tenant=admin", timeout=10)
    (line,) = access_lines(gateway, marker)
    assert line.count(" status=") == 1 and " tenant=admin" not in line


# --- file modes --------------------------------------------------------------------------

def test_data_folder_is_private(tmp_path):
    data_dir = tmp_path / "fresh" / "data"
    gateway = GatewayProcess(data_dir=data_dir, port=free_port(), log_path=tmp_path / "log")
    umask = os.umask(0o022)  # what a login shell usually has; the server inherits it
    try:
        gateway.start()
    finally:
        os.umask(umask)
    try:
        creds = gateway.create_credentials("p")
        assert put(gateway, creds, "Test/modes").status_code == 200
        assert metric_count(gateway, creds, "Test/modes") == 1
        modes = {path.name: stat.S_IMODE(path.stat().st_mode)
                 for path in [data_dir, *data_dir.rglob("*")]}
    finally:
        gateway.stop()
    assert {"store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm",
            "credentials.sqlite3"} <= set(modes)
    for name, mode in modes.items():
        expected = 0o700 if (data_dir / name).is_dir() or name == "data" else 0o600
        assert mode == expected, f"{name}: {oct(mode)}"


def test_files_of_an_older_gateway_are_narrowed(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    older = data_dir / "store.sqlite3"
    older.touch(mode=0o644)
    os.chmod(older, 0o644)
    gateway = GatewayProcess(data_dir=data_dir, port=free_port(), log_path=tmp_path / "log")
    gateway.start()
    try:
        creds = gateway.create_credentials("p")
        assert put(gateway, creds, "Test/modes").status_code == 200
    finally:
        gateway.stop()
    for path in data_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# --- a full disk -------------------------------------------------------------------------

TMPFS_SIZE = "2m"


@pytest.fixture
def small_disk_gateway(tmp_path):
    """A standalone gateway whose data folder is a 2 MiB tmpfs of its own."""
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.fail("this test needs unshare -m (root, or user namespaces)")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    mount_then_run = f'mount -t tmpfs -o size={TMPFS_SIZE},mode=0700 tmpfs "$0" && exec "$@"'
    gateway = GatewayProcess(
        data_dir=data_dir, port=free_port(), log_path=tmp_path / "log",
        wrapper=("unshare", "-m", "--propagation", "private", "sh", "-c", mount_then_run,
                 str(data_dir)))
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def in_namespace(gateway: GatewayProcess, path: Path) -> Path:
    """``path`` as the server sees it (inside its mount namespace)."""
    assert gateway.process is not None
    return Path(f"/proc/{gateway.process.pid}/root") / path.relative_to("/")


def credentials_in_namespace(gateway: GatewayProcess) -> Credentials:
    assert gateway.process is not None
    out = subprocess.run(
        ["nsenter", "-t", str(gateway.process.pid), "-m", "--", *cfn_gateway_command(),
         "credentials", "create", "--project", "p", "--data-dir", str(gateway.data_dir),
         "--json"], check=True, capture_output=True, text=True, cwd="/").stdout
    data = json.loads(out)
    return Credentials(data["AccessKeyId"], data["SecretAccessKey"], data["Project"])


def fill(path: Path) -> None:
    with open(path, "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError as exc:
            assert exc.errno == 28, exc  # ENOSPC


def test_full_disk_gives_retryable_503_and_recovers(small_disk_gateway):
    gateway = small_disk_gateway
    creds = credentials_in_namespace(gateway)
    namespace = "Test/disk"
    assert put(gateway, creds, namespace, 10, "before").status_code == 200
    filler = in_namespace(gateway, gateway.data_dir / "filler")
    fill(filler)

    failures = 12
    for attempt in range(failures):
        response = put(gateway, creds, namespace, 1000, f"full{attempt}")
        assert raw.error_of(response) == (503, "ServiceUnavailable"), response.content[:300]
        assert b"storage is full" in response.content
        assert response.headers.get("x-amzn-RequestId")
    # Reads work; nothing of the refused requests was stored.
    assert metric_count(gateway, creds, namespace) == 10
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    now = dt.datetime.now(dt.UTC)
    stats = client.get_metric_statistics(
        Namespace=namespace, MetricName="m3", Period=60, Statistics=["Sum"],
        Dimensions=[{"Name": "Host", "Value": "before0003-" + "x" * 200}],
        StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1))
    assert [p["Sum"] for p in stats["Datapoints"]] == [3.0]

    filler.unlink()
    response = put(gateway, creds, namespace, 1000, "after")
    assert response.status_code == 200, response.content[:300]
    assert metric_count(gateway, creds, namespace) == 1010

    log = gateway.log_text()
    assert "Traceback" not in log and "status=500" not in log, log[-3000:]
    reports = [line for line in log.splitlines() if "cannot write to" in line]
    reporters = Counter(line.split()[2] for line in reports)  # the logging process's PID
    # Once a minute per process at most, not per request: the two workers and the engine
    # (whose periodic writes may meet the full disk too) may each report it once.
    assert reports and len(reporters) <= 3 and set(reporters.values()) == {1}, reports
    assert log.count("status=503") == failures


# --- start-up checks ---------------------------------------------------------------------

def run_serve(tmp_path: Path, config: Path, *, python: list[str] | None = None,
              env: dict[str, str] | None = None, timeout: float = 60
              ) -> subprocess.CompletedProcess:
    command = [*(python or cfn_gateway_command()), "serve", "--port", str(free_port()),
               "--data-dir", str(tmp_path / "data"), "--config", str(config)]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=tmp_path)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"serve did not exit: it started although it cannot serve ({exc})")


def site_packages_without(tmp_path: Path, *modules: str) -> Path:
    """A folder of links to this environment's installed packages, minus ``modules`` (and
    their distributions' metadata): an environment where they were never installed."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    folder = tmp_path / "site"
    folder.mkdir()
    hidden = {m.replace("-", "_").lower() for m in modules}
    for entry in site.iterdir():
        stem = entry.name.split("-")[0].split(".")[0].replace("-", "_").lower()
        if stem in hidden or entry.suffix == ".pth":
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


def test_openstack_mode_without_the_extra_says_what_to_install(tmp_path):
    config = openstack_config(tmp_path / "gw.conf", {
        "auth_url": "http://127.0.0.1:9/v3",
        "gateway": {"username": "u", "password": "p", "project_name": "service"}})
    site = site_packages_without(tmp_path, "gnocchiclient", "keystoneclient", "aodhclient",
                                 "heatclient", "python_keystoneclient", "python_heatclient")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": f"{ROOT}{os.pathsep}{site}"}
    probe = subprocess.run([sys.executable, "-S", "-c", "import gnocchiclient"], env=env,
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr  # really absent
    result = run_serve(tmp_path, config, python=[sys.executable, "-S", "-m",
                                                 "cfn_gateway.cmd.main"], env=env)
    assert result.returncode != 0
    assert "pip install 'cfn-gateway[openstack]'" in result.stderr, result.stderr
    assert "gnocchiclient" in result.stderr
    assert "Traceback" not in result.stderr
    readme = (ROOT / "README.md").read_text()
    assert "pip install '.[openstack]'" in readme or "cfn-gateway[openstack]" in readme


def test_openstack_mode_with_keystone_unreachable_exits(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        config = openstack_config(tmp_path / "gw.conf", {
            "auth_url": f"http://127.0.0.1:{port}/v3",
            "gateway": {"username": "u", "password": "p", "project_name": "service"}})
        result = run_serve(tmp_path, config)
    assert result.returncode != 0
    assert "cannot be reached" in result.stderr and f"127.0.0.1:{port}" in result.stderr, (
        result.stderr)
    assert "Traceback" not in result.stderr


def test_openstack_mode_with_wrong_service_password_exits(tmp_path):
    testbed = require_testbed()
    wrong = dict(testbed, gateway=dict(testbed["gateway"], password="not-the-password"))
    result = run_serve(tmp_path, openstack_config(tmp_path / "gw.conf", wrong))
    assert result.returncode != 0
    assert "refused the service credentials" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
