"""Labels of metric math results, and dynamic labels (``${MAX}``, ``${PROP('Dim.x')}``).

Sources (AWS CloudWatch): ``MetricDataQuery.Label``: "If Label is omitted, CloudWatch
generates a default"; user guide "Add a math expression to a CloudWatch graph": when one
expression produces several time series, each is labelled "Expression-Label Metric-Label"
("Filled With 0: Errors"), and with an empty expression label only the metric labels show;
"Use dynamic labels": the placeholders below, computed over the data returned;
``LabelOptions.Timezone``: ``+HHMM``/``-HHMM``, default ``+0000``, used by the time-based
placeholders only.

Here:
- an expression giving one series is labelled with the query's Label (dynamic parts filled
  in), or with its Id when it has none (AWS's default for expressions);
- an expression giving an array keeps each series' own label, preceded by the query's
  Label when it has one, unless that Label places the series' label itself with
  ``${LABEL}``.

Formats AWS does not document, chosen here: numbers as ``%.15g`` (whole numbers without
a decimal point); times as ``M-D HH:MM`` in the label time zone (AWS's GetMetricData
example shows ``1-22 13:05``); durations as ``1d 2h 3m 4s`` (zero parts left out, ``0s``
for none); a statistic of a series with no points, an unknown property, and relative
times when no current time is given, as the empty string.  Unknown placeholders stay as
written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from cfn_gateway.domain.metric_math.functions import statistic
from cfn_gateway.domain.metric_math.series import Series

_PLACEHOLDER = re.compile(r"\$\{(?:([A-Z_]+)|PROP\((['\"])(.*?)\2\))\}")
_TIMEZONE = re.compile(r"([+-])(\d\d)(\d\d)", re.ASCII)


def parse_timezone(text: str) -> tzinfo:
    """``LabelOptions.Timezone`` (``+0130``, ``-0400``) as a time zone; ValueError if it
    is not of that form."""
    match = _TIMEZONE.fullmatch(text)
    if match is None or int(match.group(3)) >= 60:
        raise ValueError(f"time zone {text!r} is not +HHMM or -HHMM")
    sign = -1 if match.group(1) == "-" else 1
    offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return timezone(sign * offset)


def format_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")


def format_time(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.month}-{local.day} {local:%H:%M}"


def format_duration(span: timedelta) -> str:
    seconds = abs(int(span.total_seconds()))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"


def render_label(template: str, series: Series, *, default_label: str,
                 now: datetime | None = None, zone: tzinfo = UTC,
                 props: Mapping[str, str] | None = None) -> str:
    """``template`` with its dynamic placeholders filled in from ``series``.

    ``default_label`` is what ``${LABEL}`` stands for; ``props`` gives the ``${PROP(...)}``
    values (``MetricName``, ``Namespace``, ``Stat``, ``Region``, ``AccountId``,
    ``AccountLabel``, ``Dim.<name>``); ``Period`` defaults to the series' period.
    """
    if "${" not in template:
        return template
    facts = _Facts(series, now, zone)
    properties = {"Period": str(series.period), **(props or {})}

    def substitute(match: re.Match[str]) -> str:
        name, prop = match.group(1), match.group(3)
        if name is None:
            return properties.get(prop, "")
        if name == "LABEL":
            return default_label
        value = facts.value(name)
        return match.group(0) if value is None else value

    return _PLACEHOLDER.sub(substitute, template)


class _Facts:
    """The dynamic values of one series, computed when asked for."""

    def __init__(self, series: Series, now: datetime | None, zone: tzinfo) -> None:
        self.series = series
        self.now = now
        self.zone = zone

    def value(self, name: str) -> str | None:
        """The text of placeholder ``name``, or None if there is no such placeholder."""
        compute = _VALUES.get(name)
        if compute is None:
            return None
        if not self.series.timestamps:
            return "0" if name == "DATAPOINT_COUNT" else ""
        return compute(self)

    # -- points of interest

    def _at(self, index: int) -> tuple[datetime, float]:
        return self.series.timestamps[index], self.series.values[index]

    def first(self) -> tuple[datetime, float]:
        return self._at(0)

    def last(self) -> tuple[datetime, float]:
        return self._at(-1)

    def highest(self) -> tuple[datetime, float]:
        values = self.series.values
        return self._at(max(range(len(values)), key=values.__getitem__))

    def lowest(self) -> tuple[datetime, float]:
        values = self.series.values
        return self._at(min(range(len(values)), key=values.__getitem__))

    def stat(self, name: str) -> str:
        value = statistic(name, self.series.values)
        return "" if math.isnan(value) else format_number(value)

    def time(self, point: tuple[datetime, float]) -> str:
        return format_time(point[0], self.zone)

    def relative(self, point: tuple[datetime, float]) -> str:
        return "" if self.now is None else format_duration(self.now - point[0])


_VALUES: dict[str, Callable[[_Facts], str]] = {
    "AVG": lambda f: f.stat("AVG"),
    "MAX": lambda f: f.stat("MAX"),
    "MIN": lambda f: f.stat("MIN"),
    "SUM": lambda f: f.stat("SUM"),
    "DATAPOINT_COUNT": lambda f: str(len(f.series.values)),
    "FIRST": lambda f: format_number(f.first()[1]),
    "LAST": lambda f: format_number(f.last()[1]),
    "FIRST_LAST_RANGE": lambda f: format_number(f.last()[1] - f.first()[1]),
    "MIN_MAX_RANGE": lambda f: format_number(f.highest()[1] - f.lowest()[1]),
    "FIRST_TIME": lambda f: f.time(f.first()),
    "LAST_TIME": lambda f: f.time(f.last()),
    "MAX_TIME": lambda f: f.time(f.highest()),
    "MIN_TIME": lambda f: f.time(f.lowest()),
    "FIRST_LAST_TIME_RANGE": lambda f: format_duration(f.last()[0] - f.first()[0]),
    "MIN_MAX_TIME_RANGE": lambda f: format_duration(f.highest()[0] - f.lowest()[0]),
    "FIRST_TIME_RELATIVE": lambda f: f.relative(f.first()),
    "LAST_TIME_RELATIVE": lambda f: f.relative(f.last()),
    "MAX_TIME_RELATIVE": lambda f: f.relative(f.highest()),
    "MIN_TIME_RELATIVE": lambda f: f.relative(f.lowest()),
}

#: The placeholders ``${NAME}`` (besides ``${PROP('...')}``).
PLACEHOLDERS = frozenset({"LABEL", *_VALUES})


def label_result(result: Series | tuple[Series, ...], *, query_id: str,
                 label: str | None, now: datetime | None = None, zone: tzinfo = UTC,
                 ) -> Series | tuple[Series, ...]:
    """An expression's result labelled as GetMetricData returns it (see the module)."""
    if isinstance(result, Series):
        text = query_id
        if label:
            text = render_label(label, result, default_label=query_id, now=now, zone=zone)
        return replace(result, label=text, id=query_id)
    labelled = []
    for series in result:
        text = series.label
        if label:
            own = render_label(label, series, default_label=series.label, now=now,
                               zone=zone)
            text = own if "${LABEL}" in label or not series.label else f"{own} {series.label}"
        labelled.append(replace(series, label=text))
    return tuple(labelled)
