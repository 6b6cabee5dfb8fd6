"""Fixed vocabularies shared by every layer.

Stdlib only: the CLI imports this at start-up to build its option choices, so it must stay cheap.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


#: The only allowed status changes (DESIGN.md §5). Used by the service and printed in errors.
TRANSITIONS: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.PENDING: (OrderStatus.PAID, OrderStatus.CANCELLED),
    OrderStatus.PAID: (OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED),
    OrderStatus.SHIPPED: (OrderStatus.DELIVERED, OrderStatus.REFUNDED),
    OrderStatus.DELIVERED: (OrderStatus.REFUNDED,),
    OrderStatus.CANCELLED: (),
    OrderStatus.REFUNDED: (),
}

#: Statuses whose orders count towards a customer's "total spent".
SPENDING_STATUSES: tuple[OrderStatus, ...] = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
)


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class TokenState(StrEnum):
    """Whether a token works now; a revoked or expired token never works again, while a
    disabled user's token works again when the user is enabled (so it is named last)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USER_DISABLED = "user disabled"


class OutputFormat(StrEnum):
    TABLE = "table"
    #: every column with full values, whatever the terminal's width
    WIDE = "wide"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"

    @property
    def tabular(self) -> bool:
        """table or wide: for people on a terminal, tab-separated in a pipe."""
        return self in (OutputFormat.TABLE, OutputFormat.WIDE)


class ColorMode(StrEnum):
    """`--color`: auto colours a terminal only (NO_COLOR and CLICOLOR_FORCE apply)."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class EventAction(StrEnum):
    CREATED = "created"
    IMPORTED = "imported"
    STATUS_CHANGED = "status_changed"
    TOTAL_FIXED = "total_fixed"
    #: `verify --fix` dropped a reservation a cancelled order's line still held (DESIGN.md §13).
    RESERVATION_CLEARED = "reservation_cleared"


class StockReason(StrEnum):
    """Why a tracked product's stock changed: the `reason` of a stock movement (DESIGN.md §13)."""

    SET = "set"
    ADJUST = "adjust"
    RESERVE = "reserve"
    RELEASE = "release"
    CORRECTION = "correction"


class OrderSort(StrEnum):
    """`orders list --sort`: newest first by default; every sort ends in the id (keyset)."""

    CREATED = "created"
    CREATED_DESC = "-created"
    TOTAL = "total"
    TOTAL_DESC = "-total"


class LookupKind(StrEnum):
    """A kind of stored value that shell completion offers (DESIGN.md §20)."""

    SKU = "sku"
    REF = "ref"
    EMAIL = "email"
    USERNAME = "username"


class ReportPeriod(StrEnum):
    """`report sales --by`: the length of one period of the series (UTC; weeks start on
    Monday, as ISO 8601's do)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
