"""A paste composite that sends each request to the app of the longest matching path prefix.

``api-paste.ini`` mounts the gateway's own, non-AWS routes (``/cfn-gateway/``: alarm
actions calling back) beside the AWS pipeline (``/``, which accepts any other path, as
cfn-push-stats posts to ``/v1/``).  Paste's own urlmap lives in the Paste package, which
the gateway does not need otherwise.
"""

from __future__ import annotations

from typing import Any

from cfn_gateway.middleware.wsgi import Environ, StartResponse, WSGIApp


class PrefixMap:
    def __init__(self, apps: dict[str, WSGIApp]) -> None:
        if "/" not in apps:
            raise ValueError("the prefix map needs an app for '/'")
        self._apps = sorted(apps.items(), key=lambda item: len(item[0]), reverse=True)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        path = environ.get("PATH_INFO") or "/"
        for prefix, app in self._apps:
            if prefix == "/" or path == prefix.rstrip("/") or path.startswith(prefix):
                return app(environ, start_response)
        raise AssertionError("unreachable: '/' matches every path")


def urlmap_factory(loader: Any, global_conf: dict[str, str], **local_conf: str) -> PrefixMap:
    """``[composite:NAME] use = call:cfn_gateway.middleware.urlmap:urlmap_factory`` with
    ``/prefix = app-or-pipeline-name`` lines."""
    return PrefixMap({prefix: loader.get_app(name, global_conf=global_conf)
                      for prefix, name in local_conf.items() if prefix.startswith("/")})
