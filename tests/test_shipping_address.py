"""`shipping_address` (migration 0003): optional free text up to 1000 characters, newline and
tab allowed, in `orders create` (option and --from-file), the import (CSV column, JSONL key),
`orders show`, every JSON document of an order (after `notes`, DESIGN.md §6) and the API."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from helpers import Api, Cli, database_snapshot
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Product
from orderctl.services.uow import UnitOfWork

ADDRESS = "Ana Lima\nRua Augusta 10\n1100-053 Lisboa"
CREATE = ["orders", "create", "--customer", "ana@example.com", "--item", "MUG-01:1"]


def _mug(database: Database) -> None:
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50")))
        u.commit()


def test_create_show_list_carry_it(cli: Cli, database: Database) -> None:
    _mug(database)
    made = cli(*CREATE, "--shipping-address", ADDRESS, "-o", "json", role=Role.OPERATOR)
    assert made.exit_code == 0, made.stderr
    order = json.loads(made.stdout)
    assert order["shipping_address"] == ADDRESS
    keys = list(order)
    assert keys[keys.index("notes") + 1] == "shipping_address"
    shown = cli("orders", "show", str(order["id"]), "-o", "json", role=Role.VIEWER)
    assert json.loads(shown.stdout) == order
    for args in (["-o", "json"], ["--all", "-o", "jsonl"]):
        listed = cli("orders", "list", *args, role=Role.VIEWER)
        text = listed.stdout
        first = json.loads(text.splitlines()[0]) if "jsonl" in args else json.loads(text)[0]
        assert first == order, args
    table = cli("orders", "show", str(order["id"]), role=Role.VIEWER).stdout
    assert "shipping address" in table and "Rua Augusta 10" in table
    plain = cli(*CREATE, "-o", "json", role=Role.OPERATOR)
    assert json.loads(plain.stdout)["shipping_address"] is None


def test_from_file(cli: Cli, database: Database, tmp_path: Path) -> None:
    _mug(database)
    doc = {
        "customer_email": "ana@example.com",
        "items": [{"sku": "MUG-01", "quantity": 1}],
        "shipping_address": ADDRESS,
    }
    path = tmp_path / "order.json"
    path.write_text(json.dumps(doc))
    made = cli("orders", "create", "--from-file", str(path), "-o", "json", role=Role.OPERATOR)
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["shipping_address"] == ADDRESS
    both = cli("orders", "create", "--from-file", str(path), "--shipping-address", "x")
    assert both.exit_code == 2 and "cannot be combined" in both.stderr


def test_bad_values_are_refused_and_nothing_changes(cli: Cli, database: Database) -> None:
    _mug(database)
    cli.token(Role.OPERATOR)  # the user and token are made before the snapshot
    before = database_snapshot(database)
    for value, reason in (
        ("x" * 1001, "shipping_address: String should have at most 1000 characters"),
        ("Rua\x1b[31m 10", "shipping_address: "),
        ("Rua\x00", "shipping_address: "),
    ):
        result = cli(*CREATE, "--shipping-address", value, role=Role.OPERATOR)
        assert result.exit_code == 6, (value, result.stderr)
        assert result.stderr.startswith(f"error: {reason}"), result.stderr
        assert result.stderr.count("\n") == 1
    assert database_snapshot(database) == before
    ok = cli(*CREATE, "--shipping-address", "y" * 1000, "-o", "json", role=Role.OPERATOR)
    assert ok.exit_code == 0, ok.stderr


def test_a_retry_with_another_address_is_a_conflict(cli: Cli, database: Database) -> None:
    _mug(database)
    ref = ["--external-ref", "SHIP-1"]
    first = cli(*CREATE, *ref, "--shipping-address", ADDRESS, role=Role.OPERATOR)
    assert first.exit_code == 0, first.stderr
    again = cli(*CREATE, *ref, "--shipping-address", ADDRESS, role=Role.OPERATOR)
    assert again.exit_code == 0 and "exists already" in again.stderr
    other = cli(*CREATE, *ref, "--shipping-address", "elsewhere", role=Role.OPERATOR)
    assert other.exit_code == 6 and "different content" in other.stderr


def test_import_csv_and_jsonl(cli: Cli, database: Database, tmp_path: Path) -> None:
    _mug(database)
    csv_path = tmp_path / "orders.csv"
    csv_path.write_text(
        "external_ref,customer_email,sku,quantity,shipping_address\n"
        'C-1,ana@example.com,MUG-01,1,"Ana Lima\nRua Augusta 10"\n'
        "C-2,ana@example.com,MUG-01,2,\n",
        newline="",
    )
    jsonl_path = tmp_path / "orders.jsonl"
    line = {
        "external_ref": "J-1",
        "customer_email": "ana@example.com",
        "items": [{"sku": "MUG-01", "quantity": 1}],
        "shipping_address": ADDRESS,
    }
    jsonl_path.write_text(json.dumps(line) + "\n")
    for path in (csv_path, jsonl_path):
        result = cli("import", "orders", str(path), "--no-progress", role=Role.OPERATOR)
        assert result.exit_code == 0, result.stderr
    listed = cli("orders", "list", "--all", "-o", "jsonl", role=Role.VIEWER).stdout
    docs = [json.loads(line) for line in listed.splitlines()]
    by_ref = {d["external_ref"]: d["shipping_address"] for d in docs}
    assert by_ref == {"C-1": "Ana Lima\nRua Augusta 10", "C-2": None, "J-1": ADDRESS}
    # the same file again: same content, skipped; another address: a conflict
    again = cli("import", "orders", str(jsonl_path), "--no-progress", "-o", "json")
    assert json.loads(again.stdout)["skipped"] == 1
    jsonl_path.write_text(json.dumps({**line, "shipping_address": "elsewhere"}) + "\n")
    other = cli("import", "orders", str(jsonl_path), "--no-progress")
    assert other.exit_code == 6 and "different content" in other.stderr


def test_api(api: Api, database: Database) -> None:
    _mug(database)
    body = {
        "customer_email": "ana@example.com",
        "items": [{"sku": "MUG-01", "quantity": 1}],
        "shipping_address": ADDRESS,
    }
    made = api.post("/api/orders", role=Role.OPERATOR, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["shipping_address"] == ADDRESS
    got = api.get(f"/api/orders/{made.json()['id']}", role=Role.VIEWER).json()
    assert got == made.json()
    page = api.get("/api/orders", role=Role.VIEWER).json()
    assert page["items"][0] == made.json()
    long = api.post("/api/orders", json={**body, "shipping_address": "z" * 1001})
    assert long.status_code == 422
