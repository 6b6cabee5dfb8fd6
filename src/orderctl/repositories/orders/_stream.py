"""Every matching order streamed as text (`orders list --all`, `orders export`), in keyset
batches.

On SQLite a forked child pages through the orders while this process adds each page's items
and writes, so the two queries run on two cores (~25 % faster, docs/performance.md,
*Streaming*). Both must read the same data, and two SQLite connections only do when their
read transactions start while nobody can commit: the write lock is taken (without waiting)
just while both start. When it is busy (an import running) or the file is read-only, the
stream runs in one process, as it always does on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from typing import Any

from orderctl.db import Database, new_session, translate_errors
from orderctl.errors import DatabaseUnavailable
from orderctl.forked import iterate_in_child
from orderctl.order_filters import OrderFilters
from orderctl.repositories.orders._documents import OrderDocuments, OrderRows
from orderctl.repositories.orders._shapes import Shape
from orderctl.repositories.transaction import OfSession


def stream(
    db: Database,
    documents: OrderDocuments,
    filters: OrderFilters,
    *,
    sort: str,
    size: int,
    fork: bool,
    shape: Shape,
) -> Iterator[str]:
    """Every matching order as its text in `shape`, `size` orders per keyset batch."""
    if db.is_sqlite and fork and hasattr(os, "fork"):
        parallel = _sqlite_stream_in_two(db, documents, filters, sort, size, shape)
        if parallel is not None:
            yield from parallel
            return
    after: tuple[Any, int] | None = None
    while True:
        rows = documents.order_rows(filters, sort=sort, after=after, limit=size, shape=shape)
        yield from documents.with_items(rows.docs, shape)
        if len(rows.docs) < size:
            return
        after = rows.last


def _order_pages(
    url: str, filters: OrderFilters, sort: str, size: int, shape: Shape
) -> Iterator[OrderRows | None]:
    """Runs in the forked child of `_sqlite_stream_in_two`, on a connection of its own: first
    None once its read snapshot is taken, then each page of `order_rows`."""
    session = new_session(Database(url), write=False)
    try:
        with translate_errors():
            child = OrderDocuments(OfSession(session))
            child.start_snapshot()
            yield None
            after: tuple[Any, int] | None = None
            while True:
                rows = child.order_rows(filters, sort=sort, after=after, limit=size, shape=shape)
                yield rows
                if len(rows.docs) < size:
                    return
                after = rows.last
    finally:
        session.close()


def _sqlite_stream_in_two(
    db: Database,
    documents: OrderDocuments,
    filters: OrderFilters,
    sort: str,
    size: int,
    shape: Shape,
) -> Iterator[str] | None:
    """The two-process stream, or None when the write lock is busy (stream in one process)."""
    if db.engine.url.database in (None, "", ":memory:"):
        return None  # a second connection would open another, empty database
    pages = None
    lock = new_session(db, write=True, wait=False)
    try:
        with translate_errors(db):
            lock.connection()  # BEGIN IMMEDIATE, or DatabaseBusy at once
            documents.start_snapshot()
            pages = iterate_in_child(lambda: _order_pages(db.url, filters, sort, size, shape))
            next(pages)  # the child's snapshot is taken too
    except DatabaseUnavailable:  # busy, or a read-only database file
        if pages is not None:
            pages.close()
        return None
    finally:
        lock.rollback()  # the write lock is free again
        lock.close()

    def batches() -> Iterator[str]:
        with closing(pages):
            for rows in pages:
                assert rows is not None  # only the first item, taken above, is None
                yield from documents.with_items(rows.docs, shape)

    return batches()
