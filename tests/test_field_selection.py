"""`--json FIELDS` on every command that prints records (DESIGN.md §6, §12 *Field selection*).

The documents' fields are written out here from DESIGN.md §6, not imported from the code.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from helpers import Cli, database_snapshot, one_error, seed_orders
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Customer
from orderctl.services.uow import UnitOfWork

ORDER = (
    "id, external_ref, status, currency, total, notes, shipping_address, created_at, "
    "updated_at, customer, items"
)
PRODUCT = "sku, name, unit_price, stock, active"
CUSTOMER = "id, email, name, created_at"
USER = "id, username, role, active, created_at"
TOKEN = "id, name, prefix, user, created_at, expires_at, last_used_at, revoked_at, state"
EVENT = "at, actor, action, from_status, to_status, reason"
MOVEMENT = "id, at, reason, quantity, stock_after, order_id, actor, note"

#: (command, the fields it offers); `orders show` offers the history, `customers show` the
#: totals, `auth token create` the secret.
COMMANDS: list[tuple[tuple[str, ...], str]] = [
    (("orders", "list"), ORDER),
    (("orders", "show", "1"), ORDER + ", history"),
    (("orders", "history", "1"), EVENT),
    (("orders", "create", "--customer", "x@example.com", "--item", "MUG-01:1"), ORDER),
    (("orders", "set-status", "1", "paid"), ORDER),
    (("products", "list"), PRODUCT),
    (("products", "show", "MUG-01"), PRODUCT),
    (("products", "add", "NEW-1", "--name", "New", "--price", "1.00"), PRODUCT),
    (("products", "history", "MUG-01"), MOVEMENT),
    (("customers", "list"), CUSTOMER),
    (("customers", "show", "kofi@example.com"), CUSTOMER + ", order_count, total_spent"),
    (("users", "list"), USER),
    (("users", "set-role", "test-admin", "admin"), USER),
    (("auth", "token", "list"), TOKEN),
    (("auth", "token", "create", "--name", "x"), TOKEN + ", token"),
    (
        ("auth", "status"),
        "username, role, database, context, token_id, token_name, token_prefix, "
        "expires_at, source, credentials_file",
    ),
    (("db", "current"), "database, current, head, up_to_date, behind"),
    (("db", "history"), "revision, down_revision, message"),
    (("config", "show"), "key, value, source"),
    (("events", "tail"), "id, order_id, external_ref, " + EVENT),
]


def test_json_alone_names_the_fields_before_any_work(cli: Cli, database: Database) -> None:
    """`--json` with no list (last, before another option, or empty) is a usage error naming
    the fields, like gh; it is checked while the command line is parsed, so nothing is read
    or written, and no login is needed."""
    seed_orders(database, 2)
    cli.token(Role.ADMIN)
    before = database_snapshot(database)
    for command, fields in COMMANDS:
        expected = f"error: specify one or more comma-separated fields for --json: {fields}\n"
        for alone in (["--json"], ["--json", "-o", "jsonl"], ["--json="]):
            assert one_error(cli(*command, *alone, role=None), 2) == expected, command
    assert database_snapshot(database) == before


@pytest.mark.parametrize(
    ("command", "selection", "expected"),
    [
        (("orders", "list"), "id,status,total", ["id", "status", "total"]),
        (("orders", "list", "--all"), "total,id", ["total", "id"]),
        (("orders", "history", "1"), "action,actor", ["action", "actor"]),
        (("products", "list"), "sku,stock", ["sku", "stock"]),
        (("products", "history", "MUG-01"), "reason", ["reason"]),
        (("customers", "list"), "email", ["email"]),
        (("users", "list"), "username,role", ["username", "role"]),
        (("auth", "token", "list"), "name,state", ["name", "state"]),
        (("db", "history"), "revision", ["revision"]),
        (("config", "show"), "key", ["key"]),
    ],
)
def test_a_list_prints_an_array_of_just_those_fields(
    cli: Cli, database: Database, command: tuple[str, ...], selection: str, expected: list[str]
) -> None:
    seed_orders(database, 3)
    assert cli("products", "update", "MUG-01", "--stock", "5").exit_code == 0  # a movement
    result = cli(*command, "--json", selection)
    assert result.exit_code == 0, result.stderr
    docs = json.loads(result.stdout)
    assert isinstance(docs, list) and docs
    assert all(list(doc) == expected for doc in docs), docs


@pytest.mark.parametrize(
    ("command", "selection"),
    [
        (("orders", "show", "1"), "id,customer,total"),
        (("orders", "set-status", "1", "cancelled"), "status"),
        (("products", "show", "MUG-01"), "unit_price"),
        (("products", "add", "NEW-1", "--name", "New", "--price", "1.00"), "sku,active"),
        (("customers", "show", "kofi@example.com"), "order_count,total_spent"),
        (("users", "set-role", "test-admin", "admin"), "role"),
        (("auth", "status"), "username,role"),
        (("db", "current"), "up_to_date"),
    ],
)
def test_a_single_record_prints_an_object(
    cli: Cli, database: Database, command: tuple[str, ...], selection: str
) -> None:
    seed_orders(database, 3)
    result = cli(*command, "--json", selection)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict) and list(doc) == selection.split(",")


def test_selected_values_are_the_documents_values(cli: Cli, database: Database) -> None:
    seed_orders(database, 3)
    full = json.loads(cli("orders", "show", "2", "-o", "json").stdout)
    picked = json.loads(cli("orders", "show", "2", "--json", "customer,total,items").stdout)
    assert picked == {"customer": full["customer"], "total": full["total"], "items": full["items"]}
    listed = json.loads(cli("orders", "list", "--json", "id,customer").stdout)
    assert {"id": 2, "customer": full["customer"]} in listed


def test_json_wins_over_table_and_csv_and_keeps_jsonl(cli: Cli, database: Database) -> None:
    seed_orders(database, 3)
    for fmt in ("table", "csv", "json"):
        result = cli("orders", "list", "-o", fmt, "--json", "id")
        assert result.stdout == '[\n  {"id": 3},\n  {"id": 2},\n  {"id": 1}\n]\n', fmt
    full = cli("orders", "list", "--all", "-o", "jsonl").stdout.splitlines()
    lines = cli("orders", "list", "--all", "-o", "jsonl", "--json", "id,status").stdout
    assert lines == "".join(
        json.dumps({"id": doc["id"], "status": doc["status"]}) + "\n"
        for doc in map(json.loads, full)
    )
    one = cli("orders", "show", "1", "-o", "jsonl", "--json", "id")
    assert one.stdout == '{"id": 1}\n'
    shown = cli("orders", "show", "1", "-o", "csv", "--json", "id")
    assert shown.stdout == '{\n  "id": 1\n}\n'


def test_an_empty_list_is_an_empty_array(cli: Cli) -> None:
    assert cli("orders", "list", "--json", "id").stdout == "[]\n"
    assert cli("orders", "list", "--all", "-o", "jsonl", "--json", "id").stdout == ""


def test_names_are_trimmed_and_taken_once(cli: Cli, database: Database) -> None:
    seed_orders(database, 1)
    result = cli("orders", "list", "--json", " status , id,status,")
    assert json.loads(result.stdout) == [{"status": "pending", "id": 1}]


def test_show_history_comes_with_the_history_field(cli: Cli, database: Database) -> None:
    seed_orders(database, 1)
    doc = json.loads(cli("orders", "show", "1", "--json", "id,history").stdout)
    assert doc["id"] == 1 and [e["action"] for e in doc["history"]] == ["created"]


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ("id,nope", "unknown field 'nope' for --json; available: " + ORDER),
        ("ID", "unknown field 'ID' for --json; available: " + ORDER),
        (
            "customer.email",
            "unknown field 'customer.email' for --json (select 'customer'; --jq reaches "
            "inside it); available: " + ORDER,
        ),
        (",", "specify one or more comma-separated fields for --json: " + ORDER),
    ],
)
def test_unknown_fields_are_usage_errors(
    cli: Cli, database: Database, selection: str, message: str
) -> None:
    seed_orders(database, 1)
    assert one_error(cli("orders", "list", "--json", selection), 2) == f"error: {message}\n"


def test_a_refused_selection_writes_nothing(cli: Cli, database: Database) -> None:
    """A write command checks `--json` before it writes: a typo costs no product, order,
    stock or token."""
    seed_orders(database, 1)
    cli.token(Role.ADMIN)
    before = database_snapshot(database)
    for command in (
        ("products", "add", "NEW-1", "--name", "New", "--price", "1.00"),
        ("orders", "create", "--customer", "x@example.com", "--item", "MUG-01:1"),
        ("orders", "set-status", "1", "cancelled"),
        ("auth", "token", "create", "--name", "x"),
        ("users", "disable", "test-admin", "--yes"),
    ):
        one_error(cli(*command, "--json", "nope"), 2, "unknown field 'nope'")
        one_error(cli(*command, "--jq", ".["), 2, "--jq: syntax error")
    assert database_snapshot(database) == before


def test_a_token_created_with_json_prints_its_secret_once(cli: Cli) -> None:
    result = cli("auth", "token", "create", "--name", "ci", "--json", "prefix,token")
    doc = json.loads(result.stdout)
    assert list(doc) == ["prefix", "token"] and doc["token"].startswith(doc["prefix"])
    assert len(doc["token"]) > len(doc["prefix"])


def test_stored_text_comes_out_exactly(cli: Cli, database: Database) -> None:
    """JSON carries the exact stored value: control characters escaped as JSON escapes
    them, other Unicode as is (DESIGN.md §12)."""
    name = "Zoë \x1b[31m\u202eRTL\t✓"
    with UnitOfWork(database) as u:
        u.customers.add(Customer(email="zoe@example.com", name=name))
        u.commit()
    result = cli("customers", "list", "--json", "name")
    assert json.loads(result.stdout) == [{"name": name}]
    assert "\\u001b[31m" in result.stdout and "\x1b" not in result.stdout
    assert "Zoë" in result.stdout and "✓" in result.stdout


def test_money_stays_a_string_with_two_decimals(cli: Cli, database: Database) -> None:
    seed_orders(database, 1)
    doc = json.loads(cli("products", "show", "MUG-01", "--json", "unit_price").stdout)
    assert doc == {"unit_price": "12.50"} and Decimal(doc["unit_price"]) == Decimal("12.5")


def test_summaries_of_jobs_take_json_too(cli: Cli, database: Database) -> None:
    seed_orders(database, 2)
    expire = cli(
        "maintenance", "expire-pending", "--older-than", "1h", "--dry-run", "--json", "job,dry_run"
    )
    assert json.loads(expire.stdout) == {"job": "expire-pending", "dry_run": True}
    verify = cli("maintenance", "verify", "--json", "found,remaining")
    assert json.loads(verify.stdout) == {"found": 0, "remaining": 0}
