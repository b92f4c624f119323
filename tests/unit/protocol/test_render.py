"""Success answers: the exact wire forms older clients depend on."""

from __future__ import annotations

import datetime as dt
import json
import math
import xml.sax

import cbor2
import pytest
from lxml import etree

from cfn_gateway.context import AUTOSCALING, CBOR, CLOUDWATCH, JSON, QUERY
from cfn_gateway.protocol import render_result
from cfn_gateway.protocol.models import operation_model, service_model, xml_namespace

from .wire import parse_with_botocore

NS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"
UTC = dt.UTC


def stats_xml(timestamp: dt.datetime, **datapoint) -> etree._Element:
    op = operation_model(CLOUDWATCH, "GetMetricStatistics")
    result = {"Label": "m", "Datapoints": [{"Timestamp": timestamp, **datapoint}]}
    reply = render_result(CLOUDWATCH, QUERY, op, result, "rid")
    assert reply.status == 200 and dict(reply.headers)["Content-Type"] == "text/xml"
    return etree.fromstring(reply.body)


@pytest.mark.parametrize(("value", "text"), [
    (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
    (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05Z"),  # naive means UTC
    (dt.datetime(2024, 1, 2, 4, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
     "2024-01-02T03:04:05Z"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC), "2024-01-02T03:04:05.120Z"),
    (dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2024-01-02T03:04:05.123456Z"),
])
def test_query_timestamps(value, text):
    assert stats_xml(value).findtext(f".//{NS}Timestamp") == text


def test_query_document_layout():
    root = stats_xml(dt.datetime(2024, 1, 2, tzinfo=UTC), Sum=2.0, Unit="Count")
    assert root.tag == NS + "GetMetricStatisticsResponse"
    assert [child.tag for child in root] == [NS + "GetMetricStatisticsResult",
                                             NS + "ResponseMetadata"]
    member = root.find(f"{NS}GetMetricStatisticsResult/{NS}Datapoints/{NS}member")
    assert [child.tag for child in member] == [NS + "Timestamp", NS + "Sum", NS + "Unit"]
    assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId") == "rid"


def test_no_result_element_without_output_shape():
    op = operation_model(CLOUDWATCH, "PutMetricData")
    root = etree.fromstring(render_result(CLOUDWATCH, QUERY, op, None, "rid").body)
    assert [child.tag for child in root] == [NS + "ResponseMetadata"]


def test_empty_result_element_when_handler_returns_nothing():
    op = operation_model(CLOUDWATCH, "ListMetrics")
    root = etree.fromstring(render_result(CLOUDWATCH, QUERY, op, None, "rid").body)
    assert len(root.find(NS + "ListMetricsResult")) == 0


def test_autoscaling_namespace():
    op = operation_model(AUTOSCALING, "DescribeAccountLimits")
    result = {"MaxNumberOfAutoScalingGroups": 20}
    root = etree.fromstring(render_result(AUTOSCALING, QUERY, op, result, "rid").body)
    ns = "{http://autoscaling.amazonaws.com/doc/2011-01-01/}"
    path = f"{ns}DescribeAccountLimitsResult/{ns}MaxNumberOfAutoScalingGroups"
    assert root.findtext(path) == "20"


@pytest.mark.parametrize(("value", "text"), [
    (1.0, "1.0"), (0.1, "0.1"), (1e-07, "1e-07"), (2.5e300, "2.5e+300"), (3, "3.0"),
    (math.inf, "Infinity"), (-math.inf, "-Infinity"), (math.nan, "NaN"),
])
def test_query_doubles_parse_with_float(value, text):
    rendered = stats_xml(dt.datetime(2024, 1, 2, tzinfo=UTC), Sum=value).findtext(
        f".//{NS}Sum")
    assert rendered == text
    parsed = float(rendered)
    assert parsed == value or (math.isnan(parsed) and math.isnan(value))


def test_characters_xml_cannot_carry_are_replaced():
    root = stats_xml(dt.datetime(2024, 1, 2, tzinfo=UTC), Unit="Count")
    assert root is not None
    op = operation_model(CLOUDWATCH, "ListMetrics")
    reply = render_result(CLOUDWATCH, QUERY, op,
                          {"Metrics": [{"MetricName": "a\x00b\x1fc\r\nd"}]}, "rid")
    assert etree.fromstring(reply.body).findtext(f".//{NS}MetricName") == "a\ufffdb\ufffdc\r\nd"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_boto2_reads_datapoints_and_alarms():
    import boto.handler
    import boto.resultset
    from boto.ec2.cloudwatch.alarm import MetricAlarm
    from boto.ec2.cloudwatch.datapoint import Datapoint

    op = operation_model(CLOUDWATCH, "GetMetricStatistics")
    result = {"Datapoints": [{"Timestamp": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                              "Average": 1.5, "SampleCount": 3.0, "Unit": "Percent"}]}
    body = render_result(CLOUDWATCH, QUERY, op, result, "rid").body
    points = boto.resultset.ResultSet([("member", Datapoint)])
    xml.sax.parseString(body, boto.handler.XmlHandler(points, None))
    assert points[0] == {"Timestamp": dt.datetime(2024, 1, 2, 3, 4, 5), "Average": 1.5,
                         "SampleCount": 3.0, "Unit": "Percent"}

    op = operation_model(CLOUDWATCH, "DescribeAlarms")
    alarm = {"AlarmName": "cpu high", "MetricName": "CPU", "Namespace": "system/linux",
             "Statistic": "Average", "ComparisonOperator": "GreaterThanThreshold",
             "Threshold": 80.0, "Period": 60, "EvaluationPeriods": 2, "StateValue": "OK",
             "StateUpdatedTimestamp": dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
             "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}],
             "AlarmActions": ["http://hook"]}
    body = render_result(CLOUDWATCH, QUERY, op, {"MetricAlarms": [alarm]}, "rid").body
    alarms = boto.resultset.ResultSet([("member", MetricAlarm)])
    xml.sax.parseString(body, boto.handler.XmlHandler(alarms, None))
    assert (alarms[0].name, alarms[0].threshold, alarms[0].period) == ("cpu high", 80.0, 60)
    assert alarms[0].dimensions == {"InstanceId": ["i-1"]}
    assert alarms[0].alarm_actions == ["http://hook"]


def test_json_answers():
    op = operation_model(CLOUDWATCH, "PutMetricData")
    reply = render_result(CLOUDWATCH, JSON, op, None, "rid")
    assert (reply.status, reply.body) == (200, b"{}")
    assert dict(reply.headers)["Content-Type"] == "application/x-amz-json-1.0"
    op = operation_model(CLOUDWATCH, "GetMetricStatistics")
    result = {"Datapoints": [{"Timestamp": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                              "Sum": math.inf},
                             {"Timestamp": dt.datetime(2024, 1, 2, 3, 4, 5, 500000,
                                                       tzinfo=UTC), "Sum": math.nan}]}
    body = json.loads(render_result(CLOUDWATCH, JSON, op, result, "rid").body)
    assert body == {"Datapoints": [{"Timestamp": 1704164645, "Sum": "Infinity"},
                                   {"Timestamp": 1704164645.5, "Sum": "NaN"}]}



def test_json_text_is_utf8_and_a_lone_surrogate_is_escaped():
    op = operation_model(CLOUDWATCH, "GetMetricStatistics")
    body = render_result(CLOUDWATCH, JSON, op, {"Label": "é\u2028😀"}, "rid").body
    assert body == '{"Label":"é\u2028😀"}'.encode()
    # UTF-8 cannot carry a lone surrogate: the answer escapes it, as JSON allows.
    body = render_result(CLOUDWATCH, JSON, op, {"Label": "a\ud800"}, "rid").body
    assert body == b'{"Label":"a\\ud800"}'
    assert json.loads(body) == {"Label": "a\ud800"}

def test_cbor_answers():
    op = operation_model(CLOUDWATCH, "PutMetricData", CBOR)
    reply = render_result(CLOUDWATCH, CBOR, op, None, "rid")
    assert (reply.status, reply.body) == (200, b"")
    assert dict(reply.headers) == {"smithy-protocol": "rpc-v2-cbor"}
    op = operation_model(CLOUDWATCH, "GetMetricStatistics", CBOR)
    result = {"Datapoints": [{"Timestamp": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                              "Sum": -math.inf}]}
    reply = render_result(CLOUDWATCH, CBOR, op, result, "rid")
    assert dict(reply.headers)["Content-Type"] == "application/cbor"
    raw = cbor2.loads(reply.body, tag_hook=lambda decoder, tag: tag)
    assert raw["Datapoints"][0]["Timestamp"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert b"\xc1\x1a" in reply.body  # tag 1 around a 32-bit integer
    parsed = parse_with_botocore(CBOR, op, reply)
    assert parsed["Datapoints"][0]["Sum"] == -math.inf
    empty = render_result(CLOUDWATCH, CBOR, op, None, "rid")
    assert cbor2.loads(empty.body) == {}


@pytest.mark.parametrize("protocol", [QUERY, JSON, CBOR])
def test_epoch_numbers_are_accepted_as_timestamps(protocol):
    op = operation_model(CLOUDWATCH, "GetMetricStatistics", protocol)
    result = {"Datapoints": [{"Timestamp": 1704164645}]}
    parsed = parse_with_botocore(protocol, op, render_result(CLOUDWATCH, protocol, op, result,
                                                             "rid"))
    assert parsed["Datapoints"][0]["Timestamp"] == dt.datetime(2024, 1, 2, 3, 4, 5,
                                                               tzinfo=UTC)


def lxml_no_output_answer(service: str, op, request_id: str) -> bytes:
    """What the answer of an operation without output is when lxml builds it."""
    namespace = xml_namespace(service)
    root = etree.Element(f"{{{namespace}}}{op.name}Response", nsmap={None: namespace})
    metadata = etree.SubElement(root, f"{{{namespace}}}ResponseMetadata")
    etree.SubElement(metadata, f"{{{namespace}}}RequestId").text = request_id
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


@pytest.mark.parametrize("service", [CLOUDWATCH, AUTOSCALING])
@pytest.mark.parametrize("request_id", ["9d3c2a4e-5b6f-4a7b-8c9d-0e1f2a3b4c5d", "rid",
                                        "a<b&c", "x" * 65])
def test_answers_without_output_are_lxml_s_own(service, request_id):
    names = [name for name in service_model(service).operation_names
             if operation_model(service, name, QUERY).output_shape is None]
    assert names, service
    for name in names:
        op = operation_model(service, name, QUERY)
        for _ in range(2):  # rendered, then from the remembered template
            reply = render_result(service, QUERY, op, None, request_id)
            assert reply.body == lxml_no_output_answer(service, op, request_id), name
            assert reply.headers == [("Content-Type", "text/xml")]
