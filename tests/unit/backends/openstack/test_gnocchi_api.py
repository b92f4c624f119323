"""Gnocchi failures become AWS errors: 503 when the backend is unreachable or failing, never
a bare exception; the answers callers handle (404, 409, 400) pass through."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from gnocchiclient import exceptions as g_exc
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.backends.openstack import gnocchi_api
from cfn_gateway.backends.openstack import gnocchi_mapping as mapping
from cfn_gateway.backends.openstack.gnocchi_api import GnocchiAPI, Parallel, description
from cfn_gateway.backends.openstack.gnocchi_metrics import GnocchiMetricStore
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, MetricFilter, MetricKey


class FakeGnocchi(ThreadingHTTPServer):
    """Answers each request with the next scripted (status, body, delay); then the last."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[tuple[int, object, float]] = [(200, [], 0.0)]
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_answer(self) -> tuple[int, object, float]:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class _Handler(BaseHTTPRequestHandler):
    server: FakeGnocchi

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append((self.command, self.path))
        status, body, delay = self.server.next_answer()
        time.sleep(delay)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, *args: object) -> None:
        pass


def api_for(url: str, timeout: float | None = 5.0) -> GnocchiAPI:
    return GnocchiAPI(ks_session.Session(), {"endpoint_override": url}, timeout)


def closed_port_url() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


def test_json_answers(gnocchi):
    gnocchi.script = [(200, {"a": 1}, 0.0)]
    assert api_for(gnocchi.url).call("GET", "v1/resource/x") == {"a": 1}
    gnocchi.script = [(202, None, 0.0)]
    assert api_for(gnocchi.url).call("POST", "v1/batch/resources/metrics/measures",
                                     json={}) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 401, 403, 429])
def test_backend_failures_are_service_unavailable(gnocchi, status):
    gnocchi.script = [(status, {"description": "boom"}, 0.0)]
    with pytest.raises(errors.ServiceUnavailable) as caught:
        api_for(gnocchi.url).call("GET", "v1/resource/x")
    assert caught.value.status == 503 and "boom" not in caught.value.message


def test_unreachable_and_slow_gnocchi_are_service_unavailable(gnocchi):
    with pytest.raises(errors.ServiceUnavailable):
        api_for(closed_port_url()).call("GET", "v1/resource/x")
    gnocchi.script = [(200, {}, 1.0)]
    started = time.monotonic()
    with pytest.raises(errors.ServiceUnavailable):
        api_for(gnocchi.url, timeout=0.2).call("GET", "v1/resource/x")
    assert time.monotonic() - started < 0.9


def test_locked_metric_is_retried(gnocchi):
    locked = (503, {"description": "Unable to refresh metric: x. Metric is locked. "
                                   "Please try again."}, 0.0)
    gnocchi.script = [locked, locked, (200, [["2025-01-01T00:00:00+00:00", 60.0, 1.0]], 0.0)]
    assert api_for(gnocchi.url).call("GET", "v1/metric/x/measures") == [
        ["2025-01-01T00:00:00+00:00", 60.0, 1.0]]
    assert len(gnocchi.requests) == 3


def test_handled_answers_pass_through(gnocchi):
    gnocchi.script = [(404, {"description": "Resource x does not exist"}, 0.0)]
    with pytest.raises(g_exc.NotFound):
        api_for(gnocchi.url).call("GET", "v1/resource/x", handled=(g_exc.NotFound,))
    gnocchi.script = [(409, {"description": "Resource x already exists"}, 0.0)]
    with pytest.raises(g_exc.Conflict):
        api_for(gnocchi.url).call("POST", "v1/resource/x", json={}, handled=(g_exc.Conflict,))
    unknown = {"cause": "Unknown resources", "detail": [{"resource_id": "r"}]}
    gnocchi.script = [(400, {"description": unknown}, 0.0)]
    with pytest.raises(g_exc.BadRequest) as caught:
        api_for(gnocchi.url).call("POST", "v1/batch/resources/metrics/measures", json={},
                                  handled=(g_exc.BadRequest,))
    assert description(caught.value) == unknown


@pytest.mark.parametrize("status", [400, 404, 409])
def test_answers_the_caller_does_not_handle_are_internal_failures(gnocchi, status):
    gnocchi.script = [(status, {"description": "Resource x does not exist"}, 0.0)]
    with pytest.raises(errors.InternalFailure):
        api_for(gnocchi.url).call("GET", "v1/resource/x")


def test_unexpected_answers_are_internal_failures_without_details(gnocchi):
    gnocchi.script = [(418, {"description": "secret detail"}, 0.0)]
    with pytest.raises(errors.InternalFailure) as caught:
        api_for(gnocchi.url).call("GET", "v1/resource/x")
    assert "secret" not in caught.value.message


@pytest.mark.parametrize("failure", [
    ks_exc.EndpointNotFound(), ks_exc.Unauthorized(), ks_exc.DiscoveryFailure(),
    ks_exc.ConnectFailure(), g_exc.ConnectionFailure(), g_exc.UnknownConnectionError()])
def test_keystone_and_catalog_failures_are_service_unavailable(failure):
    api = api_for("http://unused")

    class Failing:
        def request(self, *args: object, **kwargs: object) -> None:
            raise failure

    api._transport = Failing()  # type: ignore[assignment]
    with pytest.raises(errors.ServiceUnavailable):
        api.call("GET", "v1/resource/x")


def test_parallel_map_runs_everything_and_raises_the_first_failure():
    pool = Parallel(4)
    ran: list[int] = []

    def work(i: int) -> int:
        ran.append(i)
        if i in (2, 3):
            raise ValueError(i)
        return i * 10

    assert pool.map(work, [1, 4]) == [10, 40]
    with pytest.raises(ValueError, match="2"):
        pool.map(work, range(6))
    assert sorted(ran) == [0, 1, 1, 2, 3, 4, 4, 5]
    pool.shutdown()


# --- the store answers 503, never an unhandled exception ------------------------------

@pytest.fixture
def store_on(gnocchi) -> Iterator[GnocchiMetricStore]:
    store = GnocchiMetricStore(session_for=lambda project: ks_session.Session(),
                               setup_session=ks_session.Session)
    store._endpoint = {"endpoint_override": gnocchi.url}
    yield store
    store.close()


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEY = MetricKey.of("ns", "CPU", [("InstanceId", "i-1")])


@pytest.mark.parametrize("status", [500, 503])
def test_store_operations_fail_with_503_when_gnocchi_fails(gnocchi, store_on, status):
    gnocchi.script = [(status, {"description": "down"}, 0.0)]
    with pytest.raises(errors.ServiceUnavailable):
        store_on.put("p1", [Datum(KEY, NOW, "Count", 60, (stats.single(1.0),))], NOW)
    with pytest.raises(errors.ServiceUnavailable):
        store_on.list_metrics("p1", MetricFilter(), NOW)
    with pytest.raises(errors.ServiceUnavailable):
        store_on.aggregate("p1", KEY, NOW, NOW.replace(hour=13), 60)


def test_store_operations_fail_with_503_when_gnocchi_is_gone(store_on):
    store_on._endpoint = {"endpoint_override": closed_port_url()}
    with pytest.raises(errors.ServiceUnavailable):
        store_on.aggregate("p1", KEY, NOW, NOW.replace(hour=13), 60)


def test_unavailable_is_a_retryable_receiver_fault():
    error = gnocchi_api.unavailable("x")
    assert (error.status, error.sender_fault, error.code) == (503, False, "ServiceUnavailable")


def test_put_recreates_resources_deleted_before_the_batch(gnocchi, store_on):
    store_on._schema_ready = True
    unknown = {"cause": "Unknown resources", "detail": [
        {"resource_id": mapping.resource_id("p1", KEY), "original_resource_id": "x"}]}
    gnocchi.script = [(200, [], 0.0), (201, {}, 0.0), (400, {"description": unknown}, 0.0),
                      (201, {}, 0.0), (202, None, 0.0)]
    store_on.put("p1", [Datum(KEY, NOW, "Count", 60, (stats.single(1.0),))], NOW)
    assert [method for method, _ in gnocchi.requests] == [
        "POST", "POST", "POST", "POST", "POST"]
    assert "batch" in gnocchi.requests[-1][1] and "create_metrics=true" in gnocchi.requests[-1][1]


def test_put_refuses_a_resource_id_held_by_another_project(gnocchi, store_on):
    store_on._schema_ready = True
    squatted = {"id": mapping.resource_id("p1", KEY), "project_id": "p1",
                "created_by_project_id": "intruder", "last_put": "2025-01-01T00:00:00+00:00"}
    gnocchi.script = [(200, [], 0.0), (409, {"description": "Resource x already exists"}, 0.0),
                      (200, squatted, 0.0)]
    with pytest.raises(errors.InternalFailure):
        store_on.put("p1", [Datum(KEY, NOW, "Count", 60, (stats.single(1.0),))], NOW)
    assert not any("batch" in path for _, path in gnocchi.requests)


def test_reads_ignore_resources_of_other_projects(gnocchi, store_on):
    foreign = {"id": mapping.resource_id("p1", KEY), "project_id": "p1",
               "created_by_project_id": "intruder", "metrics": {"60s.sum.Count": "m"}}
    store_on._schema_ready = True
    gnocchi.script = [(200, foreign, 0.0)]
    assert store_on.aggregate("p1", KEY, NOW, NOW.replace(hour=13), 60) == []
    assert len(gnocchi.requests) == 1


def test_a_reset_connection_is_retried_once_on_a_new_one():
    """A kept-alive connection the server dropped while idle costs no 503."""
    import socket
    import struct

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[int] = []

    def serve(resets: int) -> None:
        for n in range(resets + 1):
            conn, _ = listener.accept()
            accepted.append(n)
            if n < resets:  # drop the connection with a RST, answering nothing
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                continue
            conn.recv(65536)
            body = b'{"ok": true}'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            conn.close()

    thread = threading.Thread(target=serve, args=(1,), daemon=True)
    thread.start()
    try:
        assert api_for(f"http://127.0.0.1:{port}").call("GET", "v1/resource/x") == {"ok": True}
        assert accepted == [0, 1]
    finally:
        thread.join(5)
        listener.close()
