"""Parsing and checks of values shared by the CLI, the HTTP API and the schemas (stdlib
only, a leaf).

Both faces accept the same dates and amounts; each maps the errors to its own codes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

#: Filters beyond this can match nothing a Numeric(12, 2) column holds; refusing them keeps
#: absurd numbers (1e999999) away from the database, where PostgreSQL would overflow.
AMOUNT_LIMIT = Decimal("99999999999.90")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class OutOfRange(ValueError):
    """A well-formed value outside what the filter accepts."""


def parse_when(text: str, *, end_of_day: bool) -> datetime:
    """An ISO date (a whole UTC day: its start, or with `end_of_day` the next day's start) or
    an ISO datetime (UTC when it has no zone). Raises ValueError."""
    value = text.strip()
    try:
        if _DATE.fullmatch(value):
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if not end_of_day:
                return start
            return start + timedelta(days=1) if day < date.max else datetime.max.replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"expected an ISO date or datetime such as 2026-11-26 or 2026-11-26T13:45:00Z, "
            f"got {text[:40]!r}"
        ) from None


def parse_amount(text: str) -> Decimal:
    """A decimal amount such as 12.50. Raises ValueError, or `OutOfRange` beyond ±AMOUNT_LIMIT."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ValueError(f"expected an amount such as 12.50, got {text[:40]!r}")
    if abs(amount) > AMOUNT_LIMIT:
        raise OutOfRange(f"must be between -{AMOUNT_LIMIT} and {AMOUNT_LIMIT}")
    return amount


def no_nul(value: str) -> str:
    """`value`, unless it holds a NUL: PostgreSQL cannot store or even compare one, so both
    backends refuse it everywhere. Raises ValueError."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def normalize_email(value: str) -> str:
    """An email address stripped and in lower case (how orderctl stores and compares them).
    Raises ValueError."""
    value = no_nul(value.strip().lower())
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError("is not a valid email address")
    return value


def to_utc(value: datetime) -> datetime:
    """`value` in UTC; a timestamp without a zone is taken as UTC, the only zone orderctl
    stores. Raises ValueError."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable instant
        raise ValueError("is out of the supported range of dates") from None
