"""Filters of DescribeTags and DescribeAutoScalingGroups over groups' tags.

A filter has a name and values: a tag (or group) matches a filter when it matches any of
its values, and the result holds what matches every filter (AWS's API reference).

- DescribeTags: ``auto-scaling-group`` (the group's name), ``key``, ``value`` and
  ``propagate-at-launch`` (``true`` / ``false``), each against one tag.
- DescribeAutoScalingGroups: ``tag-key`` (a group with a tag of that key), ``tag-value``
  (with a tag of that value) and ``tag:KEY`` (with tag KEY of one of the values).

``check_*`` raise ``InvalidFilter`` for a name the call does not know.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cfn_gateway.domain.groups import GroupTag

TAG_FILTERS = ("auto-scaling-group", "key", "value", "propagate-at-launch")
GROUP_FILTERS = ("tag-key", "tag-value")
TAG_PREFIX = "tag:"


class InvalidFilter(ValueError):
    pass


@dataclass(frozen=True)
class Filter:
    name: str
    values: tuple[str, ...]


def check_tag_filters(filters: Sequence[Filter]) -> None:
    for f in filters:
        if f.name not in TAG_FILTERS:
            raise InvalidFilter(f"Filter name {f.name} is not valid for DescribeTags "
                                f"(valid: {', '.join(TAG_FILTERS)}).")


def check_group_filters(filters: Sequence[Filter]) -> None:
    for f in filters:
        if f.name not in GROUP_FILTERS and not (f.name.startswith(TAG_PREFIX)
                                                and len(f.name) > len(TAG_PREFIX)):
            raise InvalidFilter(f"Filter name {f.name} is not valid for "
                                "DescribeAutoScalingGroups (valid: tag-key, tag-value, "
                                "tag:<key>).")


def tag_matches(group_name: str, tag: GroupTag, filters: Iterable[Filter]) -> bool:
    fields = {"auto-scaling-group": group_name, "key": tag.key, "value": tag.value,
              "propagate-at-launch": "true" if tag.propagate_at_launch else "false"}
    return all(fields[f.name] in f.values for f in filters)


def group_matches(tags: Sequence[GroupTag], filters: Iterable[Filter]) -> bool:
    for f in filters:
        if f.name == "tag-key":
            ok = any(t.key in f.values for t in tags)
        elif f.name == "tag-value":
            ok = any(t.value in f.values for t in tags)
        else:
            key = f.name[len(TAG_PREFIX):]
            ok = any(t.key == key and t.value in f.values for t in tags)
        if not ok:
            return False
    return True
