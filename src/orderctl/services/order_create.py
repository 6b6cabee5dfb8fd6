"""Creating an order (DESIGN.md §5, §13): `orders create` and `POST /api/orders`, one
service for both faces; reached through `services.orders`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
    answer, _, created = _create(uow, actor, data, default_currency)
    if isinstance(answer, str):
        return OrderRead.model_validate_json(answer), created
    return answer, created


@requires(Role.OPERATOR)
def create_order_document(
    uow: UnitOfWork, actor: Actor, data: OrderCreate, *, default_currency: str = "EUR"
) -> tuple[str, int, bool]:
    """Create a pending order; returns its JSON document (the document of
    `get_order_document`), its id and whether it was created (`POST /api/orders`).

    A new order's document is its read model, made from the rows just written (no read
    back: a statement cost more than the model); a replay's is the stored one.
    """
    answer, order_id, created = _create(uow, actor, data, default_currency)
    if isinstance(answer, str):
        return answer, order_id, created
    return answer.model_dump_json(), order_id, created


def _create(
    uow: UnitOfWork, actor: Actor, data: OrderCreate, default_currency: str
) -> tuple[OrderRead | str, int, bool]:
    """Create a pending order: the new order's read model (or a replay's stored document),
    its id and whether it was created.

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
    written = _insert(uow, actor, data, currency, total)
    if written is None:
        # A concurrent create committed the same external_ref first (PostgreSQL: our INSERT
        # waited for it, then skipped the row; nothing else was written yet). Look again,
        # now seeing the winner: the same content is a replay, other content a conflict.
        replay = _replay(uow, data, currency)
        if replay is not None:
            return *replay, False
        written = _insert(uow, actor, data, currency, total)  # the winner is gone again
        if written is None:
            raise Conflict(f"external_ref {data.external_ref!r} is being used; retry")
    order = _read_model(written, lines)
    _add_lines(uow, actor, order.id, lines, products)
    uow.commit()
    return order, order.id, True


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
) -> dict[str, Any] | None:
    """Write the order row (and its customer when new) and its `created` event; the order's
    values as written (with its `id` and its customer's `id`, `email`, `name`), or None when
    a concurrent create holds its external_ref (no order written).

    First in the transaction, before any stock row is locked: a create that waits here (for
    a concurrent create of the same ref or new customer) holds no product another waits for.
    """
    now = clock.utcnow()
    created_at = data.created_at or now
    customer = uow.customers.ensure(
        data.customer_email, data.customer_name, created_by=actor.username, at=now
    )
    values = {
        "external_ref": data.external_ref,
        "customer_id": customer.id,
        "status": OrderStatus.PENDING.value,
        "currency": currency,
        "total": total,
        **{name: getattr(data, name) or None for name in TEXT_FIELDS},
        "created_at": created_at,
        "updated_at": created_at,
        "created_by": actor.username,
    }
    order_id = uow.orders.insert(values)
    if order_id is None:
        return None
    uow.orders.add_event_row(
        {
            "order_id": order_id,
            "at": created_at,
            "actor": actor.username,
            "action": EventAction.CREATED.value,
            "to_status": OrderStatus.PENDING.value,
        }
    )
    customer_ref = {"id": customer.id, "email": data.customer_email, "name": customer.name}
    return {**values, "id": order_id, "customer": customer_ref}


def _read_model(written: dict[str, Any], lines: list[PricedLine]) -> OrderRead:
    """The read model of an order just written (`_insert`'s values and its priced lines):
    what `get_order_document` would read back, without the statement."""
    items = [
        {"sku": sku, "name": name, "quantity": quantity, "unit_price": price, "line_total": total}
        for _, sku, name, quantity, price, total in lines
    ]
    return OrderRead.model_validate({**written, "items": items})


def _add_lines(
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    priced: list[PricedLine],
    products: Mapping[str, CatalogProduct],
) -> None:
    """Write the order's lines, reserve stock and write a `reserve` movement per line that
    took stock; each line remembers what it reserved. Raises `InsufficientStock` (the
    caller's transaction is then rolled back whole, the order row with it).

    The lines come before the reservations: a reservation locks its product's row until the
    commit, and every other create of that product waits for it, so only the reservations,
    the ledger rows and the commit run while it is held. A line of a tracked product is
    written as reserving its quantity, and put right in the rare case that the product
    stopped tracking stock meanwhile.
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
