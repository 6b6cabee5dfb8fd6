"""The rows of the reports (DESIGN.md §15) as plain dataclasses, and their JSON documents.

The one declaration of each report's fields: the services return these rows, `orderctl
report` prints their `document()`s (money as a string with two decimals, dates in ISO 8601,
statuses by value, as everywhere, §6), and `report_schemas` derives the API's response
models from them. No Pydantic here: `orderctl report` imports none (start-up,
docs/performance.md, *Reports*).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from orderctl.enums import OrderStatus
from orderctl.parsing import format_money


@dataclass(frozen=True, slots=True)
class SalesRow:
    """One period of one currency. `period` is the period's first day (UTC; a week's Monday,
    a month's 1st); a period with no order is a row of zeros."""

    period: date
    currency: str
    orders: int
    units: int
    revenue: Decimal
    average_order_value: Decimal


@dataclass(frozen=True, slots=True)
class ProductSalesRow:
    """A product's sales in one currency; `rank` 1 has the highest revenue in that currency."""

    currency: str
    rank: int
    sku: str
    name: str
    orders: int
    units: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class CustomerSpendRow:
    """A customer's counted orders and spend in one currency; `rank` 1 spent the most."""

    currency: str
    rank: int
    email: str
    name: str | None
    orders: int
    total_spent: Decimal


@dataclass(frozen=True, slots=True)
class StatusRow:
    """Orders and their value for one status and currency. For `pending`, the orders by age
    (from `created_at`): under 1 hour, under 24 hours, under 72 hours, older; null for the
    other statuses."""

    status: OrderStatus
    currency: str
    orders: int
    value: Decimal
    pending_under_1h: int | None
    pending_under_24h: int | None
    pending_under_72h: int | None
    pending_older: int | None


ReportRow = SalesRow | ProductSalesRow | CustomerSpendRow | StatusRow


def values(row: ReportRow) -> dict[str, Any]:
    """The row's fields and their Python values (Decimal, date, OrderStatus), in order."""
    return {field.name: getattr(row, field.name) for field in fields(row)}


def document(row: ReportRow) -> dict[str, Any]:
    """The row's JSON document: money as a string with two decimals, a date in ISO 8601, a
    status by its value."""
    return {name: _json_value(value) for name, value in values(row).items()}


def field_names(row_type: type[ReportRow]) -> list[str]:
    """The fields of a row type, in order (the CSV header of an empty report)."""
    return [field.name for field in fields(row_type)]


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
