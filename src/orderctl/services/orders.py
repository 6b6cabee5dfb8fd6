"""Orders: create, list, show, change status, history (DESIGN.md §5)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from orderctl import clock
from orderctl.enums import TRANSITIONS, EventAction, OrderSort, OrderStatus, Role
from orderctl.errors import (
    Conflict,
    DatabaseUnavailable,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from orderctl.forked import iterate_in_child
from orderctl.models import Order, OrderEvent, OrderItem, Product
from orderctl.repositories.orders import ListFilters
from orderctl.schemas import (
    MONEY_MAX,
    NOTES_MAX,
    Actor,
    Email,
    EventRead,
    OrderCreate,
    OrderRead,
    Timestamp,
    format_money,
)
from orderctl.services.auth import requires
from orderctl.services.uow import UnitOfWork

DEFAULT_LIMIT = 30
MAX_LIMIT = 1000
#: Orders per keyset batch when streaming every match (`orders list --all`): 5,000 streamed
#: ~10 % faster than 1,000 (fewer statements to build and run) for ~3 MB more memory.
STREAM_BATCH = 5000
#: Ids are BIGINT; a larger number cannot name an order (and must not reach the database).
_ID_MAX = 2**63 - 1


class OrderFilters(BaseModel):
    """The filters of `orders list` and `GET /api/orders` (all optional, combined with AND).

    `since` is inclusive and `until` exclusive, both UTC.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    statuses: tuple[OrderStatus, ...] = ()
    customer_email: Email | None = None
    since: Timestamp | None = None
    until: Timestamp | None = None
    min_total: Decimal | None = Field(default=None, allow_inf_nan=False)
    max_total: Decimal | None = Field(default=None, allow_inf_nan=False)


class OrderPage(BaseModel):
    """One page of orders and the opaque cursor of the next one (None on the last page)."""

    items: list[OrderRead]
    next_cursor: str | None


# ---- create ----


def _same_content(order: Order, data: OrderCreate, currency: str) -> bool:
    """Whether a stored order is what `data` asks for (a retry of the same create)."""
    if order.customer.email != data.customer_email or order.currency != currency:
        return False
    # The status is not compared: a retry after the order was paid is still the same order.
    if (order.notes or None) != (data.notes or None):
        return False
    stored = {item.sku: item for item in order.items}
    if set(stored) != {item.sku for item in data.items}:
        return False
    for wanted in data.items:
        line = stored[wanted.sku]
        if line.quantity != wanted.quantity:
            return False
        if wanted.unit_price is not None and line.unit_price != wanted.unit_price:
            return False
    return True


@requires(Role.OPERATOR)
def create_order(
    uow: UnitOfWork, actor: Actor, data: OrderCreate, *, default_currency: str = "EUR"
) -> tuple[OrderRead, bool]:
    """Create a pending order; returns it and whether it was created.

    Prices come from the catalog (a line's `unit_price` overrides). A customer that does not
    exist is created. Tracked stock is reserved atomically, in ascending product id order.
    When `external_ref` exists already: the same content returns the stored order with
    created=False (idempotent retry); other content raises `Conflict`.

    Raises `ValidationFailed` (unknown or inactive SKU, amounts beyond Numeric(12, 2), a
    status other than pending), `Conflict`, `InsufficientStock` (naming the SKU); on any
    error nothing is written.
    """
    currency = data.currency or default_currency
    replay = _replay(uow, data, currency)
    if replay is not None:
        return replay, False
    if data.status is not OrderStatus.PENDING:
        raise ValidationFailed(
            f"status: a new order is pending (got {data.status.value!r}); change it afterwards "
            "with `orderctl orders set-status`"
        )

    products = uow.products.get_many_by_sku(item.sku for item in data.items)
    lines: list[OrderItem] = []
    total = Decimal("0.00")
    for index, wanted in enumerate(data.items):
        product = products.get(wanted.sku)
        if product is None:
            raise ValidationFailed(f"items.{index}.sku: unknown SKU {wanted.sku!r}")
        if not product.active:
            raise ValidationFailed(f"items.{index}.sku: product {wanted.sku!r} is inactive")
        price = wanted.unit_price if wanted.unit_price is not None else product.unit_price
        line_total = (price * wanted.quantity).quantize(Decimal("0.01"))
        if line_total > MONEY_MAX:
            raise ValidationFailed(
                f"items.{index}: line total {format_money(line_total)} exceeds the maximum "
                f"{MONEY_MAX}"
            )
        total += line_total
        lines.append(
            OrderItem(
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                quantity=wanted.quantity,
                unit_price=price,
                line_total=line_total,
            )
        )
    if total > MONEY_MAX:
        raise ValidationFailed(
            f"total: {format_money(total)} exceeds the maximum {MONEY_MAX} (Numeric(12, 2))"
        )

    try:
        # A savepoint, so a concurrent create of the same external_ref that commits first
        # (PostgreSQL: our INSERT waits for it, then fails) undoes only this attempt.
        with uow.session.begin_nested():
            order = _insert(uow, actor, data, currency, lines, total, products)
    except IntegrityError:
        replay = _replay(uow, data, currency)
        if replay is None:
            raise
        return replay, False
    read = OrderRead.model_validate(order)
    uow.commit()
    return read, True


def _replay(uow: UnitOfWork, data: OrderCreate, currency: str) -> OrderRead | None:
    """The stored order when `data` repeats its external_ref with the same content.

    Raises `Conflict` when the ref is taken by an order with other content.
    """
    if data.external_ref is None:
        return None
    existing = uow.orders.get_by_external_ref(data.external_ref)
    if existing is None:
        return None
    if not _same_content(existing, data, currency):
        raise Conflict(
            f"external_ref {data.external_ref!r} is already used by order {existing.id} "
            "with different content"
        )
    return OrderRead.model_validate(existing)


def _insert(
    uow: UnitOfWork,
    actor: Actor,
    data: OrderCreate,
    currency: str,
    lines: list[OrderItem],
    total: Decimal,
    products: dict[str, Product],
) -> Order:
    """Reserve stock and write the order, its lines and its `created` event."""
    # Ascending product id: two orders sharing products lock them in the same order.
    # Products read as untracked (stock NULL) need no reservation.
    for line in sorted(lines, key=lambda item: item.product_id):
        if products[line.sku].stock is None:
            continue
        if not uow.products.reserve_stock(line.product_id, line.quantity):
            raise InsufficientStock(
                f"insufficient stock for {line.sku!r}: {line.quantity} wanted, fewer left"
            )

    now = clock.utcnow()
    created_at = data.created_at or now
    customer = uow.customers.get_or_create(
        data.customer_email, data.customer_name, created_by=actor.username
    )
    order = Order(
        external_ref=data.external_ref,
        customer=customer,
        status=OrderStatus.PENDING.value,
        currency=currency,
        total=total,
        notes=data.notes or None,
        created_at=created_at,
        updated_at=created_at,
        created_by=actor.username,
        items=lines,
    )
    order.events.append(
        OrderEvent(
            at=created_at,
            actor=actor.username,
            action=EventAction.CREATED.value,
            to_status=OrderStatus.PENDING.value,
        )
    )
    uow.orders.add(order)
    return order


# ---- read ----


def _load(uow: UnitOfWork, key: int | str, *, with_events: bool = False) -> Order:
    if isinstance(key, int):
        order = uow.orders.get(key, with_events=with_events) if 0 < key <= _ID_MAX else None
        what = f"order {key}"
    else:
        order = uow.orders.get_by_external_ref(key, with_events=with_events)
        what = f"order with external_ref {key!r}"
    if order is None:
        raise NotFound(f"{what} not found")
    return order


@requires(Role.VIEWER)
def get_order(uow: UnitOfWork, actor: Actor, key: int | str) -> OrderRead:
    """The order with this id (int) or external_ref (str). Raises `NotFound`."""
    return OrderRead.model_validate(_load(uow, key))


@requires(Role.VIEWER)
def get_order_with_history(
    uow: UnitOfWork, actor: Actor, key: int | str
) -> tuple[OrderRead, list[EventRead]]:
    """The order (by id or external_ref) and its events, oldest first. Raises `NotFound`."""
    order = _load(uow, key, with_events=True)
    return OrderRead.model_validate(order), [EventRead.model_validate(e) for e in order.events]


@requires(Role.VIEWER)
def order_history(uow: UnitOfWork, actor: Actor, order_id: int) -> list[EventRead]:
    """The audit trail of an order, oldest first. Raises `NotFound`."""
    if not (0 < order_id <= _ID_MAX and uow.orders.exists(order_id)):
        raise NotFound(f"order {order_id} not found")
    return [EventRead.model_validate(event) for event in uow.orders.events(order_id)]


def encode_cursor(sort: OrderSort, order: Order) -> str:
    """An opaque cursor: the sort and the last row's (sort key, id), base64url JSON."""
    key = order.created_at.isoformat() if sort.lstrip("-") == "created" else str(order.total)
    raw = json.dumps([sort.value, key, order.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: OrderSort, cursor: str) -> tuple[Any, int]:
    """The (sort key, id) inside a cursor. Raises `ValidationFailed` for any other string."""
    bad = ValidationFailed("cursor: not a cursor from this listing (or made for another --sort)")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        name, key, order_id = value
        if name != sort.value or not isinstance(key, str):
            raise bad
        # Out-of-range values would reach the database as overflowing parameters.
        if type(order_id) is not int or not 0 < order_id <= _ID_MAX:
            raise bad
        if sort.lstrip("-") == "created":
            parsed: Any = datetime.fromisoformat(key)
            if parsed.tzinfo is None:
                raise bad
        else:
            parsed = Decimal(key)
            if not parsed.is_finite() or abs(parsed) > MONEY_MAX:
                raise bad
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
        raise bad from None
    return parsed, order_id


def _where(filters: OrderFilters) -> ListFilters:
    """The filters as the keyword arguments of `OrderRepository.page` and `order_rows`."""
    return {
        "statuses": [status.value for status in filters.statuses],
        "customer_email": filters.customer_email,
        "since": filters.since,
        "until": filters.until,
        "min_total": filters.min_total,
        "max_total": filters.max_total,
    }


def _page(
    uow: UnitOfWork, filters: OrderFilters, sort: OrderSort, limit: int, cursor: str | None
) -> tuple[list[Order], str | None]:
    after = decode_cursor(sort, cursor) if cursor else None
    rows = list(
        uow.orders.page(
            **_where(filters),
            sort=sort.value,
            after=after,
            limit=limit + 1,
        )
    )
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(sort, rows[-1])


@requires(Role.VIEWER)
def list_orders(
    uow: UnitOfWork,
    actor: Actor,
    filters: OrderFilters | None = None,
    *,
    sort: OrderSort = OrderSort.CREATED_DESC,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> OrderPage:
    """One page of matching orders (keyset pagination; `cursor` from the previous page).

    Raises `ValidationFailed` for a limit outside 1..1000 or a cursor that is not ours.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit: must be between 1 and {MAX_LIMIT} (got {limit})")
    rows, next_cursor = _page(uow, filters or OrderFilters(), sort, limit, cursor)
    return OrderPage(items=[OrderRead.model_validate(o) for o in rows], next_cursor=next_cursor)


@requires(Role.VIEWER)
def iter_order_json(
    uow: UnitOfWork,
    actor: Actor,
    filters: OrderFilters | None = None,
    *,
    sort: OrderSort = OrderSort.CREATED_DESC,
    batch_size: int | None = None,
    fork: bool = True,
) -> Iterator[str]:
    """Every matching order as one line of JSON text that parses to exactly
    `OrderRead.model_dump(mode="json")` (DESIGN.md §6), for `orders list --all`.
    `fork=False` keeps SQLite in one process (`_sqlite_stream_in_two`).

    Keyset batches (default `STREAM_BATCH`) whose documents the database writes, each batch's
    items in one IN query: no ORM objects, no Pydantic and no `json.dumps` per order, so
    memory stays flat and a million orders stream in seconds. The role is checked when called.
    """
    filters = filters or OrderFilters()
    size = batch_size or STREAM_BATCH
    where = _where(filters)

    def stream() -> Iterator[str]:
        if uow.db.is_sqlite and fork and hasattr(os, "fork"):
            parallel = _sqlite_stream_in_two(uow, where, sort.value, size)
            if parallel is not None:
                yield from parallel
                return
        after: tuple[Any, int] | None = None
        while True:
            rows = uow.orders.order_rows(**where, sort=sort.value, after=after, limit=size)
            yield from uow.orders.with_items(rows.docs)
            if len(rows.docs) < size:
                return
            after = rows.last

    return stream()


def _order_pages(url: str, where: ListFilters, sort: str, size: int) -> Iterator[Any]:
    """Runs in the forked child of `_sqlite_stream_in_two`, on a connection of its own: first
    None once its read snapshot is taken, then each page of `order_rows`."""
    from orderctl.db import Database

    with UnitOfWork(Database(url), write=False) as child:
        child.orders.start_snapshot()
        yield None
        after: tuple[Any, int] | None = None
        while True:
            rows = child.orders.order_rows(**where, sort=sort, after=after, limit=size)
            yield rows
            if len(rows.docs) < size:
                return
            after = rows.last


def _sqlite_stream_in_two(
    uow: UnitOfWork, where: ListFilters, sort: str, size: int
) -> Iterator[str] | None:
    """SQLite: a forked child pages through the orders while this process adds each page's
    lines and writes, so the two queries run on two cores (~25 % faster, docs/performance.md).

    Both must read the same data, and two SQLite connections only do when their read
    transactions start while nobody can commit: the write lock is taken (without waiting)
    just while both start. None when it is busy (an import running): stream in one process.
    """
    if uow.db.engine.url.database in (None, "", ":memory:"):
        return None  # a second connection would open another, empty database
    pages = None
    try:
        with UnitOfWork(uow.db, wait=False) as lock:
            lock.session.connection()  # BEGIN IMMEDIATE, or DatabaseBusy at once
            uow.orders.start_snapshot()
            pages = iterate_in_child(lambda: _order_pages(uow.db.url, where, sort, size))
            next(pages)  # the child's snapshot is taken too
        # Leaving rolled the lock's transaction back: the write lock is free again.
    except DatabaseUnavailable:  # busy, or a read-only database file
        if pages is not None:
            pages.close()
        return None

    def stream() -> Iterator[str]:
        with closing(pages):
            for rows in pages:
                yield from uow.orders.with_items(rows.docs)

    return stream()


# ---- status ----


@requires(Role.OPERATOR)
def set_status(
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    new_status: OrderStatus,
    reason: str | None = None,
    *,
    at: datetime | None = None,
) -> OrderRead:
    """Move an order to `new_status` along `enums.TRANSITIONS` (compare-and-set).

    Cancelling gives tracked stock back; a refund does not. Records a status_changed event.
    `at` backdates the change (demo data); default now.
    Raises `NotFound`, `InvalidTransition` (naming the allowed statuses), `Conflict` when
    another writer changed the order first, `ValidationFailed` for a reason over the limit.
    """
    if reason is not None and len(reason) > NOTES_MAX:
        raise ValidationFailed(f"reason: must be at most {NOTES_MAX} characters")
    if reason is not None and "\x00" in reason:
        raise ValidationFailed("reason: must not contain NUL characters")
    order = _load(uow, order_id)
    current = OrderStatus(order.status)
    if new_status is current:
        raise InvalidTransition(f"order {order.id} is already {current.value}")
    allowed = TRANSITIONS[current]
    if new_status not in allowed:
        if not allowed:
            raise InvalidTransition(
                f"order {order.id} is {current.value}, a final status; it cannot change"
            )
        raise InvalidTransition(
            f"order {order.id} cannot go from {current.value} to {new_status.value}; "
            f"allowed: {', '.join(s.value for s in allowed)}"
        )
    when = at or clock.utcnow()
    if not uow.orders.compare_and_set_status(order.id, current.value, new_status.value, at=when):
        raise Conflict(
            f"order {order.id} was changed by someone else while you changed it; "
            "look at it again (`orderctl orders show`) and retry"
        )
    if new_status is OrderStatus.CANCELLED:
        for item in sorted(order.items, key=lambda line: line.product_id):
            uow.products.release_stock(item.product_id, item.quantity)
    uow.orders.add_event(
        OrderEvent(
            order_id=order.id,
            at=when,
            actor=actor.username,
            action=EventAction.STATUS_CHANGED.value,
            from_status=current.value,
            to_status=new_status.value,
            reason=reason or None,
        )
    )
    read = OrderRead.model_validate(order).model_copy(
        update={"status": new_status, "updated_at": when}
    )
    uow.commit()
    return read
