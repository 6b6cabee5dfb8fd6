"""Destructive commands confirm first (DESIGN.md §18): the plan with counts, `[y/N]` on a
terminal, `--yes` for scripts, and with neither a refusal (exit 2) that changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from helpers import create_token, create_user, database_snapshot
from orderctl import clock, tables
from orderctl.db import SCHEMA_REVISION, Database
from orderctl.enums import Role
from orderctl.models import ApiToken, Customer, Order, OrderEvent, OrderItem, Product
from orderctl.services import schema
from orderctl.services.uow import UnitOfWork

if TYPE_CHECKING:
    from helpers import Cli


def add_cancelled_orders(
    database: Database, count: int, *, age: timedelta = timedelta(days=400)
) -> None:
    """`count` cancelled orders last changed `age` ago, with two lines and one event each."""
    when = clock.utcnow() - age
    tag = uuid.uuid4().hex[:8]
    with UnitOfWork(database) as u:
        customer = Customer(email=f"c-{tag}@example.com", name="C")
        products = [
            Product(sku=f"P{n}-{tag}", name="P", unit_price=Decimal("1.50")) for n in (1, 2)
        ]
        u.session.add_all([customer, *products])
        u.session.flush()
        for _ in range(count):
            items = [
                OrderItem(
                    product_id=product.id,
                    sku=product.sku,
                    name="P",
                    quantity=q,
                    unit_price=Decimal("1.50"),
                    line_total=Decimal("1.50") * q,
                )
                for q, product in zip((1, 2), products, strict=True)
            ]
            u.session.add(
                Order(
                    customer_id=customer.id,
                    status="cancelled",
                    currency="EUR",
                    total=Decimal("4.50"),
                    created_at=when,
                    updated_at=when,
                    items=items,
                    events=[OrderEvent(at=when, actor="seed", action="created")],
                )
            )
        u.commit()


def add_token(database: Database, username: str, name: str) -> int:
    with UnitOfWork(database) as u:
        user = u.users.get_one_by_username(username)
        token = ApiToken(
            user=user,
            name=name,
            token_hash=f"{username}-{name}".ljust(64, "0"),
            prefix="oct_xxxxxx",
            created_at=clock.utcnow(),
            created_by="test",
        )
        u.tokens.add(token)
        u.commit()
        return token.id


def user_active(database: Database, username: str) -> bool:
    with UnitOfWork(database, write=False) as u:
        return u.users.get_one_by_username(username).active


def token_revoked(database: Database, token_id: int) -> bool:
    with UnitOfWork(database, write=False) as u:
        token = u.tokens.get(token_id)
        return token is not None and token.revoked_at is not None


@dataclass(frozen=True)
class Case:
    """One destructive command: its arguments on a prepared database, the plan it states,
    and whether its change was made."""

    args: list[str]
    plan: str
    done: Callable[[], bool]


def downgrade_case(cli: Cli) -> Case:
    cli.token(Role.ADMIN)  # the database has users: an admin login is needed
    add_cancelled_orders(cli.database, 3)
    return Case(
        ["db", "downgrade", "base"],
        f"will downgrade {cli.database.display_url} from {SCHEMA_REVISION} to base: "
        f"drops {len(tables.metadata.tables)} tables "
        "holding 1 api_tokens, 1 customers, 3 order_events, 6 order_items, 3 orders, "
        "2 products, 1 users",
        lambda: schema.current(cli.database) is None,
    )


def purge_case(cli: Cli) -> Case:
    cli.token(Role.ADMIN)
    add_cancelled_orders(cli.database, 3)
    add_cancelled_orders(cli.database, 1, age=timedelta(days=5))  # too recent: kept

    def done() -> bool:
        with UnitOfWork(cli.database, write=False) as u:
            return u.session.query(Order).count() == 1

    return Case(
        ["maintenance", "purge-orders", "--status", "cancelled", "--older-than", "30d"],
        "will delete 3 cancelled orders (6 lines, 3 events) last changed before ",
        done,
    )


def disable_case(cli: Cli) -> Case:
    cli.token(Role.ADMIN)
    create_user(cli.database, "bob", Role.OPERATOR)
    create_token(cli.database, "bob")
    create_token(cli.database, "bob")
    return Case(
        ["users", "disable", "bob"],
        "will disable user bob (2 active tokens stop working)",
        lambda: not user_active(cli.database, "bob"),
    )


def revoke_case(cli: Cli) -> Case:
    cli.token(Role.ADMIN)
    create_user(cli.database, "alice", Role.VIEWER)
    token_id = add_token(cli.database, "alice", "cron")
    return Case(
        ["auth", "token", "revoke", str(token_id)],
        f"will revoke token {token_id} 'cron' of user alice",
        lambda: token_revoked(cli.database, token_id),
    )


CASES = {
    "db downgrade": downgrade_case,
    "purge-orders": purge_case,
    "users disable": disable_case,
    "token revoke": revoke_case,
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest, cli: Cli) -> Case:
    return CASES[request.param](cli)


def test_without_a_terminal_or_yes_it_refuses_and_changes_nothing(cli: Cli, case: Case) -> None:
    before = database_snapshot(cli.database)
    result = cli(*case.args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"error: not confirmed: {case.plan}"), result.stderr
    assert "needs --yes to go ahead (nothing was changed)" in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert database_snapshot(cli.database) == before
    assert not case.done()


def test_yes_goes_ahead_and_states_the_plan(cli: Cli, case: Case) -> None:
    result = cli(*case.args, "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(case.plan), result.stderr
    assert case.done()


def test_on_a_terminal_y_goes_ahead(cli: Cli, case: Case) -> None:
    run = cli.on_terminal(*case.args, answer="y")
    assert run.asked and run.exit_code == 0, run.output
    assert case.plan in run.output and "Continue? [y/N]" in run.output
    assert case.done()


def test_on_a_terminal_n_aborts_and_changes_nothing(cli: Cli, case: Case) -> None:
    before = database_snapshot(cli.database)
    run = cli.on_terminal(*case.args, answer="n")
    assert run.asked and run.exit_code == 1, run.output
    assert case.plan in run.output
    assert "error: aborted; nothing was changed" in run.output
    assert "Traceback" not in run.output
    assert database_snapshot(cli.database) == before


@pytest.mark.parametrize("answer", ["", None], ids=["enter", "ctrl-d"])
def test_enter_and_ctrl_d_answer_no(cli: Cli, answer: str | None) -> None:
    """The default is No; end of input is No too (the one prompt of every command)."""
    case = purge_case(cli)
    before = database_snapshot(cli.database)
    run = cli.on_terminal(*case.args, answer=answer)
    assert run.asked and run.exit_code == 1, run.output
    assert "error: aborted; nothing was changed" in run.output
    assert database_snapshot(cli.database) == before


# ---- what needs no question ----


def test_dry_run_needs_no_confirmation(cli: Cli) -> None:
    case = purge_case(cli)
    before = database_snapshot(cli.database)
    result = cli(*case.args, "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert '"orders": 3' in result.stdout and result.stderr == ""
    assert database_snapshot(cli.database) == before


def test_nothing_to_change_needs_no_confirmation(cli: Cli) -> None:
    """No question when the plan changes nothing: nothing to purge, a user already disabled,
    a token already revoked, a downgrade to the current revision."""
    cli.token(Role.ADMIN)
    create_user(cli.database, "carol", Role.VIEWER)
    token_id = add_token(cli.database, "carol", "old")
    assert cli("users", "disable", "carol", "--yes").exit_code == 0
    assert cli("auth", "token", "revoke", str(token_id), "--yes").exit_code == 0
    for args in (
        ["maintenance", "purge-orders", "--status", "cancelled", "--older-than", "30d"],
        ["users", "disable", "carol"],
        ["auth", "token", "revoke", str(token_id)],
        ["db", "downgrade", SCHEMA_REVISION],
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert "will " not in result.stderr, args


def test_revoking_ones_own_token_needs_no_confirmation(cli: Cli) -> None:
    for role in (Role.VIEWER, Role.ADMIN):
        cli.token(role)
        mine = add_token(cli.database, f"test-{role.value}", "laptop")
        result = cli("auth", "token", "revoke", str(mine), role=role)
        assert result.exit_code == 0, result.stderr
        assert "will " not in result.stderr and token_revoked(cli.database, mine)


def test_refused_inputs_are_refused_before_the_question(cli: Cli) -> None:
    """Unknown names, the last admin, other people's tokens: the usual error, no plan."""
    for role in Role:
        cli.token(role)
    create_user(cli.database, "erin", Role.VIEWER)
    theirs = add_token(cli.database, "erin", "cron")
    before = database_snapshot(cli.database)
    purge = ["maintenance", "purge-orders", "--older-than"]
    for args, role, code in [
        (["users", "disable", "ghost"], Role.ADMIN, 5),
        (["users", "disable", "test-admin"], Role.ADMIN, 6),
        (["users", "disable", "erin"], Role.OPERATOR, 4),
        (["auth", "token", "revoke", "999999"], Role.ADMIN, 5),
        (["auth", "token", "revoke", str(theirs)], Role.VIEWER, 4),
        ([*purge, "1d", "--status", "paid"], Role.ADMIN, 6),
        ([*purge, "1y", "--status", "cancelled"], None, 2),
        (["db", "downgrade", "zzz"], Role.ADMIN, 2),
    ]:
        result = cli(*args, role=role)
        assert result.exit_code == code, (args, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, args
        assert "will " not in result.stderr and "--yes" not in result.stderr, args
    assert database_snapshot(cli.database) == before


def test_quiet_yes_prints_nothing_for_cron(cli: Cli) -> None:
    case = purge_case(cli)
    result = cli(*case.args, "--yes", "--quiet")
    assert result.exit_code == 0 and (result.stdout, result.stderr) == ("", "")
    assert case.done()


def test_crontab_answers_yes_for_the_jobs_that_ask() -> None:
    from typer.testing import CliRunner

    from orderctl.cli.main import app

    result = CliRunner().invoke(app, ["maintenance", "crontab"])
    assert result.exit_code == 0
    jobs = {
        line.split(" maintenance ")[1].split()[0]: line
        for line in result.stdout.splitlines()
        if " maintenance " in line and not line.startswith("#")
    }
    assert "--yes" in jobs.pop("purge-orders").split()
    assert all("--yes" not in line for line in jobs.values())
    assert "cron has no terminal" in result.stdout


def test_purge_deletes_what_the_plan_counted(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cut is fixed when the plan is made: an order that grows old enough while the
    question waits is not deleted unannounced."""
    case = purge_case(cli)
    # Half an hour too young when the plan is made, old enough when the answer comes.
    add_cancelled_orders(cli.database, 2, age=timedelta(days=30, minutes=-30))
    later = clock.utcnow() + timedelta(hours=1)

    from orderctl.cli.confirm import confirm as real_confirm

    def confirm_an_hour_later(plan: str, **kwargs: Any) -> None:
        monkeypatch.setattr(clock, "utcnow", lambda: later)  # the answer comes an hour later
        real_confirm(plan, **kwargs)

    monkeypatch.setattr("orderctl.cli.maintenance.confirm", confirm_an_hour_later)
    result = cli(*case.args, "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert '"orders": 3' in result.stdout
    with UnitOfWork(cli.database, write=False) as u:
        assert u.session.query(Order).count() == 3  # the 2 younger ones and the recent one
