"""Customers: add, list (keyset by email) and show with order statistics (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from orderctl.enums import SPENDING_STATUSES, Role
from orderctl.errors import Conflict, NotFound
from orderctl.models import Customer
from orderctl.order_filters import search_text
from orderctl.schemas import CustomerCreate, CustomerDetail, CustomerRead, parse
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork

#: Rows fetched per keyset page when streaming every customer.
PAGE_SIZE = 500


@requires(Role.OPERATOR)
def add_customer(
    uow: UnitOfWork, actor: Actor, data: CustomerCreate | Mapping[str, Any]
) -> CustomerRead:
    """Add a customer; the email is stored lower-cased.

    Raises `ValidationFailed` (exit 6, checked after the role), `Conflict` (exit 6) when a
    customer has this email in any case.
    """
    if not isinstance(data, CustomerCreate):
        data = parse(CustomerCreate, data)
    if uow.customers.get_by_email(data.email) is not None:
        raise Conflict(f"customer {data.email!r} already exists")
    customer = uow.customers.add(
        Customer(email=data.email, name=data.name or None, created_by=actor.username)
    )
    read = CustomerRead.model_validate(customer)
    uow.commit()
    return read


@requires(Role.VIEWER)
def list_customers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    after: str | None = None,
    limit: int = 30,
    search: str | None = None,
) -> list[CustomerRead]:
    """One page of customers ordered by email, starting after the email `after`; with
    `search`, only those whose email or name holds it in any case (`order_filters.search_text`:
    raises `UsageError` under 3 characters, `ValidationFailed` for control characters)."""
    after = after.strip().lower() if after is not None else None
    search = search_text(search) if search is not None else None
    page = uow.customers.page(after=after, limit=limit, search=search)
    return [CustomerRead.model_validate(c) for c in page]


@requires(Role.VIEWER)
def iter_customers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    after: str | None = None,
    page_size: int | None = None,
    search: str | None = None,
) -> Iterator[CustomerRead]:
    """Every customer ordered by email (with `search`: as `list_customers`), fetched in keyset
    pages (constant memory). The search text is checked when called."""
    page_size = page_size or PAGE_SIZE
    cursor = after.strip().lower() if after is not None else None
    search = search_text(search) if search is not None else None
    return _iter_customers(uow, cursor, page_size, search)


def _iter_customers(
    uow: UnitOfWork, cursor: str | None, page_size: int, search: str | None
) -> Iterator[CustomerRead]:
    while True:
        page = uow.customers.page(after=cursor, limit=page_size, search=search)
        for customer in page:
            yield CustomerRead.model_validate(customer)
        if len(page) < page_size:
            return
        cursor = page[-1].email
        uow.customers.forget_loaded()


@requires(Role.VIEWER)
def get_customer(uow: UnitOfWork, actor: Actor, email: str) -> CustomerDetail:
    """A customer with `order_count` (all orders) and `total_spent` per currency (orders that
    are paid, shipped or delivered), from one aggregate query. Raises `NotFound` (exit 5)."""
    found = uow.customers.get_with_stats(email, [s.value for s in SPENDING_STATUSES])
    if found is None:
        raise NotFound(f"customer {email.strip()!r} not found")
    customer, count, spent = found
    base = CustomerRead.model_validate(customer)
    return CustomerDetail(**base.model_dump(), order_count=count, total_spent=spent)
