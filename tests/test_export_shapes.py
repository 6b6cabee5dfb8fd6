"""The import-format text the database writes for `orders export` (repositories/orders/
_shapes.py) is byte for byte what Python wrote from the listing's documents before
(`helpers.export_reference`), on hostile values: unicode, quotes, commas, backslashes, line
ends and other control characters, `=cmd` cells, empty strings, §5's largest price and
quantity, orders without a ref or a customer name — in both formats, both backends, with and
without filters, in one process and in SQLite's two."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import update

from helpers import Cli, import_orders
from helpers.export_reference import reference_csv, reference_jsonl
from orderctl.db import Database
from orderctl.enums import OrderSort, OrderStatus
from orderctl.order_filters import OrderFilters
from orderctl.services import order_export, order_listing
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork
from orderctl.tables import customers, order_items, orders

#: Every character JSON or CSV quoting treats apart, and some that neither does.
NASTY = 'a "q", b\\c\nd\re\r\nf\tg\x01h\x1f\x7fi\u2028j\u00e9\u674e\U0001f600 ,"",'
FORMULA = "=cmd|' /C calc'!A0"
CATALOG = [
    ("MUG-01", "Mug", "12.50"),
    ("PIN-01", "Pin", "0.01"),
    ("BIG-01", "Yacht", "9999999999.99"),
]
ORDERS = [
    {
        "external_ref": "R-1",
        "customer_email": "zoe@example.com",
        "customer_name": "Zoë",
        "status": "delivered",
        "created_at": "2026-01-02T03:04:05Z",
        "notes": "n",
        "shipping_address": "a",
        "items": [{"sku": "MUG-01", "quantity": 100000}, {"sku": "PIN-01", "quantity": 5}],
    },
    {
        "external_ref": "R-2",
        "customer_email": "bob@example.com",
        "status": "paid",
        "currency": "USD",
        "created_at": "2026-01-03T00:00:00Z",
        "items": [{"sku": "MUG-01", "quantity": 2, "unit_price": "0.00"}],
    },
    {
        "external_ref": "R-3",
        "customer_email": "ann@example.com",
        "customer_name": "Ann",
        "created_at": "2026-01-04T00:00:00Z",
        "items": [{"sku": "BIG-01", "quantity": 1}],
    },
]


def _hostile_shop(cli: Cli, database: Database, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The orders above, then stored values no input check would let in, written as another
    client could: the nasty text in every text cell, a formula, an empty string, no ref."""
    for sku, name, price in CATALOG:
        assert cli("products", "add", sku, "--name", name, "--price", price).exit_code == 0
    path = tmp_path_factory.mktemp("seed") / "seed.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in ORDERS), encoding="utf-8")
    result = import_orders(cli, str(path))
    assert result.exit_code == 0, result.stderr
    # Each character that makes csv.writer quote a cell also alone in some cell; bob keeps
    # no name.
    changes = [
        (orders, orders.c.external_ref == "R-1", {"external_ref": NASTY, "notes": NASTY,
            "shipping_address": NASTY}),
        (orders, orders.c.external_ref == "R-2", {"external_ref": None, "notes": "comma, only",
            "shipping_address": ""}),
        (orders, orders.c.external_ref == "R-3", {"external_ref": "", "notes": "lf\nonly",
            "shipping_address": "cr\ronly"}),
        (customers, customers.c.email == "zoe@example.com", {"email": f"{NASTY}@example.com",
            "name": NASTY}),
        (customers, customers.c.email == "ann@example.com", {"name": FORMULA}),
        (order_items, order_items.c.sku == "MUG-01", {"sku": 'MUG "01", ü\\'}),
        (order_items, order_items.c.sku == "PIN-01", {"sku": 'PIN"01'}),
    ]  # fmt: skip
    with database.engine.begin() as conn:
        for table, where, values in changes:
            assert conn.execute(update(table).where(where).values(**values)).rowcount


def _both(
    make: Callable[..., UnitOfWork], viewer: Actor, fmt: str, filters: OrderFilters, fork: bool
) -> tuple[str, str]:
    """(the export's text, the reference formatter's text from the listing's documents)."""
    with make(write=False) as u:
        exported = "".join(order_export.export_orders(u, viewer, filters, fmt=fmt, fork=fork))
    with make(write=False) as u:
        docs = list(order_listing.iter_order_json(u, viewer, filters, sort=OrderSort.CREATED))
    reference = reference_csv(docs) if fmt == "csv" else reference_jsonl(docs)
    return exported, "".join(reference)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_database_writes_what_python_wrote(
    cli: Cli,
    database: Database,
    uow: Callable[..., UnitOfWork],
    viewer: Actor,
    tmp_path_factory: pytest.TempPathFactory,
    fmt: str,
) -> None:
    _hostile_shop(cli, database, tmp_path_factory)
    for filters in (OrderFilters(), OrderFilters(statuses=(OrderStatus.PAID,))):
        for fork in (True, False):
            exported, reference = _both(uow, viewer, fmt, filters, fork)
            assert exported == reference, (filters, fork)
    everything, _ = _both(uow, viewer, fmt, OrderFilters(), False)
    assert (
        NASTY.replace('"', '""') in everything
        or json.dumps(NASTY, ensure_ascii=False)[1:-1] in everything
    )
    assert "orderctl-" in everything and FORMULA in everything and "9999999999.99" in everything
