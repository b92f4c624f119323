"""PutMetricData's fast path (``fast_datums``) and its fallback answer exactly what the
reference conversion (``views._datum`` for every member) answers: the same list of
``Datum`` objects, or the same error class and message."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cfn_gateway import errors
from cfn_gateway.api.cloudwatch import fast_datums, views
from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain import periods
from cfn_gateway.domain.metrics import Datum, MetricKey, StatisticSet
from cfn_gateway.protocol import fast_json, validate_params
from cfn_gateway.protocol.compiled_document import parse_json
from cfn_gateway.protocol.models import operation_model

NOW = datetime(2026, 11, 29, 10, 7, 31, 250_000, tzinfo=UTC)

NUMBERS = [0.0, -0.0, 1.0, 2.5, -7.25, 1e-200, -1e-200, 1.2e108, -1.2e108, 1.174271e108,
           -8.515920e-109, 8.5e-109, math.nan, math.inf, -math.inf, 3, 0, -2, 10**400]
numbers = st.one_of(st.sampled_from(NUMBERS),
                    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
counts = st.one_of(st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5, math.nan, math.inf, 1e-300, 4]),
                   st.floats(min_value=0, max_value=100, allow_nan=False))
# Valid and invalid names and values: blank, colon first, control characters, non-ASCII.
TEXTS = ["A", "B", "Host", "InstanceId", "v", "1", "web-1", " x ", ":a", "a:", "", " ",
         "\t", "a\x00", "b\x1f", "c\x7f", "\x85", "é", "名"]
texts = st.sampled_from(TEXTS)
metric_names = st.sampled_from(["m", "Latency", "CPU Utilization", ":m", "", "m\x00", "m\n",
                                "\u2028", "ü"])
dimensions = st.one_of(
    st.lists(st.fixed_dictionaries({"Name": texts, "Value": texts}), max_size=4),
    st.builds(lambda n: [{"Name": f"d{i}", "Value": "v"} for i in range(n)],
              st.integers(min_value=29, max_value=32)),
)
timestamps = st.one_of(
    st.sampled_from([
        NOW, NOW - timedelta(seconds=1), NOW - timedelta(days=13, hours=23),
        NOW - timedelta(days=14), NOW - timedelta(days=14, microseconds=1),
        NOW - timedelta(days=15), NOW + timedelta(hours=2),
        NOW + timedelta(hours=2, microseconds=1), NOW + timedelta(hours=3),
        NOW.replace(tzinfo=None), (NOW - timedelta(minutes=3)).replace(tzinfo=None),
        NOW.astimezone(timezone(timedelta(hours=5, minutes=30))),
        (NOW - timedelta(hours=1)).astimezone(timezone(-timedelta(hours=8))),
        datetime(1999, 1, 1, tzinfo=UTC),
    ]),
    st.integers(min_value=-20 * 86400 * 1000, max_value=3 * 3600 * 1000).map(
        lambda ms: NOW + timedelta(milliseconds=ms)),
)
values_lists = st.one_of(st.lists(numbers, max_size=5),
                         st.builds(lambda n: [1.0] * n, st.integers(149, 152)))


good_numbers = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.5, -3, 1.174271e108, -8.515920e-109]),
    st.floats(min_value=1e-3, max_value=1e6), st.floats(min_value=-1e6, max_value=-1e-3))
good_dimensions = st.lists(st.sampled_from(["A", "B", "Host", "é"]), max_size=3,
                           unique=True).flatmap(
    lambda names: st.tuples(*[st.sampled_from(["1", "web-1", " x ", "a:b"]) for _ in names])
    .map(lambda values: [{"Name": n, "Value": v} for n, v in zip(names, values, strict=True)]))
good_timestamps = st.one_of(
    st.none(), st.sampled_from([NOW, NOW - timedelta(minutes=1, seconds=3)]),
    st.integers(min_value=-14 * 86400 * 1000, max_value=2 * 3600 * 1000).map(
        lambda ms: NOW + timedelta(milliseconds=ms)))


@st.composite
def good_members(draw: st.DrawFn) -> dict[str, Any]:
    """Members the reference takes: the three ways of giving samples, varied."""
    item: dict[str, Any] = {"MetricName": draw(st.sampled_from(["m", "Latency", "ü", ":m"]))}
    kind = draw(st.sampled_from(["Value", "Values", "StatisticValues"]))
    if kind == "Value":
        item["Value"] = draw(good_numbers)
    elif kind == "Values":
        values = draw(st.lists(good_numbers, min_size=1, max_size=5))
        item["Values"] = values
        if draw(st.booleans()):
            item["Counts"] = draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 0.5, 3]),
                                           min_size=len(values), max_size=len(values)))
        if draw(st.booleans()):  # kept aside: Values win
            item["StatisticValues"] = {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}
    else:
        low, high = sorted(draw(st.lists(good_numbers, min_size=2, max_size=2)))
        item["StatisticValues"] = {"SampleCount": draw(st.sampled_from([1, 2.0, 0.5, 30])),
                                   "Sum": draw(good_numbers), "Minimum": low, "Maximum": high}
        if draw(st.booleans()):
            item["Values"] = []
    for name, strategy in (("Dimensions", good_dimensions), ("Timestamp", good_timestamps),
                           ("StorageResolution", st.sampled_from([None, 1, 60])),
                           ("Unit", st.sampled_from([None, "", "Count", "Seconds"]))):
        if draw(st.booleans()):
            item[name] = draw(strategy)
    return item


@st.composite
def any_members(draw: st.DrawFn) -> dict[str, Any]:
    """Members of any shape the model lets through, bad ones in every way."""
    item: dict[str, Any] = {"MetricName": draw(metric_names)}
    optional = {
        "Dimensions": dimensions,
        "Value": st.one_of(st.none(), numbers),
        "Values": values_lists,
        "Counts": st.lists(counts, max_size=5),
        "StatisticValues": st.fixed_dictionaries(
            {"SampleCount": st.one_of(counts, numbers), "Sum": numbers,
             "Minimum": numbers, "Maximum": numbers}),
        "Timestamp": st.one_of(st.none(), timestamps),
        "StorageResolution": st.one_of(st.none(), st.sampled_from([1, 60, 0, 5, 300])),
        "Unit": st.one_of(st.none(), st.sampled_from(["", "Count", "Seconds", "None"])),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            item[name] = draw(strategy)
    return item


def _flaws() -> list[Any]:
    """Ways to spoil a good member: each problem the reference reports, and shapes the fast
    path leaves to it (naive or non-UTC time stamps)."""
    def dims_plus(name: str, value: str) -> Any:
        return lambda item: item.setdefault("Dimensions", []).append(
            {"Name": name, "Value": value})

    def setting(**members: Any) -> Any:
        return lambda item: item.update(members)

    def without_samples(item: dict[str, Any]) -> None:
        for name in ("Value", "Values", "Counts", "StatisticValues"):
            item.pop(name, None)

    flaws = [dims_plus(name, "v") for name in ("", " ", "\t", ":a", "a\x01", "a\x7f")]
    flaws += [dims_plus("Z", value) for value in ("", " ", "\t", "v\x1f", "\x00")]
    flaws += [setting(MetricName=name) for name in ("", "m\x00", "m\x7f", "\n")]
    flaws += [setting(Timestamp=t) for t in (
        NOW - timedelta(days=15), NOW - timedelta(days=14, microseconds=1),
        NOW + timedelta(hours=2, microseconds=1), NOW + timedelta(hours=3),
        NOW.replace(tzinfo=None), NOW.astimezone(timezone(timedelta(hours=-3))))]
    flaws += [setting(StorageResolution=r) for r in (0, 5, 300)]
    sv = {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}
    samples = [{"Value": v} for v in (math.nan, math.inf, -math.inf, 1e-200, 1.2e108)]
    samples += [{"Values": [1.0, bad]} for bad in (math.nan, 1e-200, -math.inf)]
    samples += [{"Values": [1.0] * 151}, {"Values": [1.0] * 151, "Counts": [1.0] * 151},
                {"Values": [1.0, 2.0], "Counts": [1.0, -1.0]},
                {"Values": [1.0, 2.0], "Counts": [1.0, math.nan]},
                {"Values": [1.0, 2.0], "Counts": [1.0]}, {"Values": [1.0], "Counts": [1, 2]},
                {"Value": 1.0, "Values": [2.0]}, {"Value": 1.0, "Counts": [1.0]},
                {"Value": 1.0, "StatisticValues": sv}, {"Counts": [1.0], "StatisticValues": sv},
                {}]
    samples += [{"StatisticValues": given} for given in (
        {"SampleCount": 0, "Sum": 0, "Minimum": 0, "Maximum": 0},
        {"SampleCount": -1.0, "Sum": 1, "Minimum": 0, "Maximum": 1},
        {"SampleCount": 2, "Sum": 3, "Minimum": 2, "Maximum": 1},
        {"SampleCount": 2, "Sum": math.nan, "Minimum": 1, "Maximum": 2},
        {"SampleCount": 2, "Sum": 3, "Minimum": 1e-200, "Maximum": 2})]
    flaws += [lambda item, given=given: (without_samples(item), item.update(given))
              for given in samples]
    flaws.append(lambda item: item.update(Dimensions=[
        {"Name": f"d{i}", "Value": "v"} for i in range(31)]))
    flaws.append(lambda item: item.update(Dimensions=[
        {"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}, {"Name": "A", "Value": "3"}]))
    return flaws


FLAWS = _flaws()


@st.composite
def flawed_members(draw: st.DrawFn, max_flaws: int = 2) -> dict[str, Any]:
    """A good member with one flaw or more."""
    item = draw(good_members())
    for flaw in draw(st.lists(st.sampled_from(FLAWS), min_size=1, max_size=max_flaws)):
        flaw(item)
    return item


# Mostly members the reference takes, so that whole valid requests and requests with a
# bad member or two among good ones are both frequent.
members = st.one_of(good_members(), good_members(), good_members(), flawed_members(),
                    any_members())


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    bad = draw(st.integers(0, 7)) == 0
    namespace = draw(st.sampled_from(["AWS/EC2", ":ns", "n\x01s", ""] if bad else
                                     ["Test/ns", "ns", "é"]))
    params: dict[str, Any] = {"Namespace": namespace}
    data = draw(st.lists(members, max_size=6))
    if data or draw(st.booleans()):
        params["MetricData"] = data
    if draw(st.integers(0, 3)) == 0:
        params["EntityMetricData"] = [{"MetricData": draw(st.lists(members, max_size=3))}
                                      for _ in range(draw(st.integers(1, 2)))]
    return params


def outcome(params: dict[str, Any], fast: bool) -> tuple[Any, ...]:
    try:
        data = views.metric_data_from_aws(params, NOW, fast=fast)
    except errors.AWSError as exc:
        return ("error", type(exc), exc.message)
    except (OverflowError, TypeError) as exc:  # what a value beyond float does, either way
        return ("crash", type(exc))
    return ("data", data, repr(data))


DIFFERENTIAL = settings(max_examples=400, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])


@DIFFERENTIAL
@given(requests(), st.booleans())
def test_the_fast_path_answers_what_the_reference_answers(params, cold):
    if cold:
        fast_datums.clear_caches()
    expected = outcome(params, fast=False)
    event(f"outcome: {expected[0]}")
    if expected[0] == "error":
        event(f"error: {expected[2][:28]}")
    assert outcome(params, fast=True) == expected
    assert outcome(params, fast=True) == expected  # with what the first call remembered


@st.composite
def one_flaw_among_good(draw: st.DrawFn) -> dict[str, Any]:
    """A request of good members but one, which has one flaw."""
    data = draw(st.lists(good_members(), max_size=4))
    data.insert(draw(st.integers(0, len(data))), draw(flawed_members(max_flaws=1)))
    return {"Namespace": "Test/ns", "MetricData": data}


@DIFFERENTIAL
@given(one_flaw_among_good(), st.booleans())
def test_a_flawed_member_among_good_ones_as_the_reference_says(params, cold):
    if cold:
        fast_datums.clear_caches()
    expected = outcome(params, fast=False)
    event(f"outcome: {expected[0]}")
    assert outcome(params, fast=True) == expected
    assert outcome(params, fast=True) == expected


def test_every_flaw_alone_as_the_reference_says():
    for n, flaw in enumerate(FLAWS):
        for warm in (False, True):
            if not warm:
                fast_datums.clear_caches()
            item = {"MetricName": "m", "Value": 1.5, "Timestamp": NOW,
                    "Dimensions": [{"Name": "Host", "Value": "a"}]}
            flaw(item)
            params = {"Namespace": "Test/ns", "MetricData": [
                {"MetricName": "m", "Value": 2.0}, item, {"MetricName": "n", "Value": 3.0}]}
            assert outcome(params, fast=True) == outcome(params, fast=False), (n, item)


# --- members decoded into structs (JSON bodies, ``views.decoded_metric_data``) ---------

PUT = operation_model("cloudwatch", "PutMetricData", "json")


def json_body(params: dict[str, Any]) -> bytes:
    """``params`` as a JSON 1.0 body: time stamps as epoch seconds (naive ones as UTC),
    members that are None left out."""
    def wire(value: Any) -> Any:
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            return aware.timestamp()
        if isinstance(value, dict):
            return {k: wire(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [wire(v) for v in value]
        return value

    return json.dumps(wire(params)).encode()


def decoded_outcome(body: bytes) -> tuple[Any, ...] | None:
    """What the handler of decoded bodies takes (None: the body does not decode)."""
    decoded = fast_json.decoder(PUT).decode(body)
    if decoded is None:
        return None
    data = views.decoded_metric_data(decoded, NOW)
    return ("declined",) if data is None else ("data", data, repr(data))


def reference_params(body: bytes) -> dict[str, Any]:
    """The params of ``body`` by the reference parser and validator."""
    params = parse_json(body, PUT)
    validate_params(PUT, params)
    return params


good_requests = st.builds(lambda data: {"Namespace": "Test/ns", "MetricData": data},
                          st.lists(good_members(), min_size=1, max_size=5))


@DIFFERENTIAL
@given(st.one_of(requests(), one_flaw_among_good(), good_requests, good_requests),
       st.booleans())
def test_decoded_members_give_what_the_reference_gives(params, cold):
    """Decoded members are taken exactly when ``fast_datums`` takes every member of the
    same params, and then as the same data the reference makes."""
    if cold:
        fast_datums.clear_caches()
    body = json_body(params)
    found = decoded_outcome(body)
    event(f"decoded: {found[0] if found else 'no'}")
    if found is None:
        return
    params = reference_params(body)
    expected = outcome(params, fast=False)
    plain = (not params.get("EntityMetricData") and expected[0] == "data"
             and all(fast_datums.data(params["Namespace"], params["MetricData"], NOW)))
    assert found == (expected if plain else ("declined",))


def test_a_bench_body_is_taken_decoded_without_the_reference(monkeypatch):
    body = json_body(bench_like(50))
    expected = outcome(reference_params(body), fast=False)
    assert expected[0] == "data"
    monkeypatch.setattr(views, "_datum", None)
    fast_datums.clear_caches()
    for _ in range(2):  # cold, then warm
        assert decoded_outcome(body) == expected


def test_a_time_beyond_the_reach_of_datetime_is_declined():
    body = json_body({"Namespace": "ns", "MetricData": [
        {"MetricName": "m", "Value": 1.0, "Timestamp": 1e15}]})
    assert decoded_outcome(body) == ("declined",)
    assert fast_json.decoder(PUT).parse(body) is None  # the reference's error, then


def bench_like(count: int) -> dict[str, Any]:
    return {"Namespace": "Bench", "MetricData": [
        {"MetricName": name, "Timestamp": NOW - timedelta(seconds=5), "Value": float(i),
         "Unit": "Count",
         "Dimensions": [{"Name": "InstanceId", "Value": f"i-{i}"},
                        {"Name": "AutoScalingGroupName", "Value": "web"}]}
        for i in range(count) for name in ("A", "B")]}


def test_the_common_request_takes_the_fast_path_only(monkeypatch):
    def reference(*args: Any) -> None:
        raise AssertionError("the reference was called")

    monkeypatch.setattr(views, "_datum", reference)
    fast_datums.clear_caches()
    for _ in range(2):  # cold, then warm
        data = views.metric_data_from_aws(bench_like(50), NOW)
        assert len(data) == 100
    assert data[1] == Datum(
        MetricKey("Bench", "B", (("AutoScalingGroupName", "web"), ("InstanceId", "i-0"))),
        periods.truncate_to_resolution(NOW - timedelta(seconds=5), 60), "Count", 60,
        (StatisticSet(1.0, 0.0, 0.0, 0.0),))


def test_one_bad_member_among_fast_ones_is_reported_as_the_reference_does():
    params = bench_like(5)
    params["MetricData"][7]["Value"] = math.nan
    params["MetricData"][2]["Dimensions"][0]["Value"] = " "
    with pytest.raises(errors.InvalidParameterValue) as caught:
        views.metric_data_from_aws(params, NOW)
    assert caught.value.message == (
        "The value   for parameter MetricData.member.3.Dimensions.member.1.Value is invalid.\n"
        "The value NaN for parameter MetricData.member.8.Value is invalid.")


def test_the_key_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(fast_datums, "KEYS_MAX", 10)
    fast_datums.clear_caches()
    views.metric_data_from_aws(bench_like(30), NOW)
    assert 0 < len(fast_datums._KEYS) <= 10


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["m", "", "m\x00", ":m", " "]), st.one_of(
    st.lists(st.tuples(texts, texts), max_size=4),
    st.builds(lambda n: [(f"d{i}", "v") for i in range(n)], st.integers(29, 32))))
def test_valid_metric_is_every_separate_check_together(name, pairs):
    separate = (dims.valid_metric_name(name) and len(pairs) <= dims.MAX_DIMENSIONS
                and all(dims.valid_dimension_name(n) and dims.valid_dimension_value(v)
                        for n, v in pairs)
                and not dims.has_duplicate_names(pairs))
    assert dims.valid_metric(name, pairs) == separate
