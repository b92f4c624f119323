"""Concurrent PutMetricData of one project share Gnocchi batch-measures calls.

Gnocchi's API spends most of a batch-measures call on the call itself (token validation,
routing, the incoming-measures write), little on each measure.  So while one request's
batch is on its way, the batches of the project's other requests that arrive meanwhile
wait, and go as one call once it has returned (leader and followers, as a group commit):

- a request that finds no call of its project under way sends at once, alone: one client
  waits no longer than it would without sharing;
- one that finds a call under way queues; when that call returns, the first queued
  request sends every queued batch merged into one body (up to ``max_measures`` measures;
  its own always), and the rest wait for the next round;
- every request is answered only once the call that carried its measures returned, with
  that call's outcome: nothing is acknowledged before Gnocchi accepted it.

A merged call that fails with anything but ``ServiceUnavailable`` (a refusal that may
concern one request's data) is not the others' failure: each batch of it is then sent on
its own and answered with its own outcome.  ``ServiceUnavailable`` (Gnocchi down, failing
or timing out) is every batch's answer at once, and that of the requests queued behind the
call meanwhile: none waits for a second timeout after the first (SDKs retry a 503).
Measures of one metric from two requests carry their own timestamps (drawn at random
within their period by ``gnocchi_mapping.build_measures``) and add up in Gnocchi as they
would from two calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cfn_gateway import errors
from cfn_gateway.backends.openstack.gnocchi_api import unavailable
from cfn_gateway.domain.metrics import MetricKey

#: A merged call carries at most this many measures (one 1000-datum put makes 4000).
DEFAULT_MAX_MEASURES = 8000


@dataclass(frozen=True)
class MeasureBatch:
    """One request's batch-measures body, the resources it names and when it arrived."""

    body: dict[str, dict[str, Any]]  # resource id -> metric name -> policy and measures
    keys: dict[str, MetricKey]  # resource id -> the metric it stands for
    received_at: datetime

    @property
    def measure_count(self) -> int:
        return sum(len(entry["measures"]) for metrics in self.body.values()
                   for entry in metrics.values())


def merged(batches: Iterable[MeasureBatch]) -> MeasureBatch:
    """One batch holding the measures of all ``batches`` (none of them is changed)."""
    body: dict[str, dict[str, Any]] = {}
    keys: dict[str, MetricKey] = {}
    latest: datetime | None = None
    for batch in batches:
        keys.update(batch.keys)
        latest = batch.received_at if latest is None else max(latest, batch.received_at)
        for rid, metrics in batch.body.items():
            into = body.setdefault(rid, {})
            for name, entry in metrics.items():
                held = into.get(name)
                into[name] = entry if held is None else {
                    **held, "measures": [*held["measures"], *entry["measures"]]}
    assert latest is not None, "merged() needs at least one batch"
    return MeasureBatch(body, keys, latest)


Send = Callable[[MeasureBatch], None]


class _Waiter:
    __slots__ = ("batch", "error", "leads", "measures", "settled", "written")

    def __init__(self, batch: MeasureBatch) -> None:
        self.batch = batch
        self.measures = batch.measure_count
        self.settled = threading.Event()  # answered, or asked to lead
        self.leads = False
        self.written = False
        self.error: BaseException | None = None


class SharedBatches:
    """The batch-measures calls of every project, one under way per project at a time."""

    def __init__(self, max_measures: int = DEFAULT_MAX_MEASURES) -> None:
        self.max_measures = max_measures
        self._lock = threading.Lock()
        self._queued: dict[str, list[_Waiter]] = {}
        self._sending: set[str] = set()

    def write(self, project_id: str, batch: MeasureBatch, send: Send) -> None:
        """Have ``batch`` written, alone or with others of ``project_id``, by ``send``
        (called on this thread or another's, with a batch of this project); return once
        it was, or raise the error of the call that carried it."""
        waiter = _Waiter(batch)
        with self._lock:
            if project_id in self._sending:
                self._queued.setdefault(project_id, []).append(waiter)
            else:
                self._sending.add(project_id)
                waiter.leads = True
        if not waiter.leads:
            waiter.settled.wait()
        if waiter.leads:
            self._lead(project_id, waiter, send)
        if waiter.error is not None:
            raise waiter.error

    def _lead(self, project_id: str, leader: _Waiter, send: Send) -> None:
        with self._lock:
            round_ = self._take(project_id, leader)
        successor: _Waiter | None = None
        try:
            self._send(round_, send)
        finally:
            for waiter in round_:
                if not waiter.written and waiter.error is None:  # the leader was interrupted
                    waiter.error = unavailable("the call carrying these measures was cut short")
                if waiter is not leader:
                    waiter.settled.set()
            down = isinstance(leader.error, errors.ServiceUnavailable)
            with self._lock:
                queued = self._queued.get(project_id)
                if queued and not down:
                    successor = queued.pop(0)
                    if not queued:
                        del self._queued[project_id]
                else:
                    self._queued.pop(project_id, None)
                    self._sending.discard(project_id)
            if successor is not None:
                successor.leads = True
                successor.settled.set()
            elif down:
                for waiter in queued or ():  # they waited for this call: no second wait
                    waiter.error = leader.error
                    waiter.settled.set()

    def _take(self, project_id: str, leader: _Waiter) -> list[_Waiter]:
        """``leader`` and the queued waiters that fit beside it (under the lock)."""
        queued = self._queued.pop(project_id, [])
        round_, left = [leader], []
        measures = leader.measures
        for waiter in queued:
            if measures + waiter.measures <= self.max_measures:
                round_.append(waiter)
                measures += waiter.measures
            else:
                left.append(waiter)
        if left:
            self._queued[project_id] = left
        return round_

    @staticmethod
    def _send(round_: list[_Waiter], send: Send) -> None:
        if len(round_) == 1:
            _send_one(round_[0], send)
            return
        try:
            send(merged(waiter.batch for waiter in round_))
            for waiter in round_:
                waiter.written = True
        except errors.ServiceUnavailable as exc:
            for waiter in round_:
                waiter.error = exc
        except Exception:
            for waiter in round_:  # the failure may be one request's: each on its own
                _send_one(waiter, send)


def _send_one(waiter: _Waiter, send: Send) -> None:
    try:
        send(waiter.batch)
        waiter.written = True
    except Exception as exc:
        waiter.error = exc
