"""PutMetricData's fast path: the common, valid MetricData member as a ``Datum`` in a few
Python calls.

``views.metric_data_from_aws`` tries every member here first.  A member this path is not
sure about gets ``None`` and goes through ``views._datum``, the reference, which reports
its problems with AWS's wording; so errors (their class, texts and order, and the
all-or-nothing rule) are the reference's own.  A member accepted here is one the reference
accepts without a problem, and its ``Datum`` is equal to the one the reference builds
(``tests/unit/api/test_fast_datums.py`` checks both on random members).

Taken here: a single ``Value``, ``Values`` (with or without ``Counts``) or
``StatisticValues``, every number acceptable, the metric name and dimensions valid, a time
stamp that is absent or an aware UTC ``datetime`` (what the protocol parsers give) within
the accepted window, StorageResolution absent, 1 or 60.  Anything else falls back.

``decoded_data`` takes the same members from a JSON body decoded into structs
(``protocol.decode_valid_json``), reading their attributes where ``data`` reads the params'
dicts; both hand the values to one ``_datum``.  Making those dicts (``msgspec.to_builtins``)
cost more, for a thousand members, than decoding the body.

Caches:
- per process, bounded (cleared when full): (namespace, metric name, dimensions as sent)
  -> ``MetricKey``, only for names and dimensions that passed every check, so a hit needs
  no check at all (the namespace itself is checked per request, before any member);
- per request: (time stamp as sent, storage resolution) -> the stored time stamp, valid
  for the request's ``now`` only (a request's members usually share one time stamp).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET

from cfn_gateway.domain import dimensions as dims
from cfn_gateway.domain import periods
from cfn_gateway.domain import statistics as stats
from cfn_gateway.domain.metrics import Datum, Dimension, MetricKey, StatisticSet
from cfn_gateway.domain.units import NO_UNIT
from cfn_gateway.protocol.fast_json import epoch_time

#: Metric keys remembered per process (a few hundred bytes each).
KEYS_MAX = 10_000

_KeyAsSent = tuple[str, str, tuple[Dimension, ...]]
_KEYS: dict[_KeyAsSent, MetricKey] = {}

_MIN, _MAX = stats.MIN_MAGNITUDE, stats.MAX_MAGNITUDE
_STANDARD = periods.STANDARD_RESOLUTION
_Stamps = dict[tuple[datetime | None, int], datetime]


def clear_caches() -> None:
    """Forget the remembered metric keys (tests)."""
    _KEYS.clear()


def data(namespace: str, items: Sequence[dict[str, Any]],
         now: datetime) -> list[Datum | None]:
    """Each member as a ``Datum``, or None where the reference must decide."""
    stamps: _Stamps = {}
    try:
        return [datum(namespace, item, now, stamps) for item in items]
    except (KeyError, TypeError, ValueError, AttributeError):  # the reference decides
        return [None] * len(items)


def datum(namespace: str, item: dict[str, Any], now: datetime,
          stamps: _Stamps) -> Datum | None:
    """One member as a ``Datum``; None when in any doubt.  ``stamps``: the request's cache
    of stored time stamps."""
    given = item.get("StatisticValues")
    sent = item.get("Dimensions")
    return _datum(
        namespace, item["MetricName"],
        tuple([(d["Name"], d["Value"]) for d in sent]) if sent else (),
        item.get("Value"), item.get("Values"), item.get("Counts") or None,
        None if given is None else (given["SampleCount"], given["Sum"], given["Minimum"],
                                    given["Maximum"]),
        item.get("Unit"), item.get("StorageResolution"), item.get("Timestamp"), now, stamps)


def decoded_data(namespace: str, items: Sequence[Any], now: datetime) -> list[Datum] | None:
    """``data`` for members decoded by ``protocol.decode_valid_json`` (structs: absent
    members ``UNSET``, time stamps in epoch seconds, read as the params would give them):
    every member as a ``Datum``, or None when any is in doubt."""
    stamps: _Stamps = {}
    times: dict[int | float, datetime | None] = {}
    result = []
    for item in items:
        sent_time = item.Timestamp
        if sent_time is UNSET:
            timestamp = None
        else:
            timestamp = times.get(sent_time)
            if timestamp is None:
                timestamp = times[sent_time] = epoch_time(sent_time)
                if timestamp is None:
                    return None
        value, given, sent = item.Value, item.StatisticValues, item.Dimensions
        resolution = item.StorageResolution
        found = _datum(
            namespace, item.MetricName,
            tuple([(d.Name, d.Value) for d in sent]) if sent else (),
            None if value is UNSET else value, item.Values, item.Counts or None,
            None if given is UNSET else (given.SampleCount, given.Sum, given.Minimum,
                                         given.Maximum),
            item.Unit, None if resolution is UNSET else resolution, timestamp, now, stamps)
        if found is None:
            return None
        result.append(found)
    return result


def _datum(namespace: str, name: str, dimensions: tuple[Dimension, ...], value: Any,
           values: Any, counts: Any, given: tuple[Any, Any, Any, Any] | None, unit: Any,
           resolution: Any, timestamp: Any, now: datetime, stamps: _Stamps) -> Datum | None:
    """A member, read out of its dict or struct (absent members None or false), as a
    ``Datum``; None when in any doubt."""
    if value is not None:
        if values or counts or given is not None:
            return None
        magnitude = abs(value)
        if not (magnitude == 0.0 or _MIN <= magnitude <= _MAX):
            return None
        samples: tuple[StatisticSet, ...] | None = (StatisticSet(1.0, value, value, value),)
    else:
        samples = _samples(values, counts, given)
        if samples is None:
            return None
    as_sent = (namespace, name, dimensions)
    key = _KEYS.get(as_sent)
    if key is None:
        if not dims.valid_metric(name, dimensions):
            return None
        key = MetricKey.of(namespace, name, dimensions)
        if len(_KEYS) >= KEYS_MAX:
            _KEYS.clear()
        _KEYS[as_sent] = key
    if resolution is None:
        resolution = _STANDARD
    stamp = stamps.get((timestamp, resolution))
    if stamp is None:
        stamp = _stamp(timestamp, resolution, now)
        if stamp is None:
            return None
        stamps[(timestamp, resolution)] = stamp
    return Datum(key, stamp, unit or NO_UNIT, resolution, samples)


def _acceptable(value: float) -> bool:
    magnitude = abs(value)
    return magnitude == 0.0 or _MIN <= magnitude <= _MAX


def _samples(values: Any, counts: Any,
             given: tuple[Any, Any, Any, Any] | None) -> tuple[StatisticSet, ...] | None:
    """The samples of a member without ``Value``; None when in doubt."""
    if values:
        if len(values) > stats.MAX_VALUES or (counts is not None and len(counts) != len(values)):
            return None
        for v in values:
            if not _acceptable(v):
                return None
        if counts is not None:
            for count in counts:
                if count < 0 or not _acceptable(count):
                    return None
        return tuple(stats.from_values(values, counts))
    if given is None or counts is not None:
        return None
    count, total, low, high = given
    if not (_acceptable(count) and _acceptable(total) and _acceptable(low)
            and _acceptable(high) and count > 0 and high >= low):
        return None
    return (StatisticSet(float(count), float(total), float(low), float(high)),)


def _stamp(timestamp: Any, resolution: int, now: datetime) -> datetime | None:
    """The stored time stamp; None when it is not accepted, or not an aware UTC time."""
    if timestamp is None:
        moment = now
    elif type(timestamp) is datetime and timestamp.tzinfo is UTC:
        moment = timestamp
    else:
        return None
    if resolution not in periods.STORAGE_RESOLUTIONS or not periods.timestamp_acceptable(
            moment, now):
        return None
    return periods.truncate_to_resolution(moment, resolution)
