"""Durations and sizes written the seed's way: ``30_seconds``, ``1_gigabyte``, ``unlimited``."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

__all__ = ["parse_duration", "parse_size"]

_SECONDS = {
    "millisecond": 0.001, "milliseconds": 0.001, "ms": 0.001,
    "second": 1, "seconds": 1, "s": 1, "sec": 1, "secs": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "hour": 3600, "hours": 3600, "h": 3600,
}
_BYTES = {
    "byte": 1, "bytes": 1, "b": 1,
    "kilobyte": 10**3, "kilobytes": 10**3, "kb": 10**3, "kibibyte": 2**10, "kibibytes": 2**10, "kib": 2**10,
    "megabyte": 10**6, "megabytes": 10**6, "mb": 10**6, "mebibyte": 2**20, "mebibytes": 2**20, "mib": 2**20,
    "gigabyte": 10**9, "gigabytes": 10**9, "gb": 10**9, "gibibyte": 2**30, "gibibytes": 2**30, "gib": 2**30,
    "terabyte": 10**12, "terabytes": 10**12, "tb": 10**12,
}
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[_ ]?\s*([A-Za-z]*)\s*$")


def _parse(value: object, units: Mapping[str, float], default_unit: str, what: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "unlimited"):
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a {what}, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):  # NaN compares false with everything: a limit nothing would break
            raise ValueError(f"a {what} must be a finite number (or unlimited), got {value!r}")
        if value < 0:
            raise ValueError(f"a {what} cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match:
            number, unit = float(match.group(1)), (match.group(2) or default_unit).lower()
            if unit in units:
                return number * units[unit]
            raise ValueError(f"unknown unit {match.group(2)!r} for a {what} (use e.g. {', '.join(list(units)[:6])})")
    raise ValueError(f"expected a {what} such as 30_seconds or unlimited, got {value!r}")


def parse_duration(value: object) -> float | None:
    """Seconds, or None for unlimited."""
    return _parse(value, _SECONDS, "seconds", "duration")


def parse_size(value: object) -> int | None:
    """Bytes, or None for unlimited."""
    result = _parse(value, _BYTES, "bytes", "size")
    return None if result is None else int(result)
