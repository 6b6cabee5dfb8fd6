"""The filters of an order listing (DESIGN.md §5): one object from the face to the query.

`orders list` and `GET /api/orders` build it, the listing service passes it on, and the orders
repository reads it directly. A shared leaf, stdlib only beside `enums`, `errors` and
`parsing`: the listing's start-up imports neither Pydantic nor the ORM models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from orderctl.enums import OrderStatus
from orderctl.errors import OrderctlError, UsageError, ValidationFailed
from orderctl.parsing import (
    OutOfRange,
    normalize_email,
    parse_amount,
    parse_when,
    single_line,
    to_utc,
)

#: The search indexes work on trigrams: shorter text could only be found by reading every row.
SEARCH_MIN = 3
SEARCH_MAX = 254


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """The filters of `orders list` and `GET /api/orders` (all optional, combined with AND).

    `since` is inclusive and `until` exclusive, both UTC. `search` is a case-insensitive
    substring of the customer's email or name or of the external ref; `sku` keeps orders
    with a line of that product. Made checked, here and for every face: the email is
    normalised and the times are in UTC; `ValidationFailed` (exit 6, 422) names a bad field;
    `UsageError` (exit 2, 422) refuses an inverted range or a search under `SEARCH_MIN`
    characters.
    """

    statuses: tuple[OrderStatus, ...] = ()
    customer_email: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    search: str | None = None
    sku: str | None = None

    def __post_init__(self) -> None:
        try:
            statuses = tuple(OrderStatus(status) for status in self.statuses)
        except ValueError as exc:
            raise ValidationFailed(f"statuses: {exc}") from None
        object.__setattr__(self, "statuses", statuses)
        if self.customer_email is not None:
            try:
                object.__setattr__(self, "customer_email", normalize_email(self.customer_email))
            except ValueError as exc:
                raise ValidationFailed(f"customer_email: {exc}") from None
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, to_utc(value))
                except ValueError as exc:
                    raise ValidationFailed(f"{name}: {exc}") from None
        for name in ("min_total", "max_total"):
            value = getattr(self, name)
            if value is not None and not value.is_finite():
                raise ValidationFailed(f"{name}: must be a finite number")
        self._check_ranges()
        self._check_text()

    def _check_ranges(self) -> None:
        low, high = self.min_total, self.max_total
        if low is not None and high is not None and low > high:
            raise UsageError(f"inverted range: min_total {low} is above max_total {high}")
        since, until = self.since, self.until
        # Equal is inverted too: `until` is exclusive, and `--since today --until yesterday`
        # meets at midnight.
        if since is not None and until is not None and since >= until:
            raise UsageError(
                f"inverted range: since ({since.isoformat()}) is not before until "
                f"({until.isoformat()}; a date alone means the end of that day)"
            )

    def _check_text(self) -> None:
        if self.search is not None:
            object.__setattr__(self, "search", search_text(self.search))
        if self.sku is not None:
            sku = _one_line("sku", self.sku)
            if not sku:
                raise UsageError("sku: give a SKU (got an empty value)")
            object.__setattr__(self, "sku", sku)


def _one_line(name: str, value: str) -> str:
    try:
        return single_line(value.strip())
    except ValueError as exc:
        raise ValidationFailed(f"{name}: {exc}") from None


def search_text(value: str) -> str:
    """A `--search` text, stripped: `SEARCH_MIN` to `SEARCH_MAX` characters (else
    `UsageError`, exit 2), no control characters (else `ValidationFailed`, exit 6). The rule
    of `orders list` and `customers list`."""
    text = _one_line("search", value)
    if not SEARCH_MIN <= len(text) <= SEARCH_MAX:
        raise UsageError(
            f"search: give {SEARCH_MIN} to {SEARCH_MAX} characters (got {len(text)}); "
            "the search index works on sequences of three"
        )
    return text


def parse_filters(
    *,
    statuses: Sequence[OrderStatus] | None = None,
    customer: str | None = None,
    since: str | None = None,
    until: str | None = None,
    min_total: str | None = None,
    max_total: str | None = None,
    search: str | None = None,
    sku: str | None = None,
    label: Callable[[str], str] = str,
    unparsable: type[OrderctlError] = ValidationFailed,
) -> OrderFilters:
    """The filters as a face receives them, text (the CLI's options, the API's query).

    A date `until` includes that whole day. A value that is not a date or an amount raises
    `unparsable` (the CLI: a usage error, 2; the API: 422), an amount out of range
    `ValidationFailed` (6); `label` names the field as the face spells it (`--min-total`).
    """

    def when(value: str | None, field: str, *, end_of_day: bool) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_when(value, end_of_day=end_of_day)
        except ValueError as exc:
            raise unparsable(f"{label(field)}: {exc}") from None

    def amount(value: str | None, field: str) -> Decimal | None:
        if value is None:
            return None
        try:
            return parse_amount(value)
        except OutOfRange as exc:
            raise ValidationFailed(f"{label(field)}: {exc}") from None
        except ValueError as exc:
            raise unparsable(f"{label(field)}: {exc}") from None

    return OrderFilters(
        statuses=tuple(statuses or ()),
        customer_email=customer,
        since=when(since, "since", end_of_day=False),
        until=when(until, "until", end_of_day=True),
        min_total=amount(min_total, "min_total"),
        max_total=amount(max_total, "max_total"),
        search=search,
        sku=sku,
    )
