"""Migration 0002 (the stock ledger) on a database the 0001 code filled: no product's stock
changes, reservations are backfilled from how each order was made, verify is clean after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from helpers import Cli, rows
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.services import schema

NOW = "2026-11-01 10:00:00"
#: (order id, status, first event action, [(product id, quantity)]) as the 0001 code left them.
ORDERS: list[tuple[int, str, str, list[tuple[int, int]]]] = [
    (1, "pending", "created", [(1, 3), (2, 1)]),
    (2, "paid", "created", [(1, 2)]),
    (3, "shipped", "created", [(1, 1), (3, 4)]),
    (4, "refunded", "created", [(1, 5)]),  # a refund does not restock: still consumed
    (5, "cancelled", "created", [(1, 7)]),  # cancelling gave it back
    (6, "pending", "imported", [(1, 6), (3, 2)]),  # imports reserved nothing
    (7, "cancelled", "imported", [(1, 1)]),
]
STOCK = {1: 40, 2: None, 3: 0}  # MUG tracked, CAP untracked, TEE tracked and sold out
RESERVED = {
    (1, 1): 3, (1, 2): 0, (2, 1): 2, (3, 1): 1, (3, 3): 4, (4, 1): 5,
    (5, 1): 0, (6, 1): 0, (6, 3): 0, (7, 1): 0,
}  # fmt: skip


@pytest.fixture
def old_db(empty_db_url: str) -> Iterator[Database]:
    """A database at revision 0001 with products, created, imported and cancelled orders."""
    db = Database(empty_db_url)
    schema.upgrade(db, "0001")
    stamp = f"'{NOW}'" if db.is_sqlite else f"TIMESTAMPTZ '{NOW}+00'"
    true = "1" if db.is_sqlite else "true"
    with db.engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO customers (id, email, created_at) VALUES (1, 'a@x.io', {stamp})")
        )
        for pid, sku in ((1, "MUG"), (2, "CAP"), (3, "TEE")):
            conn.execute(
                text(
                    "INSERT INTO products (id, sku, name, unit_price, stock, active, created_at, "
                    f"updated_at) VALUES (:id, :sku, :sku, 2.00, :stock, {true}, {stamp}, {stamp})"
                ),
                {"id": pid, "sku": sku, "stock": STOCK[pid]},
            )
        for oid, status, action, lines in ORDERS:
            total = sum(2 * qty for _, qty in lines)
            conn.execute(
                text(
                    "INSERT INTO orders (id, external_ref, customer_id, status, currency, total, "
                    f"created_at, updated_at) VALUES (:id, :ref, 1, :status, 'EUR', :total, "
                    f"{stamp}, {stamp})"
                ),
                {"id": oid, "ref": f"R-{oid}", "status": status, "total": total},
            )
            for pid, qty in lines:
                conn.execute(
                    text(
                        "INSERT INTO order_items (order_id, product_id, sku, name, quantity, "
                        "unit_price, line_total) VALUES (:o, :p, :sku, :sku, :q, 2.00, :lt)"
                    ),
                    {
                        "o": oid,
                        "p": pid,
                        "sku": ("MUG", "CAP", "TEE")[pid - 1],
                        "q": qty,
                        "lt": 2 * qty,
                    },
                )
            for n, act in enumerate(
                [action, "status_changed"] if status != "pending" else [action]
            ):
                conn.execute(
                    text(
                        "INSERT INTO order_events (order_id, at, actor, action, to_status) "
                        f"VALUES (:o, {stamp}, 'old', :a, :s)"
                    ),
                    {"o": oid, "a": act, "s": "pending" if n == 0 else status},
                )
        if not db.is_sqlite:
            for table in ("customers", "products", "orders"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))
    yield db
    db.dispose()


def test_upgrade_keeps_stock_backfills_reservations_and_verify_is_clean(
    old_db: Database, empty_db_url: str, config_dir: Path
) -> None:
    assert schema.upgrade(old_db) == ("0001", schema.head_revision())
    assert dict(rows(old_db, "SELECT id, stock FROM products")) == STOCK
    reserved = rows(old_db, "SELECT order_id, product_id, reserved FROM order_items")
    assert {(o, p): r for o, p, r in reserved} == RESERVED
    movements = rows(
        old_db, "SELECT product_id, quantity, reason, order_id, actor, note FROM stock_movements"
    )
    # One opening balance per tracked product with stock (TEE's 0 needs no row).
    assert movements == [(1, 40, "set", None, "migration", "opening balance (migration 0002)")]

    cli = Cli(db_url=empty_db_url, config_dir=config_dir, database=old_db)
    result = cli("maintenance", "verify", "-o", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["orders_checked"] == len(ORDERS)
    history = cli("products", "history", "MUG", "-o", "json", role=Role.VIEWER)
    assert [d["stock_after"] for d in json.loads(history.stdout)] == [40]

    # Cancelling the imported order gives nothing back; the created one exactly its 3.
    assert cli("orders", "set-status", "6", "cancelled").exit_code == 0
    assert dict(rows(old_db, "SELECT id, stock FROM products")) == STOCK
    assert cli("orders", "set-status", "1", "cancelled").exit_code == 0
    assert dict(rows(old_db, "SELECT id, stock FROM products"))[1] == 43
    assert cli("maintenance", "verify").exit_code == 0


def test_downgrade_drops_the_ledger_and_the_column(old_db: Database) -> None:
    schema.upgrade(old_db)
    assert schema.downgrade(old_db, "0001") == (schema.head_revision(), "0001")
    with old_db.engine.connect() as conn:
        assert not old_db.engine.dialect.has_table(conn, "stock_movements")
        columns = {c["name"] for c in old_db.engine.dialect.get_columns(conn, "order_items")}
    assert "reserved" not in columns
    assert dict(rows(old_db, "SELECT id, stock FROM products")) == STOCK
    assert schema.upgrade(old_db) == ("0001", schema.head_revision())
    assert len(rows(old_db, "SELECT id FROM stock_movements")) == 1
