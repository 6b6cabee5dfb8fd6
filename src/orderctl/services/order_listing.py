"""The order listing (DESIGN.md §5, §6): one keyset page (`orders list`, `GET /api/orders`)
or every match streamed (`orders list --all`), as the JSON documents the database writes.

The most run command, in scripts and loops: its path imports neither the ORM models nor
Pydantic (`OrderRepository.page`/`.stream` query Core tables), which is about a fifth of its
start-up (docs/performance.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from orderctl.enums import OrderSort, Role
from orderctl.errors import ValidationFailed
from orderctl.order_content import TEXT_FIELDS
from orderctl.order_filters import OrderFilters
from orderctl.services.access import Actor, requires
from orderctl.services.uow import UnitOfWork
from orderctl.tables import MONEY_MAX, ORDER_ID_MAX

DEFAULT_LIMIT = 30
MAX_LIMIT = 1000
#: Orders per keyset batch when streaming every match (`orders list --all`). 2,000 streams as
#: fast as 5,000 on PostgreSQL and ~10 % faster on SQLite, and keeps the peak RSS flat: with
#: 5,000, PostgreSQL's larger results grew the heap over the first ~80 batches (75 MB at 200k
#: orders, 85 MB at 1M; 65 MB at both with 2,000). docs/performance.md, *Streaming*.
STREAM_BATCH = 2000
#: The fields of a listed order's document, flattened as `-o csv` prints them (the header of
#: an empty list; tests check it against `OrderRead`, which this path does not import).
DOCUMENT_FIELDS = (
    "id",
    "external_ref",
    "status",
    "currency",
    "total",
    *TEXT_FIELDS,
    "created_at",
    "updated_at",
    "customer.id",
    "customer.email",
    "customer.name",
    "items",
)


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of orders as documents (`OrderRead.model_dump(mode="json")`, DESIGN.md §6)
    and the opaque cursor of the next page (None on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(sort: OrderSort, last: tuple[Any, int]) -> str:
    """An opaque cursor: the sort and the last row's (sort key, id), base64url JSON."""
    key, order_id = last
    text = key.isoformat() if isinstance(key, datetime) else str(key)
    raw = json.dumps([sort.value, text, order_id], separators=(",", ":")).encode()
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
        if type(order_id) is not int or not 0 < order_id <= ORDER_ID_MAX:
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
    """One page of matching orders (keyset pagination; `cursor` from the previous page), with
    their items: two queries whatever the page size.

    Raises `ValidationFailed` for a limit outside 1..1000 or a cursor that is not ours.
    """
    texts, next_cursor = _page(uow, filters, sort=sort, limit=limit, cursor=cursor)
    return OrderPage(items=[json.loads(text) for text in texts], next_cursor=next_cursor)


@requires(Role.VIEWER)
def list_orders_json(
    uow: UnitOfWork,
    actor: Actor,
    filters: OrderFilters | None = None,
    *,
    sort: OrderSort = OrderSort.CREATED_DESC,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> str:
    """The page of `list_orders` as the JSON text `{"items": [...], "next_cursor": ...}`,
    the documents spliced as the database wrote them (`GET /api/orders`: nothing parsed,
    validated or encoded again per order). Raises as `list_orders`."""
    texts, next_cursor = _page(uow, filters, sort=sort, limit=limit, cursor=cursor)
    return f'{{"items":[{",".join(texts)}],"next_cursor":{json.dumps(next_cursor)}}}'


def _page(
    uow: UnitOfWork,
    filters: OrderFilters | None,
    *,
    sort: OrderSort,
    limit: int,
    cursor: str | None,
) -> tuple[list[str], str | None]:
    """The documents of one page (JSON texts) and the next page's cursor."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit: must be between 1 and {MAX_LIMIT} (got {limit})")
    after = decode_cursor(sort, cursor) if cursor else None
    rows = uow.orders.page(
        filters or OrderFilters(), sort=sort.value, after=after, limit=limit, peek=True
    )
    next_cursor = encode_cursor(sort, rows.last) if rows.more and rows.last else None
    return uow.orders.with_items(rows.docs), next_cursor


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
    `fork=False` keeps SQLite in one process (see `OrderRepository.stream`).

    Keyset batches (default `STREAM_BATCH`) whose documents the database writes, each batch's
    items in one IN query: no ORM objects, no Pydantic and no `json.dumps` per order, so
    memory stays flat and a million orders stream in seconds. The role is checked when called;
    the orders are read when iterated.
    """
    return uow.orders.stream(
        filters or OrderFilters(), sort=sort.value, batch_size=batch_size or STREAM_BATCH, fork=fork
    )
