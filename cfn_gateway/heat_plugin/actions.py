"""What an alarm's action values become: pure rules, no Heat.

AWS::CloudWatch::Alarm templates name actions in three ways: an ARN (``arn:...``), a URL
(a Heat ``AlarmUrl`` wired with ``Fn::GetAtt``, or ``Ref`` of an AWS scaling policy,
whose reference is that URL), or a resource of the stack (its logical name, or ``Ref`` of
a resource whose reference is not a URL).  ARNs and URLs are passed as they are; a
resource is replaced by its ``AlarmUrl`` (or ``alarm_url``) attribute.  A resource that
has neither fails the alarm, except ``OS::Heat::HARestarter``: Heat keeps that type only
as a placeholder that does nothing, so its action is dropped with a warning and the rest
of the HA template still works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

#: AWS's limit on one action (PutMetricAlarm's ResourceName shape).
MAX_ACTION_LENGTH = 1024
#: Resource types whose actions are dropped with a warning rather than failing the alarm.
DROPPED_TYPES = frozenset({"OS::Heat::HARestarter"})
#: The attributes that hold a URL an alarm can call, in order of preference.
URL_ATTRIBUTES = ("AlarmUrl", "alarm_url")


@dataclass(frozen=True)
class Target:
    """A stack resource an action value names: logical name, type, its URL attribute
    (None when it has none) and that attribute's value."""

    name: str
    type: str
    url_attribute: str | None = None
    url: str | None = None


@dataclass
class Resolution:
    actions: list[str] = field(default_factory=list)
    #: one sentence per dropped value, for the log and the stack's events
    dropped: list[str] = field(default_factory=list)


class ActionError(ValueError):
    """An action value that names nothing an alarm can call; the text says which."""


def is_direct(value: str) -> bool:
    """An ARN or an http(s) URL: sent to the gateway as it is."""
    lower = value.lower()
    return lower.startswith(("arn:", "http://", "https://"))


def resolve(values: Iterable[object] | None, lookup: Callable[[str], Target | None],
            list_name: str = "AlarmActions") -> Resolution:
    """Resolve one action list; ``lookup`` finds the stack resource a value names."""
    out = Resolution()
    for raw in values or ():
        if raw is None:
            continue
        value = str(raw).strip()
        if not value:
            continue
        action = value if is_direct(value) else _from_resource(value, lookup, list_name, out)
        if action is None:
            continue
        if len(action) > MAX_ACTION_LENGTH:
            raise ActionError(
                f"{list_name}: the action for {value[:80]!r} is {len(action)} characters "
                f"long, over AWS's limit of {MAX_ACTION_LENGTH} (a shorter stack name "
                "makes Heat's AlarmUrls shorter)")
        if action not in out.actions:
            out.actions.append(action)
    return out


def _from_resource(value: str, lookup: Callable[[str], Target | None], list_name: str,
                   out: Resolution) -> str | None:
    target = lookup(value)
    if target is None:
        raise ActionError(
            f"{list_name}: {value!r} is neither an ARN (arn:...), an http(s) URL nor a "
            "resource of this stack")
    if target.url_attribute is None:
        if target.type in DROPPED_TYPES:
            out.dropped.append(
                f"{list_name}: action {value!r} dropped: {target.name} ({target.type}) is "
                "a placeholder in this Heat and has nothing to call")
            return None
        raise ActionError(
            f"{list_name}: {value!r} is the resource {target.name} ({target.type}), which "
            f"has no {' or '.join(URL_ATTRIBUTES)} attribute for an alarm to call")
    if not target.url:
        raise ActionError(
            f"{list_name}: {value!r} is the resource {target.name} ({target.type}), whose "
            f"{target.url_attribute} has no value yet")
    return str(target.url)
