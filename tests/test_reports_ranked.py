"""`report products`, `report customers` and `report status` against hand-computed rows
(DESIGN.md §15): rankings per currency (ties by SKU or email), only paid, shipped and
delivered orders counted; every status per currency, pending orders by age."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import Cli, Sold, add_sales
from orderctl import clock

DAY = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 4, 3, 9, 30, tzinfo=UTC)

SHOP = [
    Sold("ann@example.com", "paid", "EUR", DAY, [("A", 2, "10.00"), ("B", 1, "5.50")]),
    Sold("bob@example.com", "shipped", "EUR", DAY, [("B", 4, "5.50")]),
    Sold("cy@example.com", "delivered", "EUR", DAY, [("C", 1, "20.00"), ("A", 1, "10.00")]),
    Sold("dee@example.com", "pending", "EUR", DAY, [("A", 10, "10.00")]),
    Sold("eve@example.com", "cancelled", "EUR", DAY, [("C", 5, "20.00")]),
    Sold("ann@example.com", "paid", "EUR", LATER, [("B", 2, "5.50")]),
    Sold("ann@example.com", "delivered", "USD", DAY, [("A", 3, "7.00")]),
    Sold("bob@example.com", "paid", "USD", DAY, [("B", 1, "30.00")]),
    Sold("dee@example.com", "paid", "USD", DAY, [("D", 3, "7.00")]),
    Sold("eve@example.com", "refunded", "USD", DAY, [("D", 9, "7.00")]),
]


def report(cli: Cli, *args: str) -> Any:
    result = cli("report", *args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def product(cur: str, rank: int, sku: str, orders: int, units: int, revenue: str) -> Any:
    return {
        "currency": cur,
        "rank": rank,
        "sku": sku,
        "name": f"Product {sku}",
        "orders": orders,
        "units": units,
        "revenue": revenue,
    }


def customer(cur: str, rank: int, name: str, orders: int, spent: str) -> Any:
    return {
        "currency": cur,
        "rank": rank,
        "email": f"{name}@example.com",
        "name": name.title(),
        "orders": orders,
        "total_spent": spent,
    }


@pytest.fixture
def shop(cli: Cli) -> Cli:
    add_sales(cli.database, SHOP)
    return cli


def test_products_ranked_by_revenue_per_currency_ties_by_sku(shop: Cli) -> None:
    assert report(shop, "products") == [
        product("EUR", 1, "B", 3, 7, "38.50"),
        product("EUR", 2, "A", 2, 3, "30.00"),
        product("EUR", 3, "C", 1, 1, "20.00"),
        product("USD", 1, "B", 1, 1, "30.00"),
        product("USD", 2, "A", 1, 3, "21.00"),
        product("USD", 3, "D", 1, 3, "21.00"),
    ]


def test_products_top_and_range(shop: Cli) -> None:
    assert report(shop, "products", "--top", "1") == [
        product("EUR", 1, "B", 3, 7, "38.50"),
        product("USD", 1, "B", 1, 1, "30.00"),
    ]
    # Without ann's order of 04-03, B falls behind A in EUR.
    assert report(shop, "products", "--top", "2", "--until", "2026-04-02") == [
        product("EUR", 1, "A", 2, 3, "30.00"),
        product("EUR", 2, "B", 2, 5, "27.50"),
        product("USD", 1, "B", 1, 1, "30.00"),
        product("USD", 2, "A", 1, 3, "21.00"),
    ]
    assert report(shop, "products", "--since", "2026-04-03T09:30:00Z") == [
        product("EUR", 1, "B", 1, 2, "11.00")
    ]


def test_customers_ranked_by_spend_per_currency_ties_by_email(shop: Cli) -> None:
    assert report(shop, "customers") == [
        customer("EUR", 1, "ann", 2, "36.50"),
        customer("EUR", 2, "cy", 1, "30.00"),
        customer("EUR", 3, "bob", 1, "22.00"),
        customer("USD", 1, "bob", 1, "30.00"),
        customer("USD", 2, "ann", 1, "21.00"),
        customer("USD", 3, "dee", 1, "21.00"),
    ]
    assert report(shop, "customers", "--top", "1") == [
        customer("EUR", 1, "ann", 2, "36.50"),
        customer("USD", 1, "bob", 1, "30.00"),
    ]


NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def status_row(status: str, cur: str, orders: int, value: str, ages: Any = None) -> Any:
    keys = ("pending_under_1h", "pending_under_24h", "pending_under_72h", "pending_older")
    return {
        "status": status,
        "currency": cur,
        "orders": orders,
        "value": value,
        **dict(zip(keys, ages or (None,) * 4, strict=True)),
    }


def test_status_counts_every_status_per_currency_and_pending_ages(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def pending(ago: timedelta, cur: str = "EUR", price: str = "10.00") -> Sold:
        return Sold("p@example.com", "pending", cur, NOW - ago, [("A", 1, price)])

    add_sales(
        cli.database,
        [
            pending(timedelta(minutes=30)),  # < 1h
            pending(timedelta(hours=1)),  # exactly 1h: < 24h
            pending(timedelta(hours=23, minutes=59)),  # < 24h
            pending(timedelta(hours=24)),  # exactly 24h: < 72h
            pending(timedelta(hours=72)),  # exactly 72h: older
            pending(timedelta(hours=100)),  # older
            pending(timedelta(hours=2), "USD", "7.00"),
            Sold("q@example.com", "paid", "EUR", NOW, [("A", 2, "10.00")]),
            Sold("q@example.com", "cancelled", "EUR", NOW, [("B", 1, "5.50")]),
            Sold("q@example.com", "refunded", "USD", NOW, [("B", 1, "30.00")]),
        ],
    )
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    assert report(cli, "status") == [
        status_row("pending", "EUR", 6, "60.00", (1, 2, 1, 2)),
        status_row("paid", "EUR", 1, "20.00"),
        status_row("shipped", "EUR", 0, "0.00"),
        status_row("delivered", "EUR", 0, "0.00"),
        status_row("cancelled", "EUR", 1, "5.50"),
        status_row("refunded", "EUR", 0, "0.00"),
        status_row("pending", "USD", 1, "7.00", (0, 1, 0, 0)),
        status_row("paid", "USD", 0, "0.00"),
        status_row("shipped", "USD", 0, "0.00"),
        status_row("delivered", "USD", 0, "0.00"),
        status_row("cancelled", "USD", 0, "0.00"),
        status_row("refunded", "USD", 1, "30.00"),
    ]
    lines = cli("report", "status", "-o", "csv").stdout.splitlines()
    assert lines[0] == (
        "status,currency,orders,value,pending_under_1h,pending_under_24h,pending_under_72h,"
        "pending_older"
    )
    assert lines[1:3] == ["pending,EUR,6,60.00,1,2,1,2", "paid,EUR,1,20.00,,,,"]
