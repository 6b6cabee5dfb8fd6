"""Read replicas (DESIGN.md §19): the commands that only read data run on `read_database_url`,
writes and the token check on the primary, and a replica that cannot be reached is exit 7
naming it. The PostgreSQL cases use a real hot standby (scripts/test-postgres start-replica);
its lag is made certain by pausing its replay, never hoped for."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from helpers import (
    add_products,
    create_user,
    database_snapshot,
    one_error,
    replay_paused,
    rows,
    tokens_in_db,
    wait_for_replay,
)
from orderctl.db import Database
from orderctl.enums import Role

if TYPE_CHECKING:
    from typer.testing import Result

    from helpers import Cli

#: The database comes from the context (`r`), as for a person using one.
NO_URL: dict[str, str | None] = {"ORDERCTL_DATABASE_URL": None}


def add_context(cli: Cli, read_url: str) -> None:
    """Context `r`, current: the test database as primary, `read_url` as its replica."""
    args = ("context", "add", "r", "--database-url", cli.db_url, "--read-url", read_url)
    assert cli(*args, role=None).exit_code == 0
    assert cli("context", "use", "r", role=None).exit_code == 0


def in_context(cli: Cli, *args: str, role: Role = Role.ADMIN) -> Result:
    return cli(*args, role=role, env=NO_URL)


def listed_skus(cli: Cli, *args: str) -> list[str]:
    result = in_context(cli, *args, "products", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    return [row["sku"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_reads_run_on_the_standby_and_see_the_primary_once_replayed(
    shop: Cli, database: Database, replica_url: str
) -> None:
    add_context(shop, replica_url)
    created = in_context(shop, "orders", "create", "--customer", "ana@example.com",
                         "--item", "MUG-01:2", "-o", "json")  # fmt: skip
    assert created.exit_code == 0, created.stderr
    order_id = str(json.loads(created.stdout)["id"])
    wait_for_replay(shop.db_url, replica_url)
    shown = in_context(shop, "orders", "show", order_id, "-o", "json")
    assert shown.exit_code == 0 and str(json.loads(shown.stdout)["id"]) == order_id
    listed = json.loads(in_context(shop, "orders", "list", "-o", "json").stdout)
    assert [str(order["id"]) for order in listed] == [order_id]
    assert "MUG-01" in listed_skus(shop)
    assert in_context(shop, "customers", "show", "ana@example.com").exit_code == 0

    with replay_paused(replica_url):
        added = in_context(shop, "products", "add", "NEW-1", "--name", "New", "--price", "2.00")
        assert added.exit_code == 0, added.stderr
        # The write landed on the primary; the list, on the held standby, cannot see it yet.
        assert rows(database, "SELECT sku FROM products WHERE sku = 'NEW-1'") == [("NEW-1",)]
        assert "NEW-1" not in listed_skus(shop)
        assert "NEW-1" in listed_skus(shop, "--database-url", shop.db_url)
        missing = in_context(shop, "products", "show", "NEW-1")
        assert missing.exit_code == 5, missing.stderr
    wait_for_replay(shop.db_url, replica_url)
    assert "NEW-1" in listed_skus(shop)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_revoked_token_is_refused_though_the_standby_still_shows_it_valid(
    cli: Cli, database: Database, replica_url: str
) -> None:
    add_context(cli, replica_url)
    viewer_token = cli.token(Role.VIEWER)
    assert in_context(cli, "orders", "list", role=Role.VIEWER).exit_code == 0
    wait_for_replay(cli.db_url, replica_url)
    (token_id,) = [t.id for t in tokens_in_db(database) if t.user == "test-viewer"]
    with replay_paused(replica_url):
        revoked = in_context(cli, "auth", "token", "revoke", str(token_id), "--yes")
        assert revoked.exit_code == 0, revoked.stderr
        standby = Database(replica_url)
        try:
            (on_standby,) = [t for t in tokens_in_db(standby) if t.id == token_id]
        finally:
            standby.dispose()
        assert on_standby.revoked_at is None  # the replica would still let it in
        refused = cli("orders", "list", role=None, env={**NO_URL, "ORDERCTL_TOKEN": viewer_token})
        one_error(refused, 3, "revoked")


def test_a_replica_that_cannot_be_reached_is_exit_7_naming_it(cli: Cli, database: Database) -> None:
    cli.token(Role.ADMIN)
    add_products(database)
    add_context(cli, "postgresql://app:s3cret@127.0.0.1:1/shop")
    before = database_snapshot(database)
    for args in (
        ("orders", "list"),
        ("orders", "show", "1"),
        ("orders", "history", "1"),
        ("products", "list"),
        ("products", "show", "MUG-01"),
        ("products", "history", "MUG-01"),
        ("customers", "list"),
        ("customers", "show", "ana@example.com"),
    ):
        line = one_error(in_context(cli, *args), 7, "read replica")
        assert "//app:***@127.0.0.1:1/shop" in line and "s3cret" not in line, line
    assert database_snapshot(database) == before


def test_writes_go_to_the_primary_whatever_the_replica(cli: Cli, database: Database) -> None:
    add_context(cli, "postgresql://app@127.0.0.1:1/shop")
    added = in_context(cli, "products", "add", "P-1", "--name", "P", "--price", "1.00")
    assert added.exit_code == 0, added.stderr
    assert rows(database, "SELECT sku FROM products") == [("P-1",)]
    create_user(database, "bob", Role.VIEWER)
    assert in_context(cli, "users", "list").exit_code == 0  # not a data read: the primary
