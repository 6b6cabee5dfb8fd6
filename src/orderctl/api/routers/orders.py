"""`/api/orders`: list (filters of §5, keyset cursor), export (JSON lines, §14), create
(idempotent), show, status, history.

`Idempotency-Key` and `external_ref` are one thing: a key given without an `external_ref` in
the body becomes the order's `external_ref`; both given must be equal (else 422). A retry with
the same key and the same content answers 200 with the stored order; other content is 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from orderctl.api.deps import ReadUow, StreamUow, WriteUow, role_of
from orderctl.api.jsonbody import JsonRoute
from orderctl.api.params import amount_query, email_query, search_query, when_query
from orderctl.enums import OrderSort, OrderStatus
from orderctl.errors import ValidationFailed
from orderctl.order_filters import OrderFilters, parse_filters
from orderctl.schemas import (
    EventRead,
    ExternalRef,
    Notes,
    OrderCreate,
    OrderPageRead,
    OrderRead,
    parse,
)
from orderctl.services import order_export, order_listing, orders
from orderctl.services.access import Actor

router = APIRouter(route_class=JsonRoute, prefix="/api/orders", tags=["orders"])


def _json(text: str, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer sent as written: the documents come as JSON text from the database or
    from the service's read model, so FastAPI's response validation and encoding are skipped
    (the route's `response_model` still describes it in the OpenAPI document)."""
    return Response(text, status_code=status_code, headers=headers, media_type="application/json")


class StatusChange(BaseModel):
    """`POST /api/orders/{id_or_ref}/status`: the new status and, optionally, why."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: Notes | None = None


class _Key(BaseModel):
    """An `Idempotency-Key` header: the rules of `external_ref`."""

    key: ExternalRef


def order_filters(
    status: Annotated[
        list[OrderStatus] | None, Query(description="Only this status; repeat for several.")
    ] = None,
    customer: Annotated[str | None, email_query("Only this customer's orders (email).")] = None,
    since: Annotated[
        str | None,
        when_query(
            "Created on or after: an ISO date or datetime (UTC), `90m`, `24h`, `7d` ago, "
            "`today` or `yesterday`."
        ),
    ] = None,
    until: Annotated[
        str | None,
        when_query(
            "Created before (a date, `today` or `yesterday`: up to the end of that UTC day)."
        ),
    ] = None,
    min_total: Annotated[str | None, amount_query("Total at least this amount.")] = None,
    max_total: Annotated[str | None, amount_query("Total at most this amount.")] = None,
    search: Annotated[
        str | None,
        search_query(
            "The customer's email or name, or the external ref, contains this text "
            "(any case; 3 characters or more)."
        ),
    ] = None,
    sku: Annotated[
        str | None, Query(max_length=1000, description="Only orders with a line of this SKU.")
    ] = None,
) -> OrderFilters:
    """The filters of `GET /api/orders` and `GET /api/orders/export` (one definition)."""
    return parse_filters(
        statuses=status,
        customer=customer,
        since=since,
        until=until,
        min_total=min_total,
        max_total=max_total,
        search=search,
        sku=sku,
    )


Filters = Annotated[OrderFilters, Depends(order_filters)]


@router.get("", response_model=OrderPageRead)
def list_orders(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(order_listing.list_orders)],
    filters: Filters,
    sort: Annotated[OrderSort, Query(description="`-` means descending.")] = (
        OrderSort.CREATED_DESC
    ),
    limit: Annotated[int, Query(ge=1, le=order_listing.MAX_LIMIT)] = order_listing.DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="`next_cursor` of the previous page (same sort)."),
    ] = None,
) -> Response:
    """Orders, newest first by default; filters combine (AND). Keyset pages: follow
    `next_cursor` until it is null. Rows inserted while paging never cause duplicates or gaps
    among the rows that existed when the first page was read."""
    page = order_listing.list_orders(uow, actor, filters, sort=sort, limit=limit, cursor=cursor)
    return _json(page.json())


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One order per line in the JSONL import format (docs/export.md)",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
def export_orders(
    uow: StreamUow,
    actor: Annotated[Actor, role_of(order_export.export_orders)],
    filters: Filters,
) -> StreamingResponse:
    """The matching orders as JSON lines in the import format, oldest first, streamed:
    `orderctl orders export` over HTTP (`orderctl import orders FILE.jsonl` reads it back)."""
    # fork=False: a forked reader is no thing to start inside a threaded server.
    lines = order_export.export_orders(uow, actor, filters, fmt="jsonl", fork=False)
    return StreamingResponse(lines, media_type="application/x-ndjson")


@router.post(
    "",
    response_model=OrderRead,
    status_code=201,
    responses={200: {"model": OrderRead, "description": "An idempotent retry: the stored order"}},
)
def create_order(
    request: Request,
    body: OrderCreate,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(orders.create_order_document)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Becomes the order's external_ref (must equal it when both are given).",
        ),
    ] = None,
) -> Response:
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
    document, order_id, created = orders.create_order_document(
        uow, actor, data, default_currency=currency
    )
    headers = {"Location": f"/api/orders/{order_id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return _json(document, status_code=201 if created else 200, headers=headers)


#: `/{id_or_ref}`: one path segment, digits only = an id, else an external ref
#: (percent-encoded: spaces, `%`, unicode). `/ref/{external_ref}`: always a ref, which may
#: then hold `/` or be all digits. The rule is the CLI's, applied by `services.orders`.
IdOrRef = Annotated[
    str,
    Path(
        description="Digits only: an order id; anything else: an external ref "
        "(percent-encoded; a ref with `/` or of digits only goes under `/ref/`)."
    ),
]
ExternalRefPath = Annotated[
    str, Path(max_length=100, description="An external ref (or `Idempotency-Key`); may hold `/`.")
]


@router.get("/ref/{external_ref:path}/history", response_model=list[EventRead])
def history_by_ref(
    external_ref: ExternalRefPath,
    uow: ReadUow,
    actor: Annotated[Actor, role_of(orders.order_history)],
) -> list[EventRead]:
    """The audit trail of the order with this `external_ref`, oldest first."""
    return orders.order_history(uow, actor, external_ref, by_ref=True)


@router.post("/ref/{external_ref:path}/status", response_model=OrderRead)
def set_status_by_ref(
    external_ref: ExternalRefPath,
    body: StatusChange,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(orders.set_status)],
) -> OrderRead:
    """Change the status of the order with this `external_ref` (as `POST /{id_or_ref}/status`)."""
    return orders.set_status(uow, actor, external_ref, body.status, body.reason, by_ref=True)


@router.get("/ref/{external_ref:path}", response_model=OrderRead)
def get_order_by_ref(
    external_ref: ExternalRefPath,
    uow: ReadUow,
    actor: Annotated[Actor, role_of(orders.get_order_document)],
) -> Response:
    """The order with this `external_ref` (or `Idempotency-Key`); slashes are allowed."""
    return _json(orders.get_order_document(uow, actor, external_ref, by_ref=True))


@router.get("/{id_or_ref}", response_model=OrderRead)
def get_order(
    id_or_ref: IdOrRef, uow: ReadUow, actor: Annotated[Actor, role_of(orders.get_order_document)]
) -> Response:
    """One order with its customer and lines (`orderctl orders show ID_OR_EXTERNAL_REF -o json`)."""
    return _json(orders.get_order_document(uow, actor, id_or_ref))


@router.post("/{id_or_ref}/status", response_model=OrderRead)
def set_status(
    id_or_ref: IdOrRef,
    body: StatusChange,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(orders.set_status)],
) -> OrderRead:
    """Change the status along the allowed transitions (409 otherwise); cancelling restocks."""
    return orders.set_status(uow, actor, id_or_ref, body.status, body.reason)


@router.get("/{id_or_ref}/history", response_model=list[EventRead])
def history(
    id_or_ref: IdOrRef, uow: ReadUow, actor: Annotated[Actor, role_of(orders.order_history)]
) -> list[EventRead]:
    """The audit trail, oldest first: created, each status change, who, when, why."""
    return orders.order_history(uow, actor, id_or_ref)
