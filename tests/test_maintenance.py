"""Maintenance jobs (DESIGN.md §8): effects, dry runs, output modes, bad input, roles, verify."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, text

from helpers import Shop, ago, database_snapshot
from orderctl import clock
from orderctl.db import Database
from orderctl.enums import EventAction, Role
from orderctl.models import ApiToken, Order, OrderEvent, OrderItem
from orderctl.services.uow import UnitOfWork

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


# ---- verify ----


def test_verify_finds_and_fixes_a_broken_total(cli: Cli, shop: Shop, database: Database) -> None:
    good = shop.order("paid", created=ago(days=1), lines=[("TRACK", 4), ("FREE", 2)])
    broken = shop.order(
        "paid",
        created=ago(days=1),
        updated=ago(hours=20),
        lines=[("TRACK", 2)],
        total=Decimal("31.00"),
    )
    result = cli(*JOBS["verify"], "-o", "jsonl")
    assert result.exit_code == 6
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {
            "problem": "total_mismatch",
            "order_id": broken,
            "sku": None,
            "expected": "5.00",
            "found": "31.00",
            "fixed": False,
            "detail": f"order {broken}: total 31.00, sum of lines 5.00",
        }
    ]
    assert result.stderr.startswith("error: checked 2 order(s): 1 problem(s), 0 fixed, 1 remaining")

    fixed = cli(*JOBS["verify"], "--fix", "--yes", "-o", "json")
    assert fixed.exit_code == 0, fixed.stderr
    summary = json.loads(fixed.stdout)
    assert (summary["found"], summary["fixed"], summary["remaining"]) == (1, 1, 0)
    assert summary["problems"][0]["fixed"] is True
    with UnitOfWork(database) as u:
        order = u.session.get(Order, broken)
        assert order is not None and order.total == Decimal("5.00")
        assert order.updated_at < ago(hours=19)  # not a status change
    event = shop.events(broken)[-1]
    assert event.action == EventAction.TOTAL_FIXED.value and event.actor == "test-admin"
    assert "total 31.00 -> 5.00" in (event.reason or "")
    assert len(shop.events(good)) == 1
    clean = cli(*JOBS["verify"])
    assert clean.exit_code == 0 and clean.stdout == ""
    assert "0 problem(s)" in clean.stderr


def test_verify_reports_line_totals_and_orders_without_items(
    cli: Cli, shop: Shop, database: Database
) -> None:
    order = shop.order("pending", created=ago(days=1), lines=[("TRACK", 3)])
    with UnitOfWork(database) as u:
        u.session.execute(
            text("UPDATE order_items SET line_total = 7.00 WHERE order_id = :o"), {"o": order}
        )
        empty = Order(
            customer_id=shop.customer_id,
            status="pending",
            currency="EUR",
            total=Decimal(0),
            created_at=ago(days=1),
            updated_at=ago(days=1),
        )
        u.session.add(empty)
        u.commit()
        empty_id = empty.id
    result = cli(*JOBS["verify"], "-o", "json")
    assert result.exit_code == 6
    problems = {(p["problem"], p["order_id"]) for p in json.loads(result.stdout)["problems"]}
    # The stored order total (7.50) is right: only the line is wrong.
    assert problems == {("line_total_mismatch", order), ("order_without_items", empty_id)}
    fixed = cli(*JOBS["verify"], "--fix", "--yes", "-o", "csv")
    assert fixed.exit_code == 6  # an order without items cannot be repaired
    assert f"line_total_mismatch,{order},TRACK,7.50,7.00,yes," in fixed.stdout
    assert "1 fixed, 1 remaining" in fixed.stderr
    event = shop.events(order)[-1]
    assert event.action == "total_fixed" and "line TRACK 7.00 -> 7.50" in (event.reason or "")


def test_verify_table_output_and_many_batches(cli: Cli, shop: Shop) -> None:
    for n in range(5):
        shop.order("paid", created=ago(days=1), total=Decimal(f"{n + 1}.99"))
    result = cli(*JOBS["verify"], "--batch-size", "2")
    assert result.exit_code == 6
    assert result.stdout.count("total_mismatch") == 5
    assert "checked 5 order(s): 5 problem(s)" in result.stderr


def test_verify_finds_orphans_and_negative_stock(
    cli: Cli, shop: Shop, database: Database, backend: str
) -> None:
    order = shop.order("paid", created=ago(days=1))
    # Constraints normally make these impossible; switch them off to simulate a damaged database.
    if backend == "sqlite":
        raw = database.engine.raw_connection()  # autocommit: the pragmas work outside BEGIN
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA ignore_check_constraints = ON")
            cur.execute("UPDATE products SET stock = -3 WHERE sku = 'TRACK'")
            cur.execute("DELETE FROM orders WHERE id = ?", (order,))
        finally:
            raw.invalidate()
    else:
        with database.engine.begin() as conn:
            for table, constraint in [
                ("products", "ck_products_stock_not_negative"),
                ("order_items", "fk_order_items_order_id_orders"),
                ("order_events", "fk_order_events_order_id_orders"),
            ]:
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
            conn.exec_driver_sql("UPDATE products SET stock = -3 WHERE sku = 'TRACK'")
            conn.execute(text("DELETE FROM orders WHERE id = :o"), {"o": order})
    database.engine.dispose()  # drop the connection with foreign keys off
    result = cli(*JOBS["verify"], "-o", "json")
    assert result.exit_code == 6, result.stderr
    problems = {
        (p["problem"], p["order_id"], p["sku"]) for p in json.loads(result.stdout)["problems"]
    }
    assert problems == {
        ("negative_stock", None, "TRACK"),
        ("ledger_mismatch", None, "TRACK"),  # set behind the ledger's back
        ("orphan_item", order, None),
        ("orphan_event", order, None),
    }


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
