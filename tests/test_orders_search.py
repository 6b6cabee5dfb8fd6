"""Finding orders (DESIGN.md §12): `orders list --search/--sku` and `customers list --search`,
on pages, sorts, `--all` and `GET /api/orders`, checked against the same filter computed in
Python from every row; the search indexes stay right after writes, updates and deletes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from helpers import ORDER_CSV_HEADER, Api, Cli, import_orders
from orderctl.db import Database
from orderctl.enums import OrderStatus, Role
from orderctl.models import Customer, Order, OrderItem, Product
from orderctl.services.uow import UnitOfWork

START = datetime(2026, 11, 1, tzinfo=UTC)
CUSTOMERS = [
    ("ana@example.com", "Ana Núñez"),
    ("mateo.44@example.com", "Mateo Ruiz"),
    ("kofi@shop.io", None),
    ("zoe_100%@weird.io", "ZOË Ünïcode"),
]
REFS = ["WEB-1001", "web-2002", "50%_off", "Bestellung-äöü", None, "SHOP-mateo"]
SKUS = ["MUG-01", "CAP-01", "TEE-M"]


def _seed(database: Database, count: int = 48) -> None:
    """`count` orders over the customers, refs (with a number) and products above."""
    with UnitOfWork(database) as u:
        products = [
            u.products.add(Product(sku=sku, name=sku.title(), unit_price=Decimal("5.00")))
            for sku in SKUS
        ]
        customers = [u.customers.add(Customer(email=e, name=n)) for e, n in CUSTOMERS]
        for n in range(count):
            ref = REFS[n % len(REFS)]
            lines = [products[n % 3]] + ([products[(n + 1) % 3]] if n % 4 == 0 else [])
            items = [
                OrderItem(product_id=p.id, sku=p.sku, name=p.name, quantity=1,
                          unit_price=Decimal("5.00"), line_total=Decimal("5.00"))
                for p in lines
            ]  # fmt: skip
            created = START + timedelta(hours=n // 2)
            u.session.add(
                Order(
                    external_ref=None if ref is None else f"{ref}-{n}",
                    customer=customers[n % len(customers)],
                    status=list(OrderStatus)[n % 6].value,
                    currency="EUR",
                    total=Decimal("5.00") * len(items) + n,
                    created_at=created,
                    updated_at=created,
                    items=items,
                )
            )
        u.commit()


def _expected(database: Database, search: str | None, sku: str | None) -> list[dict[str, Any]]:
    """Every order with the fields the filters read, computed from the ORM rows."""
    with UnitOfWork(database, write=False) as u:
        rows = u.session.query(Order).all()
        out = []
        for o in rows:
            texts = [o.customer.email, o.customer.name or "", o.external_ref or ""]
            if search is not None and not any(search.lower() in t.lower() for t in texts):
                continue
            if sku is not None and sku not in {item.sku for item in o.items}:
                continue
            out.append({"id": o.id, "created_at": o.created_at, "total": o.total})
        return out


def _ids(cli: Cli, *args: str) -> list[int]:
    result = cli("orders", "list", "-o", "jsonl", *args, role=Role.VIEWER)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def _pages(cli: Cli, *args: str, limit: int = 4) -> Iterator[int]:
    cursor: list[str] = []
    while True:
        result = cli("orders", "list", "-o", "jsonl", "--limit", str(limit), *args, *cursor)
        assert result.exit_code == 0, result.stderr
        yield from (json.loads(line)["id"] for line in result.stdout.splitlines())
        if "--cursor " not in result.stderr:
            return
        cursor = ["--cursor", result.stderr.rsplit("--cursor ", 1)[1].strip()]


FILTERS = [
    ("mateo", None),  # a customer's email and name, and a ref
    ("MATEO", None),  # any case
    ("web-", None),  # refs in both cases
    ("núñez", None),  # a name with accents, typed in lower case
    ("50%_", None),  # LIKE's own characters are plain text
    ("%@w", None),
    ("äöü", None),
    ("nobody-here", None),
    (None, "TEE-M"),
    (None, "NO-SUCH-SKU"),
    ("example.com", "MUG-01"),  # both filters: AND
]


@pytest.mark.parametrize(("search", "sku"), FILTERS)
def test_search_and_sku_match_the_rows_on_pages_sorts_and_streams(
    cli: Cli, database: Database, search: str | None, sku: str | None
) -> None:
    _seed(database)
    args = [*(["--search", search] if search else []), *(["--sku", sku] if sku else [])]
    want = _expected(database, search, sku)
    newest = [r["id"] for r in sorted(want, key=lambda r: (r["created_at"], r["id"]), reverse=True)]
    by_total = [r["id"] for r in sorted(want, key=lambda r: (r["total"], r["id"]))]
    assert _ids(cli, "--all", *args) == newest
    assert list(_pages(cli, *args)) == newest
    assert list(_pages(cli, "--sort", "total", *args, limit=5)) == by_total
    assert _ids(cli, "--all", "--sort", "total", *args) == by_total
    if search == "mateo":
        assert len(newest) > 12  # the customer's orders and the SHOP-mateo refs


def test_search_combines_with_the_other_filters(cli: Cli, database: Database) -> None:
    _seed(database)
    want = [
        r["id"]
        for r in sorted(_expected(database, "example", "CAP-01"), key=lambda r: r["created_at"])
        if START + timedelta(hours=4) <= r["created_at"] < START + timedelta(hours=20)
        and Decimal("10") <= r["total"] <= Decimal("40")
    ]
    args = ["--search", "example", "--sku", "CAP-01", "--since", "2026-11-01T04:00Z"]
    args += ["--until", "2026-11-01T20:00Z", "--min-total", "10", "--max-total", "40"]
    got = _ids(cli, "--all", "--sort", "created", *args)
    assert got == want and len(want) >= 2
    status = cli("orders", "list", "-o", "json", "--all", "--status", "paid", *args)
    assert {o["status"] for o in json.loads(status.stdout)} <= {"paid"}


def test_the_api_takes_search_and_sku(cli: Cli, api: Api, database: Database) -> None:
    _seed(database)
    got: list[int] = []
    url = "/api/orders?search=MATEO&sku=MUG-01&limit=3"
    while url:
        page = api.get(url, role=Role.VIEWER).json()
        got += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        url = f"/api/orders?search=MATEO&sku=MUG-01&limit=3&cursor={cursor}" if cursor else ""
    assert got == _ids(cli, "--all", "--search", "mateo", "--sku", "MUG-01") and got
    r = api.get("/api/orders?search=ab")
    assert r.status_code == 422 and "search: give 3 to 254 characters" in r.json()["detail"]
    found = api.get("/api/customers?search=RUIZ", role=Role.VIEWER).json()
    assert [c["email"] for c in found["items"]] == ["mateo.44@example.com"]
    assert api.get("/api/customers?search=ru").status_code == 422


def test_search_indexes_follow_inserts_updates_and_deletes(cli: Cli, database: Database) -> None:
    _seed(database, 6)
    assert _ids(cli, "--search", "renamed") == []
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET name = 'Renamed Person' WHERE email = 'kofi@shop.io'")
        )
        conn.execute(text("UPDATE orders SET external_ref = 'NEWREF-1' WHERE id = 1"))
        conn.execute(text("DELETE FROM order_items WHERE order_id = 2"))
        conn.execute(text("DELETE FROM orders WHERE id = 2"))
    kofi = cli("orders", "list", "--customer", "kofi@shop.io", "-o", "jsonl", "--all")
    assert _ids(cli, "--search", "RENAMED") == [
        json.loads(line)["id"] for line in kofi.stdout.splitlines()
    ]
    assert _ids(cli, "--search", "newref") == [1]
    assert _ids(cli, "--search", "WEB-1001-0") == []  # order 1's old ref
    assert _ids(cli, "--search", "web-2002-1") == []  # order 2 is gone
    customers = cli("customers", "list", "--search", "renamed", "-o", "json")
    assert [c["email"] for c in json.loads(customers.stdout)] == ["kofi@shop.io"]


def test_customers_list_search(cli: Cli, database: Database) -> None:
    _seed(database, 2)

    def emails(*args: str) -> list[str]:
        result = cli("customers", "list", "-o", "json", *args, role=Role.VIEWER)
        assert result.exit_code == 0, result.stderr
        return [c["email"] for c in json.loads(result.stdout)]

    assert emails("--search", "EXAMPLE.com") == ["ana@example.com", "mateo.44@example.com"]
    assert emails("--search", "ünï") == ["zoe_100%@weird.io"]
    assert emails("--search", "0%@") == ["zoe_100%@weird.io"]
    assert emails("--search", "_10") == ["zoe_100%@weird.io"]
    assert emails("--search", "a_a") == emails("--search", "a%m") == []  # not wildcards
    assert emails("--search", "ruiz", "--all") == ["mateo.44@example.com"]
    assert emails("--search", "nobody") == []


def test_search_after_a_bulk_import(import_shop: Cli, tmp_path: Path) -> None:
    """The import writes customers and orders in bulk (COPY, executemany): the search indexes
    (PostgreSQL's GIN, SQLite's FTS5 triggers) hold every imported row, and a replay adds
    nothing twice."""
    cli = import_shop
    assert cli("customers", "add", "late.name@example.com").exit_code == 0
    lines = [ORDER_CSV_HEADER]
    for n in range(120):
        email = "late.name@example.com" if n % 10 == 0 else f"buyer{n % 17}@shop{n % 3}.io"
        name = "Named Late" if n % 10 == 0 else f"Buyer Ñame {n % 17}"
        sku = ("MUG-01", "TEE-M", "CAP-01")[n % 3]
        lines.append(
            f"IMP/{n:04d},{email},{name},paid,EUR,2026-11-02T09:{n % 60:02d}:00Z,,{sku},1,\n"
        )
    path = tmp_path / "orders.csv"
    path.write_text("".join(lines), encoding="utf-8")
    for _ in range(2):  # the second run replays every order: nothing new to index
        result = import_orders(cli, str(path), "--no-progress")
        assert result.exit_code == 0, result.stderr
    listed = cli("orders", "list", "--all", "-o", "jsonl")
    docs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(docs) == 120

    def expect(text: str, sku: str | None = None) -> list[int]:
        return [
            d["id"]
            for d in docs
            if any(
                text.lower() in (v or "").lower()
                for v in (d["customer"]["email"], d["customer"]["name"], d["external_ref"])
            )
            and (sku is None or sku in {item["sku"] for item in d["items"]})
        ]

    for needle in ("imp/000", "IMP/0119", "LATE.name", "shop1.io", "ñame 1", "buyer16@"):
        got = _ids(cli, "--all", "--search", needle)
        assert got == expect(needle) and got, needle
    assert _ids(cli, "--all", "--search", "buyer", "--sku", "TEE-M") == expect("buyer", "TEE-M")
    assert _ids(cli, "--all", "--sku", "CAP-01") == [
        d["id"] for d in docs if d["items"][0]["sku"] == "CAP-01"
    ]
    customers = cli("customers", "list", "--search", "LATE", "-o", "json")
    assert [c["email"] for c in json.loads(customers.stdout)] == ["late.name@example.com"]
