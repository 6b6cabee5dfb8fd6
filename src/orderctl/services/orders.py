"""Orders: create, show, change status, history (DESIGN.md §5). Listing is in
`services.order_listing`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from orderctl import clock
from orderctl.enums import TRANSITIONS, EventAction, OrderStatus, Role, StockReason
from orderctl.errors import (
    Conflict,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from orderctl.models import Order, OrderEvent
from orderctl.order_content import TEXT_FIELDS, OrderContent, same_content
from orderctl.parsing import free_text
from orderctl.pricing import PricedLine, PricingProblem, price_lines
from orderctl.repositories.products import CatalogProduct
from orderctl.repositories.stock import movement
from orderctl.schemas import (
    NOTES_MAX,
    EventRead,
    OrderCreate,
    OrderRead,
)
from orderctl.services.access import Actor, requires
from orderctl.services.stock import release_reservations
from orderctl.services.uow import UnitOfWork
from orderctl.tables import ORDER_ID_MAX

# ---- create ----


def _same_content(order: Order, data: OrderCreate, currency: str) -> bool:
    """Whether a stored order is what `data` asks for (a retry of the same create)."""
    stored = OrderContent(
        customer_email=order.customer.email,
        currency=order.currency,
        texts=tuple(getattr(order, name) for name in TEXT_FIELDS),
        items={item.sku: (item.quantity, item.unit_price) for item in order.items},
    )
    wanted = OrderContent(
        customer_email=data.customer_email,
        currency=currency,
        texts=tuple(getattr(data, name) for name in TEXT_FIELDS),
        items={item.sku: (item.quantity, item.unit_price) for item in data.items},
    )
    return same_content(stored, wanted)


@requires(Role.OPERATOR)
def create_order(
    uow: UnitOfWork, actor: Actor, data: OrderCreate, *, default_currency: str = "EUR"
) -> tuple[OrderRead, bool]:
    """Create a pending order; returns it and whether it was created (as
    `create_order_document`, whose rules it follows)."""
    document, _, created = create_order_document(
        uow, actor, data, default_currency=default_currency
    )
    return OrderRead.model_validate_json(document), created


@requires(Role.OPERATOR)
def create_order_document(
    uow: UnitOfWork, actor: Actor, data: OrderCreate, *, default_currency: str = "EUR"
) -> tuple[str, int, bool]:
    """Create a pending order; returns its JSON document (written by the database, as
    `get_order_document`), its id and whether it was created (`POST /api/orders`).

    Prices come from the catalog (a line's `unit_price` overrides). A customer that does not
    exist is created. Tracked stock is reserved atomically, in ascending product id order.
    When `external_ref` exists already: the same content returns the stored order with
    created=False (idempotent retry); other content raises `Conflict`.

    A create that races another of the same external_ref (or of the same new customer) and
    loses at the unique index looks again and answers as above: callers need no retry.

    Raises `ValidationFailed` (unknown or inactive SKU, amounts beyond Numeric(12, 2), a
    status other than pending; `pricing.price_lines`), `Conflict`, `InsufficientStock`
    (naming the SKU); on any error nothing is committed (the caller's unit of work rolls
    the whole transaction back).
    """
    currency = data.currency or default_currency
    replay = _replay(uow, data, currency)
    if replay is not None:
        return *replay, False
    if data.status is not OrderStatus.PENDING:
        raise ValidationFailed(
            f"status: a new order is pending (got {data.status.value!r}); change it afterwards "
            "with `orderctl orders set-status`"
        )

    products = uow.products.catalog(item.sku for item in data.items)
    priced = price_lines([(i.sku, i.quantity, i.unit_price) for i in data.items], products)
    if isinstance(priced, PricingProblem):
        where = "" if priced.index is None else f"items.{priced.index}"
        raise ValidationFailed(priced.at(where))
    lines, total = priced
    order_id = _insert(uow, actor, data, currency, total)
    if order_id is None:
        # A concurrent create committed the same external_ref first (PostgreSQL: our INSERT
        # waited for it, then skipped the row; nothing else was written yet). Look again,
        # now seeing the winner: the same content is a replay, other content a conflict.
        replay = _replay(uow, data, currency)
        if replay is not None:
            return *replay, False
        order_id = _insert(uow, actor, data, currency, total)  # the winner is gone again
        if order_id is None:
            raise Conflict(f"external_ref {data.external_ref!r} is being used; retry")
    document = _add_lines(uow, actor, order_id, lines, products)
    uow.commit()
    return document, order_id, True


def _replay(uow: UnitOfWork, data: OrderCreate, currency: str) -> tuple[str, int] | None:
    """The stored order's document and id when `data` repeats its external_ref with the same
    content.

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
    document = uow.orders.document(order_id=existing.id)
    assert document is not None  # read above, in this transaction
    return document, existing.id


def _insert(
    uow: UnitOfWork, actor: Actor, data: OrderCreate, currency: str, total: Decimal
) -> int | None:
    """Write the order row (and its customer when new) and its `created` event; the order's
    id, or None when a concurrent create holds its external_ref (no order written).

    First in the transaction, before any stock row is locked: a create that waits here (for
    a concurrent create of the same ref or new customer) holds no product another waits for.
    """
    now = clock.utcnow()
    created_at = data.created_at or now
    customer_id = uow.customers.id_for(
        data.customer_email, data.customer_name, created_by=actor.username, at=now
    )
    order_id = uow.orders.insert(
        {
            "external_ref": data.external_ref,
            "customer_id": customer_id,
            "status": OrderStatus.PENDING.value,
            "currency": currency,
            "total": total,
            **{name: getattr(data, name) or None for name in TEXT_FIELDS},
            "created_at": created_at,
            "updated_at": created_at,
            "created_by": actor.username,
        }
    )
    if order_id is not None:
        uow.orders.add_event_row(
            {
                "order_id": order_id,
                "at": created_at,
                "actor": actor.username,
                "action": EventAction.CREATED.value,
                "to_status": OrderStatus.PENDING.value,
            }
        )
    return order_id


def _add_lines(
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    priced: list[PricedLine],
    products: Mapping[str, CatalogProduct],
) -> str:
    """Write the order's lines, reserve stock and write a `reserve` movement per line that
    took stock; each line remembers what it reserved. Returns the order's document. Raises
    `InsufficientStock` (the caller's transaction is then rolled back whole, the order row
    with it).

    The lines and the document come before the reservations: a reservation locks its
    product's row until the commit, and every other create of that product waits for it,
    so only the reservations, the ledger rows and the commit run while it is held. A line
    of a tracked product is written as reserving its quantity, and put right in the rare
    case that the product stopped tracking stock meanwhile.
    """
    tracked = {sku for sku, product in products.items() if product.stock is not None}
    uow.orders.add_lines(
        [
            {
                "order_id": order_id,
                "product_id": product_id,
                "sku": sku,
                "name": name,
                "quantity": quantity,
                "unit_price": price,
                "line_total": line_total,
                "reserved": quantity if sku in tracked else 0,
            }
            for product_id, sku, name, quantity, price, line_total in priced
        ]
    )
    document = uow.orders.document(order_id=order_id)
    assert document is not None  # written above, in this transaction
    reserved: list[tuple[int, int]] = []
    untracked: list[int] = []
    # Ascending product id: two orders sharing products lock them in the same order.
    # Products read as untracked (stock NULL) need no reservation.
    for product_id, sku, _, quantity, _, _ in sorted(priced, key=lambda line: line[0]):
        if sku not in tracked:
            continue
        taken = uow.products.reserve_stock(product_id, quantity)
        if taken is None:
            left = uow.products.stock_left(product_id)
            raise InsufficientStock(
                f"insufficient stock for {sku}: {left} left, {quantity} requested"
            )
        if taken:
            reserved.append((product_id, taken))
        else:
            untracked.append(product_id)
    if untracked:
        uow.orders.clear_reserved(order_id, untracked)
    now = clock.utcnow()
    uow.stock.add_movements(
        [
            movement(
                product_id, -taken, StockReason.RESERVE, actor.username, order_id=order_id, at=now
            )
            for product_id, taken in reserved
        ]
    )
    return document


# ---- read ----


#: An order named on a command line or in a URL: digits only are an id, anything else (or any
#: text with `by_ref=True`, the CLI's `--ref` and the API's `/ref/` routes) an external ref.
OrderKey = int | str
_DIGITS = re.compile(r"[0-9]+")


def _order_key(key: OrderKey, by_ref: bool) -> OrderKey:
    """The one rule naming an order (DESIGN.md §5): `"42"` is the id 42 unless `by_ref`."""
    if isinstance(key, str) and not by_ref and _DIGITS.fullmatch(key):
        return int(key)
    return key


def _missing(key: OrderKey) -> NotFound:
    """The `NotFound` for an order named by `key` (after `_order_key`)."""
    if isinstance(key, int):
        return NotFound(f"order {key} not found")
    return NotFound(f"order with external_ref {key!r} not found")


def _load(
    uow: UnitOfWork, key: OrderKey, *, by_ref: bool = False, with_events: bool = False
) -> Order:
    """The order named by `key` (`_order_key`). Raises `NotFound` naming the id or ref."""
    key = _order_key(key, by_ref)
    if isinstance(key, int):
        order = uow.orders.get(key, with_events=with_events) if 0 < key <= ORDER_ID_MAX else None
    else:
        order = uow.orders.get_by_external_ref(key, with_events=with_events)
    if order is None:
        raise _missing(key)
    return order


@requires(Role.VIEWER)
def get_order(uow: UnitOfWork, actor: Actor, key: OrderKey, *, by_ref: bool = False) -> OrderRead:
    """The order named by `key`: an id (an int, or digits) or an external ref (other text, or
    any text with `by_ref`). Raises `NotFound`."""
    return OrderRead.model_validate(_load(uow, key, by_ref=by_ref))


@requires(Role.VIEWER)
def get_order_document(
    uow: UnitOfWork, actor: Actor, key: OrderKey, *, by_ref: bool = False
) -> str:
    """The order named by `key` (as `get_order`) as JSON text, written by the database: the
    document of `orders list -o json`, equal to `get_order(...).model_dump(mode="json")`,
    without an ORM object or a model made on the way (the API's `GET /api/orders/{id}`).
    Raises `NotFound`."""
    key = _order_key(key, by_ref)
    if isinstance(key, int):
        doc = uow.orders.document(order_id=key) if 0 < key <= ORDER_ID_MAX else None
    else:
        doc = uow.orders.document(ref=key)
    if doc is None:
        raise _missing(key)
    return doc


@requires(Role.VIEWER)
def get_order_with_history(
    uow: UnitOfWork, actor: Actor, key: OrderKey, *, by_ref: bool = False
) -> tuple[OrderRead, list[EventRead]]:
    """The order named by `key` (as `get_order`) and its events, oldest first. Raises
    `NotFound`."""
    order = _load(uow, key, by_ref=by_ref, with_events=True)
    return OrderRead.model_validate(order), [EventRead.model_validate(e) for e in order.events]


@requires(Role.VIEWER)
def order_history(
    uow: UnitOfWork, actor: Actor, key: OrderKey, *, by_ref: bool = False
) -> list[EventRead]:
    """The audit trail of the order named by `key` (as `get_order`), oldest first. Raises
    `NotFound`."""
    key = _order_key(key, by_ref)
    if isinstance(key, str):
        key = _load(uow, key, by_ref=True).id
    elif not (0 < key <= ORDER_ID_MAX and uow.orders.exists(key)):
        raise NotFound(f"order {key} not found")
    return [EventRead.model_validate(event) for event in uow.orders.events(key)]


# ---- status ----


@requires(Role.OPERATOR)
def set_status(
    uow: UnitOfWork,
    actor: Actor,
    key: OrderKey,
    new_status: OrderStatus,
    reason: str | None = None,
    *,
    by_ref: bool = False,
    at: datetime | None = None,
) -> OrderRead:
    """Move the order named by `key` (an id or external ref, as `get_order`) to `new_status`
    along `enums.TRANSITIONS` (compare-and-set).

    Cancelling gives back exactly what the order reserved (DESIGN.md §13); a refund does
    not. Records a status_changed event.
    `at` backdates the change (demo data); default now.
    Raises `NotFound`, `InvalidTransition` (naming the allowed statuses), `Conflict` when
    another writer changed the order first, `ValidationFailed` for a reason over the limit
    or with control characters other than newline and tab.
    """
    if reason is not None and len(reason) > NOTES_MAX:
        raise ValidationFailed(f"reason: must be at most {NOTES_MAX} characters")
    if reason is not None:
        try:
            free_text(reason)
        except ValueError as exc:
            raise ValidationFailed(f"reason: {exc}") from None
    order = _load(uow, key, by_ref=by_ref)
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
        # The ledger records when stock really moved, even for a backdated change (demo data).
        release_reservations(
            uow, [order.id], actor=actor.username, at=clock.utcnow(), note=reason or None
        )
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
