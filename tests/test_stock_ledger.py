"""The stock ledger (DESIGN.md §13): movements for every stock change, releases of exactly what
was reserved, `products history`, and verify's ledger checks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from helpers import database_snapshot, rows, snapshot_column, stock_ledger
from orderctl.db import Database
from orderctl.enums import OrderStatus, Role
from orderctl.services import orders, products
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork

if TYPE_CHECKING:
    from helpers import Cli


def history(cli: Cli, sku: str, *args: str, role: Role = Role.VIEWER) -> list[dict[str, Any]]:
    result = cli("products", "history", sku, "--all", "-o", "json", *args, role=role)
    assert result.exit_code == 0, result.stderr
    docs: list[dict[str, Any]] = json.loads(result.stdout)
    return docs


def create(cli: Cli, *items: str, ref: str | None = None) -> int:
    args = ["orders", "create", "--customer", "ann@example.com", "-o", "json"]
    for item in items:
        args += ["--item", item]
    if ref:
        args += ["--external-ref", ref]
    result = cli(*args, role=Role.OPERATOR)
    assert result.exit_code == 0, result.stderr
    order_id: int = json.loads(result.stdout)["id"]
    return order_id


def verify_clean(cli: Cli) -> None:
    result = cli("maintenance", "verify", "-o", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["found"] == 0


@pytest.fixture
def catalog(cli: Cli) -> Cli:
    """MUG (stock 10, tracked) and CAP (not tracked), added through the CLI."""
    for args in (["MUG", "--stock", "10"], ["CAP"]):
        result = cli("products", "add", args[0], "--name", args[0].title(), "--price", "2.50",
                     *args[1:])  # fmt: skip
        assert result.exit_code == 0, result.stderr
    return cli


# ---- every stock change is one movement ----


def test_every_stock_change_is_a_movement_and_history_runs_the_stock(
    catalog: Cli, database: Database
) -> None:
    cli = catalog
    assert cli("products", "update", "MUG", "--stock", "7").exit_code == 0
    assert cli("products", "update", "MUG", "--add-stock", "5").exit_code == 0
    order = create(cli, "MUG:3", "CAP:4")
    assert cli("orders", "set-status", str(order), "cancelled", "--reason", "changed mind",
               role=Role.OPERATOR).exit_code == 0  # fmt: skip
    docs = history(cli, "MUG")
    assert [(d["reason"], d["quantity"], d["stock_after"], d["order_id"], d["note"])
            for d in docs] == [
        ("release", 3, 12, order, "changed mind"),
        ("reserve", -3, 9, order, None),
        ("adjust", 5, 12, None, None),
        ("set", -3, 7, None, None),
        ("set", 10, 10, None, None),
    ]  # fmt: skip
    assert [d["actor"] for d in docs] == ["test-operator"] * 2 + ["test-admin"] * 3
    assert list(docs[0]) == ["id", "at", "reason", "quantity", "stock_after", "order_id",
                             "actor", "note"]  # fmt: skip
    assert docs[0]["at"].endswith("Z") and docs[0]["id"] > docs[1]["id"]
    assert history(cli, "CAP") == []  # untracked: nothing reserved, nothing released
    assert stock_ledger(database) == {"CAP": (None, 0), "MUG": (12, 12)}
    verify_clean(cli)


def test_history_output_limit_roles_and_bad_input(catalog: Cli, database: Database) -> None:
    cli = catalog
    for n in range(3):
        assert cli("products", "update", "MUG", "--add-stock", str(n + 1)).exit_code == 0
    limited = cli("products", "history", "MUG", "--limit", "2", "-o", "jsonl", role=Role.VIEWER)
    assert [json.loads(line)["quantity"] for line in limited.stdout.splitlines()] == [3, 2]
    header = cli("products", "history", "MUG", "-o", "csv").stdout.splitlines()[0]
    assert header == "id,at,reason,quantity,stock_after,order_id,actor,note"
    table = cli("products", "history", "MUG")
    assert table.exit_code == 0 and "adjust" in table.stdout and "16" in table.stdout
    empty = cli("products", "history", "CAP")
    assert empty.exit_code == 0 and empty.stdout == "" and "no stock movements" in empty.stderr
    before = database_snapshot(database)
    for args, code, text_ in [
        (["NOPE"], 5, "product 'NOPE' not found"),
        (["MUG", "--limit", "0"], 6, "limit: must be between 1 and 10000"),
        (["MUG", "--limit", "-1"], 6, "limit: must be between"),
        (["MUG", "--limit", "many"], 2, "Invalid value for '--limit'"),
        (["MUG", "--all", "--limit", "3"], 2, "--all and --limit cannot be used together"),
        (["MUG", "-o", "xml"], 2, "'xml'"),
    ]:
        result = cli("products", "history", *args, role=Role.VIEWER)
        assert result.exit_code == code, (args, result.stderr)
        assert result.stderr.startswith("error: ") and text_ in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert cli("products", "history", "MUG", role=None).exit_code == 3
    assert database_snapshot(database) == before


def test_tracking_off_takes_the_level_out_and_on_counts_from_zero(
    catalog: Cli, database: Database, uow: Callable[..., UnitOfWork]
) -> None:
    admin = catalog.actor(Role.ADMIN)
    with uow() as u:
        products.update_product(u, admin, "MUG", {"stock": None})
    assert stock_ledger(database)["MUG"] == (None, 0)
    with uow() as u:
        products.update_product(u, admin, "MUG", {"stock": 4})
    docs = history(catalog, "MUG")
    assert [(d["quantity"], d["note"]) for d in docs] == [
        (4, "stock tracking started"),
        (-10, "stock tracking stopped"),
        (10, None),
    ]
    verify_clean(catalog)


def test_products_import_records_sets_with_the_file_name(
    catalog: Cli, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("sku,name,unit_price,stock\nMUG,Mug,2.50,25\nNEW,New,1.00,8\nCAP,Cap,2.50,\n")
    assert catalog("products", "import", str(path)).exit_code == 0
    note = f"products import {path}"
    newest = history(catalog, "MUG")[0]
    assert (newest["quantity"], newest["note"]) == (15, note)
    assert [(d["reason"], d["quantity"], d["note"]) for d in history(catalog, "NEW")] == [
        ("set", 8, note)
    ]
    assert stock_ledger(database) == {"CAP": (None, 0), "MUG": (25, 25), "NEW": (8, 8)}
    verify_clean(catalog)


# ---- releases: exactly what was reserved, once ----


def test_cancel_releases_once_even_if_the_order_comes_back_to_pending(
    catalog: Cli, database: Database
) -> None:
    cli = catalog
    order = create(cli, "MUG:4")
    assert rows(database, "SELECT reserved FROM order_items WHERE order_id = :o", o=order) == [(4,)]
    assert cli("orders", "set-status", str(order), "cancelled").exit_code == 0
    assert stock_ledger(database)["MUG"] == (10, 10)
    # A damaged row: the cancelled order is pending again. Expiring it must not give back
    # what the cancel already did: the line holds nothing any more.
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'pending' WHERE id = :o"), {"o": order})
    result = cli("maintenance", "expire-pending", "--older-than", "0m", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["units_restocked"] == 0
    assert stock_ledger(database)["MUG"] == (10, 10)
    assert [d["reason"] for d in history(cli, "MUG")] == ["release", "reserve", "set"]


@pytest.mark.pgbouncer
def test_expire_releases_what_was_reserved_with_the_order(catalog: Cli, database: Database) -> None:
    cli = catalog
    first, second = create(cli, "MUG:2", "CAP:1"), create(cli, "MUG:3")
    dry = cli("maintenance", "expire-pending", "--older-than", "0m", "--dry-run", "-o", "json")
    assert json.loads(dry.stdout)["units_restocked"] == 5
    result = cli("maintenance", "expire-pending", "--older-than", "0m", "-o", "json")
    assert json.loads(result.stdout)["units_restocked"] == 5
    releases = [(d["order_id"], d["quantity"], d["note"], d["actor"])
                for d in history(cli, "MUG") if d["reason"] == "release"]  # fmt: skip
    assert sorted(releases) == [(first, 2, "expired", "test-admin"),
                                (second, 3, "expired", "test-admin")]  # fmt: skip
    assert rows(database, "SELECT DISTINCT reserved FROM order_items") == [(0,)]
    assert stock_ledger(database)["MUG"] == (10, 10)
    verify_clean(cli)


def test_expire_takes_as_many_statements_for_ten_orders_as_for_two(
    catalog: Cli, database: Database, uow: Callable[..., UnitOfWork]
) -> None:
    """Releases are one UPDATE per product and one executemany of movements per batch."""
    from helpers import count_statements
    from orderctl.services import maintenance

    admin = catalog.actor(Role.ADMIN)
    assert catalog("products", "update", "MUG", "--stock", "1000").exit_code == 0
    counts = []
    for n in (2, 10):
        for _ in range(n):
            create(catalog, "MUG:1", "CAP:1")
        with uow() as u, count_statements(database) as statements:
            summary = maintenance.expire_pending(u, admin, older_than=timedelta(0))
        assert summary.units_restocked == n
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


@pytest.mark.pgbouncer
def test_purge_orders_keeps_the_ledger(catalog: Cli, database: Database) -> None:
    cli = catalog
    order = create(cli, "MUG:2")
    assert cli("orders", "set-status", str(order), "cancelled").exit_code == 0
    result = cli("maintenance", "purge-orders", "--status", "cancelled", "--older-than", "0s",
                 "--yes")  # fmt: skip
    if result.exit_code == 2 and "--yes" in result.stderr:  # before purge-orders takes --yes
        result = cli("maintenance", "purge-orders", "--status", "cancelled", "--older-than", "0s")
    assert result.exit_code == 0, result.stderr
    docs = history(cli, "MUG")
    assert [(d["reason"], d["order_id"]) for d in docs] == [
        ("release", None),
        ("reserve", None),
        ("set", None),
    ]
    verify_clean(cli)


# ---- imports reserve nothing, so expiring an imported order gives nothing back ----


def test_expiring_imported_orders_leaves_stock_as_before_the_import(
    catalog: Cli, database: Database, tmp_path: Path
) -> None:
    cli = catalog
    assert cli("products", "add", "TEE", "--name", "Tee", "--price", "9.00", "--stock",
               "50").exit_code == 0  # fmt: skip
    before = stock_ledger(database)
    path = tmp_path / "orders.jsonl"
    with path.open("w") as fh:
        for n in range(300):
            items = [{"sku": "MUG", "quantity": 1 + n % 3}, {"sku": "CAP", "quantity": 2}]
            if n % 2:
                items.append({"sku": "TEE", "quantity": 40})  # more than a stock could give
            doc = {"external_ref": f"IMP-{n:04d}", "customer_email": f"c{n % 7}@example.com",
                   "items": items}  # fmt: skip
            fh.write(json.dumps(doc) + "\n")
    imported = cli("import", "orders", str(path), "--no-progress", "--batch-size", "64")
    assert imported.exit_code == 0, imported.stderr
    assert stock_ledger(database) == before
    result = cli("maintenance", "expire-pending", "--older-than", "0m", "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["orders"], summary["units_restocked"]) == (300, 0)
    assert stock_ledger(database) == before
    assert [d["reason"] for d in history(cli, "TEE")] == ["set"]
    verify_clean(cli)


# ---- races ----


def test_a_create_and_a_cancel_racing_keep_stock_equal_to_the_ledger(
    catalog: Cli, database: Database, db_url: str, uow: Callable[..., UnitOfWork]
) -> None:
    from helpers import hold_row
    from orderctl.schemas import OrderCreate

    operator = catalog.actor(Role.OPERATOR)
    victim = create(catalog, "MUG:4")
    data = OrderCreate.model_validate(
        {"customer_email": "bo@example.com", "items": [{"sku": "MUG", "quantity": 6}]}
    )
    errors: list[BaseException] = []

    def run(work: Callable[[UnitOfWork, Actor], Any]) -> None:
        try:
            with UnitOfWork(database) as u:
                work(u, operator)
        except BaseException as exc:
            errors.append(exc)

    # Both writers queue behind a held lock on the product (PostgreSQL: its row; SQLite: the
    # write lock), then race for it once it is let go.
    holder = hold_row(db_url, database, "products", "sku", "MUG")
    started = threading.Barrier(3)

    def racer(work: Callable[[UnitOfWork, Actor], Any]) -> threading.Thread:
        def go() -> None:
            started.wait()
            run(work)

        thread = threading.Thread(target=go)
        thread.start()
        return thread

    threads = [
        racer(lambda u, a: orders.create_order(u, a, data)),
        racer(lambda u, a: orders.set_status(u, a, victim, OrderStatus.CANCELLED)),
    ]
    started.wait()
    if not database.is_sqlite:
        _wait_for_lock_waiters(database, 2)
    holder.close()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    # 10 - 4 (victim) - 6 (new) + 4 (victim cancelled), in either order.
    assert stock_ledger(database)["MUG"] == (4, 4)
    verify_clean(catalog)


def _wait_for_lock_waiters(database: Database, count: int) -> None:
    """Block until `count` sessions wait for a lock (polling pg_stat_activity)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    for _ in range(10_000):
        with database.engine.connect() as conn:
            if conn.execute(text(sql)).scalar_one() >= count:
                return
    raise AssertionError("the racing transactions never waited for the lock")


# ---- verify and verify --fix ----


def test_verify_reports_ledger_and_reservation_problems_and_fix_asks_first(
    catalog: Cli, database: Database
) -> None:
    cli = catalog
    order = create(cli, "MUG:2")
    assert cli("orders", "set-status", str(order), "cancelled").exit_code == 0
    # Damage behind the ledger's back: a counted stock of 13, a cancelled line holding 2.
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE products SET stock = 13 WHERE sku = 'MUG'"))
        conn.execute(text("UPDATE order_items SET reserved = 2 WHERE order_id = :o"), {"o": order})
    result = cli("maintenance", "verify", "-o", "json")
    assert result.exit_code == 6
    problems = [
        (p["problem"], p["order_id"], p["sku"], p["expected"], p["found"], p["fixed"])
        for p in json.loads(result.stdout)["problems"]
    ]
    assert problems == [
        ("ledger_mismatch", None, "MUG", "13", "10", False),
        ("cancelled_reservation", order, "MUG", "0", "2", False),
    ]

    before = database_snapshot(database)
    refused = cli("maintenance", "verify", "--fix")  # no terminal, no --yes
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        "error: not confirmed: verify --fix will append 1 correction movement(s) so the ledger "
        "agrees with the counted stock; clear 1 reservation(s) still held by cancelled orders "
        "(no stock change); stdin is not a terminal to ask on, so maintenance verify --fix "
        "needs --yes to go ahead (nothing was changed)",
    ]
    assert database_snapshot(database) == before

    fixed = cli("maintenance", "verify", "--fix", "--yes", "-o", "json")
    assert fixed.exit_code == 0, fixed.stderr
    assert (json.loads(fixed.stdout)["fixed"], json.loads(fixed.stdout)["remaining"]) == (2, 0)
    docs = history(cli, "MUG")
    assert (docs[0]["reason"], docs[0]["quantity"], docs[0]["stock_after"]) == ("correction", 3, 13)
    assert docs[0]["note"] == "maintenance verify --fix: ledger said 10, counted stock 13"
    assert docs[0]["actor"] == "test-admin"
    # History is appended to, never edited.
    assert [d["id"] for d in docs[1:]] == list(
        reversed(snapshot_column(before, "stock_movements", "id"))
    )
    assert stock_ledger(database)["MUG"] == (13, 13)  # the clearing changed no stock
    assert rows(database, "SELECT reserved FROM order_items WHERE order_id = :o", o=order) == [(0,)]
    event = rows(
        database, "SELECT action, reason FROM order_events WHERE order_id = :o ORDER BY id DESC",
        o=order,
    )[0]  # fmt: skip
    assert event[0] == "reservation_cleared" and "line MUG held 2, now 0" in event[1]
    verify_clean(cli)


def test_verify_fix_with_nothing_to_repair_asks_nothing(catalog: Cli, database: Database) -> None:
    create(catalog, "MUG:1")
    before = database_snapshot(database)
    result = catalog("maintenance", "verify", "--fix")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("checked 1 order(s): 0 problem(s)")
    assert database_snapshot(database) == before


def test_verify_fix_on_a_terminal_asks_and_no_changes_nothing(
    catalog: Cli, database: Database, terminal: None
) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE products SET stock = 4 WHERE sku = 'MUG'"))
    before = database_snapshot(database)
    declined = catalog("maintenance", "verify", "--fix", input="n\n")
    assert declined.exit_code == 1 and "aborted; nothing was changed" in declined.stderr
    assert database_snapshot(database) == before
    accepted = catalog("maintenance", "verify", "--fix", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert stock_ledger(database)["MUG"] == (4, 4)
