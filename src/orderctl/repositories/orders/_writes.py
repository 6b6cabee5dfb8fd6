"""The orders repository's writes of one new order (`orders create`, `POST /api/orders`):
Core statements on `orderctl.tables`, built once per dialect (`_documents._built`), no ORM
object and no flush.

The order row goes in first, skipped when its external_ref is taken (`skip_conflict`): a
concurrent create that committed the same ref first makes it return nothing instead of
failing the transaction, so no savepoint is needed to look again. Its lines and its
`created` event follow as plain inserts; the event's `txid` is the column's server default
(migration 0005), as for every other event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, update

from orderctl.repositories.orders._documents import _built
from orderctl.repositories.skip_conflict import insert_or_skip
from orderctl.repositories.transaction import OnTransaction
from orderctl.tables import order_events, order_items, orders


class OrderWrites(OnTransaction):
    """The Core statements behind `OrderRepository.insert`, `.add_lines` and `.add_event`."""

    def insert(self, values: dict[str, Any]) -> int | None:
        """Insert an order row (every column but `id`); its id, or None when an order with
        the same `external_ref` exists (committed by a concurrent create: nothing written)."""
        connection = self.tx.connection()
        dialect = connection.dialect.name
        stmt = insert_or_skip(dialect, orders, orders.c.external_ref, orders.c.id)
        found = connection.execute(stmt, values).scalar()
        return None if found is None else int(found)

    def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert an order's lines (every column but `id`) with one executemany."""
        if rows:
            self.tx.connection().execute(_built(("insert-lines",), _lines), list(rows))

    def clear_reserved(self, order_id: int, product_ids: Sequence[int]) -> None:
        """Set the lines of these products in this order to reserve nothing."""
        stmt = (
            update(order_items)
            .where(order_items.c.order_id == order_id, order_items.c.product_id.in_(product_ids))
            .values(reserved=0)
        )
        self.tx.connection().execute(stmt)

    def add_event(self, values: dict[str, Any]) -> None:
        """Insert one event row (every column but `id` and `txid`)."""
        self.tx.connection().execute(_built(("insert-event",), _event), values)


def _lines() -> Any:
    return insert(order_items)


def _event() -> Any:
    return insert(order_events)
