"""The alarm JSON codec: exact round trips of random alarms, the stored text, refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.domain import alarm_codec
from cfn_gateway.domain.alarms import (
    ALARM,
    STATE_VALUES,
    THRESHOLD_COMPARISONS,
    TREAT_MISSING_DATA,
    Alarm,
    AlarmState,
    CompositeRule,
    MetricAlarmRule,
    MetricQuery,
    MetricStat,
)
from cfn_gateway.domain.metrics import MetricKey
from cfn_gateway.domain.periods import from_millis

# --- strategies ----------------------------------------------------------------------------

texts = st.text(max_size=12)
optional_texts = st.none() | texts
moments = st.integers(min_value=0, max_value=2**42).map(from_millis)
periods = st.sampled_from([1, 5, 10, 30, 60, 300, 3600])
optional_ints = st.none() | st.integers(min_value=0, max_value=10**6)
actions = st.lists(texts, max_size=3).map(tuple)

keys = st.builds(
    MetricKey.of,
    namespace=texts,
    name=texts,
    dimensions=st.dictionaries(texts, texts, max_size=4).map(lambda d: list(d.items())),
)
stats = st.builds(MetricStat, key=keys, period=periods,
                  statistic=st.sampled_from(["Average", "Sum", "p99", "tm(10%:90%)"]),
                  unit=optional_texts)
queries = st.builds(MetricQuery, id=texts, metric_stat=st.none() | stats,
                    expression=optional_texts, label=optional_texts,
                    return_data=st.booleans(), period=st.none() | periods,
                    account_id=optional_texts)
metric_rules = st.builds(
    MetricAlarmRule,
    comparison=st.sampled_from(THRESHOLD_COMPARISONS),
    evaluation_periods=st.integers(min_value=1, max_value=100),
    datapoints_to_alarm=st.integers(min_value=1, max_value=100),
    threshold=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    metric=st.none() | stats,
    queries=st.lists(queries, max_size=3).map(tuple),
    threshold_metric_id=optional_texts,
    treat_missing_data=st.sampled_from(TREAT_MISSING_DATA),
    evaluate_low_sample_count_percentile=st.none() | st.sampled_from(["evaluate", "ignore"]),
)
composite_rules = st.builds(CompositeRule, expression=texts,
                            children=st.lists(texts, max_size=4).map(tuple),
                            actions_suppressor=optional_texts,
                            suppressor_wait_period=optional_ints,
                            suppressor_extension_period=optional_ints)
states = st.builds(AlarmState, value=st.sampled_from(STATE_VALUES), reason=texts,
                   updated_at=moments, transitioned_at=moments,
                   reason_data=st.none() | st.just('{"version":"1.0"}') | texts)


@st.composite
def alarms(draw) -> Alarm:
    composite = draw(st.booleans())
    return Alarm(
        name=draw(texts),
        arn=draw(texts),
        configuration_updated_at=draw(moments),
        state=draw(states),
        description=draw(optional_texts),
        actions_enabled=draw(st.booleans()),
        ok_actions=draw(actions),
        alarm_actions=draw(actions),
        insufficient_data_actions=draw(actions),
        metric_rule=None if composite else draw(metric_rules),
        composite_rule=draw(composite_rules) if composite else None,
        actions_suppressed_by=draw(st.none() | st.sampled_from(["WaitPeriod", "Alarm"])),
        actions_suppressed_reason=draw(optional_texts),
    )


# --- round trips ---------------------------------------------------------------------------

@given(alarms())
def test_dict_round_trip(alarm):
    as_dict = alarm_codec.alarm_to_dict(alarm)
    assert as_dict["v"] == 1
    # What a store keeps is JSON: the dict survives serialisation too.
    back = alarm_codec.alarm_from_dict(json.loads(json.dumps(as_dict)))
    assert back == alarm
    assert back.state.updated_at.tzinfo is UTC
    assert back.configuration_updated_at.tzinfo is UTC


@given(alarms(), states)
def test_definition_round_trip_takes_the_state_apart(alarm, state):
    text = alarm_codec.definition_to_json(alarm)
    assert "state" not in json.loads(text)
    assert alarm_codec.definition_from_json(text, alarm.state) == alarm
    assert alarm_codec.definition_from_json(text, state) == alarm.with_state(state)


@given(alarms())
def test_definition_text_is_canonical(alarm):
    text = alarm_codec.definition_to_json(alarm)
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False)


# --- examples ------------------------------------------------------------------------------

NOW = datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
KEY = MetricKey.of("AWS/EC2", "CPUUtilization",
                   [("InstanceId", "i-1"), ("AutoScalingGroupName", "g")])
METRIC_ALARM = Alarm(
    name="cpu-high",
    arn="arn:aws:cloudwatch:region:p1:alarm:cpu-high",
    configuration_updated_at=NOW,
    state=AlarmState(ALARM, "Threshold Crossed", NOW, NOW, '{"x":1}'),
    alarm_actions=("arn:a", "arn:b"),
    metric_rule=MetricAlarmRule("GreaterThanThreshold", 3, 2, 80,
                                metric=MetricStat(KEY, 60, "Average", "Percent")),
)


def test_example_layout():
    document = alarm_codec.alarm_to_dict(METRIC_ALARM)
    assert document["configuration_updated_at"] == 1714566615123
    assert document["state"]["transitioned_at"] == 1714566615123
    assert document["metric_rule"]["metric"]["key"] == {
        "namespace": "AWS/EC2", "name": "CPUUtilization",
        "dimensions": [["AutoScalingGroupName", "g"], ["InstanceId", "i-1"]]}
    assert document["composite_rule"] is None
    assert document["description"] is None


def test_integer_threshold_comes_back_as_float():
    back = alarm_codec.alarm_from_dict(alarm_codec.alarm_to_dict(METRIC_ALARM))
    assert back == METRIC_ALARM
    assert isinstance(back.metric_rule.threshold, float)


def test_sub_millisecond_parts_are_dropped():
    alarm = replace(METRIC_ALARM, configuration_updated_at=NOW.replace(microsecond=123456))
    back = alarm_codec.alarm_from_dict(alarm_codec.alarm_to_dict(alarm))
    assert back.configuration_updated_at == NOW


def test_non_ascii_is_kept_and_text_is_compact():
    alarm = replace(METRIC_ALARM, description="température élevée ✓")
    text = alarm_codec.definition_to_json(alarm)
    assert "température élevée ✓" in text
    assert ": " not in text and ", " not in text


def test_nan_threshold_is_refused():
    rule = replace(METRIC_ALARM.metric_rule, threshold=float("nan"))
    with pytest.raises(ValueError):
        alarm_codec.definition_to_json(replace(METRIC_ALARM, metric_rule=rule))


@pytest.mark.parametrize("text", [
    "not json",
    "[]",
    '{"v": 2}',
    '{"name": "a"}',
    '{"v": 1, "name": "a"}',
    '{"v": 1, "name": "a", "arn": "x", "configuration_updated_at": "yesterday"}',
    '{"v": 1, "name": "a", "arn": "x", "configuration_updated_at": 1,'
    ' "metric_rule": {"comparison": "GreaterThanThreshold"}}',
])
def test_malformed_definitions_are_refused(text):
    with pytest.raises(ValueError):
        alarm_codec.definition_from_json(text, METRIC_ALARM.state)


def test_malformed_states_are_refused():
    document = alarm_codec.alarm_to_dict(METRIC_ALARM)
    with pytest.raises(ValueError):
        alarm_codec.alarm_from_dict({**document, "state": None})
    with pytest.raises(ValueError):
        alarm_codec.alarm_from_dict({**document, "state": {"value": "OK"}})
    with pytest.raises(ValueError):
        alarm_codec.alarm_from_dict({**document, "state": {
            **document["state"], "updated_at": True}})
