"""The environ the RSGI front builds, as the route filter reads its headers back: repeated
headers joined as granian joins them, names with underscores, empty content headers, a
Host from the request's authority; and a header a filter changed on the way is seen."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from cfn_gateway.middleware.route import request_headers
from cfn_gateway.server.front import wsgi_environ


class Headers:
    """granian's RSGI headers: repeated names come one pair each from ``items()``."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)

    def get(self, name: str, default: Any = None) -> Any:
        return next((v for n, v in self.pairs if n == name), default)

    def __contains__(self, name: str) -> bool:
        return any(n == name for n, _ in self.pairs)


def scope(pairs: list[tuple[str, str]], authority: str | None = None) -> Any:
    return SimpleNamespace(
        proto="http", method="POST", path="/v1/", query_string="Action=ListMetrics",
        http_version="1.1", server="127.0.0.1:8080", client="127.0.0.1:50000",
        scheme="http", authority=authority, headers=Headers(pairs))


def routed(pairs: list[tuple[str, str]], authority: str | None = None):
    environ = wsgi_environ(scope(pairs, authority), io.BytesIO())
    return request_headers(environ), environ


def test_headers_as_the_route_reads_them():
    headers, environ = routed([
        ("host", "127.0.0.1:8080"), ("x-amz-date", "20261130T120000Z"),
        ("content-type", "application/x-amz-json-1.0"), ("content-length", "12"),
        ("x-amz-meta", "a"), ("x-amz-meta", "b"), ("cookie", "c=1"), ("cookie", "d=2"),
        ("x_under_score", "u"),
    ])
    assert headers == {
        "host": "127.0.0.1:8080", "x-amz-date": "20261130T120000Z",
        "content-type": "application/x-amz-json-1.0", "content-length": "12",
        "x-amz-meta": "a,b", "cookie": "c=1;d=2", "x-under-score": "u"}
    assert environ["HTTP_X_AMZ_META"] == "a,b"
    assert environ["CONTENT_TYPE"] == "application/x-amz-json-1.0"


def test_empty_content_headers_and_a_missing_host():
    headers, environ = routed([("content-type", ""), ("content-length", "")],
                              authority="gateway:8080")
    assert headers == {"host": "gateway:8080"}
    assert environ["CONTENT_TYPE"] == ""


def test_a_header_a_filter_changed_is_the_one_the_route_reads():
    """A proxy filter before the route (oslo's http_proxy_to_wsgi sets Host from
    X-Forwarded-Host) changes the environ: the route must see the change."""
    _, environ = routed([("host", "backend:8080"), ("x-forwarded-host", "gateway.example")])
    environ["HTTP_HOST"] = environ["HTTP_X_FORWARDED_HOST"]
    assert request_headers(environ)["host"] == "gateway.example"
