"""`orderctl orders`: create, show, set-status, history through the real CLI (§5, §6); the
refused inputs of `orders create` are in test_orders_bad_input.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from helpers import (
    ANSI,
    ITEM_KEYS,
    ORDER_KEYS,
    TIMESTAMP,
    Cli,
    order_snapshot,
    stock_of,
)
from helpers import create_order as create
from orderctl.db import Database
from orderctl.enums import Role

snapshot = order_snapshot

# ---- create ----


@pytest.mark.pgbouncer
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


@pytest.mark.pgbouncer
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


@pytest.mark.pgbouncer
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


@pytest.mark.pgbouncer
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
    (["abc", "paid"], 5, "error: order with external_ref 'abc' not found"),
    (["1", "bogus"], 2, "'STATUS'"),
    (["--ref", "1"], 2, "Missing argument 'STATUS'"),
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
    result = shop("orders", "history", "x")
    assert (
        result.exit_code == 5 and result.stderr == "error: order with external_ref 'x' not found\n"
    )
    assert shop("orders", "history").exit_code == 2
