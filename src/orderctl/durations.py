"""Durations like `90m`, `72h`, `30d` (DESIGN.md §8). Stdlib only: the CLI parses them."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_PATTERN = re.compile(r"^([0-9]{1,9})([smhd])$")
#: Large enough for any real use, small enough that `now - duration` stays a valid date.
MAX_DAYS = 36_500


def parse_duration(text: str) -> timedelta:
    """Parse `<digits><s|m|h|d>`; raise ValueError on anything else."""
    match = _PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"invalid duration {text!r}: use digits and one of s, m, h, d (e.g. 72h)")
    value = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if value > timedelta(days=MAX_DAYS):
        raise ValueError(f"invalid duration {text!r}: at most {MAX_DAYS} days")
    return value
