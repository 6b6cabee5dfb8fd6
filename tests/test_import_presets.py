"""`import orders --preset shopify`, `--map COLUMN=FIELD` and `--delimiter` (DESIGN.md §7,
issue 16 item 5; the mapping tables are in docs/import.md)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from helpers import ORDER_CSV_HEADER as HEADER
from helpers import ORDER_CSV_ROW as ROW
from helpers import Cli, database_snapshot, one_error
from helpers import import_orders as run
from helpers import write_file as write
from orderctl.db import Database
from orderctl.services.import_presets import shopify_status, shopify_time

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Fulfillment Status,Currency,Created at,Lineitem quantity,"
    "Lineitem name,Lineitem price,Lineitem sku,Billing Name,Shipping Name,Shipping Address1,"
    "Shipping City,Shipping Country,Notes,Cancelled at,Total\n"
)


def shopify_row(name: str = "#1", **cells: str) -> str:
    """One row of SHOPIFY_HEADER: an order's first row unless cells leave the order empty."""
    values = {
        "Name": name,
        "Email": "ana@example.com",
        "Financial Status": "paid",
        "Fulfillment Status": "",
        "Currency": "EUR",
        "Created at": "2026-08-04 05:24:22 +0500",
        "Lineitem quantity": "1",
        "Lineitem name": "Stoneware mug",
        "Lineitem price": "12.50",
        "Lineitem sku": "MUG-01",
        "Billing Name": "Ana Souza",
    }
    values.update(cells)
    columns = next(csv.reader([SHOPIFY_HEADER]))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values.get(c, "") for c in columns])
    return out.getvalue()


def documents(cli: Cli) -> dict[str, dict[str, object]]:
    result = cli("orders", "list", "--all", "-o", "json")
    assert result.exit_code == 0, result.stderr
    return {doc["external_ref"]: doc for doc in json.loads(result.stdout)}


# ---- the sample export (tests/samples/shopify-orders.csv) ----


def test_shopify_sample_imports_with_statuses_times_and_addresses(
    import_shop: Cli, samples: Path, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    source = str(samples / "shopify-orders.csv")
    result = run(
        import_shop, source, "--preset", "shopify", "--on-error", "skip", "--rejects", str(rejects)
    )
    assert result.exit_code == 6, result.stderr
    assert "line 10: 'Gift Card' has no SKU (Lineitem sku is empty)" in result.stderr
    docs = documents(import_shop)
    assert {ref: d["status"] for ref, d in docs.items()} == {
        "#1001": "shipped",  # paid + fulfilled
        "#1002": "pending",
        "#1003": "paid",
        "#1004": "refunded",
        "#1005": "cancelled",  # voided
    }
    first = docs["#1001"]
    assert first["created_at"] == "2026-08-04T00:24:22Z"  # +0500 → UTC
    assert first["customer"] == {"id": first["customer"]["id"], "email": "ana@example.com",  # type: ignore[index]
                                 "name": "Ana Souza"}  # fmt: skip
    assert first["notes"] == "Gift wrap, please"
    assert first["shipping_address"] == "Rua das Flores 12, Apt 3, 1100-001, Lisboa, PT"
    assert [(i["sku"], i["quantity"], i["unit_price"]) for i in first["items"]] == [  # type: ignore[attr-defined]
        ("MUG-01", 2, "12.50"),
        ("TEE-M", 1, "19.99"),
    ]
    assert first["total"] == "44.99"
    assert docs["#1003"]["notes"] == "Leave at door\nBlue house"
    assert docs["#1003"]["items"][0]["unit_price"] == "12.00"  # type: ignore[index]  # the file's price
    # the rejects file keeps Shopify's own rows (both rows of #1006), so it re-imports as is
    rows = list(csv.reader(rejects.open(newline="", encoding="utf-8")))
    assert rows[0][:2] == ["Name", "Email"] and rows[0][-1] == "error"
    assert [r[0] for r in rows[1:]] == ["#1006", "#1006"]
    again = run(import_shop, str(rejects), "--preset", "shopify", "--on-error", "skip")
    assert again.exit_code == 6 and "'Gift Card' has no SKU" in again.stderr


def test_shopify_import_is_idempotent(import_shop: Cli, samples: Path) -> None:
    source = str(samples / "shopify-orders.csv")
    run(import_shop, source, "--preset", "shopify", "--on-error", "skip")
    again = run(import_shop, source, "--preset", "shopify", "--on-error", "skip", "-o", "json")
    summary = json.loads(again.stdout)
    assert (summary["imported"], summary["skipped"], summary["rejected"]) == (0, 5, 1)


# ---- the mapping, one rule at a time ----


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled_at", "status"),
    [
        ("pending", "", "", "pending"),
        ("authorized", "", "", "pending"),
        ("partially_paid", "partial", "", "pending"),
        ("paid", "", "", "paid"),
        ("paid", "unfulfilled", "", "paid"),
        ("paid", "partial", "", "paid"),
        ("paid", "fulfilled", "", "shipped"),
        ("Paid", "Fulfilled", "", "shipped"),
        ("partially_refunded", "fulfilled", "", "shipped"),
        ("partially_refunded", "", "", "paid"),
        ("refunded", "fulfilled", "", "refunded"),
        ("refunded", "", "2026-08-05 10:00:00 +0000", "refunded"),
        ("voided", "", "2026-08-05 10:00:00 +0000", "cancelled"),
        ("expired", "", "", "cancelled"),
        ("paid", "", "2026-08-05 10:00:00 +0000", "cancelled"),
        ("pending", "", "2026-08-05 10:00:00 +0000", "cancelled"),
    ],
)
def test_shopify_status_table(
    financial: str, fulfillment: str, cancelled_at: str, status: str
) -> None:
    assert shopify_status(financial, fulfillment, cancelled_at) == status


@pytest.mark.parametrize("financial", ["", "settled", "paid'; DROP TABLE orders; --"])
def test_unknown_financial_status_is_refused(financial: str) -> None:
    with pytest.raises(ValueError, match="Financial Status"):
        shopify_status(financial, "", "")


def test_shopify_time() -> None:
    assert shopify_time("2026-08-04 05:24:22 +0500") == "2026-08-04T00:24:22Z"
    assert shopify_time("2026-12-31 23:30:00 -0100") == "2027-01-01T00:30:00Z"
    assert shopify_time("") == ""
    for bad in ("2026-08-04T05:24:22Z", "04/08/2026 05:24", "2026-08-04 05:24:22"):
        with pytest.raises(ValueError, match="not a Shopify time"):
            shopify_time(bad)


BAD_SHOPIFY = {
    "no sku": (shopify_row(**{"Lineitem sku": ""}), "line 2: 'Stoneware mug' has no SKU"),
    "unknown financial status": (shopify_row(**{"Financial Status": "settled"}),
                                 "line 2: Financial Status 'settled' is not one of"),
    "bad created at": (shopify_row(**{"Created at": "yesterday"}),
                       "line 2: Created at 'yesterday' is not a Shopify time"),
    "second line without sku": (shopify_row() + shopify_row(Email="", **{"Lineitem sku": ""}),
                                "line 3: 'Stoneware mug' has no SKU"),
    "quantity not a number": (shopify_row(**{"Lineitem quantity": "two"}), "line 2: quantity:"),
    "sql in sku": (shopify_row(**{"Lineitem sku": "x' OR 1=1; --"}), "unknown SKU"),
    "rows disagree": (shopify_row() + shopify_row(Email="zed@example.com",
                                                  **{"Lineitem sku": "CAP-01"}),
                      "line 3: customer_email differs from line 2"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_SHOPIFY)
def test_bad_shopify_rows_refuse_the_order(
    case: str, import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    body, needle = BAD_SHOPIFY[case]
    before = database_snapshot(database)
    path = write(tmp_path, "orders.csv", SHOPIFY_HEADER + body)
    one_error(run(import_shop, path, "--preset", "shopify"), 6, needle)
    assert database_snapshot(database) == before


def test_later_rows_take_the_order_cells_of_the_first(import_shop: Cli, tmp_path: Path) -> None:
    """Shopify leaves order-level cells empty after an order's first row."""
    body = shopify_row("#7", Notes="ring twice") + shopify_row(
        "#7", Email="", **{"Financial Status": "", "Currency": "", "Created at": "",
                           "Billing Name": "", "Lineitem sku": "CAP-01",
                           "Lineitem price": "9.99", "Lineitem quantity": "3"}
    )  # fmt: skip
    result = run(
        import_shop, write(tmp_path, "o.csv", SHOPIFY_HEADER + body), "--preset", "shopify"
    )
    assert result.exit_code == 0, result.stderr
    doc = documents(import_shop)["#7"]
    assert (doc["status"], doc["notes"], doc["total"]) == ("paid", "ring twice", "42.47")


def test_not_a_shopify_export(import_shop: Cli, samples: Path, database: Database) -> None:
    before = database_snapshot(database)
    error = one_error(run(import_shop, str(samples / "orders.csv"), "--preset", "shopify"), 6)
    assert error == (
        "error: line 1: not a Shopify orders export: missing column(s) 'Name', 'Email', "
        "'Lineitem sku', 'Lineitem quantity'\n"
    )
    assert database_snapshot(database) == before


def test_preset_with_a_map_takes_that_column(import_shop: Cli, tmp_path: Path) -> None:
    body = shopify_row(
        "#8", **{"Billing Name": "", "Shipping Name": "Sam Ship", "Shipping City": "Porto",
                 "Total": "delivered"}
    )  # fmt: skip
    path = write(tmp_path, "o.csv", SHOPIFY_HEADER + body)
    result = run(import_shop, path, "--preset", "shopify", "--map", "Shipping City=notes",
                 "--map", "Total=status")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = documents(import_shop)["#8"]
    # a mapped status is read as orderctl's own; no Billing Name: the Shipping Name
    assert (doc["notes"], doc["status"]) == ("Porto", "delivered")
    assert doc["customer"]["name"] == "Sam Ship"  # type: ignore[index]


# ---- --delimiter and its detection ----


def semicolons(text: str) -> str:
    return text.replace(",", ";")


def test_semicolon_file_is_detected(import_shop: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "excel.csv", semicolons(HEADER + ROW))
    result = run(import_shop, path)
    assert result.exit_code == 0, result.stderr
    assert list(documents(import_shop)) == ["W-1"]


@pytest.mark.parametrize(("name", "char"), [(";", ";"), ("tab", "\t"), ("|", "|")])
def test_delimiter_given(name: str, char: str, import_shop: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "o.csv", (HEADER + ROW).replace(",", char))
    result = run(import_shop, path, "--delimiter", name)
    assert result.exit_code == 0, result.stderr


def test_wrong_delimiter_says_which(import_shop: Cli, tmp_path: Path, database: Database) -> None:
    before = database_snapshot(database)
    path = write(tmp_path, "excel.csv", semicolons(HEADER + ROW))
    error = one_error(run(import_shop, path, "--delimiter", ","), 6)
    assert error.endswith(
        "; the header looks semicolon-separated, not comma-separated: pass --delimiter ';'\n"
    )
    assert database_snapshot(database) == before


def test_detection_ignores_delimiters_inside_quotes(import_shop: Cli, tmp_path: Path) -> None:
    header = HEADER.replace("notes", '"notes; free; text"')
    path = write(tmp_path, "o.csv", header + ROW)
    result = run(import_shop, path)
    assert result.exit_code == 0, result.stderr
    assert "ignoring unknown column(s): 'notes; free; text'" in result.stderr


# ---- --map ----


def test_map_renames_columns(import_shop: Cli, tmp_path: Path) -> None:
    body = "Order No;E-mail;Item;Qty;Remarks\nX-1;a@b.co;MUG-01;2;=1+1 ünïcode\n"
    path = write(tmp_path, "legacy.csv", body)
    maps = ("Order No=external_ref", "e-mail=customer_email", "Item=sku", "Qty=quantity",
            "Remarks=notes")  # fmt: skip
    result = run(import_shop, path, *(arg for m in maps for arg in ("--map", m)))
    assert result.exit_code == 0, result.stderr
    doc = documents(import_shop)["X-1"]
    assert (doc["notes"], doc["total"]) == ("=1+1 ünïcode", "25.00")


USAGE = {
    "no equals sign": (("--map", "Item"), "--map takes COLUMN=FIELD"),
    "unknown field": (("--map", "Item=skux"), "'skux' is not an import field"),
    "field twice": (("--map", "A=sku", "--map", "B=sku"), "--map gives 'sku' twice"),
    "column twice": (("--map", "A=sku", "--map", "a=quantity"), "names the column 'a' twice"),
    "bad delimiter": (("--delimiter", "xx"), "--delimiter must be one of"),
    "preset on jsonl": (("--preset", "shopify"), "apply to CSV files only"),
    "unknown preset": (("--preset", "woo"), "'woo' is not one of 'shopify'"),
}  # fmt: skip


@pytest.mark.parametrize("case", USAGE)
def test_usage_errors(case: str, import_shop: Cli, samples: Path, database: Database) -> None:
    args, needle = USAGE[case]
    source = samples / ("orders.jsonl" if case == "preset on jsonl" else "orders.csv")
    before = database_snapshot(database)
    one_error(run(import_shop, str(source), *args), 2, needle)
    assert database_snapshot(database) == before


def test_map_of_a_missing_column(import_shop: Cli, samples: Path) -> None:
    result = run(import_shop, str(samples / "orders.csv"), "--map", "Order No=external_ref")
    one_error(result, 6, "--map names the column 'Order No', which the header does not have")


def test_map_onto_a_column_the_file_has(import_shop: Cli, samples: Path) -> None:
    result = run(import_shop, str(samples / "orders.csv"), "--map", "notes=sku")
    one_error(result, 6, "column 'sku' appears twice in the header after --map")
