"""Units: the standard set, and how legacy (cfn-push-stats) spellings are read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfn_gateway.context import CLOUDWATCH
from cfn_gateway.domain.units import NO_UNIT, STANDARD_UNITS, standard_unit_for
from cfn_gateway.protocol.models import service_model


def test_standard_units_are_the_models():
    assert list(STANDARD_UNITS) == service_model(CLOUDWATCH).shape_for("StandardUnit").enum
    assert NO_UNIT in STANDARD_UNITS


@pytest.mark.parametrize("unit", STANDARD_UNITS)
def test_standard_units_stand_for_themselves_in_any_case(unit):
    assert standard_unit_for(unit) == unit
    assert standard_unit_for(unit.lower()) == unit
    assert standard_unit_for(unit.upper()) == unit
    assert standard_unit_for(unit.swapcase()) == unit


@pytest.mark.parametrize(("spelling", "unit"), [
    # what cfn-push-stats sends: --heartbeat, --service-failure, --haproxy counts
    ("Counter", "Count"),
    # its --memory-units / --disk-units choices, and whatever --units a template gives
    ("bytes", "Bytes"), ("kilobytes", "Kilobytes"), ("megabytes", "Megabytes"),
    ("gigabytes", "Gigabytes"), ("percent", "Percent"), ("seconds", "Seconds"),
    ("counter", "Count"), ("COUNTER", "Count"), ("count", "Count"),
    ("bytes/second", "Bytes/Second"), ("count/second", "Count/Second"), ("none", "None"),
])
def test_legacy_spellings(spelling, unit):
    assert standard_unit_for(spelling) == unit


@pytest.mark.parametrize("spelling", [
    "", "Widgets", "Counters", "Counter/Second", "megabyte", " Megabytes", "Megabytes ",
    "Mega bytes", "Bytes/second/", "Count\x00", "percent%",
    "\u212ailobytes",  # KELVIN SIGN lower-cases to "k": no Unicode case folding
    "Megab\u0131tes",  # dotless i
])
def test_other_spellings_are_left_for_validation(spelling):
    assert standard_unit_for(spelling) == spelling


@given(st.text(max_size=30))
def test_result_is_a_standard_unit_or_the_spelling_itself(spelling):
    unit = standard_unit_for(spelling)
    assert unit == spelling or unit in STANDARD_UNITS
    if unit in STANDARD_UNITS:
        assert spelling.isascii()
        assert spelling.lower() in (unit.lower(), "counter")
