"""Numeric limits of the model's types (Java's, as AWS services are written in Java)."""

from __future__ import annotations

INT_RANGES: dict[str, tuple[int, int]] = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
