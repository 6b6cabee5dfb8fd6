"""Orders test data and views: the catalog the order tests sell from, what an order command
may change, `orders create` through the CLI, and a shop with a little of everything."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from helpers.cli import Cli
from helpers.data import write_file
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Customer, Order, OrderEvent, OrderItem, Product
from orderctl.services.uow import UnitOfWork

#: The keys of the §6 order document, and of one of its items.
ORDER_KEYS = [
    "id",
    "external_ref",
    "status",
    "currency",
    "total",
    "notes",
    "shipping_address",
    "created_at",
    "updated_at",
    "customer",
    "items",
]
ITEM_KEYS = ["sku", "name", "quantity", "unit_price", "line_total"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ANSI = "\x1b["


def add_products(database: Database, samples: Path | None = None) -> None:
    """The sample catalog (tests/samples/products.csv) plus an inactive and a scarce product."""
    rows: list[tuple[str, str, str, int | None, bool]] = [
        ("OLD-01", "Discontinued thing", "5.00", 10, False),
        ("LAST-1", "Last units", "100.00", 2, True),
        ("BIG-01", "Yacht", "9999999999.99", None, True),
    ]
    path = (samples or Path(__file__).parents[1] / "samples") / "products.csv"
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            stock = int(row["stock"]) if row["stock"] else None
            rows.append((row["sku"], row["name"], row["unit_price"], stock, True))
    with UnitOfWork(database) as u:
        for sku, name, price, stock, active in rows:
            u.products.add(
                Product(sku=sku, name=name, unit_price=Decimal(price), stock=stock, active=active)
            )
        u.commit()


def order_snapshot(database: Database) -> dict[str, Any]:
    """Everything an order command may change: row counts and every product's stock."""
    with UnitOfWork(database, write=False) as u:
        s = u.session
        return {
            "orders": s.scalar(select(func.count()).select_from(Order)),
            "items": s.scalar(select(func.count()).select_from(OrderItem)),
            "events": s.scalar(select(func.count()).select_from(OrderEvent)),
            "customers": s.scalar(select(func.count()).select_from(Customer)),
            "stock": {sku: stock for sku, stock in s.execute(select(Product.sku, Product.stock))},
            "statuses": {oid: status for oid, status in s.execute(select(Order.id, Order.status))},
        }


def stock_of(database: Database, sku: str) -> int | None:
    with UnitOfWork(database, write=False) as u:
        return u.products.get_one_by_sku(sku).stock


def create_order(cli: Cli, *args: str, role: Role = Role.OPERATOR) -> dict[str, Any]:
    """`orders create ARGS -o json` as `role`; the created order's document."""
    result = cli("orders", "create", *args, "-o", "json", role=role)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def fill_shop(cli: Cli, database: Database, tmp_path: Path) -> None:
    """A little of everything: users of each role with tokens, a catalog with tracked stock
    (ledger rows), orders created, paid, cancelled (released stock) and imported."""
    for role in Role:
        cli.token(role)
    add_products(database)
    for n in range(3):
        order = create_order(cli, "--customer", f"c{n}@example.com", "--item", "MUG-01:2",
                             "--notes", f"Zoë's order, \"{n}\"\nline 2")  # fmt: skip
        status = ("paid", "cancelled", None)[n]
        if status:
            assert cli("orders", "set-status", str(order["id"]), status).exit_code == 0
    line = '{"external_ref": "IMP-1", "customer_email": "imp@example.com", "status": "shipped", '
    line += '"created_at": "2026-03-04T05:06:07Z", "items": [{"sku": "BIG-01", "quantity": 1}]}\n'
    assert cli("import", "orders", write_file(tmp_path, "one.jsonl", line)).exit_code == 0
