"""ComputeAPI against a local HTTP server that answers as Nova does (a faked collaborator:
the test bed runs no Nova), through a real keystoneauth1 session."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from keystoneauth1 import session as ks_session

from cfn_gateway import errors
from cfn_gateway.backends.openstack.nova_api import ComputeAPI


class FakeNova(http.server.BaseHTTPRequestHandler):
    answers: dict[str, int] = {}
    seen: list[tuple[str, str]] = []

    def do_DELETE(self) -> None:
        self.seen.append(("DELETE", self.path))
        status = self.answers.get(self.path, 204)
        self.send_response(status)
        body = b"" if status == 204 else b'{"itemNotFound": {"code": 404}}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nova() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeNova)
    FakeNova.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v2.1"
    server.shutdown()
    server.server_close()


def test_delete_server(nova):
    api = ComputeAPI(ks_session.Session(), {"endpoint_override": nova}, 5.0)
    assert api.has_compute()
    FakeNova.answers = {"/v2.1/servers/gone": 404, "/v2.1/servers/busy": 409,
                        "/v2.1/servers/odd": 400}
    api.delete_server("s-1")
    api.delete_server("gone")  # already deleted: done
    with pytest.raises(errors.ServiceUnavailable):
        api.delete_server("busy")
    with pytest.raises(errors.InternalFailure):
        api.delete_server("odd")
    assert FakeNova.seen[0] == ("DELETE", "/v2.1/servers/s-1")


def test_no_compute_in_the_catalog():
    class NoCatalog(ks_session.Session):
        def get_endpoint(self, auth=None, **kwargs):  # type: ignore[override]
            from keystoneauth1 import exceptions
            raise exceptions.EndpointNotFound("no compute")

    assert not ComputeAPI(NoCatalog(), {"service_type": "compute"}).has_compute()
