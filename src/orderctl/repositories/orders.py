"""Queries on orders, their items and their events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Text,
    any_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, selectinload

from orderctl.models import Customer, Order, OrderEvent, OrderItem

#: Sort name -> (column, descending). Every sort ends in `id`, so a (key, id) pair is a keyset.
SORT_COLUMNS: dict[str, tuple[Any, bool]] = {
    "created": (Order.created_at, False),
    "-created": (Order.created_at, True),
    "total": (Order.total, False),
    "-total": (Order.total, True),
}


#: Below this many orders in a total range, list them by the total index and sort them.
FEW = 5000


class _JsonSql:
    """SQL that formats values as orderctl's JSON does (money "12.50", "…T…Z" timestamps) and
    builds JSON objects, for SQLite (json1) and PostgreSQL (json, not jsonb: keys keep their
    order)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def money(self, column: Any) -> Any:
        if self.sqlite:  # stored as REAL with two decimals; %.2f as Python's format_money
            return func.printf(literal_column("'%.2f'"), column)
        return cast(column, Text)  # numeric(12, 2) prints two decimals

    def timestamp(self, column: Any) -> Any:
        if self.sqlite:  # stored as UTC text
            return func.strftime(literal_column("'%Y-%m-%dT%H:%M:%SZ'"), column)
        return func.to_char(
            func.timezone(literal_column("'UTC'"), column),
            literal_column('\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''),
        )

    def obj(self, *pairs: tuple[str, Any], text: bool = True) -> Any:
        """A JSON object of (constant key, value) pairs, in this order; `text=False` for one
        nested in another object."""
        args: list[Any] = []
        for key, value in pairs:
            args += [literal_column(f"'{key}'"), value]
        if self.sqlite:
            return func.json_object(*args)
        built = func.json_build_object(*args)
        return cast(built, Text) if text else built


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

    def _filtered(
        self,
        stmt: Any,
        *,
        statuses: Sequence[str],
        customer_email: str | None,
        since: datetime | None,
        until: datetime | None,
        min_total: Decimal | None,
        max_total: Decimal | None,
        sort: str,
        after: tuple[Any, int] | None,
    ) -> Any:
        """`stmt` with the filters, the keyset bound and the order of one page applied."""
        column, descending = SORT_COLUMNS[sort]
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
        order_by: Any = column
        if (
            column is Order.created_at
            and (min_total is not None or max_total is not None)
            and not statuses
            and customer_email is None
            and self._few_by_total(min_total, max_total)
        ):
            # Few orders in the total range: read them by the total index and sort them,
            # rather than walk the created_at index past a million non-matching rows. An
            # expression keeps the order but stops the created_at index from serving it.
            if self.session.get_bind().dialect.name == "sqlite":
                order_by = literal_column("+orders.created_at")
            else:
                order_by = literal_column("orders.created_at + interval '0 seconds'")
        if descending:
            return stmt.order_by(order_by.desc(), Order.id.desc())
        return stmt.order_by(order_by.asc(), Order.id.asc())

    def _few_by_total(self, min_total: Decimal | None, max_total: Decimal | None) -> bool:
        """Whether fewer than `FEW` orders have a total in the range (one index-only probe,
        ≤ 1 ms). Sorted by created_at, a rare total range makes both planners walk the
        created_at index past every order (0.5-0.8 s at 1M): SQLite has no histogram, and
        PostgreSQL's cannot tell 0.002 % from 1 %. With a known small count, sorting the few
        matches is cheap; with ≥ `FEW` matches the created_at walk stops early."""
        probe = select(Order.id)
        if min_total is not None:
            probe = probe.where(Order.total >= min_total)
        if max_total is not None:
            probe = probe.where(Order.total <= max_total)
        inner = probe.limit(FEW).subquery()
        count = self.session.scalar(select(func.count()).select_from(inner))
        return bool(count is not None and count < FEW)

    def page_json(
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
        limit: int = 1000,
    ) -> list[tuple[Any, int, str]]:
        """One keyset page for streaming: `(sort key, id, JSON document)` per order.

        The database writes each document (DESIGN.md §6, the keys and values of
        `OrderRead.model_dump(mode="json")`), so no ORM object, Decimal or datetime is made
        per row. Items come from one IN query for the whole page: 2 statements per page.
        """
        sql = _JsonSql(self.session.get_bind().dialect.name)
        column, _ = SORT_COLUMNS[sort]
        order_doc = sql.obj(
            ("id", Order.id),
            ("external_ref", Order.external_ref),
            ("status", Order.status),
            ("currency", Order.currency),
            ("total", sql.money(Order.total)),
            ("notes", Order.notes),
            ("created_at", sql.timestamp(Order.created_at)),
            ("updated_at", sql.timestamp(Order.updated_at)),
            (
                "customer",
                sql.obj(
                    ("id", Customer.id),
                    ("email", Customer.email),
                    ("name", Customer.name),
                    text=False,
                ),
            ),
        )
        stmt = self._filtered(
            select(column, Order.id, order_doc).join(Customer, Customer.id == Order.customer_id),
            statuses=statuses,
            customer_email=customer_email,
            since=since,
            until=until,
            min_total=min_total,
            max_total=max_total,
            sort=sort,
            after=after,
        ).limit(limit)
        # Core execution on the session's connection: no ORM row processing per row.
        connection = self.session.connection()
        rows = connection.execute(stmt).all()
        if not rows:
            return []
        items: dict[int, list[str]] = {row[1]: [] for row in rows}
        item_doc = sql.obj(
            ("sku", OrderItem.sku),
            ("name", OrderItem.name),
            ("quantity", OrderItem.quantity),
            ("unit_price", sql.money(OrderItem.unit_price)),
            ("line_total", sql.money(OrderItem.line_total)),
        )
        ids: Any = OrderItem.order_id.in_(list(items))
        if not sql.sqlite:  # one array parameter, not a thousand (compiling those is slow)
            ids = OrderItem.order_id == any_(bindparam("ids", list(items), ARRAY(BigInteger)))
        item_stmt = (
            select(OrderItem.order_id, item_doc)
            .where(ids)
            .order_by(OrderItem.order_id, OrderItem.id)
        )
        for order_id, doc in connection.execute(item_stmt).all():
            items[order_id].append(doc)
        # `{...}` + `"items":[...]` spliced as text: the order object ends in its customer.
        return [
            (key, order_id, f'{doc[:-1]},"items":[{",".join(items[order_id])}]}}')
            for key, order_id, doc in rows
        ]

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
        stmt = self._filtered(
            select(Order).options(selectinload(Order.items), selectinload(Order.customer)),
            statuses=statuses,
            customer_email=customer_email,
            since=since,
            until=until,
            min_total=min_total,
            max_total=max_total,
            sort=sort,
            after=after,
        )
        return self.session.scalars(stmt.limit(limit)).all()
