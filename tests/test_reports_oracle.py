"""Each report against an oracle computed in Python from `orders list --all -o json` on a random
shop: several currencies, every status, times on and around midnight, several lines an order.

The oracle is written from DESIGN.md §15, not from the code: periods are UTC days, ISO weeks
(Monday) and months, every period of the range present per currency that has counted orders;
rankings per currency by revenue, ties by SKU or email; pending ages under 1h/24h/72h/older.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from helpers import Cli, Sold, add_sales
from orderctl import clock

STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"]
COUNTED = {"paid", "shipped", "delivered"}
START = datetime(2026, 1, 26, tzinfo=UTC)  # a Monday
NOW = START + timedelta(days=70)
SINCE, UNTIL = "2026-02-03", "2026-03-22"  # --until: that whole day


def random_shop(rng: random.Random) -> list[Sold]:
    prices = {sku: f"{rng.randint(50, 9999) / 100:.2f}" for sku in "ABCDEFG"}
    sold = []
    for _ in range(160):
        day = START + timedelta(days=rng.randrange(70))
        created = rng.choice(
            [
                day,  # midnight exactly
                day - timedelta(microseconds=1),  # the instant before
                day + timedelta(seconds=rng.randrange(86_400)),
                NOW - timedelta(minutes=rng.randrange(1, 6000)),  # recent: pending ages
            ]
        )
        skus = rng.sample(sorted(prices), rng.randint(1, 3))
        lines = [(sku, rng.randint(1, 4), prices[sku]) for sku in skus]
        email = f"c{rng.randrange(12)}@example.com"
        sold.append(
            Sold(email, rng.choice(STATUSES), rng.choice(["EUR", "USD", "JPY"]), created, lines)
        )
    return sold


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"


def when(doc: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(doc["created_at"].replace("Z", "+00:00"))


def in_range(doc: dict[str, Any]) -> bool:
    since = datetime.fromisoformat(SINCE).replace(tzinfo=UTC)
    until = datetime.fromisoformat(UNTIL).replace(tzinfo=UTC) + timedelta(days=1)
    return since <= when(doc) < until


def starts(by: str) -> Callable[[date], date]:
    return {
        "day": lambda d: d,
        "week": lambda d: d - timedelta(days=d.weekday()),
        "month": lambda d: d.replace(day=1),
    }[by]


def sales_oracle(docs: list[dict[str, Any]], by: str, counted: set[str]) -> list[Any]:
    start = starts(by)
    mine = [d for d in docs if d["status"] in counted and in_range(d)]
    groups: dict[tuple[date, str], list[dict[str, Any]]] = defaultdict(list)
    for doc in mine:
        groups[(start(when(doc).date()), doc["currency"])].append(doc)
    periods = sorted(
        {start(date.fromisoformat(SINCE) + timedelta(days=n)) for n in range(48)}
    )  # 02-03 .. 03-22
    rows = []
    for period in periods:
        for currency in sorted({d["currency"] for d in mine}):
            group = groups.get((period, currency), [])
            revenue = sum((Decimal(d["total"]) for d in group), Decimal(0))
            rows.append(
                {
                    "period": period.isoformat(),
                    "currency": currency,
                    "orders": len(group),
                    "units": sum(i["quantity"] for d in group for i in d["items"]),
                    "revenue": money(revenue),
                    "average_order_value": money(revenue / len(group)) if group else "0.00",
                }
            )
    return rows


def ranked(totals: dict[tuple[str, str], dict[str, Any]], top: int, key: str) -> list[Any]:
    rows = []
    for currency in sorted({c for c, _ in totals}):
        mine = [v for (c, _), v in totals.items() if c == currency]
        mine.sort(key=lambda v: (-v["_revenue"], v[key]))
        for rank, value in enumerate(mine[:top], 1):
            rows.append({"currency": currency, "rank": rank} | value)
    for row in rows:
        revenue = row.pop("_revenue")
        row["revenue" if "sku" in row else "total_spent"] = money(revenue)
    return rows


def products_oracle(docs: list[dict[str, Any]], top: int) -> list[Any]:
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        if doc["status"] in COUNTED and in_range(doc):
            for item in doc["items"]:
                entry = totals.setdefault(
                    (doc["currency"], item["sku"]),
                    {"sku": item["sku"], "name": item["name"], "orders": 0, "units": 0,
                     "_revenue": Decimal(0)},
                )  # fmt: skip
                entry["orders"] += 1
                entry["units"] += item["quantity"]
                entry["_revenue"] += Decimal(item["line_total"])
    return ranked(totals, top, "sku")


def customers_oracle(docs: list[dict[str, Any]], top: int) -> list[Any]:
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        if doc["status"] in COUNTED:
            who = doc["customer"]
            entry = totals.setdefault(
                (doc["currency"], who["email"]),
                {"email": who["email"], "name": who["name"], "orders": 0, "_revenue": Decimal(0)},
            )
            entry["orders"] += 1
            entry["_revenue"] += Decimal(doc["total"])
    return ranked(totals, top, "email")


def status_oracle(docs: list[dict[str, Any]]) -> list[Any]:
    rows = []
    for currency in sorted({d["currency"] for d in docs}):
        for status in STATUSES:
            group = [d for d in docs if d["currency"] == currency and d["status"] == status]
            ages: list[int | None] = [None] * 4
            if status == "pending":
                ages = [0] * 4
                for doc in group:
                    age = NOW - when(doc)
                    hours = [1, 24, 72]
                    ages[next((n for n, h in enumerate(hours) if age < timedelta(hours=h)), 3)] += 1
            rows.append(
                {
                    "status": status,
                    "currency": currency,
                    "orders": len(group),
                    "value": money(sum((Decimal(d["total"]) for d in group), Decimal(0))),
                    "pending_under_1h": ages[0],
                    "pending_under_24h": ages[1],
                    "pending_under_72h": ages[2],
                    "pending_older": ages[3],
                }
            )
    return rows


def report(cli: Cli, *args: str) -> Any:
    result = cli("report", *args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("seed", [1, 2])
def test_reports_agree_with_an_oracle_on_a_random_shop(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    add_sales(cli.database, random_shop(random.Random(seed)))
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)
    docs = json.loads(cli("orders", "list", "--all", "-o", "json").stdout)
    assert len(docs) == 160
    window = ("--since", SINCE, "--until", UNTIL)
    for by in ("day", "week", "month"):
        assert report(cli, "sales", "--by", by, *window) == sales_oracle(docs, by, COUNTED), by
    chosen = ("pending", "refunded")
    statuses = [arg for s in chosen for arg in ("--status", s)]
    assert report(cli, "sales", "--by", "week", *window, *statuses) == sales_oracle(
        docs, "week", set(chosen)
    )
    for top in (1, 3, 1000):
        assert report(cli, "products", "--top", str(top), *window) == products_oracle(docs, top)
        assert report(cli, "customers", "--top", str(top)) == customers_oracle(docs, top)
    assert report(cli, "status") == status_oracle(docs)
