"""`orderctl import orders` (DESIGN.md §7): formats, idempotency, modes, and bad input."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from helpers import ORDER_CSV_HEADER as HEADER
from helpers import ORDER_CSV_ROW as ROW
from helpers import Cli, seed_products
from helpers import import_orders as run
from helpers import order_counts as counts
from helpers import write_file as write
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Order, OrderEvent, OrderItem, Product
from orderctl.services.uow import UnitOfWork


def stock(database: Database) -> dict[str, int | None]:
    with UnitOfWork(database, write=False) as u:
        return {p.sku: p.stock for p in u.session.scalars(select(Product))}


# ---- the happy path ----


@pytest.mark.pgbouncer
def test_sample_csv_imports_with_history_and_no_stock_change(
    import_shop: Cli, database: Database, samples: Path
) -> None:
    before = stock(database)
    result = run(import_shop, str(samples / "orders.csv"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "imported" in result.stderr and "lines/s" in result.stderr
    assert counts(database) == (3, 4, 3, 3)
    assert stock(database) == before
    with UnitOfWork(database, write=False) as u:
        orders = {o.external_ref: o for o in u.session.scalars(select(Order))}
        web1 = orders["WEB-1001"]
        assert web1.status == "paid" and web1.total == Decimal("44.99")  # 2×12.50 + catalog 19.99
        assert web1.notes == "Gift wrap, please"
        assert [(i.sku, i.unit_price) for i in web1.items] == [
            ("MUG-01", Decimal("12.50")),
            ("TEE-M", Decimal("19.99")),
        ]
        assert orders["WEB-1003"].notes == "Leave at door\n(side entrance)"
        assert orders["WEB-1002"].notes is None  # empty optional cell = not given
        assert web1.customer.name == "Ana Souza"
        assert web1.created_at.isoformat() == "2026-11-02T09:15:00+00:00"
        events = list(u.session.scalars(select(OrderEvent)))
        assert {(e.action, e.actor, e.to_status) for e in events if e.order_id == web1.id} == {
            ("imported", "test-operator", "paid")
        }


@pytest.mark.pgbouncer
def test_same_file_twice_imports_nothing_the_second_time(
    import_shop: Cli, database: Database, samples: Path
) -> None:
    assert run(import_shop, str(samples / "orders.csv")).exit_code == 0
    result = run(import_shop, str(samples / "orders.csv"), "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["skipped"], summary["skipped_lines"]) == (0, 3, 4)
    assert counts(database) == (3, 4, 3, 3)


def test_a_stored_order_is_skipped_even_when_the_catalog_would_now_refuse_it(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    """Whether a ref is stored decides first: a re-run after a product was deactivated skips
    the orders already in (the import prices a batch before it knows which refs are stored)."""
    path = write(tmp_path, "o.csv", HEADER + ROW + ROW.replace("W-1", "W-2").replace("12.50", ""))
    assert run(import_shop, path).exit_code == 0
    with UnitOfWork(database) as u:
        u.session.execute(update(Product).where(Product.sku == "MUG-01").values(active=False))
        u.commit()
    result = run(import_shop, path, "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["skipped"], summary["rejected"]) == (0, 2, 0)
    more = write(tmp_path, "more.csv", HEADER + ROW.replace("W-1", "W-3"))
    assert "product 'MUG-01' is inactive" in run(import_shop, more).stderr


def test_sample_jsonl_imports_with_json_summary(
    import_shop: Cli, database: Database, samples: Path
) -> None:
    result = run(import_shop, str(samples / "orders.jsonl"), "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["imported"] == 2 and summary["rejected"] == 0
    assert set(summary) >= {"imported_lines", "skipped", "seconds", "lines_per_second"}
    with UnitOfWork(database, write=False) as u:
        order = u.session.scalars(select(Order).where(Order.external_ref == "APP-2001")).one()
        assert order.total == Decimal("32.48")  # 12.50 (catalog) + 2 × 9.99 (given)
        assert order.currency == "EUR"


def test_default_currency_comes_from_settings(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "o.jsonl", '{"external_ref": "C1", "customer_email": "a@b.co", '
                 '"items": [{"sku": "CAP-01", "quantity": 1}]}\n')  # fmt: skip
    result = import_shop(
        "import", "orders", path, role=Role.OPERATOR, env={"ORDERCTL_CURRENCY": "usd"}
    )
    assert result.exit_code == 0, result.stderr
    with UnitOfWork(database, write=False) as u:
        assert u.session.scalars(select(Order.currency)).one() == "USD"


HOSTILE = 'R-1,Ünï@example.com,"Robert\'); DROP TABLE orders;--",,,,"שלום 🎉, [bold]x[/]",'


def test_bom_and_crlf_and_hostile_text(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    body = (
        HEADER.replace("\n", "\r\n")
        + HOSTILE + "MUG-01,1,\r\n"
        + HOSTILE + "CAP-01,2,1.5\r\n"
    )  # fmt: skip
    path = write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + body.encode())
    result = run(import_shop, path)
    assert result.exit_code == 0, result.stderr
    assert counts(database) == (1, 2, 1, 1)
    with UnitOfWork(database, write=False) as u:
        order = u.session.scalars(select(Order)).one()
        assert order.notes == "שלום 🎉, [bold]x[/]"
        assert order.customer.email == "ünï@example.com"
        assert order.customer.name == "Robert'); DROP TABLE orders;--"
        assert order.total == Decimal("15.50")


def test_header_only_imports_nothing(import_shop: Cli, database: Database, tmp_path: Path) -> None:
    result = run(import_shop, write(tmp_path, "h.csv", HEADER))
    assert result.exit_code == 0, result.stderr
    assert counts(database)[0] == 0


def test_unknown_column_is_ignored_with_a_warning(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "x.csv", "external_ref,customer_email,sku,quantity,colour\n"
                 "X-1,a@b.co,CAP-01,1,red\n")  # fmt: skip
    result = run(import_shop, path)
    assert result.exit_code == 0, result.stderr
    assert "warning: ignoring unknown column(s): 'colour'" in result.stderr
    assert counts(database)[0] == 1


def test_stdin_needs_format(import_shop: Cli, database: Database, samples: Path) -> None:
    data = (samples / "orders.csv").read_bytes()
    result = run(import_shop, "-", input=data)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "--format" in result.stderr
    result = run(import_shop, "-", "--format", "csv", input=data)
    assert result.exit_code == 0, result.stderr
    assert counts(database)[0] == 3


def test_unknown_extension_needs_format(import_shop: Cli, tmp_path: Path, samples: Path) -> None:
    path = write(tmp_path, "orders.txt", (samples / "orders.jsonl").read_bytes())
    result = run(import_shop, path)
    assert result.exit_code == 2 and "--format" in result.stderr
    assert run(import_shop, path, "--format", "jsonl").exit_code == 0


def test_missing_file_is_a_usage_error(import_shop: Cli, tmp_path: Path) -> None:
    result = run(import_shop, str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and result.stderr.startswith("error: cannot read")


def test_viewer_may_not_import(import_shop: Cli, database: Database, samples: Path) -> None:
    result = import_shop("import", "orders", str(samples / "orders.csv"), role=Role.VIEWER)
    assert result.exit_code == 4, result.stderr
    assert counts(database)[0] == 0


def test_dry_run_writes_nothing(import_shop: Cli, database: Database, samples: Path) -> None:
    before = counts(database)
    result = run(import_shop, str(samples / "orders.csv"), "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is True and summary["imported"] == 3
    assert counts(database) == before


# ---- skip mode and the rejects file ----


@pytest.mark.pgbouncer
def test_skip_mode_imports_valid_orders_and_writes_rejects(
    cli: Cli, database: Database, tmp_path: Path, samples: Path
) -> None:
    seed_products(database, samples)
    body = (
        HEADER
        + ROW
        + 'W-2,b@b.co,Bo,,,,"multi\nline, note",NEW-SKU,1,\n'
        + 'W-2,b@b.co,Bo,,,,"multi\nline, note",MUG-01,1,\n'
        + ROW.replace("W-1", "W-3").replace(",2,", ",0,")
        + ROW.replace("W-1", "W-4")
    )
    rejects = tmp_path / "rejects.csv"
    result = run(cli, write(tmp_path, "o.csv", body), "--on-error", "skip",
                 "--rejects", str(rejects), "--batch-size", "2", "-o", "json")  # fmt: skip
    assert result.exit_code == 6, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"], summary["rejected_lines"]) == (2, 2, 3)
    assert "error: 2 order(s) (3 line(s)) rejected" in result.stderr
    assert counts(database)[0] == 2
    with rejects.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["external_ref"] for r in rows] == ["W-2", "W-2", "W-3"]
    assert rows[0]["notes"] == "multi\nline, note"
    assert rows[0]["error"] == rows[1]["error"] == "line 3: sku: unknown SKU 'NEW-SKU'"
    assert rows[2]["error"].startswith("line 7: quantity:")  # the quoted notes span 2 lines
    # The rejects file re-imports as is (its `error` column is ignored): add the missing
    # product, and the order that failed for it now goes in; W-3 is still invalid.
    with UnitOfWork(database) as u:
        u.products.add(Product(sku="NEW-SKU", name="New", unit_price=Decimal("1.00")))
        u.commit()
    again = run(cli, str(rejects), "--on-error", "skip", "-o", "json")
    assert again.exit_code == 6, again.stderr
    assert "unknown column" not in again.stderr
    summary = json.loads(again.stdout)
    assert (summary["imported"], summary["rejected"]) == (1, 1)


def test_skip_mode_jsonl_rejects_keep_the_line_and_add_error(
    import_shop: Cli, database: Database, tmp_path: Path
) -> None:
    lines = [
        '{"external_ref": "A", "customer_email": "a@b.co", '
        '"items": [{"sku": "MUG-01", "quantity": 1}]}',
        "not json at all",
        '{"external_ref": "B", "customer_email": "a@b.co", '
        '"items": [{"sku": "MUG-01", "quantity": 0}]}',
    ]
    rejects = tmp_path / "r.jsonl"
    path = write(tmp_path, "o.jsonl", "\n".join(lines) + "\n")
    result = run(import_shop, path, "--on-error", "skip", "--rejects", str(rejects))
    assert result.exit_code == 6
    out = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert out[0] == {"line": "not json at all", "error": out[0]["error"]}
    assert out[0]["error"].startswith("line 2: not valid JSON")
    assert out[1]["external_ref"] == "B" and out[1]["error"].startswith("line 3: items.0.quantity")
    assert counts(database)[0] == 1


def test_rejects_needs_skip_mode(import_shop: Cli, tmp_path: Path, samples: Path) -> None:
    result = run(import_shop, str(samples / "orders.csv"), "--rejects", str(tmp_path / "r.csv"))
    assert result.exit_code == 2 and "--on-error skip" in result.stderr


def test_bad_option_values_are_usage_errors(import_shop: Cli, samples: Path) -> None:
    for args in (["--batch-size", "0"], ["--batch-size", "x"], ["--on-error", "ignore"],
                 ["--format", "xml"]):  # fmt: skip
        result = run(import_shop, str(samples / "orders.csv"), *args)
        assert result.exit_code == 2, (args, result.stderr)


# ---- the statements per batch do not grow with the batch size ----


def test_statements_per_batch_do_not_grow_with_batch_size(
    import_shop: Cli, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderctl.repositories.orders import _bulk, _write_behind

    per_batch_counts: list[int] = []

    class Counting(_bulk.OrderBatchWriter):
        """Records the statements each batch took (a batch ends with `add_orders`)."""

        def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
            super().__init__(session)
            self.mark = 0

        def add_orders(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            lost = super().add_orders(*args, **kwargs)
            per_batch_counts.append(self.statements - self.mark)
            self.mark = self.statements
            return lost

    monkeypatch.setattr(_write_behind, "OrderBatchWriter", Counting)

    def per_batch(prefix: str, batch: int, orders: int = 120) -> int:
        buf = io.StringIO()
        buf.write(HEADER)
        for n in range(orders):
            # each order: a new customer and two lines
            buf.write(f"{prefix}{n},c{prefix}{n}@b.co,,,,,,MUG-01,1,\n")
            buf.write(f"{prefix}{n},c{prefix}{n}@b.co,,,,,,CAP-01,1,\n")
        result = run(
            import_shop,
            write(tmp_path, f"{prefix}.csv", buf.getvalue()),
            "--batch-size",
            str(batch),
        )
        assert result.exit_code == 0, result.stderr
        assert len(per_batch_counts) == orders // batch
        worst = max(per_batch_counts)
        per_batch_counts.clear()
        return worst

    # each batch: refs, catalog (only for SKUs not seen yet), customers look-up and insert,
    # ids, orders, items, events, and on PostgreSQL the savepoint that lets a batch lose refs
    # to a concurrent writer and its release — the same count for 10 orders or 60.
    small, large = per_batch("S", 10), per_batch("L", 60)
    assert small == large
    assert large <= 11


@pytest.mark.pgbouncer
def test_many_orders_in_small_batches(import_shop: Cli, database: Database, tmp_path: Path) -> None:
    body = HEADER + "".join(
        f"M-{n},c{n % 7}@b.co,,,,,,{sku},{n % 5 + 1},\n"
        for n in range(250)
        for sku in ("MUG-01", "TEE-M")
    )
    result = run(import_shop, write(tmp_path, "m.csv", body), "--batch-size", "17", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert counts(database) == (250, 500, 250, 7)
    with UnitOfWork(database, write=False) as u:
        totals = u.session.execute(
            select(Order.id, Order.total, func.sum(OrderItem.line_total))
            .join(OrderItem, OrderItem.order_id == Order.id)
            .group_by(Order.id, Order.total)
        ).all()
    assert all(total == lines for _, total, lines in totals)
