"""The filters of an order listing (DESIGN.md §5): one object from the face to the query.

`orders list` and `GET /api/orders` build it, the listing service passes it on, and the orders
repository reads it directly. A shared leaf, stdlib only beside `enums`, `errors` and
`parsing`: the listing's start-up imports neither Pydantic nor the ORM models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from orderctl.enums import OrderStatus
from orderctl.errors import ValidationFailed
from orderctl.parsing import normalize_email, to_utc


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """The filters of `orders list` and `GET /api/orders` (all optional, combined with AND).

    `since` is inclusive and `until` exclusive, both UTC. Made checked: the email is
    normalised and the times are in UTC; `ValidationFailed` (exit 6) names a bad field.
    """

    statuses: tuple[OrderStatus, ...] = ()
    customer_email: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None

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
