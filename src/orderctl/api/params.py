"""Query parameters shared by several routers, read as the CLI reads its options."""

from __future__ import annotations

from datetime import datetime

from orderctl.errors import ValidationFailed
from orderctl.parsing import parse_when_or


def time_range(since: str | None, until: str | None) -> dict[str, datetime | None]:
    """`since` (inclusive) and `until` (exclusive; a date takes in that whole day) as UTC
    datetimes, as the CLI reads `--since`/`--until`; `ValidationFailed` (422) names the
    parameter that cannot be parsed."""
    return {
        "since": parse_when_or(since, end_of_day=False, name="since", error=ValidationFailed),
        "until": parse_when_or(until, end_of_day=True, name="until", error=ValidationFailed),
    }
