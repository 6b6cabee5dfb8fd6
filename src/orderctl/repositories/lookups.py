"""Prefix look-ups for shell completion, as Core queries on `orderctl.tables`.

Each value kind is one unique (so b-tree indexed) column (`lookup_rules.COLUMNS`). A prefix is
matched as the range `col >= :prefix AND col < :next` rather than with LIKE: the range walks
the unique index on both backends, where LIKE uses an index on neither (SQLite's is
case-insensitive by default, PostgreSQL's needs a `text_pattern_ops` index outside the C
collation).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from orderctl.enums import LookupKind
from orderctl.lookup_rules import COLUMNS, prefix_bounds, starting_with
from orderctl.tables import metadata


def prefix_range(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range a b-tree index answers."""
    low, high = prefix_bounds(prefix)
    return column >= low if high is None else (column >= low) & (column < high)


class LookupRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def starting_with(self, kind: LookupKind, prefix: str, limit: int) -> list[str]:
        """Up to `limit` stored values of `kind` that start with `prefix`, in index order
        (one query)."""
        return starting_with(self.session.scalars(query(kind, prefix, limit)), prefix)


def query(kind: LookupKind, prefix: str, limit: int) -> Select[str]:
    """The look-up of `starting_with`: a walk of the column's unique index from the prefix."""
    table, name = COLUMNS[kind]
    column = metadata.tables[table].c[name]
    stmt = select(column).where(column.is_not(None)).order_by(column).limit(limit)
    return stmt.where(prefix_range(column, prefix)) if prefix else stmt
