"""Dashboards through boto3 (JSON, Query, CBOR) and the AWS CLI, in both modes.

Every refusal is checked for its code, HTTP status and message, and for having changed
nothing.  More than one ListDashboards page (1000 a page) is left to the store's and the
handler's unit tests.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.functional.clients import REGION, aws_cli, boto3_client
from tests.functional.metric_clients import PROTOCOLS, cloudwatch_client

pytestmark = pytest.mark.functional

# Whitespace, escapes, non-ASCII text and number spellings must all come back as sent.
BODY = ('{"start": "-PT6H", "periodOverride": "inherit",\n "widgets": [\n'
        '  {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {\n'
        '   "metrics": [["Test/ns", "Latency", "Host", "web1", {"stat": "p99"}]],\n'
        '   "period": 300, "stat": "Average", "region": "us-east-1",\n'
        '   "title": "Caf\u00e9 \\u2603"}},\n'
        '  {"type": "text", "x": 0, "y": 7, "width": 3, "height": 3.0,\n'
        '   "properties": {"markdown": "# Hello \U0001f600"}}\n ]\n}')
EMPTY = '{"widgets":[]}'


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"




@pytest.fixture
def cw(gateway, creds):
    return boto3_client("cloudwatch", gateway.endpoint, creds)


def error_of(call, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return {"code": response["Error"]["Code"], "message": response["Error"]["Message"],
            "status": response["ResponseMetadata"]["HTTPStatusCode"],
            "messages": response.get("dashboardValidationMessages")}


def listed(client, prefix: str) -> list[str]:
    pages = client.get_paginator("list_dashboards").paginate(DashboardNamePrefix=prefix)
    return [e["DashboardName"] for page in pages for e in page["DashboardEntries"]]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_put_get_list_replace_delete(protocol, gateway, creds, tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    prefix = unique("rt")
    name = f"{prefix}-main"
    put = client.put_dashboard(DashboardName=name, DashboardBody=BODY)
    assert put["DashboardValidationMessages"] == []
    got = client.get_dashboard(DashboardName=name)
    assert (got["DashboardName"], got["DashboardBody"]) == (name, BODY)
    assert got["DashboardArn"] == f"arn:aws:cloudwatch::{creds.project}:dashboard/{name}"

    (entry,) = client.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"]
    assert entry["DashboardName"] == name and entry["DashboardArn"] == got["DashboardArn"]
    assert entry["Size"] == len(BODY.encode("utf-8"))
    first_modified = entry["LastModified"]

    client.put_dashboard(DashboardName=name, DashboardBody=EMPTY)
    assert client.get_dashboard(DashboardName=name)["DashboardBody"] == EMPTY
    (entry,) = client.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"]
    assert entry["Size"] == len(EMPTY) and entry["LastModified"] >= first_modified

    client.put_dashboard(DashboardName=f"{prefix}-other", DashboardBody=EMPTY)
    assert listed(client, prefix) == [f"{prefix}-main", f"{prefix}-other"]
    assert client.delete_dashboards(DashboardNames=[name, f"{prefix}-other"])
    assert listed(client, prefix) == []
    gone = error_of(client.get_dashboard, DashboardName=name)
    assert gone == {"code": "ResourceNotFound", "status": 404, "messages": None,
                    "message": f"Dashboard {name} does not exist"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_invalid_body_fails_and_changes_nothing(protocol, gateway, creds, tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    name = unique("bad")
    client.put_dashboard(DashboardName=name, DashboardBody=EMPTY)
    body = json.dumps({"widgets": [{"type": "text", "x": 24, "properties": {}}]})
    refused = error_of(client.put_dashboard, DashboardName=name, DashboardBody=body)
    assert (refused["code"], refused["status"]) == ("InvalidParameterInput", 400)
    assert refused["message"].startswith(
        "The dashboard body is invalid, there are 2 validation errors:\n[\n  {\n")
    assert json.loads(refused["message"].split(":\n", 1)[1]) == [
        {"dataPath": "/widgets/0/x", "message": "Should be <= 23"},
        {"dataPath": "/widgets/0/properties",
         "message": "Should have required property 'markdown'"}]
    assert refused["messages"] == [
        {"DataPath": "/widgets/0/x", "Message": "Should be <= 23"},
        {"DataPath": "/widgets/0/properties",
         "Message": "Should have required property 'markdown'"}]

    not_json = error_of(client.put_dashboard, DashboardName=name, DashboardBody="{widgets")
    assert not_json == {"code": "InvalidParameterInput", "status": 400, "messages": None,
                        "message": "The field DashboardBody must be a valid JSON object"}
    assert client.get_dashboard(DashboardName=name)["DashboardBody"] == EMPTY
    client.delete_dashboards(DashboardNames=[name])


@pytest.mark.parametrize(("body", "expected"), [
    ({"start": "-PT1H"}, [("", "Should have required property 'widgets'")]),
    ({"widgets": [{"type": "metric", "properties": {
        "metrics": [["ns", "m"]], "region": "r", "period": 45}}]},
     [("/widgets/0/properties/period", "Should be >= 60"),
      ("/widgets/0/properties/period", "Should be multiple of 60"),
      ("/widgets/0/properties/period", "Should match exactly one schema in oneOf")]),
    ({"widgets": [{"type": "metric", "properties": {}}]},
     [("/widgets/0/properties", "The metric widget should have specified a region and a "
                                "data source or an alarm annotation")]),
    ({"widgets": [{"type": "alarm", "height": 1001, "properties": {"alarms": "a"}}]},
     [("/widgets/0/height", "Should be <= 1000"),
      ("/widgets/0/properties/alarms", "Should be array")]),
])
def test_body_rules(cw, body, expected):
    name = unique("rule")
    refused = error_of(cw.put_dashboard, DashboardName=name, DashboardBody=json.dumps(body))
    assert (refused["code"], refused["status"]) == ("InvalidParameterInput", 400)
    assert [(m["DataPath"], m["Message"]) for m in refused["messages"]] == expected
    assert error_of(cw.get_dashboard, DashboardName=name)["code"] == "ResourceNotFound"


def test_unknown_widget_types_are_kept_with_a_warning(cw):
    name = unique("warn")
    body = json.dumps({"widgets": [{"type": "metricc", "properties": {}}]})
    (warning,) = cw.put_dashboard(DashboardName=name,
                                  DashboardBody=body)["DashboardValidationMessages"]
    assert warning["DataPath"] == "/widgets/0/type"
    assert cw.get_dashboard(DashboardName=name)["DashboardBody"] == body
    cw.delete_dashboards(DashboardNames=[name])


@pytest.mark.parametrize("name", ["has space", "slash/y", "dot.name", "x" * 256])
def test_bad_names(cw, name):
    refused = error_of(cw.put_dashboard, DashboardName=name, DashboardBody=EMPTY)
    assert (refused["code"], refused["status"]) == ("InvalidParameterInput", 400)
    assert "DashboardName" in refused["message"]
    for call, params in ((cw.get_dashboard, {"DashboardName": name}),
                         (cw.delete_dashboards, {"DashboardNames": [name]})):
        other = error_of(call, **params)
        assert (other["code"], other["status"], other["message"]) == (
            "InvalidParameterValue", 400, refused["message"])


def test_empty_and_missing_bodies(gateway, creds):
    unchecked = boto3.client(
        "cloudwatch", endpoint_url=gateway.endpoint, region_name=REGION,
        aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    name = unique("m")
    empty = error_of(unchecked.put_dashboard, DashboardName=name, DashboardBody="")
    assert (empty["code"], empty["status"], empty["message"]) == (
        "InvalidParameterInput", 400, "The field DashboardBody must be a valid JSON object")
    missing = error_of(unchecked.put_dashboard, DashboardName=name)
    assert (missing["code"], missing["status"], missing["message"]) == (
        "MissingParameter", 400, "The parameter DashboardBody is required.")
    assert error_of(unchecked.get_dashboard, DashboardName=name)["status"] == 404


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_delete_is_all_or_nothing(protocol, gateway, creds, tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    prefix = unique("del")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        client.put_dashboard(DashboardName=name, DashboardBody=EMPTY)
    refused = error_of(client.delete_dashboards,
                       DashboardNames=[names[0], f"{prefix}-nope", names[1]])
    assert refused == {"code": "ResourceNotFound", "status": 404, "messages": None,
                       "message": f"Dashboard {prefix}-nope does not exist"}
    assert listed(client, prefix) == names
    too_many = error_of(client.delete_dashboards,
                        DashboardNames=[f"{prefix}-{i}" for i in range(101)])
    assert (too_many["code"], too_many["status"]) == ("InvalidParameterValue", 400)
    assert listed(client, prefix) == names
    client.delete_dashboards(DashboardNames=names)
    assert listed(client, prefix) == []


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_list_by_prefix_and_tokens(protocol, gateway, creds, tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    prefix = unique("ls")
    names = [f"{prefix}-b", f"{prefix}-a", f"{prefix}_c", f"{prefix}-a-1"]
    for name in names:
        client.put_dashboard(DashboardName=name, DashboardBody=EMPTY)
    assert listed(client, prefix) == sorted(names)
    assert listed(client, f"{prefix}-a") == [f"{prefix}-a", f"{prefix}-a-1"]
    assert listed(client, f"{prefix}.") == []
    page = client.list_dashboards(DashboardNamePrefix=prefix)
    assert "NextToken" not in page
    bad_token = error_of(client.list_dashboards, DashboardNamePrefix=prefix, NextToken="x.y")
    assert bad_token == {"code": "InvalidParameterValue", "status": 400, "messages": None,
                         "message": "The value for parameter NextToken is invalid."}
    bad_prefix = error_of(client.list_dashboards, DashboardNamePrefix="a b")
    assert (bad_prefix["code"], bad_prefix["status"]) == ("InvalidParameterValue", 400)
    client.delete_dashboards(DashboardNames=names)


def test_projects_are_isolated(gateway, creds, other_creds):
    mine = boto3_client("cloudwatch", gateway.endpoint, creds)
    theirs = boto3_client("cloudwatch", gateway.endpoint, other_creds)
    name = unique("iso")
    mine.put_dashboard(DashboardName=name, DashboardBody=BODY)
    assert listed(theirs, name) == []
    assert error_of(theirs.get_dashboard, DashboardName=name)["code"] == "ResourceNotFound"
    assert error_of(theirs.delete_dashboards, DashboardNames=[name])["status"] == 404
    arn = mine.get_dashboard(DashboardName=name)["DashboardArn"]
    assert error_of(theirs.list_tags_for_resource, ResourceARN=arn)["code"] == \
        "ResourceNotFoundException"
    theirs.put_dashboard(DashboardName=name, DashboardBody=EMPTY)
    assert mine.get_dashboard(DashboardName=name)["DashboardBody"] == BODY
    theirs.delete_dashboards(DashboardNames=[name])
    assert listed(mine, name) == [name]
    mine.delete_dashboards(DashboardNames=[name])


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_tags(protocol, gateway, creds, tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    name = unique("tag")
    client.put_dashboard(DashboardName=name, DashboardBody=EMPTY,
                         Tags=[{"Key": "team", "Value": "ops"}])
    arn = client.get_dashboard(DashboardName=name)["DashboardArn"]
    client.put_dashboard(DashboardName=name, DashboardBody=EMPTY,
                         Tags=[{"Key": "ignored", "Value": "on update"}])
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "ops"}]
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    client.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"}]
    client.delete_dashboards(DashboardNames=[name])
    with pytest.raises(ClientError) as caught:
        client.list_tags_for_resource(ResourceARN=arn)
    response = caught.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
            response.get("ResourceType"), response.get("ResourceId")) == (
        "ResourceNotFoundException", 404, "dashboard", arn)


def test_the_aws_cli(gateway, creds, tmp_path):
    prefix = unique("cli")
    name = f"{prefix}-one"
    body_file = tmp_path / "body.json"
    body_file.write_text(BODY, encoding="utf-8")

    def cli(*args: str) -> dict:
        done = aws_cli(gateway.endpoint, creds, "cloudwatch", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    assert cli("put-dashboard", "--dashboard-name", name, "--dashboard-body",
               f"file://{body_file}") == {"DashboardValidationMessages": []}
    got = cli("get-dashboard", "--dashboard-name", name)
    assert got["DashboardBody"] == BODY
    (entry,) = cli("list-dashboards", "--dashboard-name-prefix", prefix)["DashboardEntries"]
    assert (entry["DashboardName"], entry["Size"]) == (name, len(BODY.encode("utf-8")))
    cli("delete-dashboards", "--dashboard-names", name)
    assert cli("list-dashboards", "--dashboard-name-prefix", prefix)["DashboardEntries"] == []

    missing = aws_cli(gateway.endpoint, creds, "cloudwatch", "get-dashboard",
                      "--dashboard-name", name)
    assert missing.returncode != 0
    assert f"(ResourceNotFound) when calling the GetDashboard operation: Dashboard {name} " \
           "does not exist" in missing.stderr
    invalid = aws_cli(gateway.endpoint, creds, "cloudwatch", "put-dashboard",
                      "--dashboard-name", name, "--dashboard-body", '{"widgets": 3}')
    assert invalid.returncode != 0
    assert "(InvalidParameterInput) when calling the PutDashboard operation: The dashboard " \
           "body is invalid, there are 1 validation errors" in invalid.stderr
