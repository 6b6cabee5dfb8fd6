"""Engine and session factory for SQLite and PostgreSQL, and the schema-revision check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from orderctl.config import default_database_url, mask_url
from orderctl.errors import Conflict, DatabaseBusy, DatabaseUnavailable, OrderctlError

#: The Alembic head this code needs; a test checks it equals the newest migration.
SCHEMA_REVISION = "0002"

UPGRADE_HINT = "run `orderctl db upgrade` (or `orderctl init` on a new database)"


class Database:
    """One engine and its session factories; built lazily by the CLI and once per API process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        # On SQLite a writer takes the write lock at BEGIN, so two writers queue instead of
        # failing with "database is locked" when one upgrades a stale read snapshot.
        self.write_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE"), expire_on_commit=False
        )
        # A writer that gives up at once when the lock it needs is held (`DatabaseBusy`).
        self.nowait_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE", orderctl_nowait=True),
            expire_on_commit=False,
        )

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    def check_schema(self) -> None:
        """Raise `DatabaseUnavailable` unless the database is reachable and at `SCHEMA_REVISION`."""
        with translate_errors(self), self.engine.connect() as conn:
            current = current_revision(conn)
        problem = self.schema_problem(current)
        if problem is not None:
            raise DatabaseUnavailable(problem)

    def schema_problem(self, current: str | None) -> str | None:
        """Why a database at revision `current` cannot be used (naming `orderctl db upgrade`),
        or None when it is at `SCHEMA_REVISION`."""
        if current is None:
            return f"database {self.display_url} has no orderctl schema; {UPGRADE_HINT}"
        if current != SCHEMA_REVISION:
            return (
                f"database schema is at revision {current}, this orderctl needs "
                f"{SCHEMA_REVISION}; {UPGRADE_HINT}"
            )
        return None

    def dispose(self) -> None:
        self.engine.dispose()


def current_revision(conn: Connection) -> str | None:
    """The Alembic revision stored in the database, or None when it has no schema yet."""
    if not conn.dialect.has_table(conn, "alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with orderctl's connection settings for the URL's backend."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and url == default_database_url():
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = create_engine(url, **kwargs)
        _setup_sqlite(engine)
        return engine
    kwargs["connect_args"] = {"connect_timeout": 5, "application_name": "orderctl"}
    kwargs["pool_pre_ping"] = False
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("orderctl_nowait"):
            conn.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")

    return engine


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is unreliable).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        begin = options.get("sqlite_begin", "BEGIN")
        if not options.get("orderctl_nowait"):
            conn.exec_driver_sql(begin)
            return
        # Only taking the write lock at BEGIN IMMEDIATE waits; try it once, then wait again.
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            conn.exec_driver_sql(begin)
        finally:
            conn.exec_driver_sql("PRAGMA busy_timeout = 30000")


def translate(error: BaseException, db: Database | None = None) -> OrderctlError | None:
    """Map a SQLAlchemy error to an orderctl error, or None when it is not one we know."""
    where = f" {db.display_url}" if db is not None else ""
    if isinstance(error, exc.OperationalError) and _is_lock_busy(error.orig):
        return DatabaseBusy(f"database{where} is busy: another transaction holds a lock")
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return DatabaseUnavailable(f"cannot use database{where}: {reason}")
    if isinstance(error, exc.IntegrityError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return Conflict(f"the change conflicts with stored data: {reason}")
    if isinstance(error, exc.ArgumentError | exc.NoSuchModuleError):
        return DatabaseUnavailable(f"bad database URL{where}: {error}")
    return None


def _is_lock_busy(orig: BaseException | None) -> bool:
    """SQLite's "database is locked" or PostgreSQL's lock_not_available (55P03)."""
    name = getattr(orig, "sqlite_errorname", None)
    if name is not None:
        return str(name).startswith("SQLITE_BUSY")
    return getattr(orig, "sqlstate", None) == "55P03"


@contextmanager
def translate_errors(db: Database | None = None) -> Iterator[None]:
    """Re-raise SQLAlchemy errors as orderctl errors (exit codes of DESIGN.md §9)."""
    try:
        yield
    except exc.SQLAlchemyError as error:
        mapped = translate(error, db)
        if mapped is None:
            raise
        raise mapped from error


def new_session(db: Database, *, write: bool, wait: bool = True) -> Session:
    if write and not wait:
        return db.nowait_sessions()
    return (db.write_sessions if write else db.read_sessions)()
