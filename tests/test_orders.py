"""`orderctl orders`: create, list, show, set-status, history through the real CLI (§5, §6)."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from helpers import Cli
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Customer, Order, OrderEvent, OrderItem, Product
from orderctl.services.uow import UnitOfWork

ORDER_KEYS = [
    "id",
    "external_ref",
    "status",
    "currency",
    "total",
    "notes",
    "shipping_address",
    "created_at",
    "updated_at",
    "customer",
    "items",
]
ITEM_KEYS = ["sku", "name", "quantity", "unit_price", "line_total"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ANSI = "\x1b["


def add_products(database: Database, samples: Path | None = None) -> None:
    """The sample catalog (tests/samples/products.csv) plus an inactive and a scarce product."""
    rows: list[tuple[str, str, str, int | None, bool]] = [
        ("OLD-01", "Discontinued thing", "5.00", 10, False),
        ("LAST-1", "Last units", "100.00", 2, True),
        ("BIG-01", "Yacht", "9999999999.99", None, True),
    ]
    path = (samples or Path(__file__).parent / "samples") / "products.csv"
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            stock = int(row["stock"]) if row["stock"] else None
            rows.append((row["sku"], row["name"], row["unit_price"], stock, True))
    with UnitOfWork(database) as u:
        for sku, name, price, stock, active in rows:
            u.products.add(
                Product(sku=sku, name=name, unit_price=Decimal(price), stock=stock, active=active)
            )
        u.commit()


def snapshot(database: Database) -> dict[str, Any]:
    """Everything an order command may change: row counts and every product's stock."""
    with UnitOfWork(database, write=False) as u:
        s = u.session
        return {
            "orders": s.scalar(select(func.count()).select_from(Order)),
            "items": s.scalar(select(func.count()).select_from(OrderItem)),
            "events": s.scalar(select(func.count()).select_from(OrderEvent)),
            "customers": s.scalar(select(func.count()).select_from(Customer)),
            "stock": {sku: stock for sku, stock in s.execute(select(Product.sku, Product.stock))},
            "statuses": {oid: status for oid, status in s.execute(select(Order.id, Order.status))},
        }


def stock_of(database: Database, sku: str) -> int | None:
    with UnitOfWork(database, write=False) as u:
        return u.products.get_one_by_sku(sku).stock


@pytest.fixture
def shop(cli: Cli, database: Database) -> Cli:
    add_products(database)
    return cli


def create(cli: Cli, *args: str, role: Role = Role.OPERATOR) -> dict[str, Any]:
    result = cli("orders", "create", *args, "-o", "json", role=role)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


# ---- create ----


def test_create_prices_from_catalog_reserves_stock_and_records_history(
    shop: Cli, database: Database
) -> None:
    doc = create(
        shop, "--customer", " Ana@Example.COM ", "--item", "MUG-01:2", "--item", "CAP-01:3"
    )
    assert list(doc) == ORDER_KEYS  # the order document of DESIGN.md §6, in this key order
    assert list(doc["customer"]) == ["id", "email", "name"]
    assert [list(item) for item in doc["items"]] == [ITEM_KEYS, ITEM_KEYS]
    assert doc["status"] == "pending" and doc["currency"] == "EUR"
    assert doc["total"] == "54.97"  # 2 × 12.50 + 3 × 9.99
    assert doc["customer"]["email"] == "ana@example.com"
    assert [(i["sku"], i["quantity"], i["unit_price"], i["line_total"]) for i in doc["items"]] == [
        ("MUG-01", 2, "12.50", "25.00"),
        ("CAP-01", 3, "9.99", "29.97"),
    ]
    assert TIMESTAMP.match(doc["created_at"]) and TIMESTAMP.match(doc["updated_at"])
    assert stock_of(database, "MUG-01") == 118
    assert stock_of(database, "CAP-01") is None
    hist = shop("orders", "history", str(doc["id"]), "-o", "json", role=Role.VIEWER)
    events = json.loads(hist.stdout)
    assert events == [
        {
            "at": doc["created_at"],
            "actor": "test-operator",
            "action": "created",
            "from_status": None,
            "to_status": "pending",
            "reason": None,
        }
    ]


def test_create_prints_table_with_message_on_stderr(shop: Cli) -> None:
    result = shop("orders", "create", "--customer", "a@b.io", "--item", "TEE-M:1")
    assert result.exit_code == 0, result.stderr
    assert "created order 1 (19.99 EUR)" in result.stderr
    assert "TEE-M" in result.stdout and "T-shirt (M)" in result.stdout
    assert ANSI not in result.stdout  # not a terminal: no colour codes


def test_currency_from_settings_and_flag(shop: Cli) -> None:
    result = shop(
        "orders", "create", "--customer", "a@b.io", "--item", "TEE-M:1", "-o", "json",
        env={"ORDERCTL_CURRENCY": "usd"},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["currency"] == "USD"
    doc = create(shop, "--customer", "a@b.io", "--item", "TEE-M:1", "--currency", "chf")
    assert doc["currency"] == "CHF"


def test_external_ref_is_idempotent_and_conflicts_on_other_content(
    shop: Cli, database: Database
) -> None:
    args = ("--customer", "a@b.io", "--item", "MUG-01:1", "--external-ref", "WEB-1")
    first = create(shop, *args)
    before = snapshot(database)
    again = shop("orders", "create", *args, "-o", "json", role=Role.OPERATOR)
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout) == first
    assert "exists already" in again.stderr
    assert snapshot(database) == before  # no second reservation
    other = shop(
        "orders", "create", "--customer", "a@b.io", "--item", "MUG-01:2",
        "--external-ref", "WEB-1", role=Role.OPERATOR,
    )  # fmt: skip
    assert other.exit_code == 6
    assert other.stderr == (
        f"error: external_ref 'WEB-1' is already used by order {first['id']} "
        "with different content\n"
    )
    assert snapshot(database) == before
    # Still the same order after it moved on: a retry stays idempotent.
    assert shop("orders", "set-status", str(first["id"]), "paid").exit_code == 0
    assert shop("orders", "create", *args, role=Role.OPERATOR).exit_code == 0


def test_unit_price_in_file_overrides_catalog(shop: Cli, tmp_path: Path) -> None:
    path = tmp_path / "order.json"
    path.write_text(
        json.dumps(
            {
                "customer_email": "kofi@example.com",
                "customer_name": "Kofi Mensah",
                "notes": "",
                "external_ref": "APP-1",
                "items": [{"sku": "MUG-01", "quantity": 3, "unit_price": "10.10"}],
            }
        )
    )
    doc = create(shop, "--from-file", str(path))
    assert doc["total"] == "30.30" and doc["items"][0]["unit_price"] == "10.10"
    assert doc["customer"]["name"] == "Kofi Mensah" and doc["notes"] is None


def test_from_stdin_with_json_numbers(shop: Cli) -> None:
    body = '{"customer_email": "x@y.org", "items": [{"sku": "CAP-01", "quantity": 2, "unit_price": 0.10}]}'  # noqa: E501
    result = shop(
        "orders", "create", "--from-file", "-", "-o", "json", input=body, role=Role.OPERATOR
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total"] == "0.20"


def test_sample_jsonl_lines_create_orders(shop: Cli, samples: Path) -> None:
    for line in (samples / "orders.jsonl").read_text().splitlines():
        data = json.loads(line)
        data.pop("status", None)
        data.pop("created_at", None)
        result = shop("orders", "create", "--from-file", "-", "-o", "json", input=json.dumps(data))
        assert result.exit_code == 0, result.stderr
    listed = json.loads(shop("orders", "list", "-o", "json", "--sort", "created").stdout)
    assert [o["external_ref"] for o in listed] == ["APP-2001", "APP-2002"]
    assert listed[0]["total"] == "32.48"  # 12.50 + 2 × 9.99


HOSTILE = [
    "Robert'); DROP TABLE orders;--",
    "1 OR 1=1; SELECT * FROM users",
    "[bold red]markup[/bold red] [link=http://x]y[/link]",
    "emoji 🛒🎁👩‍👩‍👧 and RTL שלום עליכם مرحبا",
    "  leading and trailing spaces  ",
    "line one\nline two\ttab",
]


def test_hostile_text_is_stored_and_shown_exactly(shop: Cli) -> None:
    for text in HOSTILE:
        ref = " ".join(text.split())[:100]  # a ref is one line (notes keep \n and \t)
        doc = create(
            shop, "--customer", "e@x.io", "--item", "MUG-01:1", "--notes", text,
            "--external-ref", ref,
        )  # fmt: skip
        assert doc["notes"] == text and doc["external_ref"] == ref
        table = shop("orders", "show", "--ref", ref, role=Role.VIEWER)
        assert table.exit_code == 0, table.stderr
        for part in text.split():
            assert part in table.stdout, text  # markup is printed literally, not interpreted
        assert ANSI not in table.stdout
    listed = json.loads(shop("orders", "list", "--sort", "created", "-o", "json").stdout)
    assert [o["notes"] for o in listed] == HOSTILE


def test_hostile_names_in_file_are_stored_exactly(shop: Cli) -> None:
    name = "Ωmega 🦄 O'Brien; DELETE FROM customers; -- עברית"
    body = json.dumps(
        {
            "customer_email": "u@x.io",
            "customer_name": name,
            "items": [{"sku": "TEE-M", "quantity": 1}],
        }
    )
    result = shop("orders", "create", "--from-file", "-", "-o", "json", input=body)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["customer"]["name"] == name
    table = shop("orders", "show", "1")
    assert name in table.stdout


# ---- create: bad input (exit code, one line, nothing changed) ----
# Each table runs in one database (one set-up), checking the snapshot after every case.

QTY_MIN = "error: items.0.quantity: Input should be greater than or equal to 1"
QTY_MAX = "error: items.0.quantity: Input should be less than or equal to 100000"
BAD_CREATE: list[tuple[list[str], int, str]] = [
    (["--item", "NOPE-1:1"], 6, "error: items.0.sku: unknown SKU 'NOPE-1'"),
    (["--item", "OLD-01:1"], 6, "error: items.0.sku: product 'OLD-01' is inactive"),
    (["--item", "MUG-01:0"], 6, QTY_MIN),
    (["--item", "MUG-01:-3"], 6, QTY_MIN),
    (["--item", "MUG-01:1000000000"], 6, QTY_MAX),
    (["--item", "MUG-01:100001"], 6, QTY_MAX),
    (["--item", "MUG-01:1.5"], 2, "error: --item: expected SKU:QTY with an integer quantity"),
    (["--item", "MUG-01:two"], 2, "expected SKU:QTY"),
    (["--item", "MUG-01:"], 2, "expected SKU:QTY"),
    (["--item", ":3"], 2, "expected SKU:QTY"),
    (["--item", "MUG-01"], 2, "expected SKU:QTY"),
    (["--item", "MUG-01:٣"], 2, "expected SKU:QTY"),  # a non-ASCII digit is not a quantity
    (["--item", "MUG-01:1", "--item", "MUG-01:2"], 6, "appears on more than one line"),
    (["--item", "LAST-1:3"], 6, "error: insufficient stock for 'LAST-1'"),
    (["--item", "MUG-01:1", "--item", "LAST-1:3"], 6, "insufficient stock for 'LAST-1'"),
    (["--item", "BIG-01:2"], 6, "exceeds the maximum 9999999999.99"),
    (["--item", "MUG-01:1", "--currency", "EURO"], 6, "error: currency: String should match"),
    (["--item", "MUG-01:1", "--notes", "x" * 2001], 6, "error: notes: String should have at most 2000 characters"),  # noqa: E501
    (["--item", "MUG-01:1", "--notes", "nul\x00byte"], 6, "notes: must not contain NUL characters"),
    (["--item", "MUG-01:1", "--external-ref", "r" * 101], 6, "external_ref: String should have at most 100 characters"),  # noqa: E501
    (["--item", "MUG-01:1", "--external-ref", "   "], 6, "external_ref: String should have at least 1 character"),  # noqa: E501
]  # fmt: skip


def test_bad_create_input(shop: Cli, database: Database) -> None:
    before = snapshot(database)
    for args, code, needle in BAD_CREATE:
        result = shop("orders", "create", "--customer", "ana@example.com", *args)
        assert result.exit_code == code, (args, result.stderr)
        assert needle in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, args
        assert result.stdout == ""
        assert snapshot(database) == before, args


def test_malformed_customer_email(shop: Cli, database: Database) -> None:
    before = snapshot(database)
    for email in ("not-an-email", "a@b", "two@@x.com", "sp ace@x.com", "x" * 250 + "@e.io"):
        result = shop("orders", "create", "--customer", email, "--item", "MUG-01:1")
        assert result.exit_code == 6, (email, result.stderr)
        assert result.stderr == "error: customer_email: is not a valid email address\n"
        assert snapshot(database) == before


def _line(**item: object) -> str:
    return json.dumps({"customer_email": "a@b.io", "items": [{"sku": "MUG-01", **item}]})


BAD_FILES: list[tuple[str, str]] = [
    ("", "error: stdin: empty input, expected one JSON order document"),
    ("  \n", "empty input"),
    ("{not json", "error: stdin: not valid JSON at column 2"),
    ("[1, 2]", "expected one JSON object"),
    ('"text"', "expected one JSON object"),
    (_line(quantity="two"), "error: stdin: items.0.quantity: Input should be a valid integer"),
    (_line(quantity=1.5), "items.0.quantity: Input should be a valid integer"),
    (_line(quantity=0), "items.0.quantity: Input should be greater than or equal to 1"),
    (_line(quantity=None), "items.0.quantity: Input should be a valid integer"),
    ('{"customer_email": "a@b.io", "items": "MUG-01"}', "items: Input should be a valid list"),
    ('{"customer_email": "a@b.io", "items": []}', "items: List should have at least 1 item"),
    ('{"customer_email": "a@b.io"}', "items: Field required"),
    ('{"customer_email": 42, "items": [{"sku": "MUG-01", "quantity": 1}]}',
     "customer_email: Input should be a valid string"),
    ('{"customer_email": "a@b.io", "items": [{"sku": "MUG-01", "quantity": 1}], "colour": 1}',
     "colour: Extra inputs are not permitted"),
    (_line(quantity=1, unit_price="1.005"), "items.0.unit_price: must have at most two decimals"),
    ('{"customer_email": "a@b.io", "items": [{"sku": "MUG-01", "quantity": 1, "unit_price": 1.005}]}',  # noqa: E501
     "items.0.unit_price: must have at most two decimals"),
    (_line(quantity=1, unit_price="-1.00"), "items.0.unit_price: must not be negative"),
    ('{"customer_email": "a@b.io", "items": [{"sku": "MUG-01", "quantity": 1, "unit_price": NaN}]}',
     "error: stdin: not valid JSON: NaN is not a JSON value"),
    (_line(quantity=1, unit_price="NaN"), "items.0.unit_price:"),
    (_line(quantity=1, unit_price="Infinity"), "items.0.unit_price:"),
    (_line(quantity=1, unit_price="10000000000.00"), "items.0.unit_price: must be at most 9999999999.99"),  # noqa: E501
    (_line(quantity=100, unit_price="9999999999.99"), "line total 999999999999.00 exceeds the maximum"),  # noqa: E501
    ('{"customer_email": "a@b.io", "status": "paid", "items": [{"sku": "MUG-01", "quantity": 1}]}',
     "status: a new order is pending"),
    ('{"customer_email": "a@b.io", "status": "lost", "items": [{"sku": "MUG-01", "quantity": 1}]}',
     "status: Input should be"),
]  # fmt: skip


def test_bad_from_file_on_stdin(shop: Cli, database: Database) -> None:
    before = snapshot(database)
    for body, needle in BAD_FILES:
        result = shop("orders", "create", "--from-file", "-", input=body, role=Role.OPERATOR)
        assert result.exit_code == 6, (body, result.stderr)
        assert needle in result.stderr, (body, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, body
        assert snapshot(database) == before, body


def test_bad_file_bytes_and_paths(shop: Cli, database: Database, tmp_path: Path) -> None:
    before = snapshot(database)
    binary = tmp_path / "order.json"
    binary.write_bytes(b"\xff\xfe{\x00")
    result = shop("orders", "create", "--from-file", str(binary))
    assert result.exit_code == 6 and f"error: {binary}: not UTF-8 text" in result.stderr
    result = shop("orders", "create", "--from-file", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "error: cannot read" in result.stderr
    result = shop("orders", "create", "--from-file", str(tmp_path))
    assert result.exit_code == 2 and "error: cannot read" in result.stderr
    assert snapshot(database) == before


def test_create_usage_errors(shop: Cli, database: Database) -> None:
    before = snapshot(database)
    for args in (
        [],
        ["--customer", "a@b.io"],
        ["--item", "MUG-01:1"],
        ["--from-file", "-", "--customer", "a@b.io"],
        ["--from-file", "-", "--item", "MUG-01:1"],
        ["--customer", "a@b.io", "--item", "MUG-01:1", "--bogus"],
    ):
        result = shop("orders", "create", *args, input="{}")
        assert result.exit_code == 2, args
        assert "error" in result.stderr.lower(), args
    assert snapshot(database) == before


def test_roles(shop: Cli, database: Database) -> None:
    result = shop(
        "orders", "create", "--customer", "a@b.io", "--item", "MUG-01:1", role=Role.VIEWER
    )
    assert result.exit_code == 4 and "needs the operator role" in result.stderr
    assert snapshot(database)["orders"] == 0
    assert shop("orders", "list", role=None).exit_code == 3
    assert shop("orders", "list", role=Role.VIEWER).exit_code == 0
    doc = create(shop, "--customer", "a@b.io", "--item", "MUG-01:1")
    result = shop("orders", "set-status", str(doc["id"]), "paid", role=Role.VIEWER)
    assert result.exit_code == 4


# ---- show ----


def test_show_by_id_ref_and_forced_ref(shop: Cli) -> None:
    a = create(shop, "--customer", "a@b.io", "--item", "MUG-01:1", "--external-ref", "WEB-9")
    b = create(shop, "--customer", "a@b.io", "--item", "MUG-01:1", "--external-ref", "1")
    by_id = json.loads(shop("orders", "show", str(a["id"]), "-o", "json").stdout)
    assert by_id == a
    assert json.loads(shop("orders", "show", "WEB-9", "-o", "json").stdout) == a
    # "1" is the id 1 (order a); --ref 1 is order b, whose external ref is "1".
    assert json.loads(shop("orders", "show", "1", "-o", "json").stdout)["id"] == a["id"]
    assert json.loads(shop("orders", "show", "--ref", "1", "-o", "json").stdout) == b
    table = shop("orders", "show", "WEB-9")
    for text in ("Order", "pending", "a@b.io", "MUG-01", "Stoneware mug", "12.50", "history",
                 "created", "test-operator"):  # fmt: skip
        assert text in table.stdout
    jsonl = shop("orders", "show", "WEB-9", "-o", "jsonl").stdout
    assert jsonl.count("\n") == 1 and json.loads(jsonl) == a
    rows = list(csv.DictReader(io.StringIO(shop("orders", "show", "WEB-9", "-o", "csv").stdout)))
    assert rows[0]["customer.email"] == "a@b.io" and rows[0]["total"] == "12.50"


SHOW_ERRORS: list[tuple[list[str], int, str]] = [
    (["999"], 5, "error: order 999 not found"),
    (["0"], 5, "error: order 0 not found"),
    (["99999999999999999999999"], 5, "not found"),
    (["NOPE-1"], 5, "error: order with external_ref 'NOPE-1' not found"),
    (["--ref", "'; DROP TABLE orders;--"], 5, "not found"),
    (["--ref", "x", "1"], 2, "error: give either"),
    ([], 2, "error: give either"),
]


def test_show_errors(shop: Cli) -> None:
    for args, code, needle in SHOW_ERRORS:
        result = shop("orders", "show", *args, role=Role.VIEWER)
        assert result.exit_code == code, (args, result.stderr)
        assert needle in result.stderr and result.stdout == "", args


# ---- set-status and history ----


def test_status_walk_and_history(shop: Cli, database: Database) -> None:
    doc = create(shop, "--customer", "a@b.io", "--item", "MUG-01:2")
    oid = str(doc["id"])
    for status, reason in (("paid", None), ("shipped", "DHL 123 «Überseepaket»"),
                           ("delivered", None), ("refunded", "returned 🛒")):  # fmt: skip
        args = ["orders", "set-status", oid, status, "-o", "json"]
        if reason:
            args += ["--reason", reason]
        result = shop(*args, role=Role.OPERATOR)
        assert result.exit_code == 0, result.stderr
        changed = json.loads(result.stdout)
        assert changed["status"] == status and f"is now {status}" in result.stderr
        assert changed["updated_at"] >= doc["updated_at"]
    assert stock_of(database, "MUG-01") == 118  # a refund does not restock
    events = json.loads(shop("orders", "history", oid, "-o", "json").stdout)
    assert [(e["action"], e["from_status"], e["to_status"], e["reason"]) for e in events] == [
        ("created", None, "pending", None),
        ("status_changed", "pending", "paid", None),
        ("status_changed", "paid", "shipped", "DHL 123 «Überseepaket»"),
        ("status_changed", "shipped", "delivered", None),
        ("status_changed", "delivered", "refunded", "returned 🛒"),
    ]
    assert all(e["actor"] == "test-operator" and TIMESTAMP.match(e["at"]) for e in events)
    assert list(events[0]) == ["at", "actor", "action", "from_status", "to_status", "reason"]
    jsonl = shop("orders", "history", oid, "-o", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in jsonl] == events
    table = shop("orders", "history", oid).stdout
    assert "Überseepaket" in table and ANSI not in table


def test_cancel_restocks_tracked_products(shop: Cli, database: Database) -> None:
    doc = create(shop, "--customer", "a@b.io", "--item", "MUG-01:5", "--item", "CAP-01:2")
    assert stock_of(database, "MUG-01") == 115
    assert shop("orders", "set-status", str(doc["id"]), "paid").exit_code == 0
    result = shop("orders", "set-status", str(doc["id"]), "CANCELLED", "--reason", "fraud")
    assert result.exit_code == 0, result.stderr
    assert stock_of(database, "MUG-01") == 120 and stock_of(database, "CAP-01") is None


BAD_TRANSITIONS: list[tuple[list[str], str, int, str]] = [
    ([], "pending", 6, "error: order {id} is already pending"),
    ([], "shipped", 6, "error: order {id} cannot go from pending to shipped; allowed: paid, cancelled"),  # noqa: E501
    (["paid"], "pending", 6, "allowed: shipped, cancelled, refunded"),
    (["paid"], "paid", 6, "error: order {id} is already paid"),
    (["cancelled"], "paid", 6, "error: order {id} is cancelled, a final status; it cannot change"),
    (["paid", "refunded"], "cancelled", 6, "order {id} is refunded, a final status"),
    (["paid", "shipped", "delivered"], "cancelled", 6, "allowed: refunded"),
    ([], "lost", 2, ""),
    ([], "", 2, ""),
    ([], "paid; DROP TABLE orders", 2, ""),
]  # fmt: skip


def test_bad_status_changes(shop: Cli, database: Database) -> None:
    for path, target, code, message in BAD_TRANSITIONS:
        oid = str(create(shop, "--customer", "a@b.io", "--item", "MUG-01:1")["id"])
        for status in path:
            assert shop("orders", "set-status", oid, status).exit_code == 0
        before = snapshot(database)
        result = shop("orders", "set-status", oid, target, role=Role.OPERATOR)
        assert result.exit_code == code, (path, target, result.stderr)
        if message:
            assert message.format(id=oid) in result.stderr, (path, target, result.stderr)
            assert result.stderr.count("\n") == 1
        assert snapshot(database) == before


SET_STATUS_ERRORS: list[tuple[list[str], int, str]] = [
    (["999", "paid"], 5, "error: order 999 not found"),
    (["99999999999999999999", "paid"], 5, "not found"),
    (["abc", "paid"], 2, ""),
    (["1", "paid", "--reason", "r" * 2001], 6, "error: reason: must be at most 2000 characters"),
    (["1", "paid", "--reason", "a\x00b"], 6, "error: reason: must not contain NUL"),
]


def test_set_status_errors(shop: Cli, database: Database) -> None:
    create(shop, "--customer", "a@b.io", "--item", "MUG-01:1")
    before = snapshot(database)
    for args, code, needle in SET_STATUS_ERRORS:
        result = shop("orders", "set-status", *args)
        assert result.exit_code == code, (args, result.stderr)
        assert needle in result.stderr, args
        assert snapshot(database) == before


def test_history_errors(shop: Cli) -> None:
    result = shop("orders", "history", "42")
    assert result.exit_code == 5 and result.stderr == "error: order 42 not found\n"
    assert shop("orders", "history", "x").exit_code == 2
