"""Creating an order (DESIGN.md §5, §13): `orders create` and `POST /api/orders`, one
service for both faces; reached through `services.orders`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from orderctl import clock
from orderctl.enums import EventAction, OrderStatus, Role, StockReason
from orderctl.errors import Conflict, InsufficientStock, ValidationFailed
from orderctl.models import Order
from orderctl.order_content import TEXT_FIELDS, OrderContent, same_content
from orderctl.pricing import PricedLine, PricingProblem, price_lines
from orderctl.repositories.products import CatalogProduct
from orderctl.repositories.stock import movement
from orderctl.schemas import OrderCreate, OrderRead
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork


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
