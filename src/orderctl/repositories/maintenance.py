"""Bulk queries for the maintenance jobs (DESIGN.md §8).

Orders and tokens belong to other repositories; the set-based batch statements the cron jobs
need live here so those repositories stay about single aggregates. Every method works on one
bounded batch and never commits: the job's service commits each batch as its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from orderctl import tables
from orderctl.enums import OrderStatus
from orderctl.models import ApiToken, Order, OrderEvent, OrderItem, Product


class MaintenanceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _lock_batch(self, stmt: Select[Any]) -> Select[Any]:
        # PostgreSQL: lock the batch's rows and skip rows another transaction holds (an
        # `orders set-status` in flight); SQLite: the write transaction already excludes writers.
        return stmt.with_for_update(skip_locked=True) if self._postgres else stmt

    # ---- expire-pending ----

    def pending_ids_before(self, cutoff: datetime, limit: int) -> list[int]:
        """Ids of up to `limit` pending orders created before `cutoff`, oldest first, locked."""
        stmt = (
            select(Order.id)
            .where(Order.status == OrderStatus.PENDING.value, Order.created_at < cutoff)
            .order_by(Order.created_at, Order.id)
            .limit(limit)
        )
        return list(self.session.scalars(self._lock_batch(stmt)))

    def count_pending_before(self, cutoff: datetime) -> tuple[int, int]:
        """(orders, units of tracked stock they hold) that expire-pending would cancel."""
        old = (
            select(Order.id)
            .where(Order.status == OrderStatus.PENDING.value, Order.created_at < cutoff)
            .subquery()
        )
        orders = self.session.scalar(select(func.count()).select_from(old)) or 0
        units = self.session.scalar(
            select(func.coalesce(func.sum(OrderItem.quantity), 0))
            .join(Product, Product.id == OrderItem.product_id)
            .where(OrderItem.order_id.in_(select(old.c.id)), Product.stock.is_not(None))
        )
        return int(orders), int(units or 0)

    def cancel_pending(self, ids: Sequence[int], now: datetime) -> list[int]:
        """Compare-and-set pending → cancelled; returns the ids that were still pending."""
        if not ids:
            return []
        stmt = (
            update(Order)
            .where(Order.id.in_(ids), Order.status == OrderStatus.PENDING.value)
            .values(status=OrderStatus.CANCELLED.value, updated_at=now)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(self.session.scalars(stmt))

    def add_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert order events with one Core executemany (cheaper per row than the ORM's bulk
        path, and no RETURNING: nothing is read back)."""
        if rows:
            self.session.execute(insert(tables.order_events), list(rows))

    # ---- purge-tokens ----

    def _dead_tokens(self, cutoff: datetime) -> Any:
        return or_(
            and_(ApiToken.expires_at.is_not(None), ApiToken.expires_at < cutoff),
            and_(ApiToken.revoked_at.is_not(None), ApiToken.revoked_at < cutoff),
        )

    def dead_token_ids(self, cutoff: datetime, limit: int) -> list[int]:
        stmt = (
            select(ApiToken.id).where(self._dead_tokens(cutoff)).order_by(ApiToken.id).limit(limit)
        )
        return list(self.session.scalars(self._lock_batch(stmt)))

    def count_dead_tokens(self, cutoff: datetime) -> int:
        stmt = select(func.count()).select_from(ApiToken).where(self._dead_tokens(cutoff))
        return int(self.session.scalar(stmt) or 0)

    def delete_tokens(self, ids: Sequence[int], cutoff: datetime) -> int:
        if not ids:
            return 0
        stmt = (
            delete(ApiToken)
            .where(ApiToken.id.in_(ids), self._dead_tokens(cutoff))
            .execution_options(synchronize_session=False)
        )
        return int(self.session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    # ---- purge-orders ----

    def final_order_ids_before(self, status: str, cutoff: datetime, limit: int) -> list[int]:
        stmt = (
            select(Order.id)
            .where(Order.status == status, Order.updated_at < cutoff)
            .order_by(Order.updated_at, Order.id)
            .limit(limit)
        )
        return list(self.session.scalars(self._lock_batch(stmt)))

    def count_orders_before(self, status: str, cutoff: datetime) -> tuple[int, int, int]:
        """(orders, items, events) purge-orders would delete."""
        old = select(Order.id).where(Order.status == status, Order.updated_at < cutoff)
        orders = self.session.scalar(select(func.count()).select_from(old.subquery())) or 0
        items = self.session.scalar(
            select(func.count()).select_from(OrderItem).where(OrderItem.order_id.in_(old))
        )
        events = self.session.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id.in_(old))
        )
        return int(orders), int(items or 0), int(events or 0)

    def delete_orders(self, ids: Sequence[int], status: str) -> tuple[int, int, int]:
        """Delete the orders (still in `status`) with their events and items."""
        if not ids:
            return 0, 0, 0
        keep = select(Order.id).where(Order.id.in_(ids), Order.status == status)
        opts = {"synchronize_session": False}
        events = self.session.execute(
            delete(OrderEvent).where(OrderEvent.order_id.in_(keep)).execution_options(**opts)
        ).rowcount  # type: ignore[attr-defined]
        items = self.session.execute(
            delete(OrderItem).where(OrderItem.order_id.in_(keep)).execution_options(**opts)
        ).rowcount  # type: ignore[attr-defined]
        orders = self.session.execute(
            delete(Order).where(Order.id.in_(ids), Order.status == status).execution_options(**opts)
        ).rowcount  # type: ignore[attr-defined]
        return int(orders), int(items), int(events)

    # ---- verify ----

    def order_batch(self, after_id: int, limit: int) -> list[tuple[int, Decimal]]:
        """(id, total) of the next `limit` orders after `after_id` (keyset by id)."""
        stmt = (
            select(Order.id, Order.total).where(Order.id > after_id).order_by(Order.id).limit(limit)
        )
        return [(int(i), t) for i, t in self.session.execute(stmt)]

    def lines_of(
        self, order_ids: Sequence[int]
    ) -> list[tuple[int, int, str, int, Decimal, Decimal]]:
        """(order id, item id, sku, quantity, unit_price, line_total) of the orders' lines."""
        if not order_ids:
            return []
        stmt = (
            select(
                OrderItem.order_id,
                OrderItem.id,
                OrderItem.sku,
                OrderItem.quantity,
                OrderItem.unit_price,
                OrderItem.line_total,
            )
            .where(OrderItem.order_id.in_(order_ids))
            .order_by(OrderItem.order_id, OrderItem.id)
        )
        return [tuple(row) for row in self.session.execute(stmt)]  # type: ignore[misc]

    def negative_stock(self) -> list[tuple[str, int]]:
        stmt = select(Product.sku, Product.stock).where(Product.stock < 0).order_by(Product.id)
        return [(sku, int(stock or 0)) for sku, stock in self.session.execute(stmt)]

    def orphan_items(self, limit: int) -> list[tuple[int, int]]:
        """(item id, order id) of lines whose order does not exist."""
        stmt = (
            select(OrderItem.id, OrderItem.order_id)
            .outerjoin(Order, Order.id == OrderItem.order_id)
            .where(Order.id.is_(None))
            .order_by(OrderItem.id)
            .limit(limit)
        )
        return [(int(i), int(o)) for i, o in self.session.execute(stmt)]

    def orphan_events(self, limit: int) -> list[tuple[int, int]]:
        """(event id, order id) of events whose order does not exist."""
        stmt = (
            select(OrderEvent.id, OrderEvent.order_id)
            .outerjoin(Order, Order.id == OrderEvent.order_id)
            .where(Order.id.is_(None))
            .order_by(OrderEvent.id)
            .limit(limit)
        )
        return [(int(i), int(o)) for i, o in self.session.execute(stmt)]

    def fix_order_total(self, order_id: int, old_total: Decimal, new_total: Decimal) -> bool:
        """Compare-and-set the order total; False when it changed under us (left alone).

        `updated_at` stays: it means "last status change" (purge-orders measures from it).
        """
        stmt = (
            update(Order)
            .where(Order.id == order_id, Order.total == old_total)
            .values(total=new_total)
            .execution_options(synchronize_session=False)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def fix_line_total(self, item_id: int, new_total: Decimal) -> None:
        stmt = (
            update(OrderItem)
            .where(OrderItem.id == item_id)
            .values(line_total=new_total)
            .execution_options(synchronize_session=False)
        )
        self.session.execute(stmt)
