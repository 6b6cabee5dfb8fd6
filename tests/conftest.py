"""Fixtures: every database test runs on a real SQLite file and a real PostgreSQL server.

PostgreSQL comes from ORDERCTL_TEST_POSTGRES_URL (scripts/test-postgres starts one). Without
it the PostgreSQL cases are skipped locally, and fail when CI=true or
ORDERCTL_TEST_POSTGRES_REQUIRED=1 (scripts/run-tests sets it).
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from helpers import TerminalRun, run_on_terminal
from orderctl.cli.main import app
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.services import schema
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

BACKENDS = ["sqlite", "postgresql"]
PG_ADMIN_URL = os.environ.get("ORDERCTL_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: A missing or unusable PostgreSQL fails its cases instead of skipping them.
PG_REQUIRED = IN_CI or os.environ.get("ORDERCTL_TEST_POSTGRES_REQUIRED") == "1"


def _pg_admin_url() -> str:
    url = PG_ADMIN_URL
    if not url:
        if PG_REQUIRED:
            pytest.fail(
                "ORDERCTL_TEST_POSTGRES_URL is not set, and PostgreSQL is required here "
                "(CI=true or ORDERCTL_TEST_POSTGRES_REQUIRED=1)",
                pytrace=False,
            )
        pytest.skip("ORDERCTL_TEST_POSTGRES_URL not set (scripts/test-postgres starts a server)")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _pg_exec(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def pg_url_for(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@dataclass
class Templates:
    """Migrated template databases, made once per test session and copied per test."""

    tmp: Path
    sqlite_file: Path | None = None
    pg_name: str | None = None
    pg_checked: bool = False
    pg_error: str | None = None
    made: list[str] = field(default_factory=list)

    def sqlite(self) -> Path:
        if self.sqlite_file is None:
            path = self.tmp / "template.db"
            db = Database(f"sqlite:///{path}")
            schema.upgrade(db)
            db.dispose()
            self.sqlite_file = path
        return self.sqlite_file

    def postgresql(self) -> tuple[str, str]:
        admin = _pg_admin_url()
        if self.pg_error:
            _unreachable(self.pg_error)
        if self.pg_name is None:
            name = f"oct_tmpl_{uuid.uuid4().hex[:10]}"
            try:
                _pg_exec(admin, f'CREATE DATABASE "{name}"')
            except Exception as exc:
                self.pg_error = str(exc).splitlines()[0]
                _unreachable(self.pg_error)
            db = Database(pg_url_for(admin, name))
            schema.upgrade(db)
            db.dispose()
            self.pg_name = name
        return admin, self.pg_name


def _unreachable(reason: str) -> None:
    message = f"PostgreSQL at ORDERCTL_TEST_POSTGRES_URL is not usable: {reason}"
    if PG_REQUIRED:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    if t.pg_name:
        admin = _pg_admin_url()
        _pg_exec(admin, f'DROP DATABASE IF EXISTS "{t.pg_name}" WITH (FORCE)')


def _new_database_url(
    backend: str, tmp_path: Path, templates: Templates, *, migrated: bool
) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / f"orderctl-{uuid.uuid4().hex[:6]}.db"
        if migrated:
            shutil.copyfile(templates.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    if migrated:
        admin, template = templates.postgresql()
    else:
        admin, template = _pg_admin_url(), "template0"
        if templates.pg_error:
            _unreachable(templates.pg_error)
    name = f"oct_t_{uuid.uuid4().hex[:12]}"
    try:
        _pg_exec(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    except Exception as exc:
        templates.pg_error = str(exc).splitlines()[0]
        _unreachable(templates.pg_error)
    try:
        yield pg_url_for(admin, name)
    finally:
        _pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def db_url(backend: str, tmp_path: Path, templates: Templates) -> Iterator[str]:
    """A fresh, migrated database on this test's backend."""
    yield from _new_database_url(backend, tmp_path, templates, migrated=True)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, templates: Templates) -> Iterator[str]:
    """A fresh database with no schema at all."""
    yield from _new_database_url(backend, tmp_path, templates, migrated=False)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def uow(database: Database) -> Callable[..., UnitOfWork]:
    """A factory of units of work on the test database: `with uow() as u: ...`."""

    def make(*, write: bool = True) -> UnitOfWork:
        return UnitOfWork(database, write=write)

    return make


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config"
    monkeypatch.setenv("ORDERCTL_CONFIG_DIR", str(path))
    monkeypatch.delenv("ORDERCTL_TOKEN", raising=False)
    monkeypatch.delenv("ORDERCTL_DATABASE_URL", raising=False)
    monkeypatch.delenv("ORDERCTL_CURRENCY", raising=False)
    monkeypatch.delenv("ORDERCTL_DEBUG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return path


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with minimal cost in tests: the production cost (~0.1 s a hash, more on a
    busy CI box) would dominate every test that creates a user or logs in. Hashes carry
    their own parameters, so verification stays real; tests/test_auth_hashing.py checks
    the production settings."""
    from argon2 import PasswordHasher

    from orderctl.services import auth

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", fast)
    monkeypatch.setattr(auth, "_DUMMY_HASH", fast.hash("orderctl-dummy-password"))


def create_user(
    database: Database, username: str, role: Role, password: str = "correct horse 1"
) -> None:
    """Create a user directly (test set-up, no actor checks)."""
    from orderctl.models import User
    from orderctl.services.auth import hash_password

    with UnitOfWork(database) as u:
        u.users.add(
            User(
                username=username,
                password_hash=hash_password(password),
                role=role.value,
                active=True,
            )
        )
        u.commit()


def create_token(database: Database, username: str) -> str:
    """A login token for an existing user, created through the real login path's helper."""
    from orderctl.services.auth import _issue_token

    with UnitOfWork(database) as u:
        user = u.users.get_one_by_username(username)
        secret, _ = _issue_token(u, user, name="test", ttl=None, created_by="test")
        u.commit()
    return secret


@dataclass
class Cli:
    """Runs the real Typer app against the test database, as a given user."""

    db_url: str
    config_dir: Path
    database: Database
    tokens: dict[Role, str] = field(default_factory=dict)
    runner: CliRunner = field(default_factory=CliRunner)

    def token(self, role: Role) -> str:
        if role not in self.tokens:
            name = f"test-{role.value}"
            create_user(self.database, name, role)
            self.tokens[role] = create_token(self.database, name)
        return self.tokens[role]

    def subprocess_env(self, role: Role) -> dict[str, str]:
        """The environment for a real `orderctl` process on this database, as `role`."""
        env = {
            **os.environ,
            "ORDERCTL_DATABASE_URL": self.db_url,
            "ORDERCTL_CONFIG_DIR": str(self.config_dir),
            "ORDERCTL_TOKEN": self.token(role),
        }
        env.pop("ORDERCTL_DEBUG", None)
        return env

    def actor(self, role: Role) -> Actor:
        self.token(role)
        with UnitOfWork(self.database) as u:
            user = u.users.get_one_by_username(f"test-{role.value}")
            return Actor(user_id=user.id, username=user.username, role=role)

    def __call__(
        self,
        *args: str,
        role: Role | None = Role.ADMIN,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        """Invoke `orderctl ARGS` with ORDERCTL_TOKEN for `role` (None: no token)."""
        full_env: dict[str, Any] = {
            "ORDERCTL_DATABASE_URL": self.db_url,
            "ORDERCTL_CONFIG_DIR": str(self.config_dir),
            "ORDERCTL_TOKEN": self.token(role) if role is not None else None,
        }
        full_env.update(env or {})
        return self.runner.invoke(
            app, list(args), input=input, env=full_env, catch_exceptions=False
        )

    def on_terminal(
        self,
        *args: str,
        answer: str | None = None,
        role: Role | None = Role.ADMIN,
        columns: int = 80,
        env: dict[str, str] | None = None,
    ) -> TerminalRun:
        """Run the installed `orderctl ARGS` on a pseudo-terminal of `columns` columns as
        `role`, typing `answer` at a `[y/N]` prompt (tests/helpers.py `run_on_terminal`)."""
        full_env: dict[str, str | None] = {
            "ORDERCTL_DATABASE_URL": self.db_url,
            "ORDERCTL_CONFIG_DIR": str(self.config_dir),
            "ORDERCTL_TOKEN": self.token(role) if role is not None else None,
            **(env or {}),
        }
        return run_on_terminal(list(args), answer=answer, env=full_env, columns=columns)


@pytest.fixture
def cli(db_url: str, config_dir: Path, database: Database) -> Cli:
    """`cli("orders", "list")` runs as an admin; `cli(..., role=Role.VIEWER)` as a viewer."""
    return Cli(db_url=db_url, config_dir=config_dir, database=database)


@pytest.fixture
def admin(cli: Cli) -> Actor:
    return cli.actor(Role.ADMIN)


@pytest.fixture
def operator(cli: Cli) -> Actor:
    return cli.actor(Role.OPERATOR)


@pytest.fixture
def viewer(cli: Cli) -> Actor:
    return cli.actor(Role.VIEWER)


TEST_SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture
def samples() -> Path:
    """The sample import files (a copy lives in tests/samples so the repo stands alone)."""
    return TEST_SAMPLES


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


#: Bookkeeping that every authenticated command may write (the token check touches it at
#: most once a minute); "the database is unchanged" means every other stored value.
TOKEN_BOOKKEEPING = {("api_tokens", "last_used_at")}


def table_contents(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema (`tables.metadata`, so a table added later is
    covered too), in primary key order: compare it before and after a command that must
    write nothing."""
    from sqlalchemy import select

    from orderctl.tables import metadata

    contents: dict[str, list[tuple[Any, ...]]] = {}
    with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in TOKEN_BOOKKEEPING]
            stmt = select(*columns).order_by(*table.primary_key.columns)
            contents[table.name] = [tuple(row) for row in conn.execute(stmt)]
    return contents


def walk_commands(
    command: Any, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, Click command) for a command and all below it, groups built on demand (the
    root's lazy groups included), through Click's public `list_commands`/`get_command`."""
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from walk_commands(command.get_command(ctx, name), (*path, name))


def child_pids(pid: int) -> set[int]:
    """Live children of `pid` (Linux /proc; an empty set elsewhere)."""
    pids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        pids.update(int(p) for p in task.read_text().split())
    return pids


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
