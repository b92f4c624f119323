"""Units: CloudWatch stores the unit a datum was sent with and never converts between units.

A datum sent without a unit is stored (and reported) with the unit "None", so a query for
Unit=None finds it.  GetMetricStatistics without a Unit answers one datapoint per period
*and unit* (data of different units are never mixed into one statistic).
"""

from __future__ import annotations

NO_UNIT = "None"


def stored_unit(unit: str | None) -> str:
    """The unit a datum is stored with: as sent, or "None" when absent or empty."""
    return unit if unit else NO_UNIT
