"""The orders repository's documents (DESIGN.md §5, §6): keyset pages of orders as the JSON
texts the database writes, and their items by one IN query per page, for `orders list` (a page
or every match streamed) and `GET /api/orders`.

Core queries on `orderctl.tables` only: the listing is run many times a day and in loops, and
never pays for importing the ORM models or Pydantic (start-up, docs/performance.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    Select,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from orderctl.order_filters import OrderFilters
from orderctl.repositories import search
from orderctl.repositories.orders._shapes import LISTING, JsonSql, Shape
from orderctl.repositories.transaction import OnTransaction
from orderctl.tables import customers, order_items, orders, products

#: Sort name -> (column, descending). Every sort ends in `id`, so a (key, id) pair is a keyset.
SORT_COLUMNS: dict[str, tuple[Any, bool]] = {
    "created": (orders.c.created_at, False),
    "-created": (orders.c.created_at, True),
    "total": (orders.c.total, False),
    "-total": (orders.c.total, True),
}


#: Below this many orders in a total range, list them by the total index and sort them.
FEW = 5000


@dataclass(slots=True)
class OrderRows:
    """A page of `order_rows`: `(order id, document without items)`, `(sort key, id)` of the
    last order (None if empty), and whether more orders follow (when asked, else False)."""

    docs: list[tuple[int, str]]
    last: tuple[Any, int] | None
    more: bool = False


def _driver_rows(
    connection: Connection, stmt: Executable, params: dict[str, Any] | None = None
) -> list[Any]:
    """The rows of `stmt` as the DBAPI driver returns them (SQLAlchemy compiles and binds,
    but makes no row objects and runs no result type processing)."""
    result = connection.execute(stmt, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


#: Statements built once per (dialect, use): the JSON-writing expressions are large, and
#: SQLAlchemy computes a statement's cache key on every run of a new one, which cost more
#: than the rest of `GET /api/orders/{id}` (docs/performance.md, *HTTP API*); a statement
#: kept here computes it once.
_BUILT: dict[tuple[str, ...], Any] = {}


def _built(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = build()
    return statement


class OrderDocuments(OnTransaction):
    """The Core queries behind `OrderRepository.page`, `.with_items` and `.stream`."""

    def _page(
        self,
        shape: Shape,
        filters: OrderFilters,
        *,
        sort: str,
        after: tuple[Any, int] | None,
    ) -> tuple[Any, dict[str, Any]]:
        """The statement of one page (its `LIMIT` the parameter `limit`) and its parameters.

        The filters' values and the keyset are bound parameters, so one statement serves
        every page of the same shape (which filters are given, the sort, a keyset or not,
        whether few orders match): it is built once per dialect and shape (`_built`), and
        SQLAlchemy computes its cache key once. A `--search` or `--sku` page is built each
        time (its sets of ids hold the search text).
        """
        column, _ = SORT_COLUMNS[sort]
        sets = self._matching(filters)
        few = self._few_match(filters, column, sets)
        params: dict[str, Any] = {
            name: value
            for name, value in (
                ("statuses", [status.value for status in filters.statuses] or None),
                ("customer_email", filters.customer_email),
                ("since", filters.since),
                ("until", filters.until),
                ("min_total", filters.min_total),
                ("max_total", filters.max_total),
                ("after_key", None if after is None else after[0]),
                ("after_id", None if after is None else after[1]),
            )
            if value is not None
        }

        def build() -> Any:
            stmt = self._documents(shape, column, orders.c.id)
            return self._filtered(stmt, set(params), sort=sort, sets=sets, few=few).limit(
                bindparam("limit", type_=Integer)
            )

        if sets:
            return build(), params
        dialect = self.dialect
        key = (dialect, "page", type(shape).__name__, sort, str(few), *sorted(params))
        return _built(key, build), params

    def _filtered(
        self, stmt: Any, given: set[str], *, sort: str, sets: list[Any], few: bool
    ) -> Any:
        """`stmt` with the filters named in `given` (as bound parameters), the keyset bound
        and the order of one page applied."""
        column, descending = SORT_COLUMNS[sort]
        if "statuses" in given:
            stmt = stmt.where(orders.c.status.in_(bindparam("statuses", expanding=True)))
        if "customer_email" in given:
            customer_id = (
                select(customers.c.id)
                .where(customers.c.email == bindparam("customer_email"))
                .scalar_subquery()
            )
            stmt = stmt.where(orders.c.customer_id == customer_id)
        if "since" in given:
            stmt = stmt.where(orders.c.created_at >= bindparam("since"))
        if "until" in given:
            stmt = stmt.where(orders.c.created_at < bindparam("until"))
        if "min_total" in given:
            stmt = stmt.where(orders.c.total >= bindparam("min_total"))
        if "max_total" in given:
            stmt = stmt.where(orders.c.total <= bindparam("max_total"))
        matching = [orders.c.id.in_(ids) for ids in sets]
        if "after_key" in given:
            key = tuple_(column, orders.c.id)
            bound = tuple_(
                bindparam("after_key", type_=column.type),
                bindparam("after_id", type_=orders.c.id.type),
            )
            stmt = stmt.where(key < bound if descending else key > bound)
        order_by: Any = column
        if few:
            # Few matching orders: read them by their own index and sort them, rather than
            # walk the sort's index past a million others. An expression keeps the order but
            # stops the sort column's index from serving it.
            order_by = self._unindexed(column)
        elif sets and self.dialect == "sqlite":
            # Many: walk the sort's index, testing each order against the sets. SQLite would
            # rather read every match by rowid, build each one's columns and sort them all (a
            # common SKU at 1M orders: 0.3-0.8 s for a page, 15-25 ms walking; docs/
            # performance.md, *Finding orders*); `+orders.id` is no rowid for it to look up.
            matching = [literal_column("+orders.id").in_(ids) for ids in sets]
        stmt = stmt.where(*matching)
        if descending:
            return stmt.order_by(order_by.desc(), orders.c.id.desc())
        return stmt.order_by(order_by.asc(), orders.c.id.asc())

    def _few_match(self, filters: OrderFilters, column: Any, sets: list[Any]) -> bool:
        """Whether few orders match (`_few`): probed for a search or SKU set, and for a
        total range alone sorted by created_at."""
        min_total, max_total = filters.min_total, filters.max_total
        if sets:
            matching = [orders.c.id.in_(ids) for ids in sets]
            # One set is counted as it is (an index-only scan stopping at `FEW`): through
            # orders, each id would be looked up first (a common SKU at 1M orders on
            # PostgreSQL: 206 ms, and 1 ms counted as it is; docs/performance.md).
            return self._few(sets[0] if len(sets) == 1 else select(orders.c.id).where(*matching))
        return bool(
            column is orders.c.created_at
            and (min_total is not None or max_total is not None)
            and not filters.statuses
            and filters.customer_email is None
            and self._few(self._total_range(min_total, max_total))
        )

    def _matching(self, filters: OrderFilters) -> list[Any]:
        """The sets of order ids that `--search` and `--sku` keep (each one a query): from
        the search indexes and order_items(product_id, order_id)."""
        sets: list[Any] = []
        if filters.search is not None:
            dialect = self.dialect
            sets.append(search.order_ids(dialect, filters.search))
        if filters.sku is not None:
            product = select(products.c.id).where(products.c.sku == filters.sku)
            sets.append(
                select(order_items.c.order_id).where(
                    order_items.c.product_id == product.scalar_subquery()
                )
            )
        return sets

    def _unindexed(self, column: Any) -> Any:
        """`column` as an expression no index serves (same values, same order)."""
        if self.dialect == "sqlite":
            return literal_column(f"+orders.{column.name}")
        zero = "interval '0 seconds'" if column is orders.c.created_at else "0"
        return literal_column(f"orders.{column.name} + {zero}")

    @staticmethod
    def _total_range(min_total: Decimal | None, max_total: Decimal | None) -> Select[Any]:
        probe = select(orders.c.id)
        if min_total is not None:
            probe = probe.where(orders.c.total >= min_total)
        if max_total is not None:
            probe = probe.where(orders.c.total <= max_total)
        return probe

    def _few(self, ids: Select[Any]) -> bool:
        """Whether `ids` holds fewer than `FEW` orders (one probe that stops at `FEW`, ≤ 1 ms
        from an index). Sorted by created_at, a rare total range makes both planners walk
        the created_at index past every order (0.5-0.8 s at 1M): SQLite has no histogram, and
        PostgreSQL's cannot tell 0.002 % from 1 %; a selective search or SKU likewise. With
        a known small count, sorting the few matches is cheap; with ≥ `FEW` matches the walk
        of the sort's index stops early."""
        inner = ids.limit(FEW).subquery()
        count = self.session.scalar(select(func.count()).select_from(inner))
        return bool(count is not None and count < FEW)

    def order_rows(
        self,
        filters: OrderFilters,
        *,
        sort: str = "-created",
        after: tuple[Any, int] | None = None,
        limit: int = 1000,
        peek: bool = False,
        shape: Shape = LISTING,
    ) -> OrderRows:
        """One keyset page of `(order id, JSON document without its items)`, and the keyset
        of the last order. `peek` reads one row more to tell whether another page follows.

        The database writes each document (DESIGN.md §6, the keys and values of
        `OrderRead.model_dump(mode="json")`), and rows are fetched straight from the driver's
        cursor: no ORM object, SQLAlchemy row, Decimal or datetime is made per row (only the
        last sort key is converted). `shape` picks the text (default: the listing's §6
        document; `_shapes.py`).
        """
        column, _ = SORT_COLUMNS[sort]
        stmt, params = self._page(shape, filters, sort=sort, after=after)
        params["limit"] = limit + 1 if peek else limit
        connection = self.tx.connection()
        rows = _driver_rows(connection, stmt, params)
        more = len(rows) > limit
        del rows[limit:]
        if not rows:
            return OrderRows([], None)
        key, last_id = rows[-1][0], rows[-1][1]
        to_python = column.type.result_processor(connection.dialect, None)
        return OrderRows(
            [(int(order_id), doc) for _, order_id, doc in rows],
            (to_python(key) if to_python else key, int(last_id)),
            more,
        )

    def _documents(self, shape: Shape, *columns: Any) -> Select[Any]:
        """`SELECT *columns, <the order's text in shape, without items>` from orders joined to
        their customers."""
        sql = JsonSql(self.dialect)
        return select(*columns, shape.order_text(sql)).join(
            customers, customers.c.id == orders.c.customer_id
        )

    def document(self, *, order_id: int | None = None, ref: str | None = None) -> str | None:
        """The JSON document of the order with this id (or external_ref), items included, as
        `order_rows` + `with_items` write it; None when there is no such order. No ORM object.

        PostgreSQL: one query, the lines' texts a scalar subquery (`string_agg` in line
        order). SQLite: the order, then its lines (`with_items`): SQLite 3.40 has no ordered
        aggregate, and its queries cost no round trip.
        """
        dialect = self.dialect
        column = orders.c.id if ref is None else orders.c.external_ref
        key = order_id if ref is None else ref
        connection = self.tx.connection()
        if dialect == "sqlite":
            stmt = _built(
                (dialect, column.name),
                lambda: self._documents(LISTING, orders.c.id).where(column == bindparam("key")),
            )
            rows = _driver_rows(connection, stmt, {"key": key})
            if not rows:
                return None
            (found, doc), *_ = rows
            return self.with_items([(int(found), doc)])[0]
        stmt = _built((dialect, column.name, "with-items"), lambda: self._one_document(column))
        rows = _driver_rows(connection, stmt, {"key": key})
        if not rows:
            return None
        (found, items, doc), *_ = rows
        return LISTING.assemble([(found, doc)], {found: items} if items else {})[0]

    def _one_document(self, column: Any) -> Select[Any]:
        """PostgreSQL: `(id, order text, its lines' texts)` of the order whose `column` is the
        parameter `key`."""
        sql = JsonSql("postgresql")
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        between = literal_column(f"'{LISTING.separator}'", Text)
        lines = (
            select(
                func.string_agg(
                    LISTING.item_text(sql), aggregate_order_by(between, order_items.c.id)
                )
            )
            .where(order_items.c.order_id == orders.c.id)
            .scalar_subquery()
        )
        return self._documents(LISTING, orders.c.id, lines).where(column == bindparam("key"))

    def with_items(self, docs: list[tuple[int, str]], shape: Shape = LISTING) -> list[str]:
        """The texts of `order_rows` (in `shape`) with their lines, from one IN query."""
        if not docs:
            return []
        dialect = self.dialect
        connection = self.tx.connection()
        ids = [order_id for order_id, _ in docs]
        item_stmt = _built(
            (dialect, "items", type(shape).__name__),
            lambda: self._items_statement(dialect, shape),
        )
        # Each order's lines as one text `{…},{…}`, in line order.
        items: dict[int, str] = {}
        if dialect == "sqlite":
            lines: dict[int, list[str]] = {order_id: [] for order_id in ids}
            for order_id, doc in _driver_rows(connection, item_stmt, {"ids": json.dumps(ids)}):
                lines[order_id].append(doc)
            separator = shape.separator
            items = {order_id: separator.join(docs) for order_id, docs in lines.items()}
        else:
            items = dict(_driver_rows(connection, item_stmt, {"ids": ids}))
        return shape.assemble(docs, items)

    @staticmethod
    def _items_statement(dialect: str, shape: Shape) -> Select[Any]:
        """`(order id, its lines' texts in shape)` of the orders in the parameter `ids`: on
        SQLite a row per line (ids as a JSON array), on PostgreSQL a row per order."""
        sql = JsonSql(dialect)
        item_doc = shape.item_text(sql)
        if sql.sqlite:
            # The ids as one JSON array parameter, not a thousand bound parameters to render.
            page_ids: Select[Any] = select(literal_column("value")).select_from(
                func.json_each(bindparam("ids"))
            )
            return (
                select(order_items.c.order_id, item_doc)
                .where(order_items.c.order_id.in_(page_ids))
                .order_by(order_items.c.order_id, order_items.c.id)
            )
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        # One row per order (string_agg in line order), the ids as one array parameter:
        # a quarter of the rows to fetch, and no thousand bound parameters to render.
        between = literal_column(f"'{shape.separator}'", Text)
        joined = func.string_agg(item_doc, aggregate_order_by(between, order_items.c.id))
        return (
            select(order_items.c.order_id, joined)
            .where(order_items.c.order_id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
            .group_by(order_items.c.order_id)
        )

    def start_snapshot(self) -> None:
        """Begin this session's read transaction now (one cheap read): on SQLite its view of
        the data is fixed from here on."""
        self.session.execute(select(orders.c.id).limit(1)).all()
