"""The orders aggregate's one repository, `OrderRepository` (reached as `uow.orders`).

Services call use cases; how each is stored is decided underneath, in private modules:

- `_entities`: the ORM queries (load one with its items, events, compare-and-set);
- `_writes`: one new order's rows (Core inserts, `orders create` and `POST /api/orders`);
- `_documents`: keyset pages of the JSON documents the database writes (Core only);
- `_stream`: every match streamed, on SQLite by a forked reader with its snapshot lock;
- `_bulk` + `_sqlite_bulk`: the import's raw driver writer (COPY, `executemany`), and
  `_write_behind`: its overlap with the reading process and the PostgreSQL worker thread.

This module stays light and imports the others on first use: `orders list` must not import
the ORM models or Pydantic (start-up, docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orderctl.order_filters import OrderFilters
from orderctl.repositories.transaction import OnTransaction

if TYPE_CHECKING:
    from orderctl.db import Database
    from orderctl.models import Order, OrderEvent
    from orderctl.repositories.orders._documents import OrderDocuments, OrderRows
    from orderctl.repositories.orders._entities import OrderEntities
    from orderctl.repositories.orders._write_behind import OrderBulkWriter
    from orderctl.repositories.orders._writes import OrderWrites
    from orderctl.repositories.transaction import Transaction

__all__ = ["OrderFilters", "OrderRepository"]


class OrderRepository(OnTransaction):
    """Orders: entities, documents, streams and bulk writes. Flushes, never commits."""

    def __init__(self, tx: Transaction, db: Database) -> None:
        super().__init__(tx)
        self.db = db
        self._entities: OrderEntities | None = None
        self._documents: OrderDocuments | None = None
        self._writes: OrderWrites | None = None

    @property
    def entities(self) -> OrderEntities:
        if self._entities is None:
            from orderctl.repositories.orders._entities import OrderEntities

            self._entities = OrderEntities(self.session)
        return self._entities

    @property
    def documents(self) -> OrderDocuments:
        if self._documents is None:
            from orderctl.repositories.orders._documents import OrderDocuments

            self._documents = OrderDocuments(self.tx)
        return self._documents

    @property
    def writes(self) -> OrderWrites:
        if self._writes is None:
            from orderctl.repositories.orders._writes import OrderWrites

            self._writes = OrderWrites(self.tx)
        return self._writes

    # ---- one new order (Core) ----

    def insert(self, values: dict[str, Any]) -> int | None:
        """Insert an order row; its id, or None when its `external_ref` is taken (a
        concurrent create committed it first; nothing written, the transaction goes on)."""
        return self.writes.insert(values)

    def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert an order's lines (one executemany)."""
        self.writes.add_lines(rows)

    def clear_reserved(self, order_id: int, product_ids: Sequence[int]) -> None:
        """Set the lines of these products in this order to reserve nothing."""
        self.writes.clear_reserved(order_id, product_ids)

    def add_event_row(self, values: dict[str, Any]) -> None:
        """Insert an event row (its `txid` is the database's: migration 0005)."""
        self.writes.add_event(values)

    # ---- entities (ORM) ----

    def add(self, order: Order) -> Order:
        """Add a new order (with its items and events) and flush: it has its id."""
        return self.entities.add(order)

    def get(self, order_id: int, *, with_events: bool = False) -> Order | None:
        """The order with this id, its items and customer loaded (and events if asked)."""
        return self.entities.get(order_id, with_events=with_events)

    def get_by_external_ref(self, ref: str, *, with_events: bool = False) -> Order | None:
        """The order with this external_ref, loaded as `get` does."""
        return self.entities.get_by_external_ref(ref, with_events=with_events)

    def exists(self, order_id: int) -> bool:
        """Whether an order with this id exists."""
        return self.entities.exists(order_id)

    def add_event(self, event: OrderEvent) -> None:
        """Record an event of an order."""
        self.entities.add_event(event)

    def events(self, order_id: int) -> Sequence[OrderEvent]:
        """The events of an order, oldest first."""
        return self.entities.events(order_id)

    def compare_and_set_status(
        self, order_id: int, expected: str, new: str, *, at: datetime
    ) -> bool:
        """Change the status only if it is still `expected` (one atomic UPDATE); False when
        another writer changed it first."""
        return self.entities.compare_and_set_status(order_id, expected, new, at=at)

    # ---- documents (Core, JSON written by the database) ----

    def page(
        self,
        filters: OrderFilters,
        *,
        sort: str,
        after: tuple[Any, int] | None = None,
        limit: int,
        peek: bool = False,
    ) -> OrderRows:
        """One keyset page of `(order id, JSON document without its items)` and the keyset of
        its last order; `peek` reads one more row to tell whether another page follows."""
        return self.documents.order_rows(filters, sort=sort, after=after, limit=limit, peek=peek)

    def document(self, *, order_id: int | None = None, ref: str | None = None) -> str | None:
        """The JSON document of the order with this id or external_ref (as `page` +
        `with_items` write it), or None."""
        return self.documents.document(order_id=order_id, ref=ref)

    def with_items(self, docs: list[tuple[int, str]]) -> list[str]:
        """The documents of a `page` with their `"items":[…]`, from one query."""
        return self.documents.with_items(docs)

    def stream(
        self,
        filters: OrderFilters,
        *,
        sort: str,
        batch_size: int,
        fork: bool = True,
        shape: str = "listing",
    ) -> Iterator[str]:
        """Every matching order as its text, in keyset batches; on SQLite a forked reader
        pages while this process adds the items (`fork=False`: one process). `shape`: the
        listing's §6 JSON document (no line end), or the import format's `import-jsonl` line
        or `import-csv` rows (line ends included; `_shapes.py`)."""
        from orderctl.repositories.orders._shapes import SHAPES
        from orderctl.repositories.orders._stream import stream

        return stream(
            self.db,
            self.documents,
            filters,
            sort=sort,
            size=batch_size,
            fork=fork,
            shape=SHAPES[shape],
        )

    # ---- bulk (batch imports) ----

    def bulk_writer(self) -> OrderBulkWriter:
        """The batch import's writer: look-ups and writes of whole batches, overlapped with
        the reading of the next one. Use it as a context manager."""
        from orderctl.repositories.orders._write_behind import OrderBulkWriter

        return OrderBulkWriter(self.session)
