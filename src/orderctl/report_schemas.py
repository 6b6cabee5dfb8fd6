"""The documents of the reports (DESIGN.md §15): one row each, the same for `-o json` and
`GET /api/reports/...`. Money is a string with two decimals in JSON, as everywhere (§6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

from orderctl.enums import OrderStatus
from orderctl.schemas import ReadModel, format_money

#: A sum of money: like `schemas.Money` in JSON, but not bounded by one column's size.
Amount = Annotated[Decimal, PlainSerializer(format_money, return_type=str, when_used="json")]


class SalesRow(ReadModel):
    """One period of one currency. `period` is the period's first day (UTC; a week's Monday,
    a month's 1st); a period with no order is a row of zeros."""

    period: date
    currency: str
    orders: int
    units: int
    revenue: Amount
    average_order_value: Amount


class ProductSalesRow(ReadModel):
    """A product's sales in one currency; `rank` 1 has the highest revenue in that currency."""

    currency: str
    rank: int
    sku: str
    name: str
    orders: int
    units: int
    revenue: Amount


class CustomerSpendRow(ReadModel):
    """A customer's counted orders and spend in one currency; `rank` 1 spent the most."""

    currency: str
    rank: int
    email: str
    name: str | None
    orders: int
    total_spent: Amount


class StatusRow(ReadModel):
    """Orders and their value for one status and currency. For `pending`, the orders by age
    (from `created_at`): under 1 hour, under 24 hours, under 72 hours, older; null for the
    other statuses."""

    status: OrderStatus
    currency: str
    orders: int
    value: Amount
    pending_under_1h: int | None
    pending_under_24h: int | None
    pending_under_72h: int | None
    pending_older: int | None
