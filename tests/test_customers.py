"""`orderctl customers add/list/show` through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from helpers import (
    Cli,
    database_snapshot,
    one_error,
    snapshot_column,
    statements_on_every_engine,
)
from orderctl import clock
from orderctl.db import Database
from orderctl.enums import OrderStatus, Role
from orderctl.models import Order
from orderctl.services import customers as customer_service
from orderctl.services.access import Actor
from orderctl.services.uow import UnitOfWork


def test_add_lowercases_records_actor_and_refuses_duplicates(cli: Cli, database: Database) -> None:
    r = cli(
        "customers", "add", " Ada@Example.COM ", "--name", "Ada", "-o", "json", role=Role.OPERATOR
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert list(doc) == ["id", "email", "name", "created_at"]
    assert (doc["email"], doc["name"]) == ("ada@example.com", "Ada")
    assert doc["created_at"].endswith("Z")
    cli.token(Role.ADMIN)  # its user and token exist before the snapshot, not made by it
    before = database_snapshot(database)
    assert snapshot_column(before, "customers", "created_by") == ["test-operator"]
    one_error(cli("customers", "add", "ADA@example.com"), 6, "'ada@example.com' already exists")
    assert database_snapshot(database) == before
    r = cli("customers", "add", "bob@example.com", "-o", "json")
    assert json.loads(r.stdout)["name"] is None
    r = cli("customers", "add", "eve@example.com", "--name", "", "-o", "json")
    assert json.loads(r.stdout)["name"] is None


def test_malformed_and_hostile_emails_change_nothing(cli: Cli, database: Database) -> None:
    cli("customers", "add", "keep@example.com")
    before = database_snapshot(database)
    for bad in [
        "",
        "   ",
        "plain",
        "a@b",
        "a@@example.com",
        "a b@example.com",
        "@example.com",
        "a@.com",
        "a@example.com.",
        "a@example",
        "x" * 250 + "@example.com",
        "a\x00b@example.com",
        "a\x1b[31m@example.com",
        "'; DROP TABLE customers; --",
    ]:
        r = cli("customers", "add", bad, "--name", "X")
        one_error(r, 6, "email")
        assert database_snapshot(database) == before, bad
    one_error(cli("customers", "add", "n@example.com", "--name", "x" * 201), 6, "name")
    one_error(cli("customers", "add", "n@example.com", "--name", "a\x00b"), 6, "NUL")
    assert database_snapshot(database) == before


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("o'brien+tag@example.com", "Robert'); DROP TABLE customers;--"),
        ("émile@exämple.fr", "Émile 🍵"),
        ("rtl@example.com", "مرحبا שלום"),
        ("markup@example.com", "[bold red]not markup[/]"),
    ],
)
def test_unicode_and_hostile_values_are_stored_and_shown_exactly(
    cli: Cli, email: str, name: str
) -> None:
    r = cli("customers", "add", email, "--name", name, "-o", "json")
    assert r.exit_code == 0, r.stderr
    r = cli("customers", "show", email.upper(), "-o", "json", role=Role.VIEWER)
    assert r.exit_code == 0, r.stderr
    assert (json.loads(r.stdout)["email"], json.loads(r.stdout)["name"]) == (email, name)
    r = cli("customers", "show", email)
    assert r.exit_code == 0 and name in r.stdout
    r = cli("customers", "list")
    assert r.exit_code == 0 and name in r.stdout and email in r.stdout


def _order(
    database: Database, email: str, status: OrderStatus, total: str, currency: str = "EUR"
) -> None:
    with UnitOfWork(database) as u:
        customer_id = u.customers.ensure(email, None, created_by="test", at=clock.utcnow()).id
        u.orders.add(
            Order(
                customer_id=customer_id,
                status=status.value,
                currency=currency,
                total=Decimal(total),
            )
        )
        u.commit()


def test_show_counts_orders_and_spending_in_one_query(
    cli: Cli, database: Database, viewer: Actor
) -> None:
    cli("customers", "add", "ada@example.com", "--name", "Ada")
    cli("customers", "add", "bob@example.com")
    for status, total in [
        (OrderStatus.PENDING, "1.00"),
        (OrderStatus.PAID, "10.10"),
        (OrderStatus.SHIPPED, "20.20"),
        (OrderStatus.DELIVERED, "30.45"),
        (OrderStatus.CANCELLED, "100.00"),
        (OrderStatus.REFUNDED, "200.00"),
        (OrderStatus.PAID, "0.10"),
    ]:
        _order(database, "ada@example.com", status, total)
    # Another currency is its own total, never added to the euros (DESIGN.md §5); a currency
    # with nothing paid has none.
    _order(database, "ada@example.com", OrderStatus.PAID, "3.00", currency="USD")
    _order(database, "ada@example.com", OrderStatus.PENDING, "9.00", currency="GBP")
    _order(database, "bob@example.com", OrderStatus.PAID, "5000.00")

    r = cli("customers", "show", "ADA@example.com", "-o", "json", role=Role.VIEWER)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert list(doc) == ["id", "email", "name", "created_at", "order_count", "total_spent"]
    assert (doc["order_count"], doc["total_spent"]) == (9, {"EUR": "60.85", "USD": "3.00"})

    cli("customers", "add", "new@example.com")
    r = cli("customers", "show", "new@example.com", "-o", "json")
    assert (json.loads(r.stdout)["order_count"], json.loads(r.stdout)["total_spent"]) == (0, {})
    r = cli("customers", "show", "ada@example.com")
    assert r.exit_code == 0 and "60.85" in r.stdout and "order_count" in r.stdout

    with statements_on_every_engine() as seen, UnitOfWork(database, write=False) as u:
        detail = customer_service.get_customer(u, viewer, "ada@example.com")
    assert detail.total_spent == {"EUR": Decimal("60.85"), "USD": Decimal("3.00")}
    assert len(seen) == 1, seen

    one_error(cli("customers", "show", "nobody@example.com"), 5, "not found")
    one_error(cli("customers", "show", "not an email"), 5, "not found")


def test_list_keyset_paging(cli: Cli, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli("customers", "list")
    assert r.exit_code == 0 and r.stdout == "" and "no customers" in r.stderr
    assert json.loads(cli("customers", "list", "-o", "json").stdout) == []
    emails = [f"user{i}@example.com" for i in (3, 1, 4, 0, 2)]
    for email in emails:
        cli("customers", "add", email)

    def listed(*args: str) -> list[str]:
        r = cli("customers", "list", *args, "-o", "json", role=Role.VIEWER)
        assert r.exit_code == 0, r.stderr
        return [c["email"] for c in json.loads(r.stdout)]

    assert listed() == sorted(emails)
    assert listed("--limit", "2") == ["user0@example.com", "user1@example.com"]
    assert listed("--limit", "2", "--after", "USER1@example.com") == [
        "user2@example.com",
        "user3@example.com",
    ]
    assert listed("--after", "user4@example.com") == []
    monkeypatch.setattr(customer_service, "PAGE_SIZE", 2)
    with statements_on_every_engine() as seen:
        assert listed("--all") == sorted(emails)
    pages = [s for s in seen if "FROM customers" in s and "ORDER BY customers.email" in s]
    # keyset: each later page seeks past the last email (SQLite always renders `OFFSET 0`)
    assert len(pages) == 3 and all("customers.email >" in s for s in pages[1:])
    r = cli("customers", "list", "-o", "jsonl", "--limit", "1")
    assert json.loads(r.stdout)["email"] == "user0@example.com"
    r = cli("customers", "list", "-o", "csv", "--limit", "1")
    assert r.stdout.splitlines()[0] == "id,email,name,created_at"
    for bad in ("0", "-1", "10001", "many"):
        r = cli("customers", "list", "--limit", bad)
        assert r.exit_code == 2 and r.stdout == "", bad


def test_help_has_examples(cli: Cli) -> None:
    for command in ("add", "list", "show"):
        r = cli("customers", command, "--help", role=None)
        assert r.exit_code == 0 and "Example: orderctl customers" in r.stdout
