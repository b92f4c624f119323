"""Checking a dashboard body the way PutDashboard does, with CloudWatch's messages.

A body must be a JSON object (else PutDashboard fails with "The field DashboardBody must
be a valid JSON object").  CloudWatch then checks it against a JSON schema and fails the
call when anything breaks it, listing every problem as a data path (a JSON pointer such
as ``/widgets/0/properties``) and a schema validator's message ("Should have required
property 'markdown'", "Should be <= 23", ...).  The rules kept here come from the
Dashboard Body Structure and Syntax reference, the service quotas (widgets, metrics) and
CloudWatch's answers to bodies that break them:

- ``widgets`` is required and is an array of at most 500 widgets;
- ``start`` and ``end`` are strings, ``periodOverride`` is ``auto`` or ``inherit``,
  ``variables`` an array of objects with a ``type`` (``property``, ``pattern``) and an
  ``inputType`` (``input``, ``radio``, ``select``);
- a widget is an object with a string ``type`` and an object ``properties``; ``x``
  (0-23), ``y`` (0 or more), ``width`` (1-24) and ``height`` (1-1000) are integers;
- ``text`` widgets need a string ``markdown``, ``alarm`` widgets an array ``alarms`` of
  strings, ``log`` widgets a string ``query``;
- ``metric`` widgets need a ``region`` and a data source (``metrics`` or an alarm
  annotation); ``metrics`` is an array (at most 500 per widget, 2500 per dashboard) of
  arrays of strings, the last of which may be an object of rendering options; ``period``
  is 1, 5, 10, 20, 30 or a multiple of 60, ``stat`` a CloudWatch statistic, and a
  ``yAxis`` side's ``min`` is not above its ``max``.

CloudWatch accepts widget types it does not know (the widget then does not render): such
a widget is stored and reported back as a warning, which PutDashboard returns on success.
What cannot be checked here (whether a metric or an alarm exists, log groups, custom
widget endpoints) is not checked.  At most ``MAX_MESSAGES`` problems are reported.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cfn_gateway.domain.statistics import STATISTIC_PATTERN

MAX_WIDGETS = 500
MAX_WIDGET_METRICS = 500
MAX_DASHBOARD_METRICS = 2500
#: At most this many errors (and warnings) are reported: a body of a million bad widgets
#: gets a bounded answer.  The gateway's choice; CloudWatch's limit is not known.
MAX_MESSAGES = 100
WIDGET_TYPES = ("metric", "text", "log", "alarm", "explorer", "custom")
PERIOD_OVERRIDES = ("auto", "inherit")
VARIABLE_TYPES = ("property", "pattern")
VARIABLE_INPUT_TYPES = ("input", "radio", "select")
#: Periods under a minute a widget may use (high-resolution metrics).
SHORT_PERIODS = (1, 5, 10, 20, 30)
#: (property, lowest, highest or None) of a widget's place on the 24-column grid.
GRID = (("x", 0, 23), ("y", 0, None), ("width", 1, 24), ("height", 1, 1000))

STAT_PATTERN = STATISTIC_PATTERN
_STAT = re.compile(STAT_PATTERN, re.ASCII)

NOT_AN_OBJECT = "The field DashboardBody must be a valid JSON object"
NO_SOURCE = ("The metric widget should have specified a region and a data source or an "
             "alarm annotation")
FLAT_METRICS = ('Field "metrics" has to be an array of array of strings, with an optional '
                "metricRenderer object as last element")
METRIC_FIELD = "Invalid metric field type, only 'String' type is allowed"
UNKNOWN_TYPE = ("Widget type is not one of metric, text, log, alarm, explorer, custom: the "
                "widget is kept but will not be rendered")


@dataclass(frozen=True)
class BodyMessage:
    data_path: str
    message: str


@dataclass(frozen=True)
class BodyReport:
    """``errors`` make PutDashboard fail; ``warnings`` are returned when it succeeds."""

    errors: tuple[BodyMessage, ...] = ()
    warnings: tuple[BodyMessage, ...] = ()


class NotAJsonObject(ValueError):
    """The body does not parse as JSON, or is JSON but no object."""


class _Enough(Exception):
    """As many errors as are reported were found: checking stops."""


def check_body(text: str) -> BodyReport:
    """The problems of a dashboard body (every one, up to ``MAX_MESSAGES`` of a kind);
    ``NotAJsonObject`` when it is no JSON object."""
    document = parse(text)
    checker = _Checker()
    with contextlib.suppress(_Enough):
        checker.root(document)
    return BodyReport(tuple(checker.errors), tuple(checker.warnings))


def parse(text: str) -> dict[str, Any]:
    """The body as JSON parses it (numbers as JavaScript reads them: no NaN, Infinity)."""
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_int=_integer)
    except (ValueError, RecursionError):
        raise NotAJsonObject(NOT_AN_OBJECT) from None
    if not isinstance(document, dict):
        raise NotAJsonObject(NOT_AN_OBJECT)
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _integer(text: str) -> int | float:
    # JavaScript's numbers are doubles; Python refuses integers of over 4300 digits.
    return int(text) if len(text) <= 300 else float(text)


def is_integer(value: Any) -> bool:
    """A JSON number without a fraction (``6`` and ``6.0`` alike), not a boolean."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_text(value: int | float) -> str:
    """A number as JavaScript prints it (``10``, not ``10.0``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return json.dumps(value)


class _Checker:
    def __init__(self) -> None:
        self.errors: list[BodyMessage] = []
        self.warnings: list[BodyMessage] = []
        self.metric_count = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(BodyMessage(path, message))
        if len(self.errors) >= MAX_MESSAGES:
            raise _Enough

    def required(self, value: dict[str, Any], key: str, path: str) -> bool:
        if key in value:
            return True
        self.error(path, f"Should have required property '{key}'")
        return False

    def typed(self, value: Any, kind: str, path: str) -> bool:
        ok = {"array": isinstance(value, list), "object": isinstance(value, dict),
              "string": isinstance(value, str), "integer": is_integer(value)}[kind]
        if not ok:
            self.error(path, f"Should be {kind}")
        return ok

    def one_of(self, value: Any, allowed: tuple[str, ...], path: str) -> None:
        if value not in allowed:
            self.error(path, "Should be equal to one of the allowed values")

    def max_items(self, value: list[Any], limit: int, path: str) -> None:
        if len(value) > limit:
            self.error(path, f"Should NOT have more than {limit} items")

    # --- the body -------------------------------------------------------------------------

    def root(self, body: dict[str, Any]) -> None:
        for key in ("start", "end"):
            if key in body:
                self.typed(body[key], "string", f"/{key}")
        if "periodOverride" in body:
            self.one_of(body["periodOverride"], PERIOD_OVERRIDES, "/periodOverride")
        if "variables" in body and self.typed(body["variables"], "array", "/variables"):
            for index, variable in enumerate(body["variables"]):
                self.variable(variable, f"/variables/{index}")
        if self.required(body, "widgets", "") and self.typed(body["widgets"], "array",
                                                             "/widgets"):
            widgets = body["widgets"]
            self.max_items(widgets, MAX_WIDGETS, "/widgets")
            for index, widget in enumerate(widgets):
                self.widget(widget, f"/widgets/{index}")
            if self.metric_count > MAX_DASHBOARD_METRICS:
                self.error("/widgets", f"Should NOT have more than {MAX_DASHBOARD_METRICS} "
                                       "metrics across all widgets")

    def variable(self, variable: Any, path: str) -> None:
        if not self.typed(variable, "object", path):
            return
        if self.required(variable, "type", path):
            self.one_of(variable["type"], VARIABLE_TYPES, f"{path}/type")
        if self.required(variable, "inputType", path):
            self.one_of(variable["inputType"], VARIABLE_INPUT_TYPES, f"{path}/inputType")

    def widget(self, widget: Any, path: str) -> None:
        if not self.typed(widget, "object", path):
            return
        kind = widget.get("type")
        if self.required(widget, "type", path):
            self.typed(kind, "string", f"{path}/type")
        properties = widget.get("properties")
        has_properties = self.required(widget, "properties", path) and self.typed(
            properties, "object", f"{path}/properties")
        for key, lowest, highest in GRID:
            if key in widget:
                self.grid(widget[key], lowest, highest, f"{path}/{key}")
        if not isinstance(kind, str):
            return
        if kind not in WIDGET_TYPES:
            if len(self.warnings) < MAX_MESSAGES:
                self.warnings.append(BodyMessage(f"{path}/type", UNKNOWN_TYPE))
        elif has_properties:
            self.properties(kind, properties, f"{path}/properties")

    def grid(self, value: Any, lowest: int, highest: int | None, path: str) -> None:
        if not self.typed(value, "integer", path):
            return
        if value < lowest:
            self.error(path, f"Should be >= {lowest}")
        if highest is not None and value > highest:
            self.error(path, f"Should be <= {highest}")

    # --- widget properties ----------------------------------------------------------------

    def properties(self, kind: str, properties: dict[str, Any], path: str) -> None:
        if kind == "metric":
            self.metric_widget(properties, path)
        elif kind == "text":
            self.required_of_type(properties, "markdown", "string", path)
        elif kind == "log":
            self.required_of_type(properties, "query", "string", path)
        elif kind == "alarm" and self.required_of_type(properties, "alarms", "array", path):
            for index, alarm in enumerate(properties["alarms"]):
                self.typed(alarm, "string", f"{path}/alarms/{index}")

    def required_of_type(self, properties: dict[str, Any], key: str, kind: str,
                         path: str) -> bool:
        return self.required(properties, key, path) and self.typed(
            properties[key], kind, f"{path}/{key}")

    def metric_widget(self, properties: dict[str, Any], path: str) -> None:
        metrics = properties.get("metrics")
        annotations = properties.get("annotations")
        has_source = isinstance(metrics, list) or (
            isinstance(annotations, dict) and "alarms" in annotations)
        if not (has_source and isinstance(properties.get("region"), str)):
            self.error(path, NO_SOURCE)
        if "metrics" in properties and self.typed(metrics, "array", f"{path}/metrics"):
            self.max_items(metrics, MAX_WIDGET_METRICS, f"{path}/metrics")
            self.metric_count += len(metrics)
            for index, metric in enumerate(metrics):
                self.metric(metric, f"{path}/metrics/{index}")
        self.options(properties, path)
        axes = properties.get("yAxis")
        if isinstance(axes, dict):
            for side in ("left", "right"):
                self.axis(axes.get(side), f"{path}/yAxis/{side}")

    def metric(self, metric: Any, path: str) -> None:
        if isinstance(metric, str):
            self.error(path, FLAT_METRICS)
            return
        if not self.typed(metric, "array", path):
            return
        last = len(metric) - 1
        for index, field in enumerate(metric):
            if isinstance(field, str):
                continue
            if index == last and isinstance(field, dict):
                self.options(field, f"{path}/{index}")
            else:
                self.error(f"{path}/{index}", METRIC_FIELD)

    def options(self, options: dict[str, Any], path: str) -> None:
        """``period`` and ``stat`` of a metric widget or of one metric's rendering."""
        if "period" in options:
            self.period(options["period"], f"{path}/period")
        if "stat" in options and self.typed(options["stat"], "string", f"{path}/stat") \
                and not _STAT.fullmatch(options["stat"]):
            self.error(f"{path}/stat", f'Should match pattern "{STAT_PATTERN}"')

    def period(self, value: Any, path: str) -> None:
        if not self.typed(value, "integer", path) or value in SHORT_PERIODS:
            return
        if value >= 60 and value % 60 == 0:
            return
        if value < 60:
            self.error(path, "Should be >= 60")
        if value % 60:
            self.error(path, "Should be multiple of 60")
        self.error(path, "Should match exactly one schema in oneOf")

    def axis(self, axis: Any, path: str) -> None:
        if not isinstance(axis, dict):
            return
        low, high = axis.get("min"), axis.get("max")
        if is_number(low) and is_number(high) and low > high:
            self.error(path, f"Should be <= {number_text(high)}")
            self.error(path, f"Should be >= {number_text(low)}")
