"""`maintenance verify` (DESIGN.md §8): what it finds in orders, items and stock, and what
`--fix` repairs."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from helpers import Shop, ago
from orderctl.db import Database
from orderctl.enums import EventAction
from orderctl.models import Order
from orderctl.services.uow import UnitOfWork

pytestmark = pytest.mark.pgbouncer

if TYPE_CHECKING:
    from helpers import Cli


@pytest.fixture
def shop(database: Database) -> Shop:
    return Shop(database)


# ---- verify ----


def test_verify_finds_and_fixes_a_broken_total(cli: Cli, shop: Shop, database: Database) -> None:
    good = shop.order("paid", created=ago(days=1), lines=[("TRACK", 4), ("FREE", 2)])
    broken = shop.order(
        "paid",
        created=ago(days=1),
        updated=ago(hours=20),
        lines=[("TRACK", 2)],
        total=Decimal("31.00"),
    )
    result = cli("maintenance", "verify", "-o", "jsonl")
    assert result.exit_code == 6
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {
            "problem": "total_mismatch",
            "order_id": broken,
            "sku": None,
            "expected": "5.00",
            "found": "31.00",
            "fixed": False,
            "detail": f"order {broken}: total 31.00, sum of lines 5.00",
        }
    ]
    assert result.stderr.startswith("error: checked 2 order(s): 1 problem(s), 0 fixed, 1 remaining")

    fixed = cli("maintenance", "verify", "--fix", "--yes", "-o", "json")
    assert fixed.exit_code == 0, fixed.stderr
    summary = json.loads(fixed.stdout)
    assert (summary["found"], summary["fixed"], summary["remaining"]) == (1, 1, 0)
    assert summary["problems"][0]["fixed"] is True
    with UnitOfWork(database) as u:
        order = u.session.get(Order, broken)
        assert order is not None and order.total == Decimal("5.00")
        assert order.updated_at < ago(hours=19)  # not a status change
    event = shop.events(broken)[-1]
    assert event.action == EventAction.TOTAL_FIXED.value and event.actor == "test-admin"
    assert "total 31.00 -> 5.00" in (event.reason or "")
    assert len(shop.events(good)) == 1
    clean = cli("maintenance", "verify")
    assert clean.exit_code == 0 and clean.stdout == ""
    assert "0 problem(s)" in clean.stderr


def test_verify_reports_line_totals_and_orders_without_items(
    cli: Cli, shop: Shop, database: Database
) -> None:
    order = shop.order("pending", created=ago(days=1), lines=[("TRACK", 3)])
    with UnitOfWork(database) as u:
        u.session.execute(
            text("UPDATE order_items SET line_total = 7.00 WHERE order_id = :o"), {"o": order}
        )
        empty = Order(
            customer_id=shop.customer_id,
            status="pending",
            currency="EUR",
            total=Decimal(0),
            created_at=ago(days=1),
            updated_at=ago(days=1),
        )
        u.session.add(empty)
        u.commit()
        empty_id = empty.id
    result = cli("maintenance", "verify", "-o", "json")
    assert result.exit_code == 6
    problems = {(p["problem"], p["order_id"]) for p in json.loads(result.stdout)["problems"]}
    # The stored order total (7.50) is right: only the line is wrong.
    assert problems == {("line_total_mismatch", order), ("order_without_items", empty_id)}
    fixed = cli("maintenance", "verify", "--fix", "--yes", "-o", "csv")
    assert fixed.exit_code == 6  # an order without items cannot be repaired
    assert f"line_total_mismatch,{order},TRACK,7.50,7.00,yes," in fixed.stdout
    assert "1 fixed, 1 remaining" in fixed.stderr
    event = shop.events(order)[-1]
    assert event.action == "total_fixed" and "line TRACK 7.00 -> 7.50" in (event.reason or "")


def test_verify_table_output_and_many_batches(cli: Cli, shop: Shop) -> None:
    for n in range(5):
        shop.order("paid", created=ago(days=1), total=Decimal(f"{n + 1}.99"))
    result = cli("maintenance", "verify", "--batch-size", "2")
    assert result.exit_code == 6
    assert result.stdout.count("total_mismatch") == 5
    assert "checked 5 order(s): 5 problem(s)" in result.stderr


def test_verify_finds_orphans_and_negative_stock(
    cli: Cli, shop: Shop, database: Database, backend: str
) -> None:
    order = shop.order("paid", created=ago(days=1))
    # Constraints normally make these impossible; switch them off to simulate a damaged database.
    if backend == "sqlite":
        raw = database.engine.raw_connection()  # autocommit: the pragmas work outside BEGIN
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA ignore_check_constraints = ON")
            cur.execute("UPDATE products SET stock = -3 WHERE sku = 'TRACK'")
            cur.execute("DELETE FROM orders WHERE id = ?", (order,))
        finally:
            raw.invalidate()
    else:
        with database.engine.begin() as conn:
            for table, constraint in [
                ("products", "ck_products_stock_not_negative"),
                ("order_items", "fk_order_items_order_id_orders"),
                ("order_events", "fk_order_events_order_id_orders"),
            ]:
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
            conn.exec_driver_sql("UPDATE products SET stock = -3 WHERE sku = 'TRACK'")
            conn.execute(text("DELETE FROM orders WHERE id = :o"), {"o": order})
    database.engine.dispose()  # drop the connection with foreign keys off
    result = cli("maintenance", "verify", "-o", "json")
    assert result.exit_code == 6, result.stderr
    problems = {
        (p["problem"], p["order_id"], p["sku"]) for p in json.loads(result.stdout)["problems"]
    }
    assert problems == {
        ("negative_stock", None, "TRACK"),
        ("ledger_mismatch", None, "TRACK"),  # set behind the ledger's back
        ("orphan_item", order, None),
        ("orphan_event", order, None),
    }
