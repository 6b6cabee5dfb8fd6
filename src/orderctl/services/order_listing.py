"""The order listing (DESIGN.md §5, §6): one keyset page (`orders list`, `GET /api/orders`)
or every match streamed (`orders list --all`), as the JSON documents the database writes.

The most run command, in scripts and loops: its path imports neither the ORM models nor
Pydantic (`repositories.order_listing` queries Core tables), which is about a fifth of its
start-up (docs/performance.md).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from orderctl.enums import OrderSort, OrderStatus, Role
from orderctl.errors import DatabaseUnavailable, ValidationFailed
from orderctl.forked import iterate_in_child
from orderctl.parsing import normalize_email, to_utc
from orderctl.repositories.order_listing import ListFilters
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
    "notes",
    "created_at",
    "updated_at",
    "customer.id",
    "customer.email",
    "customer.name",
    "items",
)


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """The filters of `orders list` and `GET /api/orders` (all optional, combined with AND).

    `since` is inclusive and `until` exclusive, both UTC. Made checked: the email is
    normalised and the times are in UTC; `ValidationFailed` (exit 6) names a bad field.
    """

    statuses: tuple[OrderStatus, ...] = ()
    customer_email: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None

    def __post_init__(self) -> None:
        try:
            statuses = tuple(OrderStatus(status) for status in self.statuses)
        except ValueError as exc:
            raise ValidationFailed(f"statuses: {exc}") from None
        object.__setattr__(self, "statuses", statuses)
        if self.customer_email is not None:
            try:
                object.__setattr__(self, "customer_email", normalize_email(self.customer_email))
            except ValueError as exc:
                raise ValidationFailed(f"customer_email: {exc}") from None
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, to_utc(value))
                except ValueError as exc:
                    raise ValidationFailed(f"{name}: {exc}") from None
        for name in ("min_total", "max_total"):
            value = getattr(self, name)
            if value is not None and not value.is_finite():
                raise ValidationFailed(f"{name}: must be a finite number")


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


def _where(filters: OrderFilters) -> ListFilters:
    """The filters as the keyword arguments of `OrderListingRepository.order_rows`."""
    return {
        "statuses": [status.value for status in filters.statuses],
        "customer_email": filters.customer_email,
        "since": filters.since,
        "until": filters.until,
        "min_total": filters.min_total,
        "max_total": filters.max_total,
    }


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
    rows = uow.listing.order_rows(
        **_where(filters or OrderFilters()), sort=sort.value, after=after, limit=limit, peek=True
    )
    docs = [json.loads(text) for text in uow.listing.with_items(rows.docs)]
    next_cursor = encode_cursor(sort, rows.last) if rows.more and rows.last else None
    return OrderPage(items=docs, next_cursor=next_cursor)


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
    `fork=False` keeps SQLite in one process (`_sqlite_stream_in_two`).

    Keyset batches (default `STREAM_BATCH`) whose documents the database writes, each batch's
    items in one IN query: no ORM objects, no Pydantic and no `json.dumps` per order, so
    memory stays flat and a million orders stream in seconds. The role is checked when called.
    """
    filters = filters or OrderFilters()
    size = batch_size or STREAM_BATCH
    where = _where(filters)

    def stream() -> Iterator[str]:
        if uow.db.is_sqlite and fork and hasattr(os, "fork"):
            parallel = _sqlite_stream_in_two(uow, where, sort.value, size)
            if parallel is not None:
                yield from parallel
                return
        after: tuple[Any, int] | None = None
        while True:
            rows = uow.listing.order_rows(**where, sort=sort.value, after=after, limit=size)
            yield from uow.listing.with_items(rows.docs)
            if len(rows.docs) < size:
                return
            after = rows.last

    return stream()


def _order_pages(url: str, where: ListFilters, sort: str, size: int) -> Iterator[Any]:
    """Runs in the forked child of `_sqlite_stream_in_two`, on a connection of its own: first
    None once its read snapshot is taken, then each page of `order_rows`."""
    from orderctl.db import Database

    with UnitOfWork(Database(url), write=False) as child:
        child.listing.start_snapshot()
        yield None
        after: tuple[Any, int] | None = None
        while True:
            rows = child.listing.order_rows(**where, sort=sort, after=after, limit=size)
            yield rows
            if len(rows.docs) < size:
                return
            after = rows.last


def _sqlite_stream_in_two(
    uow: UnitOfWork, where: ListFilters, sort: str, size: int
) -> Iterator[str] | None:
    """SQLite: a forked child pages through the orders while this process adds each page's
    lines and writes, so the two queries run on two cores (~25 % faster, docs/performance.md).

    Both must read the same data, and two SQLite connections only do when their read
    transactions start while nobody can commit: the write lock is taken (without waiting)
    just while both start. None when it is busy (an import running): stream in one process.
    """
    if uow.db.engine.url.database in (None, "", ":memory:"):
        return None  # a second connection would open another, empty database
    pages = None
    try:
        with UnitOfWork(uow.db, wait=False) as lock:
            lock.session.connection()  # BEGIN IMMEDIATE, or DatabaseBusy at once
            uow.listing.start_snapshot()
            pages = iterate_in_child(lambda: _order_pages(uow.db.url, where, sort, size))
            next(pages)  # the child's snapshot is taken too
        # Leaving rolled the lock's transaction back: the write lock is free again.
    except DatabaseUnavailable:  # busy, or a read-only database file
        if pages is not None:
            pages.close()
        return None

    def stream() -> Iterator[str]:
        with closing(pages):
            for rows in pages:
                yield from uow.listing.with_items(rows.docs)

    return stream()
