"""Pages of a project's rows ordered by name (or id), optionally only the named ones.

DescribeLaunchConfigurations, DescribeAutoScalingGroups and DescribeAutoScalingInstances
list the same way: by name or instance id,
``limit`` at a time, after the name a signed token holds (``domain.pagination``, bound
to the project and to the names asked for).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cfn_gateway.backends.alarms import InvalidNextToken, token_position
from cfn_gateway.domain import pagination

Read = Callable[[str, Sequence[Any]], list[Any]]


def named_page(read: Read, secret: bytes, table: str, columns: str, project_id: str,
               names: Sequence[str], limit: int, next_token: str | None,
               key: str = "name") -> tuple[list[Any], str | None]:
    """Rows (the ``key`` column, then ``columns``) of ``table`` and the token of the next
    page."""
    wanted = sorted(set(names))
    digest = pagination.digest(table, wanted)
    sql = [f"SELECT {key}, {columns} FROM {table} WHERE project_id = ?"]
    args: list[Any] = [project_id]
    if wanted:
        sql.append(f"AND {key} IN ({', '.join('?' * len(wanted))})")
        args.extend(wanted)
    if next_token:
        after = token_position(secret, next_token, project_id, digest)
        if not isinstance(after, str):
            raise InvalidNextToken("malformed token")
        sql.append(f"AND {key} > ?")
        args.append(after)
    sql.append(f"ORDER BY {key} LIMIT ?")
    args.append(limit + 1)
    rows = read(" ".join(sql), args)
    token = (pagination.page_token(secret, project_id, digest, rows[limit - 1][0])
             if len(rows) > limit else None)
    return rows[:limit], token
