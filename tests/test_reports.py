"""`report sales` against hand-computed expectations (DESIGN.md §15): revenue counts paid,
shipped and delivered orders unless --status says otherwise, per currency, in UTC periods
that are gap-free; --since is inclusive, --until (a date) takes in that whole day."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from helpers import Cli, Sold, add_sales
from orderctl import clock


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


#: Every status, two currencies, a day without orders (03-03), orders on both sides of
#: midnight and at the edges of --since 2026-03-01 --until 2026-03-04.
SHOP = [
    Sold("ann@example.com", "paid", "EUR", at("2026-03-02T00:00:00"), [("A", 2, "10.00")]),
    Sold("bob@example.com", "shipped", "EUR", at("2026-03-01T23:59:59.999999"), [("B", 1, "5.50")]),
    Sold("cy@example.com", "delivered", "USD", at("2026-03-02T12:00:00"), [("A", 1, "7.25")]),
    Sold("ann@example.com", "pending", "EUR", at("2026-03-02T10:00:00"), [("A", 5, "10.00")]),
    Sold("bob@example.com", "cancelled", "EUR", at("2026-03-04T10:00:00"), [("A", 1, "10.00")]),
    Sold("bob@example.com", "refunded", "EUR", at("2026-03-04T11:00:00"), [("B", 2, "5.50")]),
    Sold(
        "cy@example.com",
        "delivered",
        "EUR",
        at("2026-03-04T23:59:59"),
        [("B", 3, "5.50"), ("A", 1, "10.00")],
    ),
    Sold("ann@example.com", "paid", "EUR", at("2026-03-05T00:00:00"), [("A", 1, "10.00")]),
    Sold("ann@example.com", "paid", "EUR", at("2026-02-28T23:59:59"), [("A", 1, "10.00")]),
]


def row(period: str, currency: str, orders: int, units: int, revenue: str, aov: str) -> Any:
    return {
        "period": period,
        "currency": currency,
        "orders": orders,
        "units": units,
        "revenue": revenue,
        "average_order_value": aov,
    }


def zero(period: str, currency: str) -> Any:
    return row(period, currency, 0, 0, "0.00", "0.00")


def report(cli: Cli, *args: str) -> Any:
    result = cli("report", *args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def shop(cli: Cli) -> Cli:
    add_sales(cli.database, SHOP)
    return cli


def test_sales_per_day_counts_paid_shipped_delivered_per_currency_without_gaps(shop: Cli) -> None:
    assert report(shop, "sales", "--since", "2026-03-01", "--until", "2026-03-04") == [
        row("2026-03-01", "EUR", 1, 1, "5.50", "5.50"),
        zero("2026-03-01", "USD"),
        row("2026-03-02", "EUR", 1, 2, "20.00", "20.00"),
        row("2026-03-02", "USD", 1, 1, "7.25", "7.25"),
        zero("2026-03-03", "EUR"),
        zero("2026-03-03", "USD"),
        row("2026-03-04", "EUR", 1, 4, "26.50", "26.50"),
        zero("2026-03-04", "USD"),
    ]


def test_sales_since_and_until_as_datetimes_cut_at_the_exact_instant(shop: Cli) -> None:
    # [03-01T23:59:59.999999, 03-02T00:00:00): only the shipped order of 03-01.
    rows = report(
        shop,
        "sales",
        "--since",
        "2026-03-01T23:59:59.999999Z",
        "--until",
        "2026-03-02T00:00:00Z",
    )
    assert rows == [row("2026-03-01", "EUR", 1, 1, "5.50", "5.50")]


def test_sales_status_chooses_what_counts(shop: Cli) -> None:
    rows = report(
        shop, "sales", "--since", "2026-03-02", "--until", "2026-03-02", "--status", "pending",
        "--status", "paid",
    )  # fmt: skip
    # 20.00 + 50.00 over two orders; the USD order is delivered, so no USD order counts and
    # USD has no row.
    assert rows == [row("2026-03-02", "EUR", 2, 7, "70.00", "35.00")]
    rows = report(shop, "sales", "--since", "2026-03-04", "--until", "2026-03-04",
                  "--status", "cancelled", "--status", "refunded")  # fmt: skip
    assert rows == [row("2026-03-04", "EUR", 2, 3, "21.00", "10.50")]


def test_sales_per_week_starts_on_monday_midnight_utc(shop: Cli) -> None:
    # 2026-03-01 is a Sunday: its orders belong to the week of Monday 2026-02-23, and the
    # order at Monday 03-02 00:00:00 to the next week.
    rows = report(shop, "sales", "--by", "week", "--since", "2026-02-23", "--until", "2026-03-08")
    assert rows == [
        row("2026-02-23", "EUR", 2, 2, "15.50", "7.75"),
        zero("2026-02-23", "USD"),
        row("2026-03-02", "EUR", 3, 7, "56.50", "18.83"),
        row("2026-03-02", "USD", 1, 1, "7.25", "7.25"),
    ]


def test_sales_per_month_and_a_range_that_cuts_a_period(shop: Cli) -> None:
    rows = report(shop, "sales", "--by", "month", "--since", "2026-02-28T23:59:59Z")
    assert rows[:4] == [
        row("2026-02-01", "EUR", 1, 1, "10.00", "10.00"),
        zero("2026-02-01", "USD"),
        row("2026-03-01", "EUR", 4, 8, "62.00", "15.50"),
        row("2026-03-01", "USD", 1, 1, "7.25", "7.25"),
    ]
    # Gap-free up to the current month.
    months = sorted({r["period"] for r in rows})
    assert months[-1] == clock.utcnow().date().replace(day=1).isoformat()
    assert len(rows) == 2 * len(months)


def test_sales_average_order_value_rounds_half_up(cli: Cli) -> None:
    day = at("2026-05-05T08:00:00")
    add_sales(
        cli.database,
        [
            Sold("a@example.com", "paid", "EUR", day, [("A", 1, "10.00")]),
            Sold("b@example.com", "paid", "EUR", day, [("A", 1, "5.25")]),
        ],
    )
    # 15.25 / 2 = 7.625
    assert report(cli, "sales", "--since", "2026-05-05", "--until", "2026-05-05") == [
        row("2026-05-05", "EUR", 2, 2, "15.25", "7.63")
    ]


@pytest.mark.parametrize(
    ("by", "first", "count"),
    [("day", "2026-02-03", 30), ("week", "2025-12-15", 12), ("month", "2025-04-01", 12)],
)
def test_sales_default_range_is_the_last_periods_up_to_today(
    shop: Cli, monkeypatch: pytest.MonkeyPatch, by: str, first: str, count: int
) -> None:
    monkeypatch.setattr(clock, "utcnow", lambda: at("2026-03-04T15:00:00"))
    rows = report(shop, "sales", "--by", by)
    periods = sorted({r["period"] for r in rows})
    assert len(periods) == count
    assert periods[0] == first
    assert len(rows) == count * 2  # EUR and USD, both present in each of these ranges


def test_sales_csv_and_jsonl_carry_the_same_rows(shop: Cli) -> None:
    args = ("report", "sales", "--since", "2026-03-01", "--until", "2026-03-02")
    lines = shop(*args, "-o", "csv").stdout.splitlines()
    assert lines[0] == "period,currency,orders,units,revenue,average_order_value"
    assert lines[1:] == [
        "2026-03-01,EUR,1,1,5.50,5.50",
        "2026-03-01,USD,0,0,0.00,0.00",
        "2026-03-02,EUR,1,2,20.00,20.00",
        "2026-03-02,USD,1,1,7.25,7.25",
    ]
    jsonl = [json.loads(line) for line in shop(*args, "-o", "jsonl").stdout.splitlines()]
    assert jsonl == report(shop, *args[1:])


def test_periods_are_utc_whatever_the_server_time_zone(shop: Cli, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("a session time zone is PostgreSQL's")
    # UTC+14: every order of the shop would move to the next day in local time.
    far = dataclasses.replace(
        shop, db_url=shop.db_url + "?options=-c%20TimeZone%3DPacific/Kiritimati"
    )
    for by in ("day", "week", "month"):
        args = ("sales", "--by", by, "--since", "2026-02-23", "--until", "2026-03-31")
        assert report(far, *args) == report(shop, *args)
