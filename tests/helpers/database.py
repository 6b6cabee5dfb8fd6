"""The test database seen from outside the code under test: a snapshot of every stored value,
locks held by another connection, and the SQL statements a block runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, text

from orderctl.db import Database
from orderctl.services.uow import UnitOfWork
from orderctl.tables import metadata

#: Bookkeeping that every authenticated command may write (the token check touches it at
#: most once a minute); "the database is unchanged" means every other stored value.
TOKEN_BOOKKEEPING = {("api_tokens", "last_used_at")}


def database_snapshot(
    database: Database, *, portable: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema (`tables.metadata`, so a table added later is
    covered too), in primary key order: compare it before and after a command that must
    write nothing. `portable=True` leaves out server-local columns (`info["copy_as"]`, the
    events' transaction ids), to compare two databases."""
    contents: dict[str, list[tuple[Any, ...]]] = {}
    with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if (table.name, c.name) not in TOKEN_BOOKKEEPING
                and not (portable and "copy_as" in c.info)
            ]
            stmt = select(*columns).order_by(*table.primary_key.columns)
            contents[table.name] = [tuple(row) for row in conn.execute(stmt)]
    return contents


def rows(database: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of one SQL query, as tuples."""
    with database.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def stock_ledger(database: Database) -> dict[str, tuple[int | None, int]]:
    """{sku: (stock, sum of its stock movements)} of every product: equal when the ledger
    accounts for every stock change of a tracked product."""
    return {
        sku: (stock, int(total))
        for sku, stock, total in rows(
            database,
            "SELECT p.sku, p.stock, COALESCE((SELECT SUM(m.quantity) FROM stock_movements m "
            "WHERE m.product_id = p.id), 0) FROM products p ORDER BY p.sku",
        )
    }


def snapshot_column(
    snapshot: dict[str, list[tuple[Any, ...]]], table: str, column: str
) -> list[Any]:
    """One column of one table of a `database_snapshot`, row by row."""
    names = [
        c.name for c in metadata.tables[table].columns if (table, c.name) not in TOKEN_BOOKKEEPING
    ]
    at = names.index(column)
    return [row[at] for row in snapshot[table]]


@dataclass(frozen=True)
class StoredToken:
    """An API token row as stored, with its owner's name."""

    id: int
    name: str
    user: str
    token_hash: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def tokens_in_db(database: Database) -> list[StoredToken]:
    """Every stored API token, of every user."""
    with UnitOfWork(database, write=False) as u:
        return [
            StoredToken(
                t.id,
                t.name,
                t.user.username,
                t.token_hash,
                t.created_at,
                t.expires_at,
                t.last_used_at,
                t.revoked_at,
            )
            for t in u.tokens.list()
        ]


def hold_row(db_url: str, database: Database, table: str, column: str, value: str) -> Any:
    """Another connection holding a row: its row lock (`FOR UPDATE`, PostgreSQL) or the whole
    write lock (SQLite has no row locks). `close()` releases it."""
    if database.is_sqlite:
        import sqlite3

        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn
    import psycopg

    pg = psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://", 1))
    pg.execute(f"SELECT 1 FROM {table} WHERE {column} = %s FOR UPDATE", (value,))  # type: ignore[arg-type]
    return pg


class HeldCommitUow(UnitOfWork):
    """A unit of work that pauses before committing, so another writer overlaps it: `ready` is
    set when the work is done and held, `release` lets it commit."""

    def __init__(self, db: Database, ready: threading.Event, release: threading.Event) -> None:
        super().__init__(db)
        self.ready, self.release = ready, release

    def commit(self) -> None:
        self.ready.set()
        assert self.release.wait(60)
        super().commit()


@contextmanager
def count_statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements sent through the test database's engine inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


@contextmanager
def statements_on_every_engine() -> Iterator[list[str]]:
    """The SELECT/INSERT/UPDATE/DELETE statements run by any engine inside the block (the CLI
    and completion build their own), without connection set-up and transaction control."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def child_pids(pid: int) -> set[int]:
    """Live children of `pid` (Linux /proc; an empty set elsewhere)."""
    pids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids.update(int(p) for p in task.read_text().split())
    return pids


def unreachable_url(backend: str, folder: Path) -> str:
    """A database URL of `backend` that cannot be reached (exit 7 for any command using it)."""
    if backend == "sqlite":
        return f"sqlite:///{folder}/no/such/dir/x.db"
    return "postgresql://nobody@127.0.0.1:1/none"
