"""ListMetrics on Gnocchi: one resource search per page, NextTokens from domain.pagination.

The search (``gnocchi_mapping.search_filter``) is exact, so a page is the first ``limit``
resources after the token's position in id order; ``limit + 1`` are asked for to know
whether another page follows.  Only the name and first value chunk of each dimension slot
are read; a resource whose value fills its first chunk is read whole (a value longer than
256 characters).

Tokens are bound to the project and the query, positioned at the last id of the page, and
signed with ``[gnocchi] list_token_secret`` or, when that is empty, a key derived from the
service credentials, so that every gateway process sharing the configuration accepts the
tokens of the others.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from keystoneauth1 import session as ks_session

from cfn_gateway.backends.metrics import InvalidNextToken, MetricPage
from cfn_gateway.backends.openstack import gnocchi_mapping as mapping
from cfn_gateway.backends.openstack import gnocchi_schema as schema
from cfn_gateway.backends.openstack.gnocchi_api import GnocchiAPI
from cfn_gateway.domain import dimensions, pagination
from cfn_gateway.domain.metrics import MetricFilter, MetricKey

RESOURCES = f"v1/resource/{schema.RESOURCE_TYPE}"
SEARCH = f"v1/search/resource/{schema.RESOURCE_TYPE}"

_SLOTS = [schema.dimension_slot(i) for i in range(dimensions.MAX_DIMENSIONS)]
_FIRST_CHUNKS = [chunks[0] for _, chunks in _SLOTS]
#: What a listing reads of a resource.
LIST_ATTRS = ["id", "namespace", "metric_name"] + [
    attr for name, chunks in _SLOTS for attr in (name, chunks[0])]


def token_secret(configured: str, service_session: Callable[[], ks_session.Session],
                 purpose: str = "ListMetrics") -> bytes:
    """The configured secret, or one derived from ``[service_credentials]`` for
    ``purpose`` (tokens of one listing never verify for another)."""
    if configured:
        return configured.encode("utf-8")
    from cfn_gateway.config import CONF, SERVICE_CREDENTIALS

    service_session()  # registers the password plugin's options
    group = getattr(CONF, SERVICE_CREDENTIALS)
    seed = "\0".join(str(getattr(group, name, "") or "") for name in
                     ("auth_url", "username", "password", "user_domain_name"))
    salt = f"cfn-gateway {purpose} tokens\0".encode()
    return hashlib.sha256(salt + seed.encode("utf-8")).digest()


def _digest(query: MetricFilter) -> str:
    return pagination.digest(query.namespace, query.name,
                             [[f.name, f.value] for f in query.dimensions],
                             query.recently_active)


class MetricLister:
    """Pages of metrics; ``secret`` is asked for once, when a token is first needed."""

    def __init__(self, secret: Callable[[], bytes]) -> None:
        self._secret_source = secret
        self._secret: bytes | None = None

    def _key_secret(self) -> bytes:
        if self._secret is None:
            self._secret = self._secret_source()
        return self._secret

    def list_metrics(self, api: GnocchiAPI, project_id: str, query: MetricFilter,
                     active_since: datetime, next_token: str | None,
                     limit: int) -> MetricPage:
        digest = _digest(query)
        after = self._position(next_token, project_id, digest) if next_token else None
        rows = api.call("POST", SEARCH,
                        json=mapping.search_filter(project_id, query, active_since, after),
                        params={"limit": limit + 1, "sort": "id:asc", "attrs": LIST_ATTRS})
        keys = [self._key(api, row) for row in rows[:limit]]
        page = MetricPage(metrics=[k for k in keys if dimensions.metric_matches(k, query)])
        if len(rows) > limit:
            page.next_token = pagination.page_token(self._key_secret(), project_id, digest,
                                                    rows[limit - 1]["id"])
        return page

    @staticmethod
    def _key(api: GnocchiAPI, row: dict[str, Any]) -> MetricKey:
        if any(len(row.get(attr) or "") == schema.CHUNK for attr in _FIRST_CHUNKS):
            row = api.call("GET", f"{RESOURCES}/{row['id']}")  # a value may go on
        return mapping.key_from_resource(row)

    def _position(self, token: str, project_id: str, digest: str) -> str:
        try:
            after = pagination.position(self._key_secret(), token, project_id, digest)
        except ValueError as exc:
            raise InvalidNextToken(str(exc)) from exc
        try:
            return str(uuid.UUID(after))
        except (TypeError, ValueError, AttributeError):
            raise InvalidNextToken("malformed token") from None
