"""Query parameters shared by several routers, read as the CLI reads its options."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Query

from orderctl.errors import ValidationFailed
from orderctl.order_filters import SEARCH_MAX, SEARCH_MIN
from orderctl.parsing import EMAIL_MAX, EMAIL_PATTERN, parse_when_or, stripped_pattern

#: `since`/`until` in the OpenAPI document: the forms of `parsing.parse_when`. A time ago is
#: documented up to 9999 of a unit (the code takes up to 36500d, which no pattern says
#: briefly); the code also takes surrounding spaces and any case (`TODAY`, `7D`).
WHEN_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^[0-9]{1,4}[mhd]$"},
        {"type": "string", "enum": ["today", "yesterday"]},
    ]
}
#: `min_total`/`max_total`: an amount (`parsing.parse_amount`), documented up to ten digits
#: before the point (the code's limit is 99,999,999,999.90).
AMOUNT_SCHEMA: dict[str, Any] = {"type": "string", "pattern": r"^-?[0-9]{1,10}(\.[0-9]{1,2})?$"}


def email_query(description: str) -> Any:
    """A query parameter holding an email (`parsing.normalize_email`)."""
    return Query(
        description=description,
        json_schema_extra={"pattern": EMAIL_PATTERN, "maxLength": EMAIL_MAX},
    )


def search_query(description: str) -> Any:
    """A `search` query parameter: `SEARCH_MIN` to `SEARCH_MAX` characters once stripped,
    one line (`order_filters.search_text`)."""
    return Query(
        max_length=1000,
        description=description,
        json_schema_extra={"pattern": stripped_pattern(SEARCH_MIN), "maxLength": SEARCH_MAX},
    )


def when_query(description: str) -> Any:
    """A `since`/`until` query parameter, its schema the forms `time_range` reads."""
    return Query(description=description, json_schema_extra=WHEN_SCHEMA)


def amount_query(description: str) -> Any:
    """A `min_total`/`max_total` query parameter: an amount such as 12.50."""
    return Query(description=description, json_schema_extra=AMOUNT_SCHEMA)


def time_range(since: str | None, until: str | None) -> dict[str, datetime | None]:
    """`since` (inclusive) and `until` (exclusive; a date takes in that whole day) as UTC
    datetimes, as the CLI reads `--since`/`--until`; `ValidationFailed` (422) names the
    parameter that cannot be parsed."""
    return {
        "since": parse_when_or(since, end_of_day=False, name="since", error=ValidationFailed),
        "until": parse_when_or(until, end_of_day=True, name="until", error=ValidationFailed),
    }
