"""`db copy`'s storage side (DESIGN.md §14): every table of `tables.metadata`, in foreign-key
order, from one database into another, and a checksum per table that is the same on SQLite
and PostgreSQL for the same data.

The tables come from the metadata (`sorted_tables`), never from a list written here, so a
table or column added to `tables.py` is copied without an edit. Each source table is read in
primary-key order through a streaming cursor, in batches written to the target with one
`executemany` each: memory holds one batch whatever the size. The whole copy is one
transaction on the target (and one snapshot of the source), so a copy that dies leaves the
target as it was (docs/database.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, inspect, select, text

from orderctl.db import Database, translate_errors
from orderctl.tables import metadata

#: Rows per batch read from the source and written to the target.
BATCH = 2000


def copied_tables() -> list[Table]:
    """The tables `db copy` moves, parents before children."""
    return list(metadata.sorted_tables)


@dataclass
class TableSum:
    """A table's row count and the SHA-256 of its rows' normalised values in key order."""

    rows: int = 0
    _hash: Any = field(default_factory=hashlib.sha256, repr=False)

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows += 1
        line = json.dumps([_normal(value) for value in row], ensure_ascii=False, default=str)
        self._hash.update(line.encode("utf-8", "surrogatepass") + b"\n")

    @property
    def checksum(self) -> str:
        digest: str = self._hash.hexdigest()
        return digest


def _normal(value: Any) -> Any:
    """One value as both backends give it back alike: times in UTC ISO 8601, numbers of a
    `Numeric` column without their trailing zeros (`12.50` and `12.5` are one price)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return value


def tables_with_rows(db: Database) -> list[str]:
    """The tables of `tables.metadata` that exist in `db` and hold at least one row."""
    with translate_errors(db), db.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return [
            table.name
            for table in copied_tables()
            if table.name in present
            and conn.execute(select(text("1")).select_from(table).limit(1)).first() is not None
        ]


def foreign_tables(db: Database) -> list[str]:
    """Tables of `db` that are neither orderctl's nor Alembic's (a database of something else)."""
    with translate_errors(db), db.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    return sorted(names - {t.name for t in copied_tables()} - {"alembic_version"})


def _portable(table: Table) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A row of `table` with its server-local columns (`info["copy_as"]`, e.g. the events'
    transaction ids) given their portable value: what is written to the target and summed."""
    local = [(i, c.info["copy_as"]) for i, c in enumerate(table.columns) if "copy_as" in c.info]
    if not local:
        return tuple

    def portable(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i, value in local:
            values[i] = value
        return tuple(values)

    return portable


def _ordered(table: Table) -> Any:
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def _rows(conn: Connection, table: Table, batch: int) -> Iterator[list[tuple[Any, ...]]]:
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(_ordered(table))
    portable = _portable(table)
    for part in result.partitions(batch):
        yield [portable(tuple(row)) for row in part]


def copy_tables(
    source: Database,
    target: Database,
    *,
    batch: int = BATCH,
    on_table: Callable[[str], None] | None = None,
) -> dict[str, TableSum]:
    """Copy every table into `target` (already migrated and empty) in one transaction, from
    one snapshot of `source`; returns each table's sum as read from the source."""
    sums: dict[str, TableSum] = {}
    reading = source.engine
    if not source.is_sqlite:  # one snapshot for every table (SQLite's read transaction is one)
        reading = reading.execution_options(isolation_level="REPEATABLE READ")
    writing = target.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    with translate_errors(target), writing.connect() as dst, dst.begin():
        with translate_errors(source), reading.connect() as src, src.begin():
            for table in copied_tables():
                if on_table is not None:
                    on_table(table.name)
                names = [column.name for column in table.columns]
                total = sums[table.name] = TableSum()
                for rows in _rows(src, table, batch):
                    for row in rows:
                        total.add(row)
                    dst.execute(
                        table.insert(), [dict(zip(names, row, strict=True)) for row in rows]
                    )
        if not target.is_sqlite:
            _advance_sequences(dst)
    return sums


def _advance_sequences(conn: Connection) -> None:
    """Set each serial column's sequence past the largest copied value, so the next row the
    target makes gets a new id (SQLite needs nothing: it takes max(id) + 1)."""
    quote = conn.dialect.identifier_preparer.quote
    for table in copied_tables():
        for column in table.primary_key.columns:
            sequence = conn.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote(table.name), "column": column.name},
            )
            if sequence is None:
                continue
            conn.execute(
                text(f"SELECT setval(:seq, max({quote(column.name)})) FROM {quote(table.name)} "
                     f"HAVING max({quote(column.name)}) IS NOT NULL"),
                {"seq": sequence},
            )  # fmt: skip


def table_sums(db: Database, *, batch: int = BATCH) -> dict[str, TableSum]:
    """Each table's sum, read in key order in one snapshot (the target's side of the check)."""
    sums: dict[str, TableSum] = {}
    engine = db.engine
    if not db.is_sqlite:
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with translate_errors(db), engine.connect() as conn, conn.begin():
        for table in copied_tables():
            total = sums[table.name] = TableSum()
            for rows in _rows(conn, table, batch):
                for row in rows:
                    total.add(row)
    return sums


def same_database(a: Database, b: Database) -> bool:
    """Whether two URLs name one database: one SQLite file, or one PostgreSQL database on
    one host and port (the user and password aside)."""
    if a.is_sqlite != b.is_sqlite:
        return False
    if a.is_sqlite:
        file_a, file_b = a.sqlite_file, b.sqlite_file
        if file_a is None or file_b is None:
            return a.url == b.url
        return file_a.resolve() == file_b.resolve()
    url_a, url_b = a.engine.url, b.engine.url
    return (url_a.host or "localhost", url_a.port or 5432, url_a.database) == (
        url_b.host or "localhost",
        url_b.port or 5432,
        url_b.database,
    )
