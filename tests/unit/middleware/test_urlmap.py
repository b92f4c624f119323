"""The prefix map that mounts the gateway's own routes beside the AWS pipeline."""

from __future__ import annotations

import pytest

from cfn_gateway.middleware.urlmap import PrefixMap


def app(name: str):
    def answer(environ, start_response):
        return [name.encode()]
    return answer


@pytest.mark.parametrize(("path", "expected"), [
    ("/", "aws"), ("/v1/", "aws"), ("", "aws"), ("/cfn-gatewayx", "aws"),
    ("/cfn-gateway", "own"), ("/cfn-gateway/", "own"),
    ("/cfn-gateway/alarm-actions/v1", "own"), ("/cfn-gateway/deeper/", "deeper"),
])
def test_longest_prefix_wins(path: str, expected: str):
    routes = PrefixMap({"/": app("aws"), "/cfn-gateway/": app("own"),
                        "/cfn-gateway/deeper/": app("deeper")})
    assert routes({"PATH_INFO": path}, None) == [expected.encode()]


def test_a_root_app_is_required():
    with pytest.raises(ValueError):
        PrefixMap({"/x/": app("x")})
