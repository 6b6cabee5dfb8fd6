"""Engine and session factory for SQLite and PostgreSQL, and the schema-revision check."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import Connection, make_url

from orderctl.config import default_database_url, mask_url
from orderctl.errors import (
    ConnectionLost,
    DatabaseBusy,
    DatabaseUnavailable,
    DuplicateKey,
    IntegrityConflict,
    MissingReference,
    OrderctlError,
    PoolExhausted,
    ValidationFailed,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

#: The Alembic head this code needs; a test checks it equals the newest migration.
SCHEMA_REVISION = "0005"

UPGRADE_HINT = "run `orderctl db upgrade` (or `orderctl init` on a new database)"


class Database:
    """One engine and its session factories; built lazily by the CLI and once per API process.

    The session factories are made on first use: a command that reads through Core only
    (the token check, the reports) never imports the ORM (start-up, docs/performance.md)."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # On SQLite a writer takes the write lock at BEGIN, so two writers queue instead of
        # failing with "database is locked" when one upgrades a stale read snapshot.
        self.write_engine = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        # A writer that gives up at once when the lock it needs is held (`DatabaseBusy`).
        self.nowait_engine = self.engine.execution_options(
            sqlite_begin="BEGIN IMMEDIATE", orderctl_nowait=True
        )
        if not self.is_sqlite:
            # On the no-wait engine only: an engine with any listener runs SQLAlchemy's event
            # dispatch around every statement, a fifth of its time per statement in
            # `POST /api/orders` (docs/performance.md, *HTTP API*).
            event.listen(self.nowait_engine, "begin", _lock_timeout)

    def engine_for(self, *, write: bool, wait: bool = True) -> Engine:
        """The engine of a read, a write, or a write that does not wait for locks."""
        if not write:
            return self.engine
        return self.write_engine if wait else self.nowait_engine

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        return _sessions(self.engine)

    @cached_property
    def write_sessions(self) -> sessionmaker[Session]:
        return _sessions(self.write_engine)

    @cached_property
    def nowait_sessions(self) -> sessionmaker[Session]:
        return _sessions(self.nowait_engine)

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    @property
    def sqlite_file(self) -> Path | None:
        """The file of an SQLite database (None for PostgreSQL, `:memory:` and URI names)."""
        return sqlite_path(self.url)

    def check_exists(self) -> None:
        """Raise `DatabaseUnavailable` for an SQLite file that is not there.

        Connecting would create an empty file, so commands other than `init` and `db upgrade`
        ask first: a mistyped path must not leave a stray database behind.
        """
        path = self.sqlite_file
        if path is not None and not path.parent.is_dir():
            raise DatabaseUnavailable(
                f"cannot use database {self.display_url}: its folder {path.parent} does not "
                "exist; check --database-url or ORDERCTL_DATABASE_URL"
            )
        if path is not None and not path.exists():
            raise DatabaseUnavailable(
                f"database file {path} does not exist; {UPGRADE_HINT} to create it, or check "
                "--database-url or ORDERCTL_DATABASE_URL"
            )

    def check_schema(self) -> None:
        """Raise `DatabaseUnavailable` unless the database is reachable and at `SCHEMA_REVISION`."""
        self.check_exists()
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


def sqlite_path(url: str) -> Path | None:
    """The file an SQLite URL names (None for PostgreSQL, `:memory:` and URI names), known
    without connecting, which would create it."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def current_revision(conn: Connection) -> str | None:
    """The Alembic revision stored in the database, or None when it has no schema yet."""
    if not conn.dialect.has_table(conn, "alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def make_engine(url: str, *, echo: bool = False, pool_size: int | None = None) -> Engine:
    """Create an engine with orderctl's connection settings for the URL's backend.

    `pool_size`: the connections kept open (PostgreSQL; SQLAlchemy's default is 5, enough
    for a command), as many again may be opened for a burst. A server passes its own.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and url == default_database_url():
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        read_only = _read_only_uri(parsed.database)
        if read_only is not None:
            url = f"sqlite:///{read_only}"
        engine = create_engine(url, **kwargs)
        _setup_sqlite(engine, read_only=read_only is not None)
        return engine
    # prepare_threshold=None: no server-side prepared statements. psycopg prepares a query
    # after its fifth run on a connection, and behind PgBouncer in transaction mode (1.18,
    # Debian's) the next transaction may run on another server connection, where that name
    # is unknown or taken (docs/scaling.md, *Adding PgBouncer*). A command runs few repeated
    # statements per connection, and the import's bulk work is COPY, so little is lost.
    kwargs["connect_args"] = {
        "connect_timeout": 5,
        "application_name": "orderctl",
        "prepare_threshold": None,
    }
    kwargs["pool_pre_ping"] = False
    if pool_size is not None:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
    return create_engine(url, **kwargs)


def _lock_timeout(conn: Connection) -> None:
    """PostgreSQL: a no-wait writer gives up after 100 ms on a row lock (`DatabaseBusy`)."""
    conn.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")


def _read_only_uri(database: str | None) -> str | None:
    """A read-only URI for an existing SQLite file in a folder this user cannot write to.

    A WAL database is opened by creating its `-wal` and `-shm` files beside it; where that is
    impossible a plain open fails even to read. Opened read-only (and `immutable` when there
    is no `-wal`: nobody can be writing, as a writer would need one there), reads work and
    writes fail with "attempt to write a readonly database" (exit 7, `translate`).
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).resolve()
    if not path.is_file() or os.access(path.parent, os.W_OK):
        return None
    immutable = "" if path.with_name(path.name + "-wal").exists() else "&immutable=1"
    return f"file:{quote(str(path))}?mode=ro{immutable}&uri=true"


def _setup_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is unreliable).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if not read_only:  # changing the journal mode is a write
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
    """Map a database error to an orderctl error, or None when it is not one we know.

    Takes SQLAlchemy's errors and the drivers' own (psycopg, sqlite3: the bulk import talks to
    the driver directly), so a lost connection is exit 7 wherever it surfaces.
    """
    where = f" {db.display_url}" if db is not None else ""
    if isinstance(error, exc.ArgumentError | exc.NoSuchModuleError):
        return DatabaseUnavailable(f"bad database URL{where}: {error}")
    if isinstance(error, exc.TimeoutError):  # the pool's, not a statement's
        return PoolExhausted("database unavailable: all connections are busy; retry later")
    orig = _driver_error(error)
    if orig is None:
        return None
    # PEP 249 class names, of the driver's error and of SQLAlchemy's wrapper around it.
    kinds = {cls.__name__ for cls in (*type(orig).__mro__, *type(error).__mro__)}
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if _is_lock_busy(orig):
        return DatabaseBusy(f"database{where} is busy: another transaction holds a lock")
    if "IntegrityError" in kinds:
        return _integrity_error(orig, reason)
    if "DataError" in kinds:
        # A value the database cannot store or compare (NUL in text on PostgreSQL, a number
        # out of range) that validation let through: the input's fault.
        return ValidationFailed(f"a value cannot be stored or compared by the database ({reason})")
    if _is_lost_connection(error, orig, reason):
        return ConnectionLost(f"lost the connection to database{where}: {reason}")
    if reason == "file is not a database":
        what = db.url.removeprefix("sqlite:///") if db is not None else "the database file"
        return DatabaseUnavailable(
            f"{what} is not an SQLite database; check --database-url or ORDERCTL_DATABASE_URL "
            "(`orderctl config show` says where it comes from)"
        )
    if "readonly database" in reason:
        return DatabaseUnavailable(
            f"database{where} is read-only for this user ({reason}); commands that write need "
            "write permission on the file and its folder"
        )
    if "authentication failed" in reason or ("role " in reason and "does not exist" in reason):
        return DatabaseUnavailable(
            f"the server refused the login to database{where}: {_fatal(reason)}; check the user "
            "name and password in the database URL"
        )
    if kinds & {"OperationalError", "InterfaceError"}:
        hint = "; is the server running, and is the URL right?" if "refused" in reason else ""
        return DatabaseUnavailable(f"cannot use database{where}: {reason}{hint}")
    return None


_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def _integrity_error(orig: BaseException, reason: str) -> IntegrityConflict:
    """A refused write as the specific error: a duplicate key or a missing reference, named
    by its constraint (PostgreSQL: SQLSTATE and `diag`; sqlite3: its extended error name)."""
    message = f"the change conflicts with stored data: {reason}"
    state = str(getattr(orig, "sqlstate", None) or "")
    sqlite_name = str(getattr(orig, "sqlite_errorname", None) or "")
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    if constraint is None and sqlite_name and ": " in reason:
        constraint = reason.split(": ", 1)[1]  # "UNIQUE constraint failed: orders.external_ref"
    if state == "23505" or sqlite_name in _SQLITE_UNIQUE:
        return DuplicateKey(message, constraint=constraint)
    if state == "23503" or sqlite_name == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return MissingReference(message, constraint=constraint)
    return IntegrityConflict(message, constraint=constraint)


def _driver_error(error: BaseException) -> BaseException | None:
    """The DB-API exception behind `error` (SQLAlchemy's `orig`, or the error itself)."""
    if isinstance(error, exc.DBAPIError):
        return error.orig if error.orig is not None else error
    if type(error).__module__.split(".")[0] in ("psycopg", "sqlite3"):
        return error
    return None


#: PostgreSQL's SQLSTATEs for a backend that was shut down or terminated.
_TERMINATED = ("57P01", "57P02", "57P03")
_LOST_PHRASES = (
    "server closed the connection",
    "consuming input failed",
    "the connection is closed",
    "connection is lost",
    "terminating connection",
)


def _is_lost_connection(error: BaseException, orig: BaseException, reason: str) -> bool:
    """A connection that worked and then broke (not one that could not be opened)."""
    if reason.startswith("connection failed"):
        return False
    if getattr(error, "connection_invalidated", False):
        return True
    state = str(getattr(orig, "sqlstate", None) or "")
    return (
        state in _TERMINATED
        or state.startswith("08")
        or any(phrase in reason for phrase in _LOST_PHRASES)
    )


def _fatal(reason: str) -> str:
    """The server's own words in a psycopg connection error (after `FATAL:`)."""
    return " ".join(reason.rsplit("FATAL:", 1)[-1].split())


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


def _sessions(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def new_session(db: Database, *, write: bool, wait: bool = True) -> Session:
    if write and not wait:
        return db.nowait_sessions()
    return (db.write_sessions if write else db.read_sessions)()
