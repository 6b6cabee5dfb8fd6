"""Orders: create, show, change status, history (DESIGN.md §5). Creating is in
`services.order_create` (re-exported here), listing in `services.order_listing`."""

from __future__ import annotations

import re
from datetime import datetime

from orderctl import clock
from orderctl.enums import TRANSITIONS, EventAction, OrderStatus, Role
from orderctl.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from orderctl.models import Order, OrderEvent
from orderctl.parsing import free_text
from orderctl.schemas import (
    NOTES_MAX,
    EventRead,
    OrderRead,
)
from orderctl.services.access import Actor, requires
from orderctl.services.order_create import create_order as create_order
from orderctl.services.order_create import create_order_document as create_order_document
from orderctl.services.stock import release_reservations
from orderctl.services.uow import UnitOfWork
from orderctl.tables import ORDER_ID_MAX

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
