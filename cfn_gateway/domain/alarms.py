"""Alarm value types: definitions, states and history items of CloudWatch alarms.

Pure values shared by the API handlers, the alarm stores, the evaluation engine and the
Aodh plugin.  A metric alarm watches one metric (``metric``) or a metric-math result
(``queries`` + ``threshold_metric_id``); a composite alarm combines other alarms' states
with a rule (``domain.composite_rules``).  How a metric alarm's state follows from its
datapoints is ``domain.alarm_evaluation``.

Enumerated AWS values (state values, comparison operators, TreatMissingData modes, history
item types, statistic names) are kept as the strings AWS defines: they are data that
crosses the API, the stores and the reason texts unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from cfn_gateway.domain.metric_queries import (  # noqa: F401  (the alarm rule's parts)
    STANDARD_STATISTICS,
    MetricQuery,
    MetricStat,
)

# --- AWS enumerations ---------------------------------------------------------------------

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
STATE_VALUES = (OK, ALARM, INSUFFICIENT_DATA)

METRIC_ALARM = "MetricAlarm"
COMPOSITE_ALARM = "CompositeAlarm"

CONFIGURATION_UPDATE = "ConfigurationUpdate"
STATE_UPDATE = "StateUpdate"
ACTION = "Action"

TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
DEFAULT_TREAT_MISSING_DATA = "missing"
LOW_SAMPLE_COUNT_MODES = ("evaluate", "ignore")

#: The comparisons a threshold alarm can make (the band operators need anomaly detection).
THRESHOLD_COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
BAND_COMPARISONS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)


#: The reason every new alarm starts with (AWS's own text).
INITIAL_REASON = "Unchecked: Initial alarm creation"


@dataclass(frozen=True)
class MetricAlarmRule:
    """What a metric alarm compares, against what, and how many datapoints decide."""

    comparison: str
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float | None = None
    metric: MetricStat | None = None
    queries: tuple[MetricQuery, ...] = ()
    threshold_metric_id: str | None = None
    treat_missing_data: str = DEFAULT_TREAT_MISSING_DATA
    evaluate_low_sample_count_percentile: str | None = None

    @property
    def period(self) -> int:
        """The period of the datapoints the alarm evaluates."""
        if self.metric is not None:
            return self.metric.period
        periods = [q.period or (q.metric_stat.period if q.metric_stat else 0)
                   for q in self.queries]
        return max(periods, default=60) or 60


@dataclass(frozen=True)
class CompositeRule:
    """A composite alarm's rule text and its actions suppressor."""

    expression: str
    #: The alarm names the rule refers to (ParentsOfAlarmName / ChildrenOfAlarmName).
    children: tuple[str, ...] = ()
    actions_suppressor: str | None = None
    suppressor_wait_period: int | None = None
    suppressor_extension_period: int | None = None


@dataclass(frozen=True)
class AlarmState:
    """An alarm's current state; ``reason_data`` is JSON text (or None).

    ``previous_value`` is the value the alarm left at its last transition (None before its
    first): whether a suppressor just left ALARM decides a composite's ExtensionPeriod."""

    value: str
    reason: str
    updated_at: datetime
    transitioned_at: datetime
    reason_data: str | None = None
    previous_value: str | None = None

    @classmethod
    def initial(cls, now: datetime) -> AlarmState:
        return cls(INSUFFICIENT_DATA, INITIAL_REASON, now, now)


@dataclass(frozen=True)
class Alarm:
    """A metric alarm (``metric_rule``) or a composite alarm (``composite_rule``)."""

    name: str
    arn: str
    configuration_updated_at: datetime
    state: AlarmState
    description: str | None = None
    actions_enabled: bool = True
    ok_actions: tuple[str, ...] = ()
    alarm_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    metric_rule: MetricAlarmRule | None = None
    composite_rule: CompositeRule | None = None
    #: Composite alarms whose actions a suppressor holds back: "WaitPeriod" |
    #: "ExtensionPeriod" | "Alarm", with AWS's reason text.
    actions_suppressed_by: str | None = None
    actions_suppressed_reason: str | None = None

    @property
    def alarm_type(self) -> str:
        return COMPOSITE_ALARM if self.composite_rule is not None else METRIC_ALARM

    def actions_for(self, state_value: str) -> tuple[str, ...]:
        """The actions an alarm runs when it enters ``state_value``."""
        return {
            OK: self.ok_actions,
            ALARM: self.alarm_actions,
            INSUFFICIENT_DATA: self.insufficient_data_actions,
        }[state_value]

    def with_state(self, state: AlarmState) -> Alarm:
        return replace(self, state=state)


@dataclass(frozen=True)
class HistoryItem:
    """One DescribeAlarmHistory item; ``data`` is the JSON text AWS calls HistoryData."""

    alarm_name: str
    alarm_type: str
    timestamp: datetime
    item_type: str
    summary: str
    data: str


@dataclass(frozen=True)
class AlarmFilter:
    """What DescribeAlarms asks for; empty or None means "any"."""

    names: tuple[str, ...] = ()
    name_prefix: str | None = None
    alarm_types: tuple[str, ...] = (METRIC_ALARM,)
    state_value: str | None = None
    action_prefix: str | None = None


@dataclass(frozen=True)
class HistoryFilter:
    """What DescribeAlarmHistory asks for."""

    alarm_name: str | None = None
    alarm_types: tuple[str, ...] = ()
    item_type: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    newest_first: bool = True


@dataclass
class Page:
    """One page of a listing with an opaque token for the next (None on the last page)."""

    items: list = field(default_factory=list)
    next_token: str | None = None
