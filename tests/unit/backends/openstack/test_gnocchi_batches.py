"""SharedBatches: concurrent batches of one project go to Gnocchi as one call.

``send`` is a fake Gnocchi write that records the bodies it was given and can be held
(an event) to make other requests queue behind the call under way.  The real thing, many
clients putting at once through a gateway on the test bed, is in
tests/openstack/test_gnocchi_metrics.py.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from cfn_gateway import errors
from cfn_gateway.backends.openstack.gnocchi_batches import MeasureBatch, SharedBatches, merged
from cfn_gateway.domain.metrics import MetricKey

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def batch(rid: str, value: float, stamp: str = "2026-12-01T12:00:00.1") -> MeasureBatch:
    body = {rid: {"m_sum": {"archive_policy_name": "p",
                            "measures": [{"timestamp": stamp, "value": value}]}}}
    return MeasureBatch(body, {rid: MetricKey.of("NS", rid)}, AT)


def values(body: dict[str, Any]) -> list[float]:
    return sorted(m["value"] for metrics in body.values() for entry in metrics.values()
                  for m in entry["measures"])


class FakeGnocchi:
    """Records each call's body; the first call waits for ``release``; a body holding a
    value in ``refused`` fails with ``failure``."""

    def __init__(self, failure: Exception | None = None, refused: float | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.failure = failure
        self.refused = refused

    def send(self, batch: MeasureBatch) -> None:
        first = not self.calls
        self.calls.append(batch.body)
        if first:
            assert self.release.wait(10)
        if self.failure is not None and (self.refused is None
                                         or self.refused in values(batch.body)):
            raise self.failure


def run_queued(shared: SharedBatches, gnocchi: FakeGnocchi, batches: list[MeasureBatch],
               project: str = "p1", send: Any = None) -> dict[float, BaseException | None]:
    """The first batch's call (``send``, by default ``gnocchi.send``) is held until every
    other one has queued; outcome per value."""
    outcomes: dict[float, BaseException | None] = {}

    def put(b: MeasureBatch) -> None:
        try:
            shared.write(project, b, send or gnocchi.send)
            outcomes[values(b.body)[0]] = None
        except BaseException as exc:
            outcomes[values(b.body)[0]] = exc

    threads = [threading.Thread(target=put, args=(batches[0],))]
    threads[0].start()
    _until(lambda: len(gnocchi.calls) == 1)
    for b in batches[1:]:
        threads.append(threading.Thread(target=put, args=(b,)))
        threads[-1].start()
    _until(lambda: len(shared._queued.get(project, [])) == len(batches) - 1)
    gnocchi.release.set()
    for thread in threads:
        thread.join(10)
    assert not shared._sending and not shared._queued
    return outcomes


def _until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_lone_batch_is_sent_at_once_as_it_is():
    gnocchi, shared = FakeGnocchi(), SharedBatches()
    gnocchi.release.set()
    b = batch("r1", 1.0)
    shared.write("p1", b, gnocchi.send)
    assert gnocchi.calls == [b.body]


def test_batches_queued_behind_a_call_go_as_one():
    gnocchi, shared = FakeGnocchi(), SharedBatches()
    batches = [batch("r1", 1.0), batch("r1", 2.0, "2026-12-01T12:00:00.2"),
               batch("r2", 3.0), batch("r3", 4.0)]
    outcomes = run_queued(shared, gnocchi, batches)
    assert outcomes == {1.0: None, 2.0: None, 3.0: None, 4.0: None}
    assert [values(body) for body in gnocchi.calls] == [[1.0], [2.0, 3.0, 4.0]]
    assert sorted(gnocchi.calls[1]) == ["r1", "r2", "r3"]


def test_projects_do_not_share_calls():
    gnocchi, shared = FakeGnocchi(), SharedBatches()
    threading.Thread(target=shared.write, args=("p1", batch("r1", 1.0), gnocchi.send)).start()
    _until(lambda: len(gnocchi.calls) == 1)
    shared.write("p2", batch("r2", 2.0), gnocchi.send)  # not held behind p1's call
    gnocchi.release.set()
    _until(lambda: not shared._sending)
    assert [values(body) for body in gnocchi.calls] == [[1.0], [2.0]]


def test_a_refused_merged_call_sends_each_batch_alone():
    refusal = errors.InternalFailure("The metric service failed to process the request.")
    gnocchi, shared = FakeGnocchi(refusal, refused=3.0), SharedBatches()
    batches = [batch("r1", 1.0), batch("r2", 2.0), batch("r3", 3.0), batch("r4", 4.0)]
    outcomes = run_queued(shared, gnocchi, batches)
    assert outcomes[3.0] is refusal
    assert [outcomes[v] for v in (1.0, 2.0, 4.0)] == [None, None, None]
    assert [values(body) for body in gnocchi.calls] == [[1.0], [2.0, 3.0, 4.0], [2.0], [3.0],
                                                        [4.0]]


def test_an_unavailable_gnocchi_answers_a_merged_round_at_once():
    down = errors.ServiceUnavailable("The metric service is unavailable.")
    gnocchi, shared = FakeGnocchi(down, refused=2.0), SharedBatches()
    outcomes = run_queued(shared, gnocchi, [batch("r1", 1.0), batch("r2", 2.0),
                                            batch("r3", 3.0)])
    assert outcomes == {1.0: None, 2.0: down, 3.0: down}
    assert len(gnocchi.calls) == 2  # no call per batch after the merged one failed


def test_a_round_holds_at_most_max_measures():
    gnocchi, shared = FakeGnocchi(), SharedBatches(max_measures=2)
    batches = [batch(f"r{i}", float(i)) for i in range(1, 7)]
    outcomes = run_queued(shared, gnocchi, batches)
    assert set(outcomes.values()) == {None}
    assert [values(body) for body in gnocchi.calls] == [[1.0], [2.0, 3.0], [4.0, 5.0],
                                                        [6.0]]


def test_an_interrupted_merged_call_leaves_no_writer_believing_it_written():
    class Interrupted(BaseException):
        pass

    gnocchi, shared = FakeGnocchi(), SharedBatches()

    def send(b: MeasureBatch) -> None:
        gnocchi.send(b)
        if len(values(b.body)) > 1:
            raise Interrupted()

    outcomes = run_queued(shared, gnocchi, [batch(f"r{i}", float(i)) for i in (1, 2, 3)],
                          send=send)
    assert outcomes[1.0] is None
    # The follower that led the merged call sees the interruption, the other a 503.
    assert sorted(type(outcomes[v]).__name__ for v in (2.0, 3.0)) == [
        "Interrupted", "ServiceUnavailable"]
    assert not shared._sending and not shared._queued


def test_merged_adds_measures_of_one_metric_and_changes_no_batch():
    one, two = batch("r1", 1.0), batch("r1", 2.0, "2026-12-01T12:00:00.2")
    both = merged([one, two])
    assert both.body["r1"]["m_sum"]["measures"] == [
        {"timestamp": "2026-12-01T12:00:00.1", "value": 1.0},
        {"timestamp": "2026-12-01T12:00:00.2", "value": 2.0}]
    assert values(one.body) == [1.0] and values(two.body) == [2.0]
    assert both.measure_count == 2


@pytest.mark.parametrize("size", [1, 3])
def test_every_writer_returns_when_nothing_waits(size):
    gnocchi, shared = FakeGnocchi(), SharedBatches()
    gnocchi.release.set()
    for i in range(size):
        shared.write("p1", batch("r1", float(i)), gnocchi.send)
    assert len(gnocchi.calls) == size and not shared._sending


def test_requests_queued_behind_an_unavailable_gnocchi_are_answered_with_it():
    down = errors.ServiceUnavailable("The metric service is unavailable.")
    gnocchi, shared = FakeGnocchi(down), SharedBatches()
    outcomes = run_queued(shared, gnocchi, [batch("r1", 1.0), batch("r2", 2.0),
                                            batch("r3", 3.0)])
    assert all(outcome is down for outcome in outcomes.values())
    assert len(gnocchi.calls) == 1  # the queued ones did not wait for a call of their own
