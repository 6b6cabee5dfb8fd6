"""`/api/customers`: list (keyset by email), show with order statistics, add (§4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from orderctl.api.deps import ReadUow, WriteUow, role_of
from orderctl.api.jsonbody import JsonRoute
from orderctl.api.params import search_query
from orderctl.schemas import CustomerCreate, CustomerDetail, CustomerRead
from orderctl.services import customers
from orderctl.services.access import Actor

router = APIRouter(route_class=JsonRoute, prefix="/api/customers", tags=["customers"])

MAX_LIMIT = 1000


class CustomerPage(BaseModel):
    """One page of customers by email; pass `next_cursor` as `cursor` for the next one."""

    items: list[CustomerRead]
    next_cursor: str | None


@router.get("", response_model=CustomerPage)
def list_customers(
    uow: ReadUow,
    actor: Annotated[Actor, role_of(customers.list_customers)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 30,
    cursor: Annotated[
        str | None, Query(max_length=254, description="`next_cursor` of the previous page.")
    ] = None,
    search: Annotated[
        str | None,
        search_query(
            "Only customers whose email or name contains this text (any case; "
            "3 characters or more)."
        ),
    ] = None,
) -> CustomerPage:
    """Customers ordered by email, a page at a time (keyset: no OFFSET)."""
    rows = customers.list_customers(uow, actor, after=cursor, limit=limit + 1, search=search)
    more = len(rows) > limit
    rows = rows[:limit]
    return CustomerPage(items=rows, next_cursor=rows[-1].email if more and rows else None)


@router.get("/{email:path}", response_model=CustomerDetail)
def get_customer(
    email: Annotated[str, Path(max_length=254)],
    uow: ReadUow,
    actor: Annotated[Actor, role_of(customers.get_customer)],
) -> CustomerDetail:
    """A customer with `order_count` and `total_spent` (paid, shipped, delivered orders)."""
    return customers.get_customer(uow, actor, email)


@router.post("", response_model=CustomerRead, status_code=201)
def add_customer(
    body: CustomerCreate,
    uow: WriteUow,
    actor: Annotated[Actor, role_of(customers.add_customer)],
) -> CustomerRead:
    """Add a customer (operator); the email is stored lower-cased; 409 when it exists."""
    return customers.add_customer(uow, actor, body)
