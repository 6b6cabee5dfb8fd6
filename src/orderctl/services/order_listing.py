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
from functools import cached_property
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


@dataclass(frozen=True)
class OrderPage:
    """One page of orders: their documents as the JSON texts the database wrote (each the
    keys and values of `OrderRead.model_dump(mode="json")`, DESIGN.md §6) and the opaque
    cursor of the next page (None on the last page)."""

    texts: list[str]
    next_cursor: str | None

    @cached_property
    def items(self) -> list[dict[str, Any]]:
        """The documents parsed (`orders list`)."""
        return [json.loads(text) for text in self.texts]

    def json(self) -> str:
        """The page as the JSON text `{"items": [...], "next_cursor": ...}`, the documents
        spliced as written (`GET /api/orders`: nothing parsed, validated or encoded again)."""
        return f'{{"items":[{",".join(self.texts)}],"next_cursor":{json.dumps(self.next_cursor)}}}'


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
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit: must be between 1 and {MAX_LIMIT} (got {limit})")
    after = decode_cursor(sort, cursor) if cursor else None
    rows = uow.orders.page(
        filters or OrderFilters(), sort=sort.value, after=after, limit=limit, peek=True
    )
    next_cursor = encode_cursor(sort, rows.last) if rows.more and rows.last else None
    return OrderPage(uow.orders.with_items(rows.docs), next_cursor)


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
