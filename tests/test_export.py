"""`orders export` (DESIGN.md §14): the import format of §7, and the round trip through
`import orders` from SQLite to PostgreSQL and back, hostile values and §5's boundaries
included."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import Cli, database_snapshot, one_error, walk_commands, write_file
from orderctl.db import Database
from orderctl.enums import Role

#: The catalog both sides share: a unicode SKU and name, §5's largest price, the smallest.
CATALOG = [
    ("MUG-01", "Mug", "12.50"),
    ("TEE-ÄÖ", 'T-shirt "größe", M', "19.99"),
    ("BIG-01", "Yacht", "9999999999.99"),
    ("PIN-01", "Pin", "0.01"),
]
HOSTILE = 'said "hi", then\nleft;\ttab, comma\n\nend'
FORMULA = "=cmd|' /C calc'!A0"
#: Orders with a past creation time and every kind of status, as an import file gives them.
SOURCE_ORDERS = [
    {
        "external_ref": 'R,1"quoted',
        "customer_email": "zoe@example.com",
        "customer_name": 'Zoë 李, "Q"',
        "status": "refunded",
        "currency": "USD",
        "created_at": "2026-01-02T03:04:05Z",
        "notes": HOSTILE,
        "shipping_address": "Straße 1,\n10115 Berlin",
        "items": [{"sku": "TEE-ÄÖ", "quantity": 3}, {"sku": "MUG-01", "quantity": 1}],
    },
    {
        "external_ref": "MAX-PRICE",
        "customer_email": "rich@example.com",
        "status": "delivered",
        "created_at": "2026-02-01T00:00:00Z",
        "items": [{"sku": "BIG-01", "quantity": 1}],
    },
    {
        "external_ref": "MAX-QTY",
        "customer_email": "bulk@example.com",
        "status": "paid",
        "created_at": "2026-02-01T00:00:00Z",
        "notes": "+SUM(A1) @x -1",
        "items": [
            {"sku": "PIN-01", "quantity": 100000},
            {"sku": "MUG-01", "quantity": 2, "unit_price": "0.00"},
        ],
    },
]


def _catalog(cli: Cli) -> None:
    for sku, name, price in CATALOG:
        result = cli("products", "add", sku, "--name", name, "--price", price)
        assert result.exit_code == 0, result.stderr


def _fill_source(cli: Cli, tmp_path: Path) -> None:
    """The hostile imported orders, then orders made by `orders create` (no external ref,
    created now) whose status moves on."""
    _catalog(cli)
    lines = "".join(json.dumps(order, ensure_ascii=False) + "\n" for order in SOURCE_ORDERS)
    result = cli("import", "orders", write_file(tmp_path, "seed.jsonl", lines))
    assert result.exit_code == 0, result.stderr
    for notes, status in ((FORMULA, "shipped"), ("", None)):
        args = ["--customer", "Ann@Example.com", "--item", "MUG-01:2", "--item", "PIN-01:5"]
        made = cli("orders", "create", *args, *(["--notes", notes] if notes else []), "-o", "json")
        assert made.exit_code == 0, made.stderr
        if status:
            order_id = str(json.loads(made.stdout)["id"])
            assert cli("orders", "set-status", order_id, "paid").exit_code == 0
            assert cli("orders", "set-status", order_id, status).exit_code == 0


def _documents(cli: Cli) -> list[dict[str, Any]]:
    """`orders list --all -o json`, oldest first, without what a copy by import cannot keep:
    the ids and the time of the last change (a missing ref is the one the export gives)."""
    result = cli("orders", "list", "--all", "--sort", "created", "-o", "json")
    assert result.exit_code == 0, result.stderr
    docs = json.loads(result.stdout)
    for doc in docs:
        doc["external_ref"] = doc["external_ref"] or f"orderctl-{doc['id']}"
        del doc["id"], doc["updated_at"], doc["customer"]["id"]
    return docs


def _other(backend: str) -> str:
    return "postgresql" if backend == "sqlite" else "sqlite"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_round_trip_to_the_other_backend(
    cli: Cli, backend: str, new_db_url: Callable[..., str], tmp_path: Path, fmt: str
) -> None:
    """Export, import into the other backend with the same catalog: the same documents, and
    the target's export is byte for byte the source's. Importing again adds nothing."""
    _fill_source(cli, tmp_path)
    source_file = tmp_path / f"source.{fmt}"
    exported = cli("orders", "export", str(source_file), role=Role.VIEWER)
    assert exported.exit_code == 0, exported.stderr
    assert exported.stderr == f"exported 5 orders to {source_file}\n"
    text = source_file.read_text(encoding="utf-8")
    assert FORMULA in text and "orderctl-" in text  # stored values as they are

    target_url = new_db_url(_other(backend))
    target = Cli(db_url=target_url, config_dir=cli.config_dir, database=Database(target_url))
    try:
        _catalog(target)
        imported = target("import", "orders", str(source_file), "-o", "json")
        assert imported.exit_code == 0, imported.stderr
        assert json.loads(imported.stdout)["imported"] == 5
        assert _documents(target) == _documents(cli)

        again = target("import", "orders", str(source_file), "-o", "json")
        assert again.exit_code == 0, again.stderr
        assert json.loads(again.stdout)["skipped"] == 5
        back = target("orders", "export", "--format", fmt)
        assert back.exit_code == 0, back.stderr
        assert back.stdout == text
    finally:
        target.database.dispose()


def test_formats_columns_and_generated_refs(cli: Cli, tmp_path: Path) -> None:
    _fill_source(cli, tmp_path)
    jsonl = cli("orders", "export")
    assert jsonl.exit_code == 0, jsonl.stderr
    first, *rest = (json.loads(line) for line in jsonl.stdout.splitlines())
    assert first == {
        **{k: v for k, v in SOURCE_ORDERS[0].items() if k != "items"},
        "items": [
            {"sku": "TEE-ÄÖ", "quantity": 3, "unit_price": "19.99"},
            {"sku": "MUG-01", "quantity": 1, "unit_price": "12.50"},
        ],
    }
    made = [doc for doc in rest if doc["external_ref"].startswith("orderctl-")]
    assert [doc.get("notes") for doc in made] == [FORMULA, None]
    path = tmp_path / "paid.csv"
    csv_out = cli("orders", "export", str(path), "--status", "paid")
    assert csv_out.exit_code == 0, csv_out.stderr
    header, *rows = path.read_bytes().decode().split("\r\n")  # RFC 4180 line ends
    assert header == (
        "external_ref,customer_email,customer_name,status,currency,created_at,notes,"
        "shipping_address,sku,quantity,unit_price"
    )
    order = "MAX-QTY,bulk@example.com,,paid,EUR,2026-02-01T00:00:00Z,+SUM(A1) @x -1,"
    assert rows == [f"{order},PIN-01,100000,0.01", f"{order},MUG-01,2,0.00", ""]


def test_no_orders_gives_a_header_or_nothing(cli: Cli) -> None:
    assert cli("orders", "export", "--format", "csv").stdout.startswith("external_ref,")
    empty = cli("orders", "export")
    assert (empty.exit_code, empty.stdout, empty.stderr) == (0, "", "exported 0 orders to stdout\n")


def test_the_filters_are_those_of_orders_list(cli: Cli, tmp_path: Path) -> None:
    """One definition: the same options, and the same orders selected."""
    from typer.main import get_command

    from orderctl.cli.main import app

    commands = dict(walk_commands(get_command(app)))
    options = {
        name: [p.opts for p in commands[("orders", name)].params if p.opts[0] in FILTER_FLAGS]
        for name in ("list", "export")
    }
    assert options["list"] == options["export"] and len(options["list"]) == len(FILTER_FLAGS)
    _fill_source(cli, tmp_path)
    for args in (["--status", "paid", "--status", "shipped"], ["--min-total", "1000"],
                 ["--customer", "ANN@example.com"], ["--until", "2026-01-31"]):  # fmt: skip
        listed = cli("orders", "list", "--all", "-o", "json", *args)
        exported = cli("orders", "export", *args)
        refs = sorted(d["external_ref"] or f"orderctl-{d['id']}" for d in json.loads(listed.stdout))
        assert refs, args
        assert (
            sorted(json.loads(line)["external_ref"] for line in exported.stdout.splitlines())
            == refs
        )


FILTER_FLAGS = ("--status", "--customer", "--since", "--until", "--min-total", "--max-total")


def test_an_existing_file_is_kept_unless_force(cli: Cli, tmp_path: Path) -> None:
    _fill_source(cli, tmp_path)
    path = tmp_path / "out.jsonl"
    path.write_text("keep me\n")
    one_error(cli("orders", "export", str(path)), 6, "exists already; pass --force")
    assert path.read_text() == "keep me\n"
    forced = cli("orders", "export", str(path), "--force", "--status", "paid")
    assert forced.exit_code == 0, forced.stderr
    assert [json.loads(line)["external_ref"] for line in path.read_text().splitlines()] == [
        "MAX-QTY"
    ]
    assert path.stat().st_mode & 0o077 == 0  # customer data: readable by its owner only
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["{tmp}/missing/out.csv"], 2, "folder"),
        (["{tmp}", "--format", "csv"], 2, "is a directory"),
        (["{tmp}/out.txt"], 2, "pass --format csv or --format jsonl"),
        (["--format", "xml"], 2, "xml"),
        (["--since", "someday"], 2, "--since"),
        (["--min-total", "1e99"], 6, "--min-total"),
        (["--status", "lost"], 2, "lost"),
    ],
)
def test_bad_input_changes_nothing(
    cli: Cli, database: Database, tmp_path: Path, args: list[str], code: int, needle: str
) -> None:
    cli.token(Role.VIEWER)
    before = database_snapshot(database)
    files = set(tmp_path.rglob("*"))
    result = cli("orders", "export", *(a.format(tmp=tmp_path) for a in args), role=Role.VIEWER)
    one_error(result, code, needle)
    assert database_snapshot(database) == before
    assert set(tmp_path.rglob("*")) == files


def test_needs_a_login(cli: Cli) -> None:
    one_error(cli("orders", "export", role=None), 3, "auth login")
