"""The orders repository's ORM side: add an order, load one (with its items, customer and
events), record events, compare-and-set its status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session, selectinload

from orderctl.models import Order, OrderEvent


class OrderEntities:
    """The ORM queries behind `OrderRepository`'s entity methods."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, order: Order) -> Order:
        self.session.add(order)
        self.session.flush()
        return order

    def get(self, order_id: int, *, with_events: bool = False) -> Order | None:
        return self._one(Order.id == order_id, with_events=with_events)

    def get_by_external_ref(self, ref: str, *, with_events: bool = False) -> Order | None:
        return self._one(Order.external_ref == ref, with_events=with_events)

    def _one(self, where: ColumnElement[bool], *, with_events: bool) -> Order | None:
        """The order matching `where`, with its items and customer (and events if asked)."""
        stmt = (
            select(Order)
            .options(selectinload(Order.items), selectinload(Order.customer))
            .where(where)
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
