"""PutDashboard, GetDashboard, ListDashboards, DeleteDashboards, and dashboard tags.

Dashboards are kept by the gateway in both modes (``backends/dashboards.py``).  AWS's
behaviours kept here (API reference and what CloudWatch answers):
- PutDashboard creates the dashboard or replaces its body; ``Tags`` apply only when it
  creates it (TagResource changes tags).  The body is kept exactly as sent.  A body that
  is not a JSON object: InvalidParameterInput "The field DashboardBody must be a valid
  JSON object"; one that breaks the body's rules (``domain.dashboard_body``):
  InvalidParameterInput "The dashboard body is invalid, there are N validation errors:"
  followed by the problems as JSON, which also travel as ``dashboardValidationMessages``;
  nothing is stored.  Warnings come back in DashboardValidationMessages of a success.
- A name outside the rules: "The value for field DashboardName contains invalid
  characters. It can only contain alphanumerics, dash (-) and underscore (_)."
  (InvalidParameterInput in PutDashboard, InvalidParameterValue elsewhere).
- GetDashboard of an unknown name: ResourceNotFound (404) "Dashboard NAME does not exist".
- DeleteDashboards takes up to 100 names and is all or nothing: if one does not exist,
  none is deleted and the answer is ResourceNotFound.
- ListDashboards: by name, 1000 a page, with a token bound to the project and prefix (a
  foreign one: InvalidParameterValue, the only client error the model lists).
- ARNs: ``arn:aws:cloudwatch::<project id>:dashboard/<name>``: dashboards are global, so
  the ARN has no region; the account is the caller's project.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import alarm_views as views
from cfn_gateway.api.registry import action
from cfn_gateway.backends.alarms import InvalidNextToken, Tag
from cfn_gateway.backends.dashboards import DashboardStore
from cfn_gateway.common.clock import utcnow
from cfn_gateway.context import CLOUDWATCH, RequestContext
from cfn_gateway.domain import dashboards as dash
from cfn_gateway.domain.dashboard_body import BodyMessage, NotAJsonObject, check_body

ARN_RESOURCE = "dashboard/"


def _store(ctx: RequestContext) -> DashboardStore:
    return ctx.backends.dashboards


def dashboard_arn(project_id: str, name: str) -> str:
    return f"arn:aws:cloudwatch::{project_id}:{ARN_RESOURCE}{name}"


def _check_name(name: str, error: type[errors.AWSError]) -> None:
    problem = dash.name_problem(name)
    if problem == "length":
        raise error("The value for field DashboardName must be between 1 and "
                    f"{dash.MAX_NAME_LENGTH} characters long.")
    if problem == "characters":
        raise error("The value for field DashboardName contains invalid characters. It can "
                    "only contain alphanumerics, dash (-) and underscore (_).")


def _message_to_aws(message: BodyMessage) -> dict[str, str]:
    return {"DataPath": message.data_path, "Message": message.message}


def invalid_body_text(problems: Sequence[BodyMessage]) -> str:
    """CloudWatch's message for a body that breaks its rules."""
    listed = json.dumps([{"dataPath": p.data_path, "message": p.message} for p in problems],
                        indent=2)
    return (f"The dashboard body is invalid, there are {len(problems)} validation "
            f"errors:\n{listed}")


@action(CLOUDWATCH, "PutDashboard")
def put_dashboard(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, body = params["DashboardName"], params["DashboardBody"]
    _check_name(name, errors.InvalidParameterInput)
    try:
        report = check_body(body)
    except NotAJsonObject as exc:
        raise errors.InvalidParameterInput(str(exc)) from None
    if report.errors:
        raise errors.InvalidParameterInput(invalid_body_text(report.errors),
                                           [_message_to_aws(m) for m in report.errors])
    tags = views.tags_from_aws(params.get("Tags"))
    _store(ctx).put(ctx.project_id, dash.Dashboard(name=name, body=body,
                                                   last_modified=utcnow()), tags)
    return {"DashboardValidationMessages": [_message_to_aws(m) for m in report.warnings]}


@action(CLOUDWATCH, "GetDashboard")
def get_dashboard(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["DashboardName"]
    _check_name(name, errors.InvalidParameterValue)
    found = _store(ctx).get(ctx.project_id, name)
    if found is None:
        raise errors.ResourceNotFound(f"Dashboard {name} does not exist")
    return {"DashboardArn": dashboard_arn(ctx.project_id, name), "DashboardBody": found.body,
            "DashboardName": name}


@action(CLOUDWATCH, "ListDashboards")
def list_dashboards(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("DashboardNamePrefix") or ""
    problem = dash.prefix_problem(prefix)
    if problem == "length":
        raise errors.InvalidParameterValue("The value for field DashboardNamePrefix must be "
                                           f"at most {dash.MAX_NAME_LENGTH} characters long.")
    if problem == "characters":
        raise errors.InvalidParameterValue(
            "The value for field DashboardNamePrefix contains invalid characters. It can "
            "only contain alphanumerics, dot (.), dash (-) and underscore (_).")
    try:
        page = _store(ctx).list(ctx.project_id, prefix, dash.LIST_PAGE,
                                params.get("NextToken") or None)
    except InvalidNextToken:
        raise errors.InvalidParameterValue(
            "The value for parameter NextToken is invalid.") from None
    result: dict[str, Any] = {"DashboardEntries": [{
        "DashboardName": entry.name, "DashboardArn": dashboard_arn(ctx.project_id, entry.name),
        "LastModified": entry.last_modified, "Size": entry.size} for entry in page.items]}
    if page.next_token:
        result["NextToken"] = page.next_token
    return result


@action(CLOUDWATCH, "DeleteDashboards")
def delete_dashboards(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    names = list(dict.fromkeys(params["DashboardNames"]))
    if len(names) > dash.MAX_DELETE:
        raise errors.InvalidParameterValue(
            f"At most {dash.MAX_DELETE} dashboards can be deleted at a time.")
    for name in names:
        _check_name(name, errors.InvalidParameterValue)
    missing = _store(ctx).delete(ctx.project_id, names)
    if len(missing) == 1:
        raise errors.ResourceNotFound(f"Dashboard {missing[0]} does not exist")
    if missing:
        raise errors.ResourceNotFound(f"Dashboards {', '.join(missing)} do not exist")
    return {}


# --- tags (TagResource, UntagResource, ListTagsForResource hand dashboard ARNs here) -----

def is_dashboard_arn(arn: str) -> bool:
    """Whether an ARN names a dashboard (of any account): ``arn:...:dashboard/NAME``."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[5].startswith(ARN_RESOURCE)


def _tagged(ctx: RequestContext, arn: str) -> str:
    prefix = dashboard_arn(ctx.project_id, "")
    name = arn[len(prefix):] if arn.startswith(prefix) else ""
    if dash.name_problem(name) is not None:
        raise _not_found(arn)
    return name


def _not_found(arn: str) -> errors.ResourceNotFoundException:
    error = errors.ResourceNotFoundException(f"Resource {arn} not found.")
    error.fields = {"ResourceType": "dashboard", "ResourceId": arn}
    return error


def tag_dashboard(ctx: RequestContext, arn: str, tags: Sequence[Tag]) -> dict[str, Any]:
    if not _store(ctx).tag(ctx.project_id, _tagged(ctx, arn), tags):
        raise _not_found(arn)
    return {}


def untag_dashboard(ctx: RequestContext, arn: str, keys: Sequence[str]) -> dict[str, Any]:
    if not _store(ctx).untag(ctx.project_id, _tagged(ctx, arn), keys):
        raise _not_found(arn)
    return {}


def dashboard_tags(ctx: RequestContext, arn: str) -> dict[str, Any]:
    tags = _store(ctx).tags(ctx.project_id, _tagged(ctx, arn))
    if tags is None:
        raise _not_found(arn)
    return {"Tags": views.tags_to_aws(tags)}
