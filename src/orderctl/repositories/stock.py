"""The stock ledger (DESIGN.md §13): movements, and the reservations order lines hold.

Movements are only ever inserted (one Core executemany per call); nothing here updates or
deletes them. The UPDATEs of `products.stock` themselves are in `ProductRepository`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from orderctl import clock, tables
from orderctl.enums import OrderStatus, StockReason
from orderctl.repositories.transaction import OnTransaction

m = tables.stock_movements
items = tables.order_items
products = tables.products
orders = tables.orders
_INSERT = insert(m)

#: One ledger row as `StockRepository.add_movements` takes it (made by `movement`).
Movement = dict[str, Any]


def movement(
    product_id: int,
    quantity: int,
    reason: StockReason,
    actor: str,
    *,
    order_id: int | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> Movement:
    """One ledger row for `StockRepository.add_movements`."""
    return {
        "product_id": product_id,
        "quantity": quantity,
        "reason": reason.value,
        "order_id": order_id,
        "actor": actor,
        "note": note,
        "at": at or clock.utcnow(),
    }


class StockRepository(OnTransaction):
    def add_movements(self, rows: Sequence[Movement]) -> None:
        """Append movements (`movement(...)` rows) with one executemany; zero ones are skipped."""
        rows = [row for row in rows if row["quantity"]]
        if rows:
            self.tx.connection().execute(_INSERT, rows)

    def history(self, product_id: int, limit: int | None) -> list[dict[str, Any]]:
        """The product's movements, newest first, each with `stock_after`: the ledger's sum up
        to and including it (a window over the product's rows, by id)."""
        running = (
            select(
                m.c.id,
                m.c.at,
                m.c.reason,
                m.c.quantity,
                func.sum(m.c.quantity).over(order_by=m.c.id).label("stock_after"),
                m.c.order_id,
                m.c.actor,
                m.c.note,
            )
            .where(m.c.product_id == product_id)
            .subquery()
        )
        stmt = select(running).order_by(running.c.id.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        return [dict(row._mapping) for row in self.session.execute(stmt)]

    # ---- reservations of order lines ----

    def reservations_of(self, order_ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(order id, product id, reserved) of the orders' lines that hold a reservation, by
        ascending product id."""
        if not order_ids:
            return []
        stmt = (
            select(items.c.order_id, items.c.product_id, items.c.reserved)
            .where(items.c.order_id.in_(order_ids), items.c.reserved > 0)
            .order_by(items.c.product_id, items.c.order_id)
        )
        return [(int(o), int(p), int(r)) for o, p, r in self.session.execute(stmt)]

    def clear_reservations(self, order_ids: Sequence[int]) -> None:
        """Set the orders' lines to hold nothing (after their release)."""
        if order_ids:
            self.session.execute(
                update(items)
                .where(items.c.order_id.in_(order_ids), items.c.reserved > 0)
                .values(reserved=0)
            )

    # ---- verify ----

    def ledger_mismatches(self) -> list[tuple[int, str, int, int]]:
        """(product id, sku, stock, Σ ledger) of tracked products whose stock is not the sum
        of their movements."""
        sums = (
            select(m.c.product_id, func.sum(m.c.quantity).label("total"))
            .group_by(m.c.product_id)
            .subquery()
        )
        total = func.coalesce(sums.c.total, 0)
        stmt = (
            select(products.c.id, products.c.sku, products.c.stock, total)
            .outerjoin(sums, sums.c.product_id == products.c.id)
            .where(products.c.stock.is_not(None), products.c.stock != total)
            .order_by(products.c.id)
        )
        return [(int(i), s, int(st), int(t)) for i, s, st, t in self.session.execute(stmt)]

    def ledger_sum(self, product_id: int) -> tuple[int | None, int]:
        """(stock, Σ ledger) of one product, its row locked first (PostgreSQL; SQLite's write
        transaction excludes writers), so a correction computed from them is exact."""
        stock = self.session.execute(
            select(products.c.stock).where(products.c.id == product_id).with_for_update()
        ).scalar_one()
        total = self.session.scalar(
            select(func.coalesce(func.sum(m.c.quantity), 0)).where(m.c.product_id == product_id)
        )
        return stock, int(total or 0)

    def cancelled_reservations(self, limit: int) -> list[tuple[int, int, str, int]]:
        """(item id, order id, sku, reserved) of lines of cancelled orders still holding stock."""
        stmt = (
            select(items.c.id, items.c.order_id, items.c.sku, items.c.reserved)
            .join(orders, orders.c.id == items.c.order_id)
            .where(orders.c.status == OrderStatus.CANCELLED.value, items.c.reserved > 0)
            .order_by(items.c.id)
            .limit(limit)
        )
        return [(int(i), int(o), s, int(r)) for i, o, s, r in self.session.execute(stmt)]

    def clear_cancelled_reservation(self, item_id: int) -> bool:
        """Set a cancelled order's line to hold nothing; False when it changed meanwhile."""
        stmt = (
            update(items)
            .where(items.c.id == item_id, items.c.reserved > 0)
            .where(
                items.c.order_id.in_(
                    select(orders.c.id).where(orders.c.status == OrderStatus.CANCELLED.value)
                )
            )
            .values(reserved=0)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]
