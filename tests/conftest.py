"""Fixtures: every database test runs on a real SQLite file and a real PostgreSQL server.

Only fixtures live here, and no test imports this module: plain helpers are in tests/helpers/.

PostgreSQL comes from ORDERCTL_TEST_POSTGRES_URL (scripts/test-postgres starts one), its hot
standby from ORDERCTL_TEST_REPLICA_URL (`scripts/test-postgres start-replica`). Without them
the PostgreSQL (and replica) cases are skipped locally, and fail when CI=true or
ORDERCTL_TEST_POSTGRES_REQUIRED=1 (scripts/run-tests sets it).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer.testing
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpers import Api, Cli, add_products, same_database_on, seed_products, wait_for_replay
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.services import schema
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

BACKENDS = ["sqlite", "postgresql"]
#: Tests marked `pgbouncer` also run on PostgreSQL through PgBouncer in transaction pooling
#: mode (DESIGN.md §19): the same server, reached at ORDERCTL_TEST_PGBOUNCER_URL's host/port.
POOLED_BACKENDS = [*BACKENDS, "pgbouncer"]
PG_ADMIN_URL = os.environ.get("ORDERCTL_TEST_POSTGRES_URL", "")
PGBOUNCER_URL = os.environ.get("ORDERCTL_TEST_PGBOUNCER_URL", "")
REPLICA_ADMIN_URL = os.environ.get("ORDERCTL_TEST_REPLICA_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: A missing or unusable PostgreSQL fails its cases instead of skipping them.
PG_REQUIRED = IN_CI or os.environ.get("ORDERCTL_TEST_POSTGRES_REQUIRED") == "1"
PGBOUNCER_REQUIRED = IN_CI or os.environ.get("ORDERCTL_TEST_PGBOUNCER_REQUIRED") == "1"


#: Fixtures that reach PostgreSQL whatever the test's own backend.
_POSTGRESQL_FIXTURES = frozenset({"new_db_url", "pg_admin_url", "pg_db_url"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--half",
        choices=("postgresql", "rest"),
        help="run only the tests that use PostgreSQL, or only the rest: scripts/run-tests "
        "runs the two halves at once, the rest without any server named",
    )


def uses_postgresql(item: pytest.Item) -> bool:
    """A case on PostgreSQL (or PgBouncer), one with a fixture that reaches it, or one marked
    `postgresql` (a test that reads ORDERCTL_TEST_POSTGRES_URL itself)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("backend") in ("postgresql", "pgbouncer"):
        return True
    fixtures = set(getattr(item, "fixturenames", ()))
    return (
        bool(fixtures & _POSTGRESQL_FIXTURES) or item.get_closest_marker("postgresql") is not None
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--half`: keep one side of the split (uses_postgresql) and deselect the other."""
    half = config.getoption("half")
    if half is None:
        return
    keep = [item for item in items if uses_postgresql(item) == (half == "postgresql")]
    if len(keep) != len(items):
        kept = set(map(id, keep))
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = keep


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every database test runs on each backend; tests marked `pgbouncer` on three."""
    chosen = any(
        "backend" in str(marker.args[0])
        for marker in metafunc.definition.iter_markers("parametrize")
    )  # a test that names its backends itself
    if "backend" in metafunc.fixturenames and not chosen:
        pooled = metafunc.definition.get_closest_marker("pgbouncer") is not None
        metafunc.parametrize("backend", POOLED_BACKENDS if pooled else BACKENDS, indirect=True)


def _through_pgbouncer(url: str) -> str:
    if not PGBOUNCER_URL:
        message = "ORDERCTL_TEST_PGBOUNCER_URL is not set (scripts/test-pgbouncer starts one)"
        if PGBOUNCER_REQUIRED:
            pytest.fail(f"{message}, and PgBouncer is required here", pytrace=False)
        pytest.skip(message)
    pooler = make_url(PGBOUNCER_URL)
    return make_url(url).set(host=pooler.host, port=pooler.port).render_as_string(False)


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
        url = pg_url_for(admin, name)
        yield _through_pgbouncer(url) if backend == "pgbouncer" else url
    finally:
        _pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
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
    monkeypatch.delenv("ORDERCTL_READ_DATABASE_URL", raising=False)
    monkeypatch.delenv("ORDERCTL_CONTEXT", raising=False)
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


@pytest.fixture
def second_db_url(templates: Templates, tmp_path: Path) -> str:
    """Another migrated database (SQLite), for two-database tests on either backend."""
    path = tmp_path / f"second-{uuid.uuid4().hex[:6]}.db"
    shutil.copyfile(templates.sqlite(), path)
    return f"sqlite:///{path}"


@pytest.fixture
def new_db_url(tmp_path: Path, templates: Templates) -> Iterator[Callable[..., str]]:
    """Make more fresh databases in one test, of either backend:
    `new_db_url("postgresql", migrated=False)`; each is dropped at the end of the test."""
    with ExitStack() as stack:

        def make(backend: str, *, migrated: bool = True) -> str:
            made = _new_database_url(backend, tmp_path, templates, migrated=migrated)
            url = next(made)
            stack.callback(made.close)  # runs its `finally`: the DROP DATABASE
            return url

        yield make


@pytest.fixture
def pg_admin_url() -> str:
    """ORDERCTL_TEST_POSTGRES_URL as given, for tests that build their own server URLs
    (skipped without it, failed when PostgreSQL is required)."""
    _pg_admin_url()
    return PG_ADMIN_URL


@pytest.fixture
def pg_db_url(tmp_path: Path, templates: Templates) -> Iterator[str]:
    """A fresh migrated PostgreSQL database whatever the test's backend (a test that uses
    SQLite and PostgreSQL side by side, e.g. contexts)."""
    yield from _new_database_url("postgresql", tmp_path, templates, migrated=True)


@pytest.fixture
def replica_url(db_url: str, backend: str) -> str:
    """The test database (PostgreSQL) on the hot standby of ORDERCTL_TEST_REPLICA_URL, once
    the standby has replayed its creation. Skipped without a standby, failed when PostgreSQL
    is required."""
    if backend != "postgresql":
        pytest.skip("a hot standby is PostgreSQL's")
    if not REPLICA_ADMIN_URL:
        message = "ORDERCTL_TEST_REPLICA_URL not set (scripts/test-postgres start-replica)"
        if PG_REQUIRED:
            pytest.fail(f"{message}, and PostgreSQL is required here", pytrace=False)
        pytest.skip(message)
    # Polled on the servers' own databases: the test's is not on the standby until replayed.
    wait_for_replay(PG_ADMIN_URL, REPLICA_ADMIN_URL)
    return same_database_on(REPLICA_ADMIN_URL, db_url)


@pytest.fixture
def api(database: Database) -> Iterator[Api]:
    """The HTTP API on the test database: `api.get(path, role=Role.VIEWER)`."""
    from fastapi.testclient import TestClient

    from orderctl.api.app import create_app

    with TestClient(create_app(database=database), raise_server_exceptions=False) as client:
        yield Api(client=client, database=database)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make CliRunner's stdin look like a terminal, so commands prompt (input feeds the
    answers); `Cli.on_terminal` runs the installed binary on a real pseudo-terminal."""
    monkeypatch.setattr(typer.testing._NamedTextIOWrapper, "isatty", lambda self: True)


@pytest.fixture
def shop(cli: Cli, database: Database) -> Cli:
    """`cli` on a database with the order tests' catalog (`helpers.add_products`)."""
    add_products(database)
    return cli


@pytest.fixture
def import_shop(cli: Cli, database: Database, samples: Path) -> Cli:
    """`cli` on a database holding the sample products, with an operator token made."""
    seed_products(database, samples)
    cli.token(Role.OPERATOR)
    return cli
