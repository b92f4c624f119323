"""The dashboard handlers over a real store: AWS's answers, errors that change nothing, pages,
and dashboard tags through TagResource / UntagResource / ListTagsForResource."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import alarms
from cfn_gateway.api.cloudwatch import dashboards as api
from cfn_gateway.domain import dashboard_body as db
from cfn_gateway.domain import dashboards as dash

BODY = '{"widgets":[{"type":"text","properties":{"markdown":"Hi"}}]}'
ARN = "arn:aws:cloudwatch::project-a:dashboard/"


def put(call, name="ops", body=BODY, project="project-a", **extra):
    return call(api.put_dashboard, project=project, DashboardName=name, DashboardBody=body,
                **extra)


def names(call, project="project-a", **params):
    return [e["DashboardName"] for e in call(api.list_dashboards, project=project,
                                             **params)["DashboardEntries"]]


def refused(call, handler, error, message, **params):
    before = names(call)
    with pytest.raises(error) as caught:
        call(handler, **params)
    assert type(caught.value) is error
    assert caught.value.message == message
    assert names(call) == before
    return caught.value


def test_put_get_list_delete(call):
    start = datetime.now(UTC).replace(microsecond=0)
    assert put(call) == {"DashboardValidationMessages": []}
    assert call(api.get_dashboard, DashboardName="ops") == {
        "DashboardArn": ARN + "ops", "DashboardBody": BODY, "DashboardName": "ops"}
    (entry,) = call(api.list_dashboards)["DashboardEntries"]
    assert entry["DashboardArn"] == ARN + "ops" and entry["Size"] == len(BODY)
    assert entry["LastModified"] >= start
    assert "NextToken" not in call(api.list_dashboards)
    assert call(api.delete_dashboards, DashboardNames=["ops"]) == {}
    assert names(call) == []


def test_the_body_comes_back_as_sent(call):
    body = '{ "widgets" : [ ] ,\n\t"x": "\\u00e9\u20ac", "n": 1.50 }'
    put(call, body=body)
    assert call(api.get_dashboard, DashboardName="ops")["DashboardBody"] == body
    (entry,) = call(api.list_dashboards)["DashboardEntries"]
    assert entry["Size"] == len(body.encode("utf-8"))


def test_replace(call):
    put(call)
    put(call, body='{"widgets": []}')
    assert call(api.get_dashboard, DashboardName="ops")["DashboardBody"] == '{"widgets": []}'
    assert names(call) == ["ops"]


def test_warnings_come_back_on_success(call):
    body = json.dumps({"widgets": [{"type": "gauge-ish", "properties": {}}]})
    assert put(call, body=body) == {"DashboardValidationMessages": [
        {"DataPath": "/widgets/0/type", "Message": db.UNKNOWN_TYPE}]}
    assert call(api.get_dashboard, DashboardName="ops")["DashboardBody"] == body


def test_an_invalid_body_fails_with_every_problem(call):
    put(call)
    body = json.dumps({"widgets": [{"type": "text", "x": 24, "properties": {}}]})
    error = refused(call, api.put_dashboard, errors.InvalidParameterInput,
                    "The dashboard body is invalid, there are 2 validation errors:\n"
                    "[\n"
                    "  {\n"
                    '    "dataPath": "/widgets/0/x",\n'
                    '    "message": "Should be <= 23"\n'
                    "  },\n"
                    "  {\n"
                    '    "dataPath": "/widgets/0/properties",\n'
                    '    "message": "Should have required property \'markdown\'"\n'
                    "  }\n"
                    "]", DashboardName="ops", DashboardBody=body)
    assert error.fields == {"dashboardValidationMessages": [
        {"DataPath": "/widgets/0/x", "Message": "Should be <= 23"},
        {"DataPath": "/widgets/0/properties",
         "Message": "Should have required property 'markdown'"}]}
    assert error.status == 400
    assert call(api.get_dashboard, DashboardName="ops")["DashboardBody"] == BODY


@pytest.mark.parametrize("body", ["{not json", "[]", ""])
def test_a_body_that_is_no_json_object(call, body):
    error = refused(call, api.put_dashboard, errors.InvalidParameterInput,
                    "The field DashboardBody must be a valid JSON object",
                    DashboardName="new", DashboardBody=body)
    assert error.fields is None


@pytest.mark.parametrize(("name", "message"), [
    ("my dashboard", "The value for field DashboardName contains invalid characters. It can "
                     "only contain alphanumerics, dash (-) and underscore (_)."),
    ("a" * 256, "The value for field DashboardName must be between 1 and 255 characters "
                "long."),
    ("", "The value for field DashboardName must be between 1 and 255 characters long."),
])
def test_bad_names(call, name, message):
    refused(call, api.put_dashboard, errors.InvalidParameterInput, message,
            DashboardName=name, DashboardBody=BODY)
    refused(call, api.get_dashboard, errors.InvalidParameterValue, message, DashboardName=name)
    put(call, "keep")
    refused(call, api.delete_dashboards, errors.InvalidParameterValue, message,
            DashboardNames=["keep", name])


def test_get_a_dashboard_that_does_not_exist(call):
    put(call, project="project-b")
    error = refused(call, api.get_dashboard, errors.ResourceNotFound,
                    "Dashboard ops does not exist", DashboardName="ops")
    assert error.status == 404


def test_delete_is_all_or_nothing(call):
    for name in ("a", "b", "c"):
        put(call, name)
    refused(call, api.delete_dashboards, errors.ResourceNotFound,
            "Dashboard nope does not exist", DashboardNames=["a", "nope", "b"])
    refused(call, api.delete_dashboards, errors.ResourceNotFound,
            "Dashboards x, y do not exist", DashboardNames=["x", "a", "y", "x"])
    refused(call, api.delete_dashboards, errors.InvalidParameterValue,
            "At most 100 dashboards can be deleted at a time.",
            DashboardNames=[f"d{i}" for i in range(101)])
    call(api.delete_dashboards, DashboardNames=["a", "c", "a"])
    assert names(call) == ["b"]


def test_list_pages_by_prefix(call, monkeypatch):
    monkeypatch.setattr(dash, "LIST_PAGE", 2)
    for name in ("web-3", "web-1", "db", "web-2", "web_4", "webs"):
        put(call, name)
    put(call, "web-0", project="project-b")
    seen, token = [], None
    while True:
        page = call(api.list_dashboards, DashboardNamePrefix="web-",
                    **({"NextToken": token} if token else {}))
        assert len(page["DashboardEntries"]) <= 2
        seen += [e["DashboardName"] for e in page["DashboardEntries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ["web-1", "web-2", "web-3"]
    first = call(api.list_dashboards)
    assert [e["DashboardName"] for e in first["DashboardEntries"]] == ["db", "web-1"]
    refused(call, api.list_dashboards, errors.InvalidParameterValue,
            "The value for parameter NextToken is invalid.", DashboardNamePrefix="web",
            NextToken=first["NextToken"])
    refused(call, api.list_dashboards, errors.InvalidParameterValue,
            "The value for parameter NextToken is invalid.", NextToken="garbage")
    with pytest.raises(errors.InvalidParameterValue):
        call(api.list_dashboards, project="project-b", NextToken=first["NextToken"])
    assert names(call, DashboardNamePrefix="") == ["db", "web-1"]


@pytest.mark.parametrize(("prefix", "message"), [
    ("web*", "The value for field DashboardNamePrefix contains invalid characters. It can only "
             "contain alphanumerics, dot (.), dash (-) and underscore (_)."),
    ("w" * 256, "The value for field DashboardNamePrefix must be at most 255 characters long."),
])
def test_bad_prefixes(call, prefix, message):
    refused(call, api.list_dashboards, errors.InvalidParameterValue, message,
            DashboardNamePrefix=prefix)


def test_tags_apply_on_creation_only(call):
    put(call, Tags=[{"Key": "team", "Value": "ops"}])
    put(call, Tags=[{"Key": "team", "Value": "other"}, {"Key": "new", "Value": "x"}])
    assert call(alarms.list_tags_for_resource, ResourceARN=ARN + "ops") == {
        "Tags": [{"Key": "team", "Value": "ops"}]}
    call(alarms.tag_resource, ResourceARN=ARN + "ops", Tags=[{"Key": "env", "Value": "dev"}])
    call(alarms.untag_resource, ResourceARN=ARN + "ops", TagKeys=["team"])
    assert call(alarms.list_tags_for_resource, ResourceARN=ARN + "ops") == {
        "Tags": [{"Key": "env", "Value": "dev"}]}


@pytest.mark.parametrize("arn", [
    ARN + "nope", "arn:aws:cloudwatch::project-b:dashboard/ops",
    "arn:aws:cloudwatch:us-east-1:project-a:dashboard/ops", ARN + "o p s", ARN,
])
def test_tags_of_dashboards_that_are_not_there(call, arn):
    put(call)
    put(call, project="project-b")
    for handler, params in ((alarms.list_tags_for_resource, {}),
                            (alarms.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
                            (alarms.untag_resource, {"TagKeys": ["k"]})):
        with pytest.raises(errors.ResourceNotFoundException) as caught:
            call(handler, ResourceARN=arn, **params)
        assert caught.value.fields == {"ResourceType": "dashboard", "ResourceId": arn}
    assert call(alarms.list_tags_for_resource, ResourceARN=ARN + "ops") == {"Tags": []}


def test_duplicate_tag_keys_store_nothing(call):
    with pytest.raises(errors.InvalidParameterValue):
        put(call, Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    assert names(call) == []
