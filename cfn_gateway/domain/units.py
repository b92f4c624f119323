"""Units: the 27 CloudWatch units, how a datum's unit is stored, and legacy unit spellings.

CloudWatch stores the unit a datum was sent with and never converts between units.
A datum sent without a unit is stored (and reported) with the unit "None", so a query for
Unit=None finds it.  GetMetricStatistics without a Unit answers one datapoint per period
*and unit* (data of different units are never mixed into one statistic).

Legacy spellings: Heat's own CloudWatch API accepted any unit, and its in-instance agent
``cfn-push-stats`` (heat-cfntools) still sends units AWS never defined: ``Counter`` for
heartbeats, service failures and HAProxy counts, and the lower-case names of its
``--units``, ``--memory-units`` and ``--disk-units`` options (``megabytes``,
``gigabytes``).  ``standard_unit_for`` reads such a spelling as the standard unit it means:

- ``Counter`` (any letter case) is ``Count``;
- a standard unit name in any ASCII letter case is that unit (``megabytes`` is
  ``Megabytes``, ``bytes/second`` is ``Bytes/Second``, ``none`` is ``None``);
- anything else is left as it is (and refused by the enum check of the model).

Which requests may use these spellings is the caller's decision (the gateway allows them
in Query requests only, see ``cfn_gateway.dispatch``).
"""

from __future__ import annotations

NO_UNIT = "None"

# CloudWatch's StandardUnit values, in the order of the service model.
STANDARD_UNITS: tuple[str, ...] = (
    "Seconds", "Microseconds", "Milliseconds",
    "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second",
    "Count/Second", NO_UNIT,
)

# Lower-cased legacy spelling -> the standard unit it stands for.
_LEGACY_SPELLINGS: dict[str, str] = {
    **{unit.lower(): unit for unit in STANDARD_UNITS},
    "counter": "Count",
}


def stored_unit(unit: str | None) -> str:
    """The unit a datum is stored with: as sent, or "None" when absent or empty."""
    return unit if unit else NO_UNIT


def standard_unit_for(spelling: str) -> str:
    """The standard unit a legacy spelling stands for; ``spelling`` itself when none."""
    if not spelling.isascii():  # no Unicode case folding: "\u212ailobytes" is not a unit
        return spelling
    return _LEGACY_SPELLINGS.get(spelling.lower(), spelling)
