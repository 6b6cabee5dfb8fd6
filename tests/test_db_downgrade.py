"""`db downgrade` (DESIGN.md §10, §18): a plan of what it drops, and an admin login once the
database has users."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from helpers import create_user, database_snapshot, one_error
from orderctl.db import SCHEMA_REVISION, Database
from orderctl.enums import Role
from orderctl.services import schema
from orderctl.tables import metadata

if TYPE_CHECKING:
    from helpers import Cli


def test_a_database_with_users_needs_an_admin_login(cli: Cli) -> None:
    for role in Role:
        cli.token(role)
    before = database_snapshot(cli.database)
    no_login = cli("db", "downgrade", "base", "--yes", role=None)
    assert no_login.exit_code == 3
    assert "needs an admin login" in one_error(no_login)
    assert "orderctl auth login" in no_login.stderr
    for role in (Role.VIEWER, Role.OPERATOR):
        denied = cli("db", "downgrade", "base", "--yes", role=role)
        assert denied.exit_code == 4, denied.stderr
        assert "needs the admin role" in one_error(denied)
    bad = cli("db", "downgrade", "base", "--yes", role=None, env={"ORDERCTL_TOKEN": "oct_nope"})
    assert bad.exit_code == 3 and "not known to this database" in one_error(bad)
    assert database_snapshot(cli.database) == before
    done = cli("db", "downgrade", "base", "--yes")
    assert done.exit_code == 0, done.stderr
    assert done.stderr.endswith(f"migrated {SCHEMA_REVISION} -> base\n")
    assert schema.current(cli.database) is None


def test_a_disabled_admin_cannot_downgrade(cli: Cli) -> None:
    cli.token(Role.ADMIN)
    create_user(cli.database, "second", Role.ADMIN)
    assert cli("users", "disable", "test-admin", "--yes").exit_code == 0
    refused = cli("db", "downgrade", "base", "--yes")
    assert refused.exit_code == 3 and "disabled" in one_error(refused)
    assert schema.current(cli.database) == SCHEMA_REVISION


def test_without_users_no_login_is_needed(cli: Cli) -> None:
    plan = cli("db", "downgrade", "base", role=None)
    assert plan.exit_code == 2 and f"drops {len(metadata.tables)} tables (all empty)" in one_error(
        plan
    )
    done = cli("db", "downgrade", "base", "--yes", role=None)
    assert done.exit_code == 0, done.stderr
    assert schema.current(cli.database) is None
    # An empty database: already at base, nothing to ask and no login.
    again = cli("db", "downgrade", "base", role=None)
    assert again.exit_code == 0 and "already at revision base" in again.stderr
    above = cli("db", "downgrade", SCHEMA_REVISION, role=None)
    assert above.exit_code == 2 and "has no schema" in one_error(above)


def test_relative_and_unknown_revisions(cli: Cli) -> None:
    cli.token(Role.ADMIN)
    before = database_snapshot(cli.database)
    for revision, message in [
        ("-6", "only 5 step(s) above base"),
        ("zzz", "Can't locate revision"),
        ("", "no revision given"),
        ("--bogus", "Can't locate revision"),
    ]:
        result = cli("db", "downgrade", revision, "--yes")
        assert result.exit_code == 2, (revision, result.stderr)
        assert message in one_error(result), revision
    assert database_snapshot(cli.database) == before
    same = cli("db", "downgrade", "head")  # the current revision: no change, no question
    assert same.exit_code == 0 and "already at revision" in same.stderr
    events_step = cli("db", "downgrade", "-1", "--yes")
    assert events_step.exit_code == 0, events_step.stderr
    assert events_step.stderr.startswith(
        f"will downgrade {cli.database.display_url} from 0005 to 0004: "
        "drops column order_events.txid (empty)"
    )
    search = cli("db", "downgrade", "-1", "--yes")  # the search indexes hold no data of their own
    assert search.exit_code == 0, search.stderr
    assert search.stderr.startswith(
        f"will downgrade {cli.database.display_url} from 0004 to 0003: drops no table or column\n"
    )
    assert schema.current(cli.database) == "0003"
    one_step = cli("db", "downgrade", "-1", "--yes")
    assert one_step.exit_code == 0, one_step.stderr
    assert one_step.stderr.startswith(
        f"will downgrade {cli.database.display_url} from 0003 to 0002: "
        "drops column orders.shipping_address (empty)"
    )
    assert schema.current(cli.database) == "0002"
    two_steps = cli("db", "downgrade", "-1", "--yes")
    assert two_steps.stderr.startswith(
        f"will downgrade {cli.database.display_url} from 0002 to 0001: "
        "drops table stock_movements (empty); drops column order_items.reserved (empty)"
    )
    assert schema.current(cli.database) == "0001"


@pytest.mark.usefixtures("backend")
def test_the_plan_names_every_table_the_migrations_made(database: Database) -> None:
    plan = schema.plan_downgrade(database, "base")
    assert set(plan.dropped_tables) == set(metadata.tables)
    assert plan.dropped_columns == {} and plan.users == 0 and not plan.needs_admin
    assert schema.current(database) == SCHEMA_REVISION  # a plan changes nothing
