"""The worker's garbage collector settings (``server.collector``), in a fresh interpreter:
they change the process's collector for good."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cfn_gateway.server import collector

_PROBE = """
import gc, json, weakref
from cfn_gateway.server import collector

class Node:
    pass

before = gc.get_threshold()
startup = [Node() for _ in range(1000)]  # what start-up built, alive for good
collector.tune_for_requests()
frozen = gc.get_freeze_count()

cycle = Node()
cycle.me = cycle
died = []
weakref.finalize(cycle, died.append, True)
del cycle
held = []
while not died and len(held) < 3 * collector.YOUNG_THRESHOLD:
    held.append([])  # containers alive, as a request's are
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": frozen,
                  "startup": len(startup), "collected_after": len(held), "died": bool(died)}))
"""


@pytest.fixture(scope="module")
def found() -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def test_the_young_generation_waits_for_many_more_containers_older_ones_keep_their_ratios(
        found):
    assert found["after"] == [collector.YOUNG_THRESHOLD, *found["before"][1:]]
    assert found["before"][0] < collector.YOUNG_THRESHOLD


def test_what_start_up_built_is_frozen(found):
    assert found["frozen"] >= 1000


def test_a_cycle_made_later_is_still_collected_without_asking(found):
    assert found["died"]
    # Not at once (that is the point), but within the young generation's threshold.
    assert 1000 < found["collected_after"] <= collector.YOUNG_THRESHOLD + 1000
