"""Shell completion (DESIGN.md §20) in-process, as the bash script asks for it: commands,
options, fixed values, and values from the database (at most 50, one prefix query), and
silently nothing when logged out, expired, offline or not migrated."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from helpers import (
    Cli,
    candidates,
    complete,
    database_snapshot,
    seed_orders,
    statements_on_every_engine,
    unreachable_url,
)
from orderctl import clock
from orderctl.enums import LookupKind, Role
from orderctl.models import Product
from orderctl.services.uow import UnitOfWork
from orderctl.tables import api_tokens


def _products(cli: Cli, *skus: str) -> None:
    with UnitOfWork(cli.database) as u:
        for sku in skus:
            u.products.add(Product(sku=sku, name=sku.title(), unit_price=Decimal("1.00")))
        u.commit()


def _last_used(cli: Cli) -> list[object]:
    with UnitOfWork(cli.database, write=False) as u:
        return list(
            u.session.scalars(api_tokens.select().with_only_columns(api_tokens.c.last_used_at))
        )


# ---- no database: commands, options, fixed values ----


def test_commands_options_and_fixed_values(cli: Cli) -> None:
    assert candidates(complete(cli, "or", role=None)) == ["orders"]
    assert candidates(complete(cli, "orders", "s", role=None)) == ["show", "set-status"]
    assert "--status" in candidates(complete(cli, "orders", "list", "--st", role=None))
    assert candidates(complete(cli, "orders", "list", "--status", "p", role=None)) == [
        "pending",
        "paid",
    ]
    assert candidates(complete(cli, "orders", "list", "--sort", "", role=None)) == [
        "created",
        "-created",
        "total",
        "-total",
    ]
    assert candidates(complete(cli, "orders", "list", "-o", "j", role=None)) == ["json", "jsonl"]
    assert candidates(complete(cli, "users", "create", "bob", "--role", "", role=None)) == [
        "viewer",
        "operator",
        "admin",
    ]
    assert candidates(complete(cli, "completion", "", role=None)) == ["bash", "zsh", "fish"]


def test_an_unknown_command_completes_to_nothing(cli: Cli) -> None:
    assert candidates(complete(cli, "ordrs", "li", role=None)) == []


# ---- values from the database ----


def test_skus_also_after_item(cli: Cli) -> None:
    _products(cli, "WIDGET-1", "WIDGET-2", "WIDE-9", "MUG-01")
    assert candidates(complete(cli, "products", "show", "WID")) == [
        "WIDE-9",
        "WIDGET-1",
        "WIDGET-2",
    ]
    assert candidates(complete(cli, "products", "update", "WIDG")) == ["WIDGET-1", "WIDGET-2"]
    assert candidates(complete(cli, "orders", "create", "--item", "WIDGET-")) == [
        "WIDGET-1:",
        "WIDGET-2:",
    ]
    # The quantity is being typed: nothing to offer.
    assert candidates(complete(cli, "orders", "create", "--item", "WIDGET-1:")) == []
    assert candidates(complete(cli, "products", "show", "X")) == []


def test_refs_and_emails(cli: Cli) -> None:
    seed_orders(cli.database, 12)
    assert candidates(complete(cli, "orders", "show", "SEED-000", role=Role.VIEWER)) == [
        f"SEED-{n:04d}" for n in range(10)
    ]
    assert candidates(complete(cli, "orders", "show", "--ref", "SEED-001")) == [
        "SEED-0010",
        "SEED-0011",
    ]
    assert candidates(complete(cli, "orders", "list", "--customer", "k", role=Role.VIEWER)) == [
        "kofi@example.com"
    ]
    assert candidates(complete(cli, "customers", "show", "")) == [
        "ana@example.com",
        "kofi@example.com",
        "li.wei@example.com",
    ]
    assert candidates(complete(cli, "orders", "create", "--customer", "li")) == [
        "li.wei@example.com"
    ]


def test_usernames_for_admins_only(cli: Cli) -> None:
    cli.token(Role.VIEWER)
    assert candidates(complete(cli, "users", "disable", "test-")) == ["test-admin", "test-viewer"]
    assert candidates(complete(cli, "auth", "token", "create", "--user", "test-v")) == [
        "test-viewer"
    ]
    # `users list` is for admins: a viewer is offered nothing, and told nothing.
    assert candidates(complete(cli, "users", "disable", "test-", role=Role.VIEWER)) == []


def test_at_most_50_candidates_in_order(cli: Cli) -> None:
    _products(cli, *(f"SKU-{n:03d}" for n in range(60)))
    found = candidates(complete(cli, "products", "show", "SKU-"))
    assert found == [f"SKU-{n:03d}" for n in range(50)]


def test_one_query_and_no_write(cli: Cli) -> None:
    """The token check and one prefix query; the token's last use is not written (a plain
    command would), and nothing else changes."""
    _products(cli, "WIDGET-1")
    cli.token(Role.VIEWER)
    before, used_before = database_snapshot(cli.database), _last_used(cli)
    with statements_on_every_engine() as statements:
        found = candidates(complete(cli, "products", "show", "WID", role=Role.VIEWER))
    assert found == ["WIDGET-1"]
    assert len(statements) == 2, statements
    assert "api_tokens" in statements[0]
    assert "products" in statements[1] and "LIKE" not in statements[1].upper()
    assert database_snapshot(cli.database) == before
    assert _last_used(cli) == used_before == [None]


@pytest.mark.parametrize("kind", list(LookupKind))
def test_the_prefix_query_walks_an_index(cli: Cli, backend: str, kind: LookupKind) -> None:
    """Each kind's look-up is a range on a unique index, in index order (no scan, no sort).
    The tables are tiny here, so PostgreSQL is told to avoid a sequential scan if it can."""
    from orderctl.repositories.lookups import query

    stmt = query(kind, "WID", 50).compile(
        dialect=cli.database.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    with cli.database.engine.connect() as conn:
        if backend == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {stmt}"))
            assert "SEARCH" in plan and "INDEX" in plan and "TEMP B-TREE" not in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {stmt}"))
            assert "Index" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan


# ---- silently nothing ----


def test_nothing_when_not_logged_in(cli: Cli) -> None:
    _products(cli, "WIDGET-1")
    assert candidates(complete(cli, "products", "show", "WID", role=None)) == []


def test_nothing_when_the_token_expired_or_is_unknown(cli: Cli) -> None:
    _products(cli, "WIDGET-1")
    cli.token(Role.ADMIN)
    assert candidates(complete(cli, "products", "show", "WID")) == ["WIDGET-1"]
    with UnitOfWork(cli.database) as u:
        u.session.execute(update(api_tokens).values(expires_at=clock.utcnow() - timedelta(1)))
        u.commit()
    assert candidates(complete(cli, "products", "show", "WID")) == []
    env = {"ORDERCTL_TOKEN": "oct_not-a-token"}
    assert candidates(complete(cli, "products", "show", "WID", env=env)) == []


def test_nothing_when_the_database_is_unreachable(cli: Cli, backend: str, tmp_path: Path) -> None:
    url = unreachable_url(backend, tmp_path)
    env = {"ORDERCTL_DATABASE_URL": url}
    assert candidates(complete(cli, "products", "show", "WID", env=env)) == []
    assert candidates(complete(cli, "--database-url", url, "products", "show", "W")) == []
    assert list(tmp_path.glob("no*")) == []  # no folder, no SQLite file made


def test_a_missing_sqlite_file_is_not_created(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    env = {"ORDERCTL_DATABASE_URL": f"sqlite:///{path}"}
    assert candidates(complete(cli, "orders", "show", "", env=env)) == []
    assert not path.exists()


def test_nothing_and_no_migration_on_an_empty_database(cli: Cli, empty_db_url: str) -> None:
    from sqlalchemy import inspect

    from orderctl.db import Database

    env = {"ORDERCTL_DATABASE_URL": empty_db_url}
    assert candidates(complete(cli, "orders", "show", "", env=env)) == []
    empty = Database(empty_db_url)
    try:
        assert inspect(empty.engine).get_table_names() == []
    finally:
        empty.dispose()


def test_the_database_url_flag_is_read_while_completing(cli: Cli, tmp_path: Path) -> None:
    """`--database-url` before the command names the database to complete from."""
    _products(cli, "WIDGET-1")
    env = {"ORDERCTL_DATABASE_URL": f"sqlite:///{tmp_path}/elsewhere.db"}
    found = candidates(
        complete(cli, "--database-url", cli.db_url, "products", "show", "W", env=env)
    )
    assert found == ["WIDGET-1"]


# ---- contexts (config.toml `[contexts.NAME]`) ----


def test_context_names_from_the_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import orderctl.contexts
    from orderctl import config
    from orderctl.cli import completion

    contexts = {"prod": {}, "staging": {}, "prod-eu": {}}
    monkeypatch.setattr(orderctl.contexts, "read_config_file", lambda: {"contexts": contexts})
    assert completion.contexts(None, "pr") == ["prod", "prod-eu"]  # type: ignore[arg-type]
    monkeypatch.setattr(orderctl.contexts, "read_config_file", lambda: {})
    assert completion.contexts(None, "") == []  # type: ignore[arg-type]

    def broken() -> dict[str, object]:
        raise config.ConfigError("cannot read config file")

    monkeypatch.setattr(orderctl.contexts, "read_config_file", broken)
    assert completion.contexts(None, "") == []  # type: ignore[arg-type]
