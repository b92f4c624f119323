"""GetMetricData end to end in both modes: MetricStat queries through boto3 (JSON, Query
and CBOR), the AWS CLI, paging, units, and every bad input; the values agree with
GetMetricStatistics over the same data."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from tests.functional.clients import aws_cli, boto3_client
from tests.functional.metric_clients import PROTOCOLS, cloudwatch_client

pytestmark = pytest.mark.functional



def minute_ago(minutes: int) -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=minutes)




def stat(query_id: str, namespace: str, name: str, statistic: str, period: int = 60,
         **extra) -> dict:
    metric = {"Namespace": namespace, "MetricName": name,
              "Dimensions": [{"Name": "Host", "Value": "web-1"}]}
    query = {"Id": query_id, "MetricStat": {"Metric": metric, "Period": period,
                                            "Stat": statistic}}
    if "unit" in extra:
        query["MetricStat"]["Unit"] = extra.pop("unit")
    query.update(extra)
    return query


def put(client, namespace: str, name: str, points: list[tuple[dt.datetime, float, str]]):
    client.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "Host", "Value": "web-1"}],
         "Timestamp": moment, "Value": value, "Unit": unit}
        for moment, value, unit in points])


def error_of(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_metric_stat_queries_agree_with_statistics(protocol, gateway, creds, namespace,
                                                   tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    t0 = minute_ago(10)
    minute = dt.timedelta(minutes=1)
    put(client, namespace, "Latency", [
        (t0, 1.0, "Milliseconds"), (t0 + dt.timedelta(seconds=20), 2.0, "Milliseconds"),
        (t0 + dt.timedelta(seconds=40), 6.0, "Milliseconds"),
        (t0 + minute, 10.0, "Milliseconds"), (t0 + 3 * minute, 5.0, "Milliseconds")])
    start, end = t0, t0 + 5 * minute
    answer = client.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
        stat("total", namespace, "Latency", "Sum"),
        stat("mean", namespace, "Latency", "Average"),
        stat("peak", namespace, "Latency", "Maximum", Label="worst"),
        stat("count", namespace, "Latency", "SampleCount", ReturnData=False),
        stat("low", namespace, "Latency", "Minimum", period=120),
    ])
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert [r["Id"] for r in answer["MetricDataResults"]] == ["total", "mean", "peak", "low"]
    newest_first = [t0 + 3 * minute, t0 + minute, t0]
    assert results["total"]["Timestamps"] == newest_first
    assert results["total"]["Values"] == [5.0, 10.0, 9.0]
    assert results["mean"]["Values"] == [5.0, 10.0, 3.0]
    assert results["peak"]["Values"] == [5.0, 10.0, 6.0]
    assert [r["Label"] for r in answer["MetricDataResults"]] == [
        "Latency", "Latency", "worst", "Latency"]
    assert results["low"]["Timestamps"] == [t0 + 2 * minute, t0]
    assert results["low"]["Values"] == [5.0, 1.0]
    assert all(r["StatusCode"] == "Complete" for r in answer["MetricDataResults"])
    assert "NextToken" not in answer

    # GetMetricStatistics over the same data says the same.
    stats = client.get_metric_statistics(
        Namespace=namespace, MetricName="Latency",
        Dimensions=[{"Name": "Host", "Value": "web-1"}], StartTime=start, EndTime=end,
        Period=60, Statistics=["Sum", "Average", "Maximum"])["Datapoints"]
    by_time = {p["Timestamp"]: p for p in stats}
    for query_id, name in (("total", "Sum"), ("mean", "Average"), ("peak", "Maximum")):
        assert {t: v for t, v in zip(results[query_id]["Timestamps"],
                                     results[query_id]["Values"], strict=True)} == {
            t: p[name] for t, p in by_time.items()}


def test_pages_scan_order_and_units(gateway, creds, namespace):
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    t0 = minute_ago(8)
    minute = dt.timedelta(minutes=1)
    put(client, namespace, "Work", [(t0 + i * minute, float(i + 1), "Count")
                                    for i in range(5)])
    put(client, namespace, "Work", [(t0, 100.0, "Seconds")])
    queries = [stat("a", namespace, "Work", "Sum"), stat("b", namespace, "Work", "Maximum")]
    span = {"StartTime": t0, "EndTime": t0 + 5 * minute}

    # Without a Unit the units of one minute are one value; with one, only that unit.
    whole = client.get_metric_data(MetricDataQueries=queries, ScanBy="TimestampAscending",
                                   **span)["MetricDataResults"]
    assert whole[0]["Values"] == [101.0, 2.0, 3.0, 4.0, 5.0]
    counted = client.get_metric_data(MetricDataQueries=[
        stat("a", namespace, "Work", "Sum", unit="Count")], **span)["MetricDataResults"]
    assert counted[0]["Values"] == [5.0, 4.0, 3.0, 2.0, 1.0]

    # Pages of 3 points, oldest first, across both results.
    seen: dict[str, list] = {"a": [], "b": []}
    statuses, token, pages = [], None, 0
    while True:
        extra = {"NextToken": token} if token else {}
        answer = client.get_metric_data(MetricDataQueries=queries, MaxDatapoints=3,
                                        ScanBy="TimestampAscending", **span, **extra)
        pages += 1
        for result in answer["MetricDataResults"]:
            seen[result["Id"]] += list(zip(result["Timestamps"], result["Values"],
                                           strict=True))
            statuses.append((pages, result["Id"], result["StatusCode"]))
        token = answer.get("NextToken")
        if not token:
            break
    assert pages == 4
    assert [v for _, v in seen["a"]] == [101.0, 2.0, 3.0, 4.0, 5.0]
    assert [v for _, v in seen["b"]] == [100.0, 2.0, 3.0, 4.0, 5.0]
    assert statuses[:2] == [(1, "a", "PartialData"), (1, "b", "PartialData")]
    assert statuses[-2:] == [(4, "a", "Complete"), (4, "b", "Complete")]
    # A token is bound to its request.
    first = client.get_metric_data(MetricDataQueries=queries, MaxDatapoints=3, **span)
    assert error_of(client.get_metric_data, MetricDataQueries=queries[:1],
                    NextToken=first["NextToken"], **span)[0] == "InvalidNextToken"


def test_bad_requests_are_refused(gateway, creds, namespace):
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    t0 = minute_ago(30)
    span = {"StartTime": t0, "EndTime": t0 + dt.timedelta(minutes=10)}
    good = stat("a", namespace, "Work", "Sum")

    def refused(queries, **kwargs) -> tuple[str, str]:
        return error_of(client.get_metric_data, MetricDataQueries=queries,
                        **{**span, **kwargs})

    assert refused([good, {**good}]) == (
        "ValidationError", "The Id a is used by more than one query of MetricDataQueries: "
                           "Ids must be unique.")
    assert refused([{**good, "Id": "Bad"}])[0] == "ValidationError"
    assert refused([{**good, "ReturnData": False}]) == (
        "ValidationError",
        "At least one query of MetricDataQueries must have ReturnData set to true.")
    assert refused([{**good, "Expression": "a * 2"}])[0] == "ValidationError"
    assert refused([{"Id": "a"}])[0] == "ValidationError"
    assert refused([good], StartTime=span["EndTime"], EndTime=span["StartTime"]) == (
        "InvalidParameterValue",
        "The parameter StartTime must be less than the parameter EndTime.")
    assert refused([stat("a", namespace, "Work", "Sum", period=90)])[0] == \
        "InvalidParameterValue"
    assert refused([stat("a", namespace, "Work", "Median")]) == (
        "InvalidParameterValue",
        "The value Median for parameter MetricDataQueries.member.1.MetricStat.Stat is "
        "invalid.")
    assert refused([good], NextToken="not-a-token")[0] == "InvalidNextToken"
    assert refused([good], LabelOptions={"Timezone": "CET"})[0] == "InvalidParameterValue"
    assert refused([{"Id": "q", "Expression": "SELECT AVG(Work) FROM x"}])[0] == \
        "NotImplemented"
    assert refused([{**good, "Id": f"q{n}"} for n in range(501)])[0] == "ValidationError"


def test_aws_cli_reads_metric_data(gateway, creds, namespace):
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    t0 = minute_ago(6)
    put(client, namespace, "Hits", [(t0, 3.0, "Count"), (t0 + dt.timedelta(minutes=1), 4.0,
                                                          "Count")])
    done = aws_cli(gateway.endpoint, creds, "cloudwatch", "get-metric-data",
                   "--start-time", t0.isoformat(),
                   "--end-time", (t0 + dt.timedelta(minutes=2)).isoformat(),
                   "--scan-by", "TimestampAscending",
                   "--metric-data-queries", json.dumps([stat("hits", namespace, "Hits",
                                                             "Sum")]))
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["MetricDataResults"]
    assert (result["Id"], result["Label"], result["Values"]) == ("hits", "Hits", [3.0, 4.0])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_metric_math(protocol, gateway, creds, namespace, tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    t0 = minute_ago(12)
    minute = dt.timedelta(minutes=1)
    requests = {0: 10.0, 1: 20.0, 2: 40.0, 4: 8.0}
    failures = {0: 1.0, 2: 4.0, 3: 2.0}
    put(client, namespace, "Requests", [(t0 + n * minute, v, "Count")
                                        for n, v in requests.items()])
    put(client, namespace, "Errors", [(t0 + n * minute, v, "Count")
                                      for n, v in failures.items()])
    span = {"StartTime": t0, "EndTime": t0 + 5 * minute, "ScanBy": "TimestampAscending"}
    answer = client.get_metric_data(MetricDataQueries=[
        stat("r", namespace, "Requests", "Sum", ReturnData=False),
        stat("e", namespace, "Errors", "Sum", ReturnData=False),
        {"Id": "rate", "Expression": "100 * e / r", "Label": "Error rate"},
        {"Id": "total", "Expression": "SUM(METRICS())"},
        {"Id": "filled", "Expression": "FILL(e, 0)"},
        {"Id": "high", "Expression": "IF(r > 15, r, 0)", "ReturnData": True},
    ], **span)
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert [r["Id"] for r in answer["MetricDataResults"]] == ["rate", "total", "filled",
                                                              "high"]

    def at(result: dict) -> dict[int, float]:
        return {int((t - t0) / minute): v for t, v in
                zip(result["Timestamps"], result["Values"], strict=True)}

    # Missing points count as 0; a division by zero drops its point, with AWS's message.
    assert at(results["rate"]) == {0: 10.0, 1: 0.0, 2: 10.0, 4: 0.0}
    assert results["rate"]["Label"] == "Error rate"
    assert [m["Code"] for m in results["rate"]["Messages"]] == ["ArithmeticError"]
    assert at(results["total"]) == {n: requests.get(n, 0.0) + failures.get(n, 0.0)
                                    for n in range(5)}
    assert results["total"]["Label"] == "total"
    assert at(results["filled"]) == {n: failures.get(n, 0.0) for n in range(5)}
    assert at(results["high"]) == {0: 0.0, 1: 20.0, 2: 40.0, 4: 0.0}  # r's timestamps


def test_bad_expressions_are_refused(gateway, creds, namespace):
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    t0 = minute_ago(30)
    span = {"StartTime": t0, "EndTime": t0 + dt.timedelta(minutes=10)}
    base = stat("m", namespace, "Work", "Sum", ReturnData=False)

    def refused(*expressions: str) -> tuple[str, str]:
        return error_of(client.get_metric_data, MetricDataQueries=[base, *(
            {"Id": f"e{n}", "Expression": text} for n, text in enumerate(expressions))],
            **span)

    code, message = refused("m +")
    assert code == "ValidationError" and message.startswith("Error in expression e0")
    assert refused("m * x") == ("ValidationError", "Error in expression e0 at position 5: "
                                                   "unknown metric or expression id 'x'.")
    assert refused("e1 + 1", "e0 * 2")[1].startswith("Error in expression e0: circular "
                                                     "reference")
    assert refused("NOPE(m)")[0] == "ValidationError"
    assert refused("SUM(m)")[1].endswith("not a scalar.")  # a result must be a series
    assert refused("SEARCH('{AWS/EC2} CPUUtilization', 'Average', 300)")[0] == \
        "NotImplemented"


def test_high_resolution_periods(gateway, creds, namespace):
    """1-second data read at 1, 10 and 30 s periods, by GetMetricData and
    GetMetricStatistics alike."""
    client = boto3_client("cloudwatch", gateway.endpoint, creds)
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    t0 -= dt.timedelta(seconds=t0.second % 30)  # on a 30 s boundary
    values = {s: float(s + 1) for s in (0, 1, 5, 12, 29, 31)}
    client.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Fast", "Timestamp": t0 + dt.timedelta(seconds=s), "Value": v,
         "StorageResolution": 1} for s, v in values.items()])
    span = {"StartTime": t0, "EndTime": t0 + dt.timedelta(seconds=60),
            "ScanBy": "TimestampAscending"}
    metric = {"Namespace": namespace, "MetricName": "Fast"}
    answer = client.get_metric_data(MetricDataQueries=[
        {"Id": f"p{period}", "MetricStat": {"Metric": metric, "Period": period,
                                            "Stat": "Sum"}} for period in (1, 10, 30)],
        **span)["MetricDataResults"]

    def expected(period: int) -> dict[int, float]:
        sums: dict[int, float] = {}
        for second, value in values.items():
            sums[second - second % period] = sums.get(second - second % period, 0) + value
        return sums

    for result in answer:
        period = int(result["Id"][1:])
        got = {int((t - t0).total_seconds()): v
               for t, v in zip(result["Timestamps"], result["Values"], strict=True)}
        assert got == expected(period), period
        stats = client.get_metric_statistics(
            Namespace=namespace, MetricName="Fast", StartTime=t0,
            EndTime=t0 + dt.timedelta(seconds=60), Period=period,
            Statistics=["Sum"])["Datapoints"]
        assert {int((p["Timestamp"] - t0).total_seconds()): p["Sum"] for p in stats} == got


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_percentiles(backend, protocol, gateway, creds, namespace, tmp_path):
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    t0 = minute_ago(7)
    values = [float((v * 37) % 200 + 1) for v in range(200)]  # 1..200, shuffled
    client.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Timestamp": t0, "Values": chunk, "Unit": "Milliseconds"}
        for chunk in (values[:150], values[150:])])
    span = {"StartTime": t0, "EndTime": t0 + dt.timedelta(minutes=1)}
    statistics = {"Namespace": namespace, "MetricName": "Latency", "Period": 60, **span,
                  "ExtendedStatistics": ["p50", "p99", "p99.9", "p0.0"]}
    queries = [{"Id": "p", "MetricStat": {"Metric": {"Namespace": namespace,
                                                      "MetricName": "Latency"},
                                           "Period": 60, "Stat": "p99"}},
               {"Id": "twice", "Expression": "p * 2"}]

    def nearest_rank(percent: float) -> float:  # every value was sent once
        ordered = sorted(values)
        return ordered[max(1, -(-int(percent * 10) * len(ordered) // 1000)) - 1]

    (point,) = client.get_metric_statistics(**statistics)["Datapoints"]
    assert point["ExtendedStatistics"] == {name: nearest_rank(float(name[1:])) for name in
                                           ("p50", "p99", "p99.9", "p0.0")}
    assert point["ExtendedStatistics"]["p99"] == 198.0
    answer = {r["Id"]: r["Values"] for r in client.get_metric_data(
        MetricDataQueries=queries, **span)["MetricDataResults"]}
    assert answer == {"p": [198.0], "twice": [396.0]}


#: Extended statistics besides percentiles -> (kind, lower, upper, percentages?), for the
#: plain reference below; "TM(1000:)" keeps nothing: no value, while "TC(1000:)" is 0.
EXTENDED = {
    "tm90": ("TM", None, 90.0, True), "TM(10%:90%)": ("TM", 10.0, 90.0, True),
    "IQM": ("TM", 25.0, 75.0, True), "TM(15:45)": ("TM", 15.0, 45.0, False),
    "wm98": ("WM", None, 98.0, True), "WM(5%:95%)": ("WM", 5.0, 95.0, True),
    "tc90": ("TC", None, 90.0, True), "TC(10:40)": ("TC", 10.0, 40.0, False),
    "ts90": ("TS", None, 90.0, True), "TS(80%:)": ("TS", 80.0, None, True),
    "PR(:30)": ("PR", None, 30.0, False), "PR(10:40)": ("PR", 10.0, 40.0, False),
    "TM(1000:)": ("TM", 1000.0, None, False), "TC(1000:)": ("TC", 1000.0, None, False),
}


def flat_reference(flat: list[float], kind: str, lower: float | None, upper: float | None,
                   percent: bool) -> float | None:
    """An extended statistic of a flat list, by AWS's definitions: of N values ranked
    1..N, a percentage range keeps rank k when lower% N < k <= upper% N; an absolute one
    the values v with lower < v <= upper."""
    ordered = sorted(flat)
    n = len(ordered)
    if percent:
        low = 0.0 if lower is None else round(lower * n / 100, 9)
        high = float(n) if upper is None else round(upper * n / 100, 9)
        kept = [v for rank, v in enumerate(ordered, 1) if low < rank <= high]
    else:
        kept = [v for v in ordered
                if (lower is None or v > lower) and (upper is None or v <= upper)]
    if kind == "TC":
        return float(len(kept))
    if kind == "TS":
        return sum(kept)
    if kind == "PR":
        return 100.0 * len(kept) / n
    if not kept:
        return None
    if kind == "TM":
        return sum(kept) / len(kept)
    winsorized = [min(max(v, kept[0]), kept[-1]) for v in ordered]  # WM
    return sum(winsorized) / n


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_extended_statistics(backend, protocol, gateway, creds, namespace, tmp_path):
    """Trimmed and winsorized means, trimmed counts and sums, percentile ranks and IQM
    over values sent with Values/Counts, against a plain reference."""
    client = cloudwatch_client(protocol, gateway.endpoint, creds, tmp_path)
    t0 = minute_ago(7)
    values = [float(v) for v in range(1, 51)]
    counts = [float(1 + (v * 7) % 4) for v in range(1, 51)]  # 1 to 4 times each
    client.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Timestamp": t0, "Values": values[part],
         "Counts": counts[part], "Unit": "Milliseconds"}
        for part in (slice(0, 30), slice(30, 50))])
    flat = [v for v, c in zip(values, counts, strict=True) for _ in range(int(c))]
    span = {"StartTime": t0, "EndTime": t0 + dt.timedelta(minutes=1)}
    statistics = {"Namespace": namespace, "MetricName": "Latency", "Period": 60, **span,
                  "ExtendedStatistics": list(EXTENDED)[:10]}
    queries = [{"Id": f"q{i}", "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": "Latency"}, "Period": 60,
        "Stat": name}} for i, name in enumerate(EXTENDED)]
    queries.append({"Id": "twice", "Expression": "q0 * 2"})
    expected = {name: flat_reference(flat, *definition)
                for name, definition in EXTENDED.items()}
    assert expected["tm90"] is not None and expected["TM(1000:)"] is None
    assert expected["TC(1000:)"] == 0.0
    # GetMetricStatistics takes at most 10 ExtendedStatistics: two requests.
    for names in (list(EXTENDED)[:10], list(EXTENDED)[10:]):
        (point,) = client.get_metric_statistics(
            **{**statistics, "ExtendedStatistics": names})["Datapoints"]
        assert point["ExtendedStatistics"] == pytest.approx(
            {name: expected[name] for name in names if expected[name] is not None})
    answer = {r["Id"]: r["Values"] for r in client.get_metric_data(
        MetricDataQueries=queries, **span)["MetricDataResults"]}
    for i, name in enumerate(EXTENDED):
        value = expected[name]
        assert answer[f"q{i}"] == ([] if value is None else [pytest.approx(value)]), name
    assert answer["twice"] == [pytest.approx(2 * expected["tm90"])]
    # Names outside the syntax are refused as before.
    for name in ("TM(10%:200)", "tm(10%:90%)", "PR(10%:20%)", "TM(:)"):
        assert error_of(client.get_metric_statistics, **{
            **statistics, "ExtendedStatistics": ["tm90", name]}) == (
            "InvalidParameterValue",
            f"The value {name} for parameter ExtendedStatistics.member.2 is invalid.")
        assert error_of(client.get_metric_data, MetricDataQueries=[
            {**queries[0], "MetricStat": {**queries[0]["MetricStat"], "Stat": name}}],
            **span) == ("InvalidParameterValue",
                        f"The value {name} for parameter "
                        "MetricDataQueries.member.1.MetricStat.Stat is invalid.")
