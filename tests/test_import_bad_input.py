"""`orderctl import orders` refuses bad files: one error line, exit 6, and nothing written in
abort mode (DESIGN.md §7, §9)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from helpers import ORDER_CSV_HEADER as HEADER
from helpers import ORDER_CSV_ROW as ROW
from helpers import Cli, seed_products
from helpers import import_orders as run
from helpers import order_counts as counts
from helpers import write_file as write
from orderctl.db import Database
from orderctl.models import Order
from orderctl.services.uow import UnitOfWork

# ---- bad input: one error line, exit 6, nothing written (abort mode) ----

BAD_CSV = {
    "missing required column": ("external_ref,customer_email,quantity\nW-1,a@b.co,1\n",
                                "line 1: missing required column(s) sku"),
    "empty file": ("", "the file is empty"),
    "quantity not a number": (ROW.replace(",2,", ",two,"), "line 2: quantity:"),
    "quantity zero": (ROW.replace(",2,", ",0,"), "line 2: quantity: Input should be greater"),
    "quantity negative": (ROW.replace(",2,", ",-3,"), "line 2: quantity:"),
    "quantity too big": (ROW.replace(",2,", ",100001,"), "line 2: quantity:"),
    "price 3 decimals": (ROW.replace("12.50", "12.505"), "line 2: unit_price: must have at most"),
    "price decimal comma": (ROW.replace("12.50", '"12,50"'), "line 2: unit_price:"),
    "price negative": (ROW.replace("12.50", "-1"), "line 2: unit_price: must not be negative"),
    "price too big": (ROW.replace("12.50", "99999999999"), "line 2: unit_price: must be at most"),
    "bad email": (ROW.replace("a@b.co", "not-an-email"), "line 2: customer_email: is not a valid"),
    "unknown status": (ROW.replace(",paid,", ",sent,"), "line 2: status:"),
    "bad currency": (ROW.replace(",EUR,", ",EURO,"), "line 2: currency:"),
    "date not ISO": (ROW.replace("2026-11-02T09:15:00Z", "02/11/2026"), "line 2: created_at: "),
    "date as epoch": (ROW.replace("2026-11-02T09:15:00Z", "1700000000"), "line 2: created_at: "),
    "date impossible": (ROW.replace("2026-11-02", "2026-13-45"), "line 2: created_at: "),
    "unknown sku": (ROW.replace("MUG-01", "NOPE"), "line 2: sku: unknown SKU 'NOPE'"),
    "sql in sku": (ROW.replace("MUG-01", "x' OR 1=1; --"), "unknown SKU"),
    "empty external_ref": ("," + ROW.split(",", 1)[1], "line 2: external_ref: is required"),
    "NUL in notes": (ROW.replace(",,MUG", ",a\x00b,MUG"), "line 2: contains a NUL character"),
    "too few fields": ("W-1,a@b.co,MUG-01\n", "line 2: has 3 fields, the header has 10"),
    "ref split": (ROW + ROW.replace("W-1", "W-2") + ROW.replace("MUG-01", "CAP-01"),
                  "line 4: external_ref 'W-1' already appeared at line 2"),
    "rows disagree": (ROW + ROW.replace("a@b.co", "z@b.co").replace("MUG-01", "CAP-01"),
                      "line 3: customer_email differs from line 2"),
    "duplicate sku in order": (ROW + ROW, "SKU 'MUG-01' appears on more than one line"),
    "huge notes line": (ROW.replace(",,MUG", "," + "n" * 1_000_000 + ",MUG"),
                        "line 2: notes: String should have at most 2000"),
    # the rules and words of `orders create` (pricing.price_lines), located in the file
    "line total too big": (ROW.replace(",2,12.50", ",100000,9999999.99"),
                           "line 2: line total 999999999000.00 exceeds the maximum 9999999999.99"),
    "total too big": (ROW.replace(",2,12.50", ",1,9999999999.99")
                      + ROW.replace("MUG-01,2,12.50", "CAP-01,1,0.01"),
                      ": total: 10000000000.00 exceeds the maximum 9999999999.99 "
                      "(Numeric(12, 2))"),
}  # fmt: skip


def test_bad_csv_is_refused_and_nothing_is_written(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    # One database for all cases (each must leave it unchanged), so the suite stays fast.
    for case in sorted(BAD_CSV):
        _check_bad_csv(case, import_shop, database, tmp_path)


def _check_bad_csv(case: str, import_shop: Cli, database: Database, tmp_path: Path) -> None:
    body, expected = BAD_CSV[case]
    good = ROW.replace("W-1", "GOOD-0")  # a valid order first: it must not be committed either
    if case in ("missing required column", "empty file"):
        content = body
    else:
        content = HEADER + good + body
        # the good order takes line 2, so every line named in the message moves down one
        expected = re.sub(r"line (\d+)", lambda m: f"line {int(m[1]) + 1}", expected)
    before = counts(database)
    result = run(import_shop, write(tmp_path, "bad.csv", content))
    assert result.exit_code == 6, (case, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: "), (case, result.stderr)
    assert expected in lines[-1], (case, result.stderr)
    if case == "missing required column":
        assert "line 1" in lines[-1]
    else:
        expected_line = expected.split(":")[0]
        if expected_line.startswith("line"):
            assert expected_line in lines[-1]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert counts(database) == before


def test_non_utf8_bytes_are_refused(import_shop: Cli, database: Database, tmp_path: Path) -> None:
    content = (HEADER + ROW).encode() + b"W-2,b@b.co,Caf\xe9,,,,,MUG-01,1,\n"
    result = run(import_shop, write(tmp_path, "latin1.csv", content))
    assert result.exit_code == 6
    assert "error: line 3: is not valid UTF-8" in result.stderr
    assert counts(database)[0] == 0


def test_inactive_product_is_refused(cli: Cli, database: Database, samples: Path) -> None:
    seed_products(database, samples, inactive="MUG-01")
    result = run(cli, str(samples / "orders.csv"))
    assert result.exit_code == 6
    assert "error: line 2: sku: product 'MUG-01' is inactive" in result.stderr
    assert counts(database)[0] == 0


BAD_JSONL = {
    "not an object": ('[1, 2]', "line 2: expected a JSON object (one order), got list"),
    "not JSON": ("{nope", "line 2: not valid JSON"),
    "no external_ref": ('{"customer_email": "a@b.co", "items": [{"sku": "MUG-01", "quantity": 1}]}',
                        "line 2: external_ref: is required"),
    "unknown key": ('{"external_ref": "J", "customer_email": "a@b.co", "colour": "red", '
                    '"items": [{"sku": "MUG-01", "quantity": 1}]}',
                    "line 2: colour: Extra inputs are not permitted"),
    "float price": ('{"external_ref": "J", "customer_email": "a@b.co", '
                    '"items": [{"sku": "MUG-01", "quantity": 1, "unit_price": 1.005}]}',
                    "line 2: items.0.unit_price: must have at most two decimals"),
    "quantity string": ('{"external_ref": "J", "customer_email": "a@b.co", '
                        '"items": [{"sku": "MUG-01", "quantity": "lots"}]}',
                        "line 2: items.0.quantity"),
    "no items": ('{"external_ref": "J", "customer_email": "a@b.co", "items": []}',
                 "line 2: items: List should have at least 1 item"),
    "date number": ('{"external_ref": "J", "customer_email": "a@b.co", "created_at": 17000, '
                    '"items": [{"sku": "MUG-01", "quantity": 1}]}', "line 2: created_at"),
    "1 MB line": ('{"external_ref": "J", "customer_email": "a@b.co", "notes": "'
                  + "x" * 1_000_000 + '", "items": [{"sku": "MUG-01", "quantity": 1}]}',
                  "line 2: notes: String should have at most 2000"),
    "unknown sku": ('{"external_ref": "J", "customer_email": "a@b.co", '
                    '"items": [{"sku": "MUG-01", "quantity": 1}, {"sku": "ZZ", "quantity": 1}]}',
                    "line 2: items.1.sku: unknown SKU 'ZZ'"),
}  # fmt: skip


def test_bad_jsonl_is_refused_and_nothing_is_written(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    good = (
        '{"external_ref": "OK-1", "customer_email": "ok@b.co", '
        '"items": [{"sku": "CAP-01", "quantity": 1}]}'
    )
    for case in sorted(BAD_JSONL):
        line, expected = BAD_JSONL[case]
        result = run(import_shop, write(tmp_path, "bad.jsonl", good + "\n" + line + "\n"))
        assert result.exit_code == 6, (case, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: {expected}"), (case, result.stderr)
        assert counts(database) == (0, 0, 0, 0), case


def test_abort_across_batches_commits_nothing(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    rows = [ROW.replace("W-1", f"W-{n}") for n in range(10)] + [
        ROW.replace("W-1", "X").replace(",2,", ",0,")
    ]
    result = run(import_shop, write(tmp_path, "o.csv", HEADER + "".join(rows)), "--batch-size", "3")
    assert result.exit_code == 6
    assert "line 12: quantity" in result.stderr and "nothing was imported" in result.stderr
    assert counts(database) == (0, 0, 0, 0)


def test_ref_repeated_in_a_later_batch_is_an_error(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    body = HEADER + ROW + ROW.replace("W-1", "W-2") + ROW.replace("MUG-01", "CAP-01")
    path = write(tmp_path, "o.csv", body)
    result = run(import_shop, path, "--batch-size", "1", "--on-error", "skip")
    assert result.exit_code == 6
    assert "line 4: external_ref 'W-1' already appeared earlier in this file" in result.stderr
    assert counts(database)[0] == 2
    with UnitOfWork(database, write=False) as u:
        w1 = u.session.scalars(select(Order).where(Order.external_ref == "W-1")).one()
        assert [i.sku for i in w1.items] == ["MUG-01"]  # never merged
