"""The dashboard body rules, one table row per rule: a body that keeps it, one that breaks it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cfn_gateway.domain import dashboard_body as db
from cfn_gateway.domain.dashboard_body import BodyMessage, NotAJsonObject, check_body

TEXT = {"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
        "properties": {"markdown": "Hello"}}
METRIC_PROPERTIES = {"metrics": [["Test/ns", "Latency", "Host", "web1"]],
                     "region": "us-east-1"}


def metric(**properties: Any) -> dict[str, Any]:
    return {"type": "metric", "properties": METRIC_PROPERTIES | properties}


def with_widgets(*widgets: Any, **top: Any) -> str:
    return json.dumps({"widgets": list(widgets)} | top)


def problems(body: str) -> list[tuple[str, str]]:
    return [(m.data_path, m.message) for m in check_body(body).errors]


# Each row: id, a body that keeps the rule, a body that breaks it, the messages it gets.
RULES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("widgets required", with_widgets(), json.dumps({"start": "-PT6H"}),
     [("", "Should have required property 'widgets'")]),
    ("widgets array", with_widgets(TEXT), json.dumps({"widgets": {"0": TEXT}}),
     [("/widgets", "Should be array")]),
    ("at most 500 widgets", with_widgets(*[TEXT] * 500), with_widgets(*[TEXT] * 501),
     [("/widgets", "Should NOT have more than 500 items")]),
    ("widget object", with_widgets(TEXT), with_widgets("text"),
     [("/widgets/0", "Should be object")]),
    ("widget type required", with_widgets(TEXT),
     with_widgets({"properties": {"markdown": "m"}}),
     [("/widgets/0", "Should have required property 'type'")]),
    ("widget type string", with_widgets(TEXT),
     with_widgets({"type": 1, "properties": {}}), [("/widgets/0/type", "Should be string")]),
    ("widget properties required", with_widgets(TEXT), with_widgets({"type": "text"}),
     [("/widgets/0", "Should have required property 'properties'")]),
    ("widget properties object", with_widgets(TEXT),
     with_widgets({"type": "text", "properties": []}),
     [("/widgets/0/properties", "Should be object")]),
    ("x at most 23", with_widgets(TEXT | {"x": 23}), with_widgets(TEXT | {"x": 24}),
     [("/widgets/0/x", "Should be <= 23")]),
    ("x not negative", with_widgets(TEXT | {"x": 0}), with_widgets(TEXT | {"x": -1}),
     [("/widgets/0/x", "Should be >= 0")]),
    ("x integer", with_widgets(TEXT | {"x": 2.0}), with_widgets(TEXT | {"x": 1.5}),
     [("/widgets/0/x", "Should be integer")]),
    ("x a number", with_widgets(TEXT | {"x": 1}), with_widgets(TEXT | {"x": "1"}),
     [("/widgets/0/x", "Should be integer")]),
    ("x no boolean", with_widgets(TEXT | {"x": 1}), with_widgets(TEXT | {"x": True}),
     [("/widgets/0/x", "Should be integer")]),
    ("y not negative", with_widgets(TEXT | {"y": 100000}), with_widgets(TEXT | {"y": -3}),
     [("/widgets/0/y", "Should be >= 0")]),
    ("width at least 1", with_widgets(TEXT | {"width": 1}), with_widgets(TEXT | {"width": 0}),
     [("/widgets/0/width", "Should be >= 1")]),
    ("width at most 24", with_widgets(TEXT | {"width": 24}),
     with_widgets(TEXT | {"width": 25}), [("/widgets/0/width", "Should be <= 24")]),
    ("height at least 1", with_widgets(TEXT | {"height": 1}),
     with_widgets(TEXT | {"height": 0}), [("/widgets/0/height", "Should be >= 1")]),
    ("height at most 1000", with_widgets(TEXT | {"height": 1000}),
     with_widgets(TEXT | {"height": 1001}), [("/widgets/0/height", "Should be <= 1000")]),
    ("text markdown required", with_widgets(TEXT),
     with_widgets({"type": "text", "properties": {}}),
     [("/widgets/0/properties", "Should have required property 'markdown'")]),
    ("text markdown string", with_widgets(TEXT),
     with_widgets({"type": "text", "properties": {"markdown": ["a"]}}),
     [("/widgets/0/properties/markdown", "Should be string")]),
    ("alarm alarms required",
     with_widgets({"type": "alarm", "properties": {"alarms": ["arn:aws:cloudwatch:a"]}}),
     with_widgets({"type": "alarm", "properties": {"title": "t"}}),
     [("/widgets/0/properties", "Should have required property 'alarms'")]),
    ("alarm alarms array of strings",
     with_widgets({"type": "alarm", "properties": {"alarms": []}}),
     with_widgets({"type": "alarm", "properties": {"alarms": ["a", 3]}}),
     [("/widgets/0/properties/alarms/1", "Should be string")]),
    ("log query required",
     with_widgets({"type": "log", "properties": {"query": "SOURCE 'g' | fields @message"}}),
     with_widgets({"type": "log", "properties": {"region": "r"}}),
     [("/widgets/0/properties", "Should have required property 'query'")]),
    ("metric region and source", with_widgets(metric()),
     with_widgets({"type": "metric", "properties": {"title": "nothing"}}),
     [("/widgets/0/properties", db.NO_SOURCE)]),
    ("metric region needed", with_widgets(metric()),
     with_widgets({"type": "metric", "properties": {"metrics": []}}),
     [("/widgets/0/properties", db.NO_SOURCE)]),
    ("metric alarm annotation is a source",
     with_widgets({"type": "metric", "properties": {
         "region": "r", "annotations": {"alarms": ["arn:aws:cloudwatch:r:1:alarm:a"]}}}),
     with_widgets({"type": "metric", "properties": {
         "region": "r", "annotations": {"horizontal": []}}}),
     [("/widgets/0/properties", db.NO_SOURCE)]),
    ("metrics array", with_widgets(metric()), with_widgets(metric(metrics={"a": "b"})),
     [("/widgets/0/properties", db.NO_SOURCE),
      ("/widgets/0/properties/metrics", "Should be array")]),
    ("metrics of arrays", with_widgets(metric()),
     with_widgets(metric(metrics=[{"expression": "SEARCH('x')"}])),
     [("/widgets/0/properties/metrics/0", "Should be array")]),
    ("metrics not flattened", with_widgets(metric()),
     with_widgets(metric(metrics=["Test/ns", "Latency"])),
     [("/widgets/0/properties/metrics/0", db.FLAT_METRICS),
      ("/widgets/0/properties/metrics/1", db.FLAT_METRICS)]),
    ("metric fields are strings",
     with_widgets(metric(metrics=[["Test/ns", "Latency", {"stat": "Sum"}]])),
     with_widgets(metric(metrics=[["Test/ns", "Latency", 3, "v"]])),
     [("/widgets/0/properties/metrics/0/2", db.METRIC_FIELD)]),
    ("rendering object only last",
     with_widgets(metric(metrics=[[{"expression": "m1*2", "label": "x", "id": "e1"}]])),
     with_widgets(metric(metrics=[["Test/ns", {"stat": "Sum"}, "Latency"]])),
     [("/widgets/0/properties/metrics/0/1", db.METRIC_FIELD)]),
    ("at most 500 metrics a widget", with_widgets(metric(metrics=[["n", "m"]] * 500)),
     with_widgets(metric(metrics=[["n", "m"]] * 501)),
     [("/widgets/0/properties/metrics", "Should NOT have more than 500 items")]),
    ("at most 2500 metrics a dashboard",
     with_widgets(*[metric(metrics=[["n", "m"]] * 500)] * 5),
     with_widgets(*[metric(metrics=[["n", "m"]] * 500)] * 5, metric()),
     [("/widgets", "Should NOT have more than 2500 metrics across all widgets")]),
    ("period of a minute multiple", with_widgets(metric(period=300)),
     with_widgets(metric(period=90)),
     [("/widgets/0/properties/period", "Should be multiple of 60"),
      ("/widgets/0/properties/period", "Should match exactly one schema in oneOf")]),
    ("high-resolution periods", with_widgets(metric(period=10)),
     with_widgets(metric(period=45)),
     [("/widgets/0/properties/period", "Should be >= 60"),
      ("/widgets/0/properties/period", "Should be multiple of 60"),
      ("/widgets/0/properties/period", "Should match exactly one schema in oneOf")]),
    ("period positive", with_widgets(metric(period=1)), with_widgets(metric(period=0)),
     [("/widgets/0/properties/period", "Should be >= 60"),
      ("/widgets/0/properties/period", "Should match exactly one schema in oneOf")]),
    ("period integer", with_widgets(metric(period=60)), with_widgets(metric(period="60")),
     [("/widgets/0/properties/period", "Should be integer")]),
    ("period of one metric", with_widgets(metric(metrics=[["n", "m", {"period": 5}]])),
     with_widgets(metric(metrics=[["n", "m", {"period": 7}]])),
     [("/widgets/0/properties/metrics/0/2/period", "Should be >= 60"),
      ("/widgets/0/properties/metrics/0/2/period", "Should be multiple of 60"),
      ("/widgets/0/properties/metrics/0/2/period",
       "Should match exactly one schema in oneOf")]),
    ("stat a statistic", with_widgets(metric(stat="Average")),
     with_widgets(metric(stat="Avg")),
     [("/widgets/0/properties/stat", f'Should match pattern "{db.STAT_PATTERN}"')]),
    ("stat of one metric", with_widgets(metric(metrics=[["n", "m", {"stat": "p99.9"}]])),
     with_widgets(metric(metrics=[["n", "m", {"stat": "average"}]])),
     [("/widgets/0/properties/metrics/0/2/stat", f'Should match pattern "{db.STAT_PATTERN}"')]),
    ("stat a string", with_widgets(metric(stat="Sum")), with_widgets(metric(stat=["Sum"])),
     [("/widgets/0/properties/stat", "Should be string")]),
    ("yAxis min not above max",
     with_widgets(metric(yAxis={"left": {"min": 0, "max": 100}, "right": {"min": 5}})),
     with_widgets(metric(yAxis={"left": {"min": 100, "max": 10.5}})),
     [("/widgets/0/properties/yAxis/left", "Should be <= 10.5"),
      ("/widgets/0/properties/yAxis/left", "Should be >= 100")]),
    ("start and end strings", with_widgets(start="-PT3H", end="2026-11-29T10:00:00Z"),
     with_widgets(start=3, end=None),
     [("/start", "Should be string"), ("/end", "Should be string")]),
    ("periodOverride auto or inherit", with_widgets(periodOverride="inherit"),
     with_widgets(periodOverride="always"),
     [("/periodOverride", "Should be equal to one of the allowed values")]),
    ("variables array", with_widgets(variables=[]), with_widgets(variables={}),
     [("/variables", "Should be array")]),
    ("variable type and inputType",
     with_widgets(variables=[{"type": "property", "property": "region",
                              "inputType": "select", "values": [{"value": "r"}]}]),
     with_widgets(variables=[{"type": "regex", "inputType": "input"}, {"type": "pattern"},
                             7]),
     [("/variables/0/type", "Should be equal to one of the allowed values"),
      ("/variables/1", "Should have required property 'inputType'"),
      ("/variables/2", "Should be object")]),
]


@pytest.mark.parametrize(("keeps", "breaks", "messages"), [r[1:] for r in RULES],
                         ids=[r[0] for r in RULES])
def test_rule(keeps, breaks, messages):
    assert check_body(keeps) == db.BodyReport()
    assert problems(breaks) == messages


@pytest.mark.parametrize("text", [
    "{not json", "", "[]", '"widgets"', "null", "42",
    '{"widgets": [], "x": NaN}', '{"widgets": [], "x": Infinity}',
    "[" * 100000 + "]" * 100000,
])
def test_not_a_json_object(text):
    with pytest.raises(NotAJsonObject) as caught:
        check_body(text)
    assert str(caught.value) == "The field DashboardBody must be a valid JSON object"


def test_an_empty_dashboard_and_the_documented_example():
    assert check_body('{"widgets": []}') == db.BodyReport()
    example = {
        "start": "-PT6H", "periodOverride": "inherit",
        "widgets": [
            {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
                "metrics": [["AWS/EC2", "CPUUtilization", "InstanceId", "i-012345"]],
                "period": 300, "stat": "Average", "region": "us-east-1",
                "title": "EC2 Instance CPU", "liveData": False,
                "legend": {"position": "right"}}},
            {"type": "text", "x": 0, "y": 7, "width": 3, "height": 3,
             "properties": {"markdown": "Hello world"}}]}
    assert check_body(json.dumps(example, indent=4)) == db.BodyReport()


@pytest.mark.parametrize("stat", [
    "SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM", "p99", "p99.9", "p0",
    "p100", "tm90", "tc10.5", "ts99", "wm95", "TM(10%:90%)", "TM(:95%)", "TC(10:)",
    "PR(:300)", "WM(5%:95%)", "ts(1%:99%)", "TM(-5:5.5)",
])
def test_statistics_cloudwatch_knows(stat):
    assert check_body(with_widgets(metric(stat=stat))).errors == ()


@pytest.mark.parametrize("stat", ["avg", "p101", "p", "TM(10%:90%", "Average\n", "max", "",
                                  "tm", "XX(1:2)"])
def test_statistics_it_does_not(stat):
    assert problems(with_widgets(metric(stat=stat))) == [
        ("/widgets/0/properties/stat", f'Should match pattern "{db.STAT_PATTERN}"')]


def test_unknown_widget_types_are_kept_with_a_warning():
    report = check_body(with_widgets({"type": "metricc", "properties": {}}, TEXT))
    assert report.errors == ()
    assert report.warnings == (BodyMessage("/widgets/0/type", db.UNKNOWN_TYPE),)


@pytest.mark.parametrize("kind", ["explorer", "custom"])
def test_widget_types_without_property_rules(kind):
    assert check_body(with_widgets({"type": kind, "properties": {}})) == db.BodyReport()


def test_every_problem_is_listed_in_document_order():
    body = with_widgets(TEXT | {"x": 24, "width": 25}, {"type": "text", "properties": {}},
                        metric(period=45, stat="Avg"))
    assert [path for path, _ in problems(body)] == [
        "/widgets/0/x", "/widgets/0/width", "/widgets/1/properties",
        "/widgets/2/properties/period", "/widgets/2/properties/period",
        "/widgets/2/properties/period", "/widgets/2/properties/stat"]


def test_numbers_read_as_javascript_does():
    assert db.number_text(10.0) == "10" and db.number_text(10.5) == "10.5"
    assert db.number_text(3) == "3"
    huge = "1" * 5000
    assert check_body('{"widgets": [], "n": ' + huge + "}") == db.BodyReport()


def test_the_answer_to_a_huge_bad_body_is_bounded():
    report = check_body(json.dumps({"widgets": [1] * 200000 + [{"type": "z"}] * 200}))
    assert len(report.errors) == db.MAX_MESSAGES
    assert report.errors[-1] == BodyMessage(f"/widgets/{db.MAX_MESSAGES - 2}",
                                            "Should be object")
    warned = check_body(json.dumps({"widgets": [{"type": "z", "properties": {}}] * 300}))
    assert (len(warned.errors), len(warned.warnings)) == (0, db.MAX_MESSAGES)
