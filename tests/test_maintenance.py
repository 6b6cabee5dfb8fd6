"""Maintenance jobs (DESIGN.md §8): effects, dry runs, output modes, bad input, roles
(`maintenance verify`: tests/test_maintenance_verify.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from helpers import Shop, ago, database_snapshot
from orderctl import clock
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import ApiToken, OrderEvent, OrderItem
from orderctl.services.uow import UnitOfWork

pytestmark = pytest.mark.pgbouncer

if TYPE_CHECKING:
    from helpers import Cli

JOBS = {
    "expire-pending": ["maintenance", "expire-pending", "--older-than", "72h"],
    "purge-tokens": ["maintenance", "purge-tokens"],
    "purge-orders": [
        "maintenance",
        "purge-orders",
        "--status",
        "cancelled",
        "--older-than",
        "365d",
        "--yes",
    ],
    "verify": ["maintenance", "verify"],
}


@pytest.fixture
def shop(database: Database) -> Shop:
    return Shop(database)


# ---- expire-pending ----


def test_expire_pending_cancels_restocks_and_records_history(cli: Cli, shop: Shop) -> None:
    old = [
        shop.order("pending", created=ago(hours=73), lines=[("TRACK", 2), ("FREE", 1)]),
        shop.order("pending", created=ago(days=10), lines=[("TRACK", 3)]),
        shop.order("pending", created=ago(days=30), lines=[("FREE", 5)]),
    ]
    young = shop.order("pending", created=ago(hours=71))
    paid = shop.order("paid", created=ago(days=10))

    result = cli(*JOBS["expire-pending"], "--batch-size", "2", "-o", "json")

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["job"] == "expire-pending" and summary["dry_run"] is False
    assert (summary["orders"], summary["units_restocked"], summary["batches"]) == (3, 5, 2)
    assert summary["cutoff"].endswith("Z")
    assert [shop.status(i) for i in old] == ["cancelled"] * 3
    assert shop.status(young) == "pending" and shop.status(paid) == "paid"
    assert shop.stock("TRACK") == 105 and shop.stock("FREE") is None
    event = shop.events(old[0])[-1]
    assert (event.action, event.from_status, event.to_status, event.reason, event.actor) == (
        "status_changed",
        "pending",
        "cancelled",
        "expired",
        "test-admin",
    )
    assert len(shop.events(young)) == 1
    # Running it again finds nothing more to do.
    again = cli(*JOBS["expire-pending"], "-o", "json")
    assert json.loads(again.stdout)["orders"] == 0 and shop.stock("TRACK") == 105


def test_expire_pending_human_summary_goes_to_stderr(cli: Cli, shop: Shop) -> None:
    shop.order("pending", created=ago(days=4))
    result = cli(*JOBS["expire-pending"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.startswith("expired 1 pending order(s) older than 72h")
    assert "restocked 2 unit(s)" in result.stderr


def test_zero_duration_expires_everything_pending(cli: Cli, shop: Shop) -> None:
    order = shop.order("pending", created=ago(seconds=5))
    result = cli("maintenance", "expire-pending", "--older-than", "0m", "-q")
    assert result.exit_code == 0 and shop.status(order) == "cancelled"


# ---- dry run, quiet, output ----


def test_dry_run_changes_nothing(cli: Cli, shop: Shop, database: Database) -> None:
    shop.order("pending", created=ago(days=5))
    shop.order("cancelled", created=ago(days=800), updated=ago(days=400))
    shop.order("paid", created=ago(days=5), total=Decimal("99.00"))  # broken total
    cli.token(Role.ADMIN)
    with UnitOfWork(database) as u:
        user = u.users.get_one_by_username("test-admin")
        u.session.add(
            ApiToken(
                user_id=user.id,
                name="old",
                token_hash="x" * 64,
                prefix="oct_x",
                expires_at=ago(days=60),
            )
        )
        u.commit()
    before = database_snapshot(database)
    counts = {"expire-pending": "orders", "purge-tokens": "tokens", "purge-orders": "orders"}
    for job, args in JOBS.items():
        extra = ["--fix"] if job == "verify" else []
        result = cli(*args, *extra, "--dry-run", "-o", "json")
        assert result.exit_code == (6 if job == "verify" else 0), result.stderr
        summary = json.loads(result.stdout)
        assert summary["dry_run"] is True
        if job == "verify":
            assert (summary["found"], summary["fixed"], summary["remaining"]) == (1, 0, 1)
        else:
            assert summary[counts[job]] == 1, job
        human = cli(*args, *extra, "--dry-run")
        assert human.stderr.startswith(("dry run: would", "error: dry run: checked")), job
        assert database_snapshot(database) == before


def test_quiet_prints_nothing_and_formats_print_one_summary(cli: Cli, shop: Shop) -> None:
    shop.order("pending", created=ago(days=5))
    for args in JOBS.values():
        for extra in ([], ["-o", "json"]):
            result = cli(*args, "--quiet", *extra)
            assert result.exit_code == 0, result.stderr
            assert (result.stdout, result.stderr) == ("", "")
    result = cli(*JOBS["purge-tokens"], "-o", "jsonl")
    assert result.exit_code == 0 and json.loads(result.stdout)["job"] == "purge-tokens"
    header, row = cli(*JOBS["purge-tokens"], "-o", "csv").stdout.splitlines()
    assert header.startswith("job,dry_run,cutoff,tokens") and row.startswith("purge-tokens,")


# ---- bad input ----

BAD_DURATIONS = [
    *("72", "h", "-1h", "1.5h", "1w", "", " ", "0x10h", "1e3s", "72H", "99999999999d"),
    *("1h; DROP TABLE orders", "\u0663h", "1h\x00", "\u202e1h", "🕐h", "1 h", "+1h"),
]


def test_bad_durations_are_usage_errors(cli: Cli, shop: Shop, database: Database) -> None:
    shop.order("pending", created=ago(days=5))
    cli.token(Role.ADMIN)
    before = database_snapshot(database)
    for value in BAD_DURATIONS:
        for job in ("expire-pending", "purge-tokens", "purge-orders"):
            args = [a if a not in ("72h", "365d") else value for a in JOBS[job]]
            if job == "purge-tokens":
                args += ["--older-than", value]
            result = cli(*args)
            assert result.exit_code == 2, (job, value, result.stderr)
            assert result.stderr.startswith("error: --older-than: invalid duration")
            assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert database_snapshot(database) == before


def test_purge_orders_refuses_statuses_that_are_not_final(
    cli: Cli, shop: Shop, database: Database
) -> None:
    for status in ("pending", "paid", "shipped", "delivered"):
        shop.order(status, created=ago(days=800))
    cli.token(Role.ADMIN)
    before = database_snapshot(database)
    for status in ("pending", "paid", "shipped", "delivered", "PAID"):
        result = cli("maintenance", "purge-orders", "--status", status, "--older-than", "1d")
        assert result.exit_code == 6
        assert result.stderr.startswith(
            "error: purge-orders only deletes orders in a final status (cancelled, refunded)"
        )
    assert database_snapshot(database) == before


def test_usage_and_rule_errors_of_options(cli: Cli) -> None:
    for args in (
        ["purge-orders", "--status", "gone", "--older-than", "1d"],
        ["purge-orders", "--status", "cancelled'; --", "--older-than", "1d"],
        ["purge-orders", "--older-than", "1d"],
        ["expire-pending"],
        ["expire-pending", "--older-than", "1h", "--batch-size", "many"],
        ["verify", "--frobnicate"],
    ):
        assert cli("maintenance", *args).exit_code == 2, args
    for size in ("0", "-5", "10001"):
        result = cli(*JOBS["expire-pending"], "--batch-size", size)
        assert result.exit_code == 6 and "batch size: must be between 1 and 10000" in result.stderr


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_jobs_need_the_admin_role(cli: Cli, shop: Shop, database: Database, role: Role) -> None:
    shop.order("pending", created=ago(days=5))
    cli.token(role)
    before = database_snapshot(database)
    for job, args in JOBS.items():
        result = cli(*args, role=role)
        assert result.exit_code == 4, (job, result.stderr)
        assert "permission denied" in result.stderr and result.stdout == ""
    assert database_snapshot(database) == before
    assert cli(*JOBS["verify"], role=None).exit_code == 3


# ---- purge-tokens ----


def test_purge_tokens_deletes_only_long_dead_tokens(cli: Cli, database: Database) -> None:
    cli.token(Role.ADMIN)
    with UnitOfWork(database) as u:
        user = u.users.get_one_by_username("test-admin")
        for name, expires, revoked in [
            ("expired-long-ago", ago(days=31), None),
            ("revoked-long-ago", None, ago(days=45)),
            ("expired-recently", ago(days=3), None),
            ("revoked-recently", None, ago(days=1)),
            ("valid", clock.utcnow() + timedelta(days=30), None),
        ]:
            u.session.add(
                ApiToken(
                    user_id=user.id,
                    name=name,
                    token_hash=name.ljust(64, "0"),
                    prefix="oct_xx",
                    expires_at=expires,
                    revoked_at=revoked,
                )
            )
        u.commit()
    result = cli("maintenance", "purge-tokens", "-o", "json", "--batch-size", "1")
    assert result.exit_code == 0, result.stderr
    assert (json.loads(result.stdout)["tokens"], json.loads(result.stdout)["batches"]) == (2, 2)
    with UnitOfWork(database) as u:
        names = set(u.session.scalars(select(ApiToken.name)))
    assert names == {"test", "expired-recently", "revoked-recently", "valid"}
    result = cli("maintenance", "purge-tokens", "--older-than", "0s", "-o", "json")
    assert json.loads(result.stdout)["tokens"] == 2


# ---- purge-orders ----


def test_purge_orders_deletes_old_final_orders_with_items_and_events(
    cli: Cli, shop: Shop, database: Database
) -> None:
    gone = [
        shop.order("cancelled", created=ago(days=900), updated=ago(days=366), events=2),
        shop.order(
            "cancelled",
            created=ago(days=900),
            updated=ago(days=500),
            lines=[("TRACK", 1), ("FREE", 1)],
        ),
    ]
    # updated recently (the last status change), though created long ago: kept.
    recent = shop.order("cancelled", created=ago(days=900), updated=ago(days=364))
    refunded = shop.order("refunded", created=ago(days=900), updated=ago(days=900))
    stock = shop.stock()
    result = cli(*JOBS["purge-orders"], "--batch-size", "1", "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["orders"], summary["items"], summary["events"], summary["batches"]) == (
        2,
        3,
        3,
        2,
    )
    assert [shop.status(i) for i in gone] == [None, None]
    assert shop.status(recent) == "cancelled" and shop.status(refunded) == "refunded"
    assert shop.stock() == stock
    with UnitOfWork(database) as u:
        assert not list(u.session.scalars(select(OrderItem).where(OrderItem.order_id.in_(gone))))
        assert not list(u.session.scalars(select(OrderEvent).where(OrderEvent.order_id.in_(gone))))
    result = cli(
        "maintenance", "purge-orders", "--status", "REFUNDED", "--older-than", "1d", "--yes"
    )
    assert result.exit_code == 0 and shop.status(refunded) is None
    assert "deleted 1 refunded order(s)" in result.stderr


# ---- crontab ----


def test_crontab_needs_no_token_or_database(cli: Cli, tmp_path: Any) -> None:
    result = cli(
        "maintenance",
        "crontab",
        "--env-file",
        "/etc/orderctl/cron env",
        role=None,
        env={"ORDERCTL_DATABASE_URL": f"sqlite:///{tmp_path}/none/x.db"},
    )
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    jobs = [line for line in lines if " maintenance " in line]
    assert len(jobs) == 4
    for line in jobs:
        fields = line.split()
        assert len(fields[:5]) == 5 and fields[5] == "root"
        assert "'/etc/orderctl/cron env'" in line and "--quiet" in line
        exe = line.split("set +a && ", 1)[1].split(" maintenance ")[0]
        assert exe.startswith("/")
    assert "orderctl auth token create --name cron" in result.stdout
    assert "flock" in result.stdout  # says why no flock(1) is needed


def test_every_job_has_help_with_an_example() -> None:
    from typer.testing import CliRunner

    from orderctl.cli.main import app

    for job in ("expire-pending", "purge-tokens", "purge-orders", "verify", "crontab"):
        result = CliRunner().invoke(app, ["maintenance", job, "--help"])
        assert result.exit_code == 0, job
        assert "Example: orderctl maintenance" in result.stdout, job
