"""`INSERT … ON CONFLICT (column) DO NOTHING RETURNING …`, built once per dialect and table.

A writer that may race another for a unique key (a new customer's email, an order's
external_ref) inserts with this and gets no row back when the other committed first: the
insert is skipped rather than failed (PostgreSQL waits for the other transaction, then
skips), so the transaction goes on without a savepoint and can read the winner's row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table

_BUILT: dict[tuple[str, str, str], Any] = {}


def insert_or_skip(dialect: str, table: Table, key: Column[Any], returning: Column[Any]) -> Any:
    """The insert into `table` that skips a row whose `key` (a unique column) is taken,
    returning `returning` of a row written."""
    built_key = (dialect, table.name, key.name)
    stmt = _BUILT.get(built_key)
    if stmt is None:
        if dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
        else:
            from sqlalchemy.dialects import postgresql

            stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
        stmt = _BUILT[built_key] = stmt.returning(returning)
    return stmt
