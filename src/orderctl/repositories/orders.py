"""Queries on orders, their items and their events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.orm import Session, selectinload

from orderctl.models import Customer, Order, OrderEvent

#: Sort name -> (column, descending). Every sort ends in `id`, so a (key, id) pair is a keyset.
SORT_COLUMNS: dict[str, tuple[Any, bool]] = {
    "created": (Order.created_at, False),
    "-created": (Order.created_at, True),
    "total": (Order.total, False),
    "-total": (Order.total, True),
}


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, order: Order) -> Order:
        self.session.add(order)
        self.session.flush()
        return order

    def get(self, order_id: int, *, with_events: bool = False) -> Order | None:
        stmt = (
            select(Order)
            .options(selectinload(Order.items), selectinload(Order.customer))
            .where(Order.id == order_id)
        )
        if with_events:
            stmt = stmt.options(selectinload(Order.events))
        return self.session.scalars(stmt).one_or_none()

    def get_by_external_ref(self, ref: str, *, with_events: bool = False) -> Order | None:
        stmt = (
            select(Order)
            .options(selectinload(Order.items), selectinload(Order.customer))
            .where(Order.external_ref == ref)
        )
        if with_events:
            stmt = stmt.options(selectinload(Order.events))
        return self.session.scalars(stmt).one_or_none()

    def exists(self, order_id: int) -> bool:
        return self.session.scalar(select(Order.id).where(Order.id == order_id)) is not None

    def add_event(self, event: OrderEvent) -> None:
        self.session.add(event)

    def events(self, order_id: int) -> Sequence[OrderEvent]:
        stmt = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        return self.session.scalars(stmt).all()

    def compare_and_set_status(
        self, order_id: int, expected: str, new: str, *, at: datetime
    ) -> bool:
        """Change the status only if it is still `expected` (one atomic UPDATE).

        False when another writer changed it first; the row is then left alone.
        """
        stmt = (
            update(Order)
            .where(Order.id == order_id, Order.status == expected)
            .values(status=new, updated_at=at)
        )  # default synchronize_session: a loaded Order in this session sees the new status
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def page(
        self,
        *,
        statuses: Sequence[str] = (),
        customer_email: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        min_total: Decimal | None = None,
        max_total: Decimal | None = None,
        sort: str = "-created",
        after: tuple[Any, int] | None = None,
        limit: int = 30,
    ) -> Sequence[Order]:
        """One keyset page: the orders after `(sort key, id)` in `sort` order, with their items
        and customers loaded in one IN query each (3 statements whatever the page size).

        No OFFSET: each page starts from the index position of the previous page's last row.
        """
        column, descending = SORT_COLUMNS[sort]
        stmt = select(Order).options(selectinload(Order.items), selectinload(Order.customer))
        if statuses:
            stmt = stmt.where(Order.status.in_(list(statuses)))
        if customer_email is not None:
            customer_id = (
                select(Customer.id).where(Customer.email == customer_email).scalar_subquery()
            )
            stmt = stmt.where(Order.customer_id == customer_id)
        if since is not None:
            stmt = stmt.where(Order.created_at >= since)
        if until is not None:
            stmt = stmt.where(Order.created_at < until)
        if min_total is not None:
            stmt = stmt.where(Order.total >= min_total)
        if max_total is not None:
            stmt = stmt.where(Order.total <= max_total)
        if after is not None:
            key = tuple_(column, Order.id)
            bound = tuple_(literal(after[0], column.type), literal(after[1], Order.id.type))
            stmt = stmt.where(key < bound if descending else key > bound)
        if descending:
            stmt = stmt.order_by(column.desc(), Order.id.desc())
        else:
            stmt = stmt.order_by(column.asc(), Order.id.asc())
        return self.session.scalars(stmt.limit(limit)).all()
