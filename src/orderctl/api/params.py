"""Query parameters shared by several routers, read as the CLI reads its options."""

from __future__ import annotations

from datetime import datetime

from orderctl.errors import ValidationFailed
from orderctl.parsing import parse_when


def when_param(value: str | None, *, name: str, end_of_day: bool) -> datetime | None:
    """An ISO date (a whole UTC day) or datetime (UTC when it has no zone), as in the CLI;
    `ValidationFailed` (422) naming the parameter when it cannot be parsed."""
    if value is None:
        return None
    try:
        return parse_when(value, end_of_day=end_of_day)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: {exc}") from None
