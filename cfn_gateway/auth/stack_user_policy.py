"""What a Heat stack user may call: CloudWatch PutMetricData, nothing else.

Heat's own CloudWatch API let the ``heat_stack_user`` role do only that
(``heat/policies/cloudwatch.py``): the keys Heat hands to servers exist for cfn-push-stats.
Every other action of either service is refused with AccessDenied (403), worded as AWS
words an IAM refusal.  The dispatcher asks before it parses anything, so the rule holds for
every protocol and every action, implemented or not.
"""

from __future__ import annotations

from cfn_gateway import errors
from cfn_gateway.context import CLOUDWATCH, Identity

#: (service, operation) pairs a stack user may call.
ALLOWED: frozenset[tuple[str, str]] = frozenset({(CLOUDWATCH, "PutMetricData")})


def user_arn(identity: Identity) -> str:
    """The caller as an IAM user ARN in its (owner's) account."""
    return f"arn:aws:iam::{identity.project_id}:user/{identity.user_id or identity.access_key}"


def check(identity: Identity, service: str, operation: str) -> None:
    """Raises AccessDenied when ``identity`` is a stack user and the action is not one it
    may call; returns for every other caller."""
    if not identity.stack_user_project or (service, operation) in ALLOWED:
        return
    raise errors.AccessDenied(
        f"User: {user_arn(identity)} is not authorized to perform: {service}:{operation}")
