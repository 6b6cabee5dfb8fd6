"""Bulk reads and writes for batch imports (DESIGN.md §7).

These belong to the orders aggregate; they live apart from `repositories/orders.py` only because
that module was being reworked by another engineer while imports were built — merge them when
convenient. Like every repository this never commits: the caller's unit of work owns the
transaction, and the writes go through its connection (`session.connection()`), so an order,
its items and its `imported` event always share one transaction.

Each call is one round trip whatever the batch size (`statements` counts them, for the test that
checks this): PostgreSQL takes arrays (`= ANY(%s)`, `unnest`) and `COPY FROM STDIN`; SQLite takes
a JSON array (`IN (SELECT value FROM json_each(?))`) and `executemany` on the raw cursor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from orderctl.enums import EventAction


@dataclass(slots=True, frozen=True)
class CatalogEntry:
    id: int
    name: str
    unit_price: Decimal
    active: bool


@dataclass(slots=True)
class NewOrder:
    """One validated order ready to be written (ids are assigned by the writer)."""

    external_ref: str
    customer_id: int
    status: str
    currency: str
    total: Decimal
    notes: str | None
    created_at: datetime
    updated_at: datetime
    #: (product_id, sku, name, quantity, unit_price, line_total)
    items: list[tuple[int, str, str, int, Decimal, Decimal]]


def _sqlite_ts(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime stores (naive UTC, always with microseconds), so ORM
    # reads and keyset comparisons see the same thing. isoformat is 2x faster than strftime.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class OrderBatchWriter:
    def __init__(self, session: Session) -> None:
        self.session = session
        #: Statements sent so far (an `executemany` or a COPY counts as one).
        self.statements = 0

    @property
    def server_side(self) -> bool:
        """True when a database server does the writing (PostgreSQL), not this process."""
        return self.session.get_bind().dialect.name == "postgresql"

    def _raw(self) -> tuple[bool, Any]:
        """(is_postgresql, the DBAPI connection of the unit of work's current transaction)."""
        conn = self.session.connection()
        return conn.dialect.name == "postgresql", conn.connection.dbapi_connection

    def _query(self, sql_pg: str, sql_lite: str, *params: Any) -> list[Any]:
        is_pg, raw = self._raw()
        cur = raw.cursor()
        try:
            self.statements += 1
            if is_pg:
                cur.execute(sql_pg, params)
            else:
                cur.execute(
                    sql_lite, tuple(json.dumps(p) if isinstance(p, list) else p for p in params)
                )
            return list(cur.fetchall())
        finally:
            cur.close()

    # ---- look-ups, one statement each ----

    def existing_refs(self, refs: list[str], marker: str) -> dict[str, bool]:
        """Refs already stored → True when this import run wrote them (event reason = marker)."""
        if not refs:
            return {}
        tail = (
            "SELECT o.external_ref, EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id"
            f" AND e.action = '{EventAction.IMPORTED.value}' AND e.reason = {{m}}) FROM orders o"
        )
        rows = self._query(
            tail.format(m="%s") + " WHERE o.external_ref = ANY(%s)",
            tail.format(m="?") + " WHERE o.external_ref IN (SELECT value FROM json_each(?))",
            marker,
            refs,
        )
        return {str(ref): bool(mine) for ref, mine in rows}

    def catalog(self, skus: list[str]) -> dict[str, CatalogEntry]:
        if not skus:
            return {}
        cols = "SELECT sku, id, name, unit_price, active FROM products"
        rows = self._query(
            cols + " WHERE sku = ANY(%s)",
            cols + " WHERE sku IN (SELECT value FROM json_each(?))",
            skus,
        )
        return {
            str(sku): CatalogEntry(
                int(pid), str(name), Decimal(str(price)).quantize(Decimal("0.01")), bool(active)
            )
            for sku, pid, name, price, active in rows
        }

    def customer_ids(self, emails: list[str]) -> dict[str, int]:
        if not emails:
            return {}
        cols = "SELECT email, id FROM customers"
        rows = self._query(
            cols + " WHERE email = ANY(%s)",
            cols + " WHERE email IN (SELECT value FROM json_each(?))",
            emails,
        )
        return {str(email): int(cid) for email, cid in rows}

    # ---- writes ----

    def add_customers(
        self, customers: dict[str, str | None], *, created_by: str, now: datetime
    ) -> dict[str, int]:
        """Create customers (email → name) in one statement; returns email → id.

        PostgreSQL: `ON CONFLICT DO NOTHING`, then one look-up for any email a concurrent
        writer created meanwhile. SQLite: the write transaction holds the lock, so ids are
        max(id)+1, … and nobody can insert in between.
        """
        if not customers:
            return {}
        emails = list(customers)
        names = [customers[e] for e in emails]
        is_pg, raw = self._raw()
        cur = raw.cursor()
        try:
            if is_pg:
                self.statements += 1
                cur.execute(
                    "INSERT INTO customers (email, name, created_at, created_by) "
                    "SELECT e, n, %s, %s FROM unnest(%s::text[], %s::text[]) AS t(e, n) "
                    "ON CONFLICT (email) DO NOTHING RETURNING email, id",
                    (now, created_by, emails, names),
                )
                ids = {str(e): int(i) for e, i in cur.fetchall()}
                if len(ids) < len(emails):
                    ids.update(self.customer_ids([e for e in emails if e not in ids]))
                return ids
            self.statements += 1
            cur.execute("SELECT coalesce(max(id), 0) FROM customers")
            first = int(cur.fetchone()[0]) + 1
            ids = {e: first + n for n, e in enumerate(emails)}
            stamp = _sqlite_ts(now)
            self.statements += 1
            cur.executemany(
                "INSERT INTO customers (id, email, name, created_at, created_by) "
                "VALUES (?, ?, ?, ?, ?)",
                [(ids[e], e, n, stamp, created_by) for e, n in zip(emails, names, strict=True)],
            )
            return ids
        finally:
            cur.close()

    def add_orders(self, orders: list[NewOrder], *, actor: str, reason: str, now: datetime) -> None:
        """Write orders, their items and one `imported` event each (stock is not touched)."""
        if not orders:
            return
        is_pg, raw = self._raw()
        if is_pg:
            self._add_orders_pg(raw, orders, actor=actor, reason=reason, now=now)
        else:
            self._add_orders_sqlite(raw, orders, actor=actor, reason=reason, now=now)

    def _add_orders_pg(
        self, raw: Any, orders: list[NewOrder], *, actor: str, reason: str, now: datetime
    ) -> None:
        action = EventAction.IMPORTED.value
        with raw.cursor() as cur:
            self.statements += 1
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence('orders', 'id')) "
                "FROM generate_series(1, %s)",
                (len(orders),),
            )
            ids = [int(r[0]) for r in cur.fetchall()]
            self.statements += 1
            with cur.copy(
                "COPY orders (id, external_ref, customer_id, status, currency, total, notes, "
                "created_at, updated_at, created_by) FROM STDIN"
            ) as copy:
                write = copy.write_row
                for oid, o in zip(ids, orders, strict=True):
                    write(
                        (oid, o.external_ref, o.customer_id, o.status, o.currency, o.total,
                         o.notes, o.created_at, o.updated_at, actor)
                    )  # fmt: skip
            self.statements += 1
            with cur.copy(
                "COPY order_items (order_id, product_id, sku, name, quantity, unit_price, "
                "line_total) FROM STDIN"
            ) as copy:
                write = copy.write_row
                for oid, o in zip(ids, orders, strict=True):
                    for item in o.items:
                        write((oid, *item))
            self.statements += 1
            with cur.copy(
                "COPY order_events (order_id, at, actor, action, from_status, to_status, reason) "
                "FROM STDIN"
            ) as copy:
                write = copy.write_row
                for oid, o in zip(ids, orders, strict=True):
                    write((oid, now, actor, action, None, o.status, reason))

    def _add_orders_sqlite(
        self, raw: Any, orders: list[NewOrder], *, actor: str, reason: str, now: datetime
    ) -> None:
        action = EventAction.IMPORTED.value
        stamp = _sqlite_ts(now)
        cur = raw.cursor()
        try:
            # Safe: the unit of work began with BEGIN IMMEDIATE, so this transaction holds
            # SQLite's write lock and no other writer can take these ids before we commit.
            self.statements += 1
            cur.execute(
                "SELECT (SELECT coalesce(max(id), 0) FROM orders), "
                "(SELECT coalesce(max(id), 0) FROM order_items), "
                "(SELECT coalesce(max(id), 0) FROM order_events)"
            )
            order_id, item_id, event_id = (int(v) for v in cur.fetchone())
            order_rows = []
            item_rows = []
            event_rows = []
            for o in orders:
                order_id += 1
                event_id += 1
                created = _sqlite_ts(o.created_at)
                updated = created if o.updated_at == o.created_at else _sqlite_ts(o.updated_at)
                order_rows.append(
                    (order_id, o.external_ref, o.customer_id, o.status, o.currency, str(o.total),
                     o.notes, created, updated, actor)
                )  # fmt: skip
                for pid, sku, name, qty, price, line_total in o.items:
                    item_id += 1
                    item_rows.append(
                        (item_id, order_id, pid, sku, name, qty, str(price), str(line_total))
                    )
                event_rows.append(
                    (event_id, order_id, stamp, actor, action, None, o.status, reason)
                )
            self.statements += 3
            cur.executemany(
                "INSERT INTO orders (id, external_ref, customer_id, status, currency, total, "
                "notes, created_at, updated_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
                order_rows,
            )
            cur.executemany(
                "INSERT INTO order_items (id, order_id, product_id, sku, name, quantity, "
                "unit_price, line_total) VALUES (?,?,?,?,?,?,?,?)",
                item_rows,
            )
            cur.executemany(
                "INSERT INTO order_events (id, order_id, at, actor, action, from_status, "
                "to_status, reason) VALUES (?,?,?,?,?,?,?,?)",
                event_rows,
            )
        finally:
            cur.close()
