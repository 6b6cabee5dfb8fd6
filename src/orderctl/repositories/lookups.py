"""Prefix look-ups for shell completion, as Core queries on `orderctl.tables`.

Each value kind is one unique (so b-tree indexed) column. A prefix is matched as the range
`col >= :prefix AND col < :next` rather than with LIKE: the range walks the unique index on
both backends, where LIKE uses an index on neither (SQLite's is case-insensitive by default,
PostgreSQL's needs a `text_pattern_ops` index outside the C collation).
"""

from __future__ import annotations

import sys

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from orderctl.enums import LookupKind
from orderctl.tables import customers, orders, products, users

COLUMNS = {
    LookupKind.SKU: products.c.sku,
    LookupKind.REF: orders.c.external_ref,
    LookupKind.EMAIL: customers.c.email,
    LookupKind.USERNAME: users.c.username,
}


def prefix_range(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range a b-tree index answers."""
    cut = prefix.rstrip(chr(sys.maxunicode))  # the last character that can be raised
    if not cut:
        return column >= prefix
    upper = cut[:-1] + chr(ord(cut[-1]) + 1)
    return (column >= prefix) & (column < upper)


class LookupRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def starting_with(self, kind: LookupKind, prefix: str, limit: int) -> list[str]:
        """Up to `limit` stored values of `kind` that start with `prefix`, in index order
        (one query)."""
        # The database's collation may order a few other values into the range: keep the
        # values that really start with the prefix.
        rows = self.session.scalars(query(kind, prefix, limit))
        return [value for value in rows if value.startswith(prefix)]


def query(kind: LookupKind, prefix: str, limit: int) -> Select[str]:
    """The look-up of `starting_with`: a walk of the column's unique index from the prefix."""
    column = COLUMNS[kind]
    stmt = select(column).where(column.is_not(None)).order_by(column).limit(limit)
    return stmt.where(prefix_range(column, prefix)) if prefix else stmt
