"""The orders repository's bulk reads and writes for batch imports (DESIGN.md §7), in the
driver's own SQL (`OrderRepository.bulk_writer` wraps them). Like every repository this never
commits: the caller's unit of work owns the transaction, and the writes go through its
connection (`session.connection()`), so an order, its items and its `imported` event always
share one transaction.

Each call is one round trip whatever the batch size (`statements` counts them, for the test that
checks this): PostgreSQL takes arrays (`= ANY(%s)`, `unnest`) and `COPY FROM STDIN`; SQLite takes
a JSON array (`IN (SELECT value FROM json_each(?))`) and `executemany` on the raw cursor.

Concurrent writers of the same refs (another import, `orders create`): on SQLite the unit of
work holds the write lock from its first look-up to its commit, so nobody can store a ref
between the look-up and the write. On PostgreSQL somebody can; `add_orders` writes a batch
inside a savepoint and, when a ref it is writing turns out to be taken (the unique index
raises once the other transaction commits; a deadlock between two overlapping imports is
handled the same way), rolls back to the savepoint, drops the refs that are now stored and
writes the rest. The caller gets the dropped orders back and decides (same content: skipped;
other content: a conflict).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from orderctl.db import translate
from orderctl.enums import EventAction
from orderctl.errors import Conflict
from orderctl.order_content import TEXT_FIELDS, OrderContent
from orderctl.repositories.orders._sqlite_bulk import sqlite_ts, write_orders_sqlite
from orderctl.repositories.orders.records import CatalogEntry, NewOrder, StoredRef

#: How often a batch is written again after losing refs to concurrent writers.
_ATTEMPTS = 5
_REF_CONSTRAINT = "uq_orders_external_ref"
_TEXT_COLUMNS = ", ".join(TEXT_FIELDS)
_TEXTS = ", ".join(f"o.{name}" for name in TEXT_FIELDS)
# Binary COPY types of the columns `_add_orders_pg` writes, in its order (varchar columns take
# text's binary form).
_ORDER_TYPES = [
    "int8", "text", "int4", "text", "text", "numeric", *("text" for _ in TEXT_FIELDS),
    "timestamptz", "timestamptz", "text",
]  # fmt: skip
_ITEM_TYPES = ["int8", "int4", "text", "text", "int4", "numeric", "numeric"]
_EVENT_TYPES = ["int8", "timestamptz", "text", "text", "text", "text", "text"]


def _money(value: Any) -> Decimal:
    """A stored amount as Decimal cents (SQLite hands NUMERIC back as float or int)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


class OrderBatchWriter:
    def __init__(self, session: Session) -> None:
        self.session = session
        #: Statements sent so far (an `executemany` or a COPY counts as one).
        self.statements = 0
        #: The transaction whose planner settings are made (`_raw`).
        self._tuned: Any = None

    @property
    def server_side(self) -> bool:
        """True when a database server does the writing (PostgreSQL), not this process."""
        return self.session.get_bind().dialect.name == "postgresql"

    def _raw(self) -> tuple[bool, Any]:
        """(is_postgresql, the DBAPI connection of the unit of work's current transaction).

        PostgreSQL: once per transaction, two planner settings for it. While an import fills
        the tables their statistics lag (in a one-transaction import they never catch up: nobody
        can analyze uncommitted rows), so the planner misjudges the look-ups:
        - it answered `external_ref = ANY(...)` and `email = ANY(...)` from the trigram GIN
          indexes (pg_trgm serves equality too), whose pending list of fresh entries each of
          the batch's values rescans: 25-27 s a look-up at 50,000 orders instead of ~2 ms
          from the unique B-tree. GIN serves only bitmap scans, so no bitmap scans;
        - the inflated estimates passed `jit_above_cost`, and compiling took ~0.5 s a look-up.
        All statements of the transaction are this writer's look-ups by key and writes, which
        need neither (docs/performance.md, *Import*).
        """
        conn = self.session.connection()
        raw: Any = conn.connection.dbapi_connection
        if conn.dialect.name != "postgresql":
            return False, raw
        transaction = conn.get_transaction()
        if transaction is not self._tuned:
            self._tuned = transaction
            self.statements += 1
            with raw.cursor() as cur:
                cur.execute(
                    "SELECT set_config('jit', 'off', true), "
                    "set_config('enable_bitmapscan', 'off', true)"
                )
        return True, raw

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        """Driver errors (this class talks to psycopg and sqlite3 directly) leave as orderctl
        errors, as SQLAlchemy's do from a unit of work: a lost connection is exit 7."""
        try:
            yield
        except Exception as error:
            mapped = translate(error)
            if mapped is None:
                raise
            raise mapped from error

    def _query(self, sql_pg: str, sql_lite: str, *params: Any) -> list[Any]:
        with self._driver_errors():
            return self._query_raw(sql_pg, sql_lite, *params)

    def _query_raw(self, sql_pg: str, sql_lite: str, *params: Any) -> list[Any]:
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

    def existing_orders(self, refs: list[str], marker: str) -> dict[str, StoredRef]:
        """The stored orders among `refs`; `mine` when this import run wrote it (its
        `imported` event's reason is `marker`). One statement, a row per stored line."""
        if not refs:
            return {}
        query = (
            f"SELECT o.external_ref, c.email, o.currency, {_TEXTS}, i.sku, i.quantity, "
            "i.unit_price, EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id"
            f" AND e.action = '{EventAction.IMPORTED.value}' AND e.reason = {{m}}) "
            "FROM orders o JOIN customers c ON c.id = o.customer_id "
            "LEFT JOIN order_items i ON i.order_id = o.id WHERE o.external_ref "
        )
        rows = self._query(
            query.format(m="%s") + "= ANY(%s)",
            query.format(m="?") + "IN (SELECT value FROM json_each(?))",
            marker,
            refs,
        )
        found: dict[str, StoredRef] = {}
        texts_end = 3 + len(TEXT_FIELDS)
        for row in rows:
            ref, email, currency = row[:3]
            sku, quantity, price, mine = row[texts_end:]
            stored = found.get(ref)
            if stored is None:
                content = OrderContent(str(email), str(currency), tuple(row[3:texts_end]), {})
                stored = found[str(ref)] = StoredRef(bool(mine), content)
            if sku is not None:
                stored.content.items[str(sku)] = (int(quantity), _money(price))
        return found

    def _stored_refs(self, refs: list[str]) -> set[str]:
        cols = "SELECT external_ref FROM orders"
        rows = self._query(
            cols + " WHERE external_ref = ANY(%s)",
            cols + " WHERE external_ref IN (SELECT value FROM json_each(?))",
            refs,
        )
        return {str(ref) for (ref,) in rows}

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
            str(sku): CatalogEntry(int(pid), str(name), _money(price), bool(active))
            for sku, pid, name, price, active in rows
        }

    def _customer_ids(self, orders: list[NewOrder], *, created_by: str, now: datetime) -> None:
        """Set `customer_id` on each order, creating the customers that do not exist yet.

        Emails are handled in sorted order, so two imports inserting overlapping customers
        lock them in the same order and cannot deadlock on them.
        """
        names: dict[str, str | None] = {}
        for order in orders:
            names.setdefault(order.customer_email, order.customer_name)
        emails = sorted(names)
        cols = "SELECT email, id FROM customers"
        ids = {
            str(email): int(cid)
            for email, cid in self._query(
                cols + " WHERE email = ANY(%s)",
                cols + " WHERE email IN (SELECT value FROM json_each(?))",
                emails,
            )
        }
        missing = [e for e in emails if e not in ids]
        if missing:
            ids.update(self._add_customers(missing, names, created_by=created_by, now=now))
        for order in orders:
            order.customer_id = ids[order.customer_email]

    def _add_customers(
        self, emails: list[str], names: dict[str, str | None], *, created_by: str, now: datetime
    ) -> dict[str, int]:
        """Create customers in one statement; returns email → id.

        PostgreSQL: `ON CONFLICT DO NOTHING`, then one look-up for any email a concurrent
        writer created meanwhile. SQLite: the write transaction holds the lock, so ids are
        max(id)+1, … and nobody can insert in between.
        """
        is_pg, raw = self._raw()
        cur = raw.cursor()
        try:
            if is_pg:
                self.statements += 1
                cur.execute(
                    "INSERT INTO customers (email, name, created_at, created_by) "
                    "SELECT e, n, %s, %s FROM unnest(%s::text[], %s::text[]) AS t(e, n) "
                    "ON CONFLICT (email) DO NOTHING RETURNING email, id",
                    (now, created_by, emails, [names[e] for e in emails]),
                )
                ids = {str(e): int(i) for e, i in cur.fetchall()}
                if len(ids) < len(emails):
                    cols = "SELECT email, id FROM customers WHERE email = ANY(%s)"
                    rows = self._query(cols, cols, [e for e in emails if e not in ids])
                    ids.update({str(e): int(i) for e, i in rows})
                return ids
            self.statements += 1
            cur.execute("SELECT coalesce(max(id), 0) FROM customers")
            first = int(cur.fetchone()[0]) + 1
            ids = {e: first + n for n, e in enumerate(emails)}
            stamp = sqlite_ts(now)
            self.statements += 1
            cur.executemany(
                "INSERT INTO customers (id, email, name, created_at, created_by) "
                "VALUES (?, ?, ?, ?, ?)",
                [(ids[e], e, names[e], stamp, created_by) for e in emails],
            )
            return ids
        finally:
            cur.close()

    def add_orders(
        self, orders: list[NewOrder], *, actor: str, reason: str, now: datetime
    ) -> list[NewOrder]:
        """Write orders (and their new customers), their items and one `imported` event each;
        stock is not touched.

        Returns the orders not written because a concurrent writer stored their ref after the
        caller looked it up (PostgreSQL only; see the module's docstring). Raises `Conflict`
        when that keeps happening batch after batch.
        """
        if not orders:
            return []
        with self._driver_errors():
            return self._add_orders(orders, actor=actor, reason=reason, now=now)

    def _add_orders(
        self, orders: list[NewOrder], *, actor: str, reason: str, now: datetime
    ) -> list[NewOrder]:
        is_pg, raw = self._raw()
        if not is_pg:
            self._customer_ids(orders, created_by=actor, now=now)
            cur = raw.cursor()
            try:
                self.statements += write_orders_sqlite(
                    cur, orders, actor=actor, reason=reason, now=now
                )
            finally:
                cur.close()
            return []
        from psycopg import errors as pg

        pending = sorted(orders, key=lambda o: o.external_ref)  # lock order: see _customer_ids
        taken: list[NewOrder] = []
        for _ in range(_ATTEMPTS):
            with raw.cursor() as cur:
                self.statements += 1
                cur.execute("SAVEPOINT orderctl_batch")
                try:
                    self._customer_ids(pending, created_by=actor, now=now)
                    self._add_orders_pg(cur, pending, actor=actor, reason=reason, now=now)
                except (pg.UniqueViolation, pg.DeadlockDetected) as error:
                    if isinstance(error, pg.UniqueViolation) and (
                        error.diag.constraint_name != _REF_CONSTRAINT
                    ):
                        raise
                    self.statements += 1
                    cur.execute("ROLLBACK TO SAVEPOINT orderctl_batch")
                    stored = self._stored_refs([o.external_ref for o in pending])
                    taken += [o for o in pending if o.external_ref in stored]
                    pending = [o for o in pending if o.external_ref not in stored]
                    if not pending:
                        return taken
                    continue
                self.statements += 1
                cur.execute("RELEASE SAVEPOINT orderctl_batch")
                return taken
        raise Conflict(
            f"other writers kept storing the refs of this batch while it was written "
            f"({_ATTEMPTS} attempts); run the import again"
        )

    def _add_orders_pg(
        self, cur: Any, orders: list[NewOrder], *, actor: str, reason: str, now: datetime
    ) -> None:
        action = EventAction.IMPORTED.value
        self.statements += 1
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, %s)",
            (len(orders),),
        )
        ids = [int(r[0]) for r in cur.fetchall()]
        self._copy(
            cur,
            f"orders (id, external_ref, customer_id, status, currency, total, {_TEXT_COLUMNS}, "
            "created_at, updated_at, created_by)",
            _ORDER_TYPES,
            (
                (oid, o.external_ref, o.customer_id, o.status, o.currency, o.total, *o.texts,
                 o.created_at, o.updated_at, actor)
                for oid, o in zip(ids, orders, strict=True)
            ),
        )  # fmt: skip
        self._copy(
            cur,
            "order_items (order_id, product_id, sku, name, quantity, unit_price, line_total)",
            _ITEM_TYPES,
            ((oid, *item) for oid, o in zip(ids, orders, strict=True) for item in o.items),
        )
        self._copy(
            cur,
            "order_events (order_id, at, actor, action, from_status, to_status, reason)",
            _EVENT_TYPES,
            (
                (oid, now, actor, action, None, o.status, reason)
                for oid, o in zip(ids, orders, strict=True)
            ),
        )

    def _copy(
        self, cur: Any, target: str, types: list[str], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        """Binary `COPY target FROM STDIN` with these rows, each column's type given: one
        statement. Binary needs no text formatting of numbers and times, and with the types
        set psycopg picks each column's dumper once instead of once per value."""
        self.statements += 1
        with cur.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)
