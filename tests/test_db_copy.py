"""`db copy --to URL` (DESIGN.md §14): the whole database into an empty one, on and across
both backends, ids, times, hashes and tokens kept, sequences ready, both sides compared."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import (
    PASSWORD,
    Cli,
    add_products,
    create_order,
    database_snapshot,
    fill_shop,
    login,
    one_error,
    rows,
    unreachable_url,
)
from orderctl.db import Database
from orderctl.enums import Role

TABLES = {
    "users", "api_tokens", "customers", "products", "orders", "order_items", "order_events",
    "stock_movements",
}  # fmt: skip


@pytest.fixture
def target(new_db_url: Callable[..., str]) -> Iterator[Callable[..., Database]]:
    """`target("postgresql", migrated=False)`: a fresh database to copy into."""
    made: list[Database] = []

    def make(backend: str, *, migrated: bool = True) -> Database:
        made.append(Database(new_db_url(backend, migrated=migrated)))
        return made[-1]

    yield make
    for db in made:
        db.dispose()


@pytest.mark.parametrize("to", ["sqlite", "postgresql"])
def test_copy_keeps_every_row_and_the_target_works(
    cli: Cli,
    database: Database,
    tmp_path: Path,
    target: Callable[..., Database],
    to: str,
) -> None:
    fill_shop(cli, database, tmp_path)
    into = target(to, migrated=False)
    result = cli("db", "copy", "--to", into.url, "-o", "json")
    assert result.exit_code == 0, result.stderr
    checks = json.loads(result.stdout)
    assert {check["table"] for check in checks} == TABLES
    for check in checks:
        assert check["source_rows"] == check["target_rows"], check
        assert check["source_checksum"] == check["target_checksum"], check
        assert check["match"] == "yes"
    assert sum(check["source_rows"] for check in checks if check["table"] == "orders") == 4
    assert result.stderr.endswith(
        "(its schema migrated from nothing); row counts and checksums match\n"
    )
    # The same values, read back through the schema's types on either backend; the events'
    # transaction ids mean nothing on another server and are copied as 0 (settled events).
    assert database_snapshot(into, portable=True) == database_snapshot(database, portable=True)
    assert {row[0] for row in rows(into, "SELECT txid FROM order_events")} == {0}

    other = Cli(db_url=into.url, config_dir=cli.config_dir, database=into, tokens=cli.tokens)
    # The copied tokens are valid there, and new rows get new ids (sequences moved on).
    made = create_order(other, "--customer", "new@example.com", "--item", "CAP-01:1")
    assert made["id"] == 5
    assert other("orders", "show", "IMP-1", role=Role.VIEWER).exit_code == 0
    # The copied password hashes log in.
    logged_in = login(other, "test-viewer", PASSWORD)
    assert logged_in.exit_code == 0, logged_in.stderr
    assert other("users", "create", "newbie", "--role", "viewer", "--password-stdin",
                 input="long password 1\n").exit_code == 0  # fmt: skip


def test_a_target_with_data_is_refused_untouched(
    cli: Cli, database: Database, tmp_path: Path, backend: str, target: Callable[..., Database]
) -> None:
    fill_shop(cli, database, tmp_path)
    into = target("sqlite" if backend == "postgresql" else "postgresql")
    add_products(into)
    before, source_before = database_snapshot(into), database_snapshot(database)
    one_error(
        cli("db", "copy", "--to", into.url), 6, "already holds data (in products, stock_movements)"
    )
    assert database_snapshot(into) == before
    assert database_snapshot(database) == source_before


@pytest.mark.parametrize(
    ("to", "code", "needle"),
    [
        ("nonsense", 2, "--to: unsupported database URL"),
        ("mysql://u@h/db", 2, "--to: unsupported database URL"),
        ("{tmp}/x.db", 2, "is a file path, not a URL"),
        ("sqlite:///{tmp}", 2, "is a directory"),
        ("sqlite:///{tmp}/no/such/x.db", 2, "does not exist"),
        ("postgresql://nobody@127.0.0.1:1/none", 7, "cannot use database"),
        ("{source}", 6, "names the source database itself"),
    ],
)
def test_bad_targets(
    cli: Cli, database: Database, tmp_path: Path, db_url: str, to: str, code: int, needle: str
) -> None:
    cli.token(Role.ADMIN)
    before = database_snapshot(database)
    files = set(tmp_path.rglob("*"))
    result = cli("db", "copy", "--to", to.format(tmp=tmp_path, source=db_url))
    one_error(result, code, needle)
    assert database_snapshot(database) == before
    assert {p for p in tmp_path.rglob("*") if not p.name.startswith("orderctl-")} == {
        p for p in files if not p.name.startswith("orderctl-")
    }


def test_source_as_target_by_another_spelling(cli: Cli, backend: str, db_url: str) -> None:
    if backend == "sqlite":
        path = Path(db_url.removeprefix("sqlite:///"))
        other = f"sqlite:///{path.parent}/./{path.name}"
    else:
        # Another scheme and a password: still that server's database. (Another name for the
        # host is not recognised, and meets the refusal of a target with data instead.)
        other = db_url.replace("postgresql://postgres@", "postgres://postgres:secret@", 1)
    one_error(cli("db", "copy", "--to", other), 6, "names the source database itself")


def test_needs_an_admin_of_the_source(cli: Cli, tmp_path: Path) -> None:
    to = f"sqlite:///{tmp_path}/copy.db"
    one_error(cli("db", "copy", "--to", to, role=Role.OPERATOR), 4, "admin")
    one_error(cli("db", "copy", "--to", to, role=None), 3, "auth login")
    assert not (tmp_path / "copy.db").exists()


def test_an_unreachable_source_is_7(cli: Cli, backend: str, tmp_path: Path) -> None:
    url = unreachable_url(backend, tmp_path)
    result = cli("db", "copy", "--to", f"sqlite:///{tmp_path}/copy.db", env={
        "ORDERCTL_DATABASE_URL": url})  # fmt: skip
    one_error(result, 7)


def test_a_difference_after_the_copy_is_exit_1(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison is printed, the differing table named, and the exit code says so."""
    from orderctl.repositories import copy

    read_back = copy.table_sums

    def one_row_more(db: Database, **kwargs: int) -> dict[str, copy.TableSum]:
        sums = read_back(db, **kwargs)
        sums["orders"].add(("a row the source does not have",))
        return sums

    monkeypatch.setattr(copy, "table_sums", one_row_more)
    cli.token(Role.ADMIN)
    to = f"sqlite:///{tmp_path}/copy.db"
    result = cli("db", "copy", "--to", to, "-o", "json")
    assert result.exit_code == 1, result.stderr
    assert [c["table"] for c in json.loads(result.stdout) if c["match"] == "NO"] == ["orders"]
    assert result.stderr == (
        f"error: copied to {to}, but the two sides differ in: orders; do not use the target\n"
    )
