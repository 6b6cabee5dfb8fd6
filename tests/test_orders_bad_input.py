"""`orderctl orders create` refuses bad input: the exit code, one `error:` line, and nothing
changed (DESIGN.md §5, §9)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import Cli, order_snapshot
from helpers import create_order as create
from orderctl.db import Database
from orderctl.enums import Role

snapshot = order_snapshot


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
    (["--item", "LAST-1:3"], 6, "error: insufficient stock for LAST-1: 2 left, 3 requested"),
    (["--item", "MUG-01:1", "--item", "LAST-1:3"], 6, "for LAST-1: 2 left, 3 requested"),
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
