"""`/api/orders`: list (filters of §5, keyset cursor), create (idempotent), show, status, history.

`Idempotency-Key` and `external_ref` are one thing: a key given without an `external_ref` in
the body becomes the order's `external_ref`; both given must be equal (else 422). A retry with
the same key and the same content answers 200 with the stored order; other content is 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from orderctl.api.deps import ReadUow, WriteUow, role_of
from orderctl.api.jsonbody import JsonRoute
from orderctl.api.params import time_range
from orderctl.enums import OrderSort, OrderStatus
from orderctl.errors import ValidationFailed
from orderctl.order_filters import OrderFilters
from orderctl.parsing import parse_amount
from orderctl.schemas import (
    EventRead,
    ExternalRef,
    Notes,
    OrderCreate,
    OrderPageRead,
    OrderRead,
    parse,
)
from orderctl.services import order_listing, orders
from orderctl.services.access import Actor

router = APIRouter(route_class=JsonRoute, prefix="/orders", tags=["orders"])


class StatusChange(BaseModel):
    """`POST /api/orders/{id}/status`: the new status and, optionally, why."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: Notes | None = None


class _Key(BaseModel):
    """An `Idempotency-Key` header: the rules of `external_ref`."""

    key: ExternalRef


def _amount(value: str | None, *, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_amount(value)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: {exc}") from None


@router.get("", response_model=OrderPageRead)
def list_orders(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(order_listing.list_orders)],
    status: Annotated[
        list[OrderStatus] | None, Query(description="Only this status; repeat for several.")
    ] = None,
    customer: Annotated[str | None, Query(description="Only this customer's orders (email).")] = (
        None
    ),
    since: Annotated[
        str | None, Query(description="Created on or after (ISO date or datetime, UTC).")
    ] = None,
    until: Annotated[
        str | None,
        Query(description="Created before (a date: up to the end of that day; UTC)."),
    ] = None,
    min_total: Annotated[str | None, Query(description="Total at least this amount.")] = None,
    max_total: Annotated[str | None, Query(description="Total at most this amount.")] = None,
    sort: Annotated[OrderSort, Query(description="`-` means descending.")] = (
        OrderSort.CREATED_DESC
    ),
    limit: Annotated[int, Query(ge=1, le=order_listing.MAX_LIMIT)] = order_listing.DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="`next_cursor` of the previous page (same sort)."),
    ] = None,
) -> order_listing.OrderPage:
    """Orders, newest first by default; filters combine (AND). Keyset pages: follow
    `next_cursor` until it is null. Rows inserted while paging never cause duplicates or gaps
    among the rows that existed when the first page was read."""
    filters = OrderFilters(
        statuses=tuple(status or ()),
        customer_email=customer,
        **time_range(since, until),
        min_total=_amount(min_total, name="min_total"),
        max_total=_amount(max_total, name="max_total"),
    )
    return order_listing.list_orders(uow, actor, filters, sort=sort, limit=limit, cursor=cursor)


@router.post(
    "",
    response_model=OrderRead,
    status_code=201,
    responses={200: {"model": OrderRead, "description": "An idempotent retry: the stored order"}},
)
def create_order(
    request: Request,
    response: Response,
    body: OrderCreate,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(orders.create_order)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Becomes the order's external_ref (must equal it when both are given).",
        ),
    ] = None,
) -> OrderRead:
    """Create a pending order (201); a retry with the same key and content returns it (200)."""
    data = body
    if idempotency_key is not None:
        key: str = parse(_Key, {"key": idempotency_key}, where="Idempotency-Key").key
        if data.external_ref is None:
            data = data.model_copy(update={"external_ref": key})
        elif data.external_ref != key:
            raise ValidationFailed(
                "Idempotency-Key: differs from the body's external_ref (give one, or both equal)"
            )
    currency: str = request.app.state.default_currency
    order, created = orders.create_order(uow, actor, data, default_currency=currency)
    response.headers["Location"] = f"/api/orders/{order.id}"
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return order


@router.get("/ref/{external_ref:path}", response_model=OrderRead)
def get_order_by_ref(
    external_ref: Annotated[str, Path(max_length=100)],
    uow: ReadUow,
    actor: Annotated[Actor, role_of(orders.get_order)],
) -> OrderRead:
    """The order with this `external_ref` (or `Idempotency-Key`); slashes are allowed."""
    return orders.get_order(uow, actor, external_ref)


@router.get("/{order_id}", response_model=OrderRead)
def get_order(
    order_id: int, uow: ReadUow, actor: Annotated[Actor, role_of(orders.get_order)]
) -> OrderRead:
    """One order with its customer and lines (`orderctl orders show ID -o json`)."""
    return orders.get_order(uow, actor, order_id)


@router.post("/{order_id}/status", response_model=OrderRead)
def set_status(
    order_id: int,
    body: StatusChange,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(orders.set_status)],
) -> OrderRead:
    """Change the status along the allowed transitions (409 otherwise); cancelling restocks."""
    return orders.set_status(uow, actor, order_id, body.status, body.reason)


@router.get("/{order_id}/history", response_model=list[EventRead])
def history(
    order_id: int, uow: ReadUow, actor: Annotated[Actor, role_of(orders.order_history)]
) -> list[EventRead]:
    """The audit trail, oldest first: created, each status change, who, when, why."""
    return orders.order_history(uow, actor, order_id)
