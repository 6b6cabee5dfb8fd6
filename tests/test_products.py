"""`orderctl products add/list/show/update` through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, select

from helpers import Cli, database_snapshot, hold_row, one_error, snapshot_column, stock_of
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Customer, Order, OrderItem
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork


def add(cli: Cli, sku: str, *extra: str, price: str = "12.50", name: str = "Mug") -> Any:
    return cli("products", "add", sku, "--name", name, "--price", price, *extra)


def test_add_show_list_json_documents(cli: Cli, database: Database) -> None:
    r = add(cli, "MUG-01", "--stock", "100", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == {
        "sku": "MUG-01",
        "name": "Mug",
        "unit_price": "12.50",
        "stock": 100,
        "active": True,
    }
    r = add(cli, "CAP", "-o", "json", price="9.9", name="Cap")
    assert json.loads(r.stdout)["stock"] is None  # no --stock: not tracked
    assert json.loads(r.stdout)["unit_price"] == "9.90"

    r = cli("products", "show", "CAP", "-o", "json", role=Role.VIEWER)
    assert r.exit_code == 0 and json.loads(r.stdout)["name"] == "Cap"
    r = cli("products", "list", "-o", "json", role=Role.VIEWER)
    assert [p["sku"] for p in json.loads(r.stdout)] == ["CAP", "MUG-01"]
    r = cli("products", "list", "-o", "jsonl", role=Role.OPERATOR)
    assert [json.loads(line)["sku"] for line in r.stdout.splitlines()] == ["CAP", "MUG-01"]
    r = cli("products", "list", "-o", "csv")
    assert r.stdout.splitlines()[0] == "sku,name,unit_price,stock,active"
    assert r.stdout.splitlines()[1] == "CAP,Cap,9.90,,yes"
    r = add(cli, "FREE", "-o", "json", price="-0")
    assert json.loads(r.stdout)["unit_price"] == "0.00"
    r = cli("products", "list")
    assert r.exit_code == 0 and "MUG-01" in r.stdout and "12.50" in r.stdout
    assert "\x1b[" not in r.stdout  # not a terminal: no ANSI codes

    with UnitOfWork(database, write=False) as u:
        product = u.products.get_one_by_sku("MUG-01")
        assert product.updated_by == "test-admin"
        assert product.unit_price == Decimal("12.50")


def test_show_missing_is_5_and_empty_list_is_a_message(cli: Cli) -> None:
    one_error(cli("products", "show", "NOPE"), 5, "product 'NOPE' not found")
    r = cli("products", "list")
    assert r.exit_code == 0 and r.stdout == "" and "no products" in r.stderr
    r = cli("products", "list", "-o", "json")
    assert json.loads(r.stdout) == []


def test_inactive_products_hidden_by_default(cli: Cli) -> None:
    add(cli, "A")
    add(cli, "B")
    r = cli("products", "update", "B", "--inactive", "-o", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["active"] is False

    def skus(*flags: str) -> list[str]:
        out = cli("products", "list", *flags, "-o", "json", role=Role.VIEWER)
        assert out.exit_code == 0, out.stderr
        return [p["sku"] for p in json.loads(out.stdout)]

    assert skus() == ["A"]
    assert skus("--all") == ["A", "B"]
    assert skus("--inactive") == ["B"]
    assert cli("products", "list", "--all", "--inactive").exit_code == 2
    assert json.loads(cli("products", "show", "B", "-o", "json").stdout)["active"] is False
    r = cli("products", "update", "B", "--active", "-o", "json")
    assert json.loads(r.stdout)["active"] is True


def test_update_fields_and_actor(cli: Cli, database: Database) -> None:
    add(cli, "MUG", "--stock", "5")
    r = cli(
        "products", "update", "MUG", "--price", "13", "--stock", "0", "--name", " New ", "-o",
        "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == {
        "sku": "MUG",
        "name": "New",
        "unit_price": "13.00",
        "stock": 0,
        "active": True,
    }
    one_error(cli("products", "update", "NOPE", "--price", "1"), 5, "not found")
    before = database_snapshot(database)
    r = cli("products", "update", "MUG")
    assert r.exit_code == 2 and "nothing to update" in r.stderr
    assert database_snapshot(database) == before


def test_price_change_never_touches_existing_order_lines(cli: Cli, database: Database) -> None:
    add(cli, "MUG", price="10.00")
    with UnitOfWork(database) as u:
        product = u.products.get_one_by_sku("MUG")
        customer = u.customers.add(Customer(email="a@example.com"))
        order = Order(
            customer_id=customer.id, status="pending", currency="EUR", total=Decimal("20.00")
        )
        order.items.append(
            OrderItem(
                product_id=product.id,
                sku="MUG",
                name="Mug",
                quantity=2,
                unit_price=Decimal("10.00"),
                line_total=Decimal("20.00"),
            )
        )
        u.orders.add(order)
        u.commit()
    r = cli("products", "update", "MUG", "--price", "99.99", "--name", "Renamed")
    assert r.exit_code == 0, r.stderr
    with UnitOfWork(database, write=False) as u:
        item = u.session.scalars(select(OrderItem)).one()
        assert (item.unit_price, item.line_total, item.name) == (
            Decimal("10.00"),
            Decimal("20.00"),
            "Mug",
        )
        assert u.session.scalars(select(Order.total)).one() == Decimal("20.00")


BAD_PRICE_OR_STOCK: list[tuple[list[str], int, str]] = [
    (["--price", "12.345"], 6, "unit_price: must have at most two decimals"),
    (["--price", "-1"], 6, "unit_price: must not be negative"),
    (["--price", "NaN"], 2, "not a plain decimal number"),
    (["--price", "inf"], 2, "not a plain decimal number"),
    (["--price", "1e3"], 2, "not a plain decimal number"),
    (["--price", "12,50"], 2, "use a dot"),
    (["--price", "abc"], 2, "--price"),
    (["--price", ""], 2, "--price"),
    (["--price", "10000000000.00"], 6, "must be at most 9999999999.99"),
    (["--price", "1", "--stock", "-1"], 6, "stock: Input should be greater than or equal"),
    (["--price", "1", "--stock", "2000000001"], 6, "stock"),
]


def test_add_bad_price_or_stock(cli: Cli, database: Database) -> None:
    add(cli, "MUG")
    before = database_snapshot(database)
    for args, code, needle in BAD_PRICE_OR_STOCK:
        one_error(cli("products", "add", "SKU1", "--name", "N", *args), code, needle)
        assert database_snapshot(database) == before, args


def test_add_and_update_bad_values_leave_catalog_unchanged(cli: Cli, database: Database) -> None:
    add(cli, "MUG", "--stock", "5")
    before = database_snapshot(database)
    cases: list[tuple[list[str], int, str]] = [
        (["add", "", "--name", "N", "--price", "1"], 6, "sku: String should have at least 1"),
        (["add", "   ", "--name", "N", "--price", "1"], 6, "sku"),
        (["add", "X" * 65, "--name", "N", "--price", "1"], 6, "at most 64 characters"),
        (["add", "A\tB", "--name", "N", "--price", "1"], 6, "control characters"),
        (["add", "A\x00B", "--name", "N", "--price", "1"], 6, "NUL"),
        (["add", "MUG", "--name", "N", "--price", "1"], 6, "'MUG' already exists"),
        (["add", "NEW", "--name", "", "--price", "1"], 6, "name"),
        (["add", "NEW", "--name", "x" * 201, "--price", "1"], 6, "at most 200 characters"),
        (["add", "NEW", "--name", "a\x00b", "--price", "1"], 6, "NUL"),
        (["add", "NEW", "--name", "N", "--price", "1", "--stock", "ten"], 2, ""),
        (["add", "NEW", "--name", "N"], 2, ""),
        (["update", "MUG", "--price", "0.001"], 6, "two decimals"),
        (["update", "MUG", "--price", "1,5"], 2, "use a dot"),
        (["update", "MUG", "--stock", "-3"], 6, "stock"),
        (["update", "MUG", "--stock", "3.5"], 2, ""),
        (["update", "MUG", "--name", ""], 6, "name"),
    ]
    for args, code, needle in cases:
        r = cli("products", *args)
        assert r.exit_code == code, (args, r.stdout, r.stderr)
        assert r.stdout == "" and "Traceback" not in r.stderr
        if needle:
            one_error(r, code, needle)
        assert database_snapshot(database) == before, args


@pytest.mark.parametrize(
    ("sku", "name"),
    [
        ("'; DROP TABLE products; --", "Robert'); DROP TABLE customers;--"),
        ("MUG-☕", "Mug 🍵 with emoji"),
        ("RTL-1", "\u05de\u05d5\u05e6\u05e8 עברית"),
        ("[bold]X[/bold]", "[red]markup[/red] stays literal"),
    ],
)
def test_hostile_and_unicode_skus_and_names_are_stored_and_shown_exactly(
    cli: Cli, database: Database, sku: str, name: str
) -> None:
    r = cli("products", "add", sku, "--name", name, "--price", "1.00", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["sku"] == sku
    r = cli("products", "show", sku, "-o", "json")
    assert json.loads(r.stdout)["name"] == name
    r = cli("products", "list")
    assert r.exit_code == 0 and name in r.stdout  # Rich table, markup not interpreted
    r = cli("products", "show", sku)
    assert r.exit_code == 0 and name in r.stdout
    assert set(inspect(database.engine).get_table_names()) >= {"products", "customers"}


def test_help_has_examples(cli: Cli) -> None:
    for command in ("add", "list", "show", "update", "import"):
        r = cli("products", command, "--help", role=None)
        assert r.exit_code == 0 and "Example: orderctl products" in r.stdout


def test_services_check_the_role_before_validating(
    uow: Any, admin: Actor, operator: Actor, viewer: Actor
) -> None:
    from orderctl.errors import PermissionDenied, ValidationFailed
    from orderctl.services import customers, products

    bad = {"sku": "", "name": "", "unit_price": "-1"}
    for actor in (operator, viewer):
        with uow() as u, pytest.raises(PermissionDenied):
            products.add_product(u, actor, bad)
        with uow() as u, pytest.raises(PermissionDenied):
            products.update_product(u, actor, "NOPE", {})
    with uow() as u, pytest.raises(PermissionDenied):
        customers.add_customer(u, viewer, {"email": "not an email"})
    with uow() as u, pytest.raises(ValidationFailed):
        products.add_product(u, admin, bad)

    with uow() as u:
        products.add_product(u, admin, {"sku": "S", "name": "N", "unit_price": "1", "stock": 4})
    with uow() as u:
        read = products.update_product(u, admin, "S", {"stock": None})
    assert read.stock is None  # stock=None given explicitly: stop tracking (API)
    with uow(write=False) as u:
        assert products.get_product(u, viewer, " S ").stock is None


# ---- --add-stock: relative, atomic ----


def test_add_stock_changes_the_level_by_n(cli: Cli, database: Database) -> None:
    assert add(cli, "MUG-01", "--stock", "10").exit_code == 0
    r = cli("products", "update", "MUG-01", "--add-stock", "5", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["stock"] == 15
    r = cli("products", "update", "MUG-01", "--add-stock", "-15", "--name", "Big mug")
    assert r.exit_code == 0, r.stderr
    assert stock_of(database, "MUG-01") == 0
    assert snapshot_column(database_snapshot(database), "products", "name") == ["Big mug"]


@pytest.mark.parametrize(
    ("setup", "args", "code", "needle"),
    [
        (["--stock", "3"], ["--add-stock", "-4"], 6, "stock of 'MUG-01' is 3; adding -4"),
        (["--stock", "3"], ["--add-stock", "1999999998"], 6, "would leave 0..2000000000"),
        ([], ["--add-stock", "1"], 6, "does not track stock"),
        (["--stock", "3"], ["--add-stock", "3000000000"], 6, "add_stock"),
        (["--stock", "3"], ["--add-stock", "1.5"], 2, "--add-stock"),
        (["--stock", "3"], ["--add-stock", "x'; DROP TABLE products; --"], 2, "--add-stock"),
        (["--stock", "3"], ["--add-stock", "1", "--stock", "9"], 2, "not both"),
    ],
    ids=["below-zero", "above-max", "untracked", "huge", "decimal", "sql", "with-stock"],
)
def test_add_stock_refusals_change_nothing(
    cli: Cli, database: Database, setup: list[str], args: list[str], code: int, needle: str
) -> None:
    assert add(cli, "MUG-01", *setup).exit_code == 0
    before = database_snapshot(database)
    one_error(cli("products", "update", "MUG-01", *args), code, needle)
    assert database_snapshot(database) == before


def test_concurrent_add_stock_loses_no_update(cli: Cli, database: Database, db_url: str) -> None:
    """Six real processes add 1 each while another transaction holds the product (its row
    on PostgreSQL, the write lock on SQLite), then all go at once: all six arrive. On
    PostgreSQL a read-modify-write would read 10 six times and store 11 (checked)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    assert add(cli, "MUG-01", "--stock", "10").exit_code == 0
    env = dict(
        os.environ,
        ORDERCTL_DATABASE_URL=db_url,
        ORDERCTL_TOKEN=cli.token(Role.ADMIN),
        ORDERCTL_CONFIG_DIR=str(cli.config_dir),
    )
    orderctl = str(Path(sys.executable).parent / "orderctl")
    held = hold_row(db_url, database, "products", "sku", "MUG-01")
    procs = [
        subprocess.Popen(
            [orderctl, "products", "update", "MUG-01", "--add-stock", "1", "-o", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    time.sleep(3)  # let all six start and queue behind the held lock
    held.close()
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert stock_of(database, "MUG-01") == 16
