"""`import orders --dry-run` (DESIGN.md §7): the same summary and rejects as a real run, and
not one stored value changed, in skip mode and in abort mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers import ORDER_CSV_HEADER as HEADER
from helpers import ORDER_CSV_ROW as ROW
from helpers import Cli, seed_products
from helpers import database_snapshot as table_contents
from helpers import import_orders as run
from helpers import write_file as write
from orderctl.db import Database
from orderctl.enums import Role

#: What differs between two runs of the same import whatever they did.
TIMING = ("dry_run", "seconds", "lines_per_second")

SKIP_FILE = (
    HEADER
    + ROW.replace("W-1", "OLD-1")  # already in the database: skipped
    + ROW.replace("W-1", "NEW-1")
    + ROW.replace("W-1", "NEW-1").replace("MUG-01", "CAP-01")
    + ROW.replace("W-1", "BAD-1").replace(",2,", ",0,")  # quantity 0
    + ROW.replace("W-1", "NEW-2").replace("a@b.co", "first.time@example.com")
    + ROW.replace("W-1", "BAD-2").replace("MUG-01", "NOPE")  # unknown SKU
    + ROW.replace("W-1", "BAD-2")
    + ROW.replace("W-1", "NEW-3").replace(",paid,", ",cancelled,")
)


def _summary(stdout: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout)
    return summary


def _without_timing(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key not in TIMING}


def _shop(cli: Cli, database: Database, samples: Path, tmp_path: Path) -> None:
    """The sample catalog and one order already imported (OLD-1), so a skip is counted."""
    seed_products(database, samples)
    done = run(cli, write(tmp_path, "old.csv", HEADER + ROW.replace("W-1", "OLD-1")))
    assert done.exit_code == 0, done.stderr
    cli.token(Role.OPERATOR)


def test_skip_mode_dry_run_counts_and_rejects_as_a_real_run_and_writes_nothing(
    cli: Cli, database: Database, samples: Path, tmp_path: Path
) -> None:
    _shop(cli, database, samples, tmp_path)
    source = write(tmp_path, "orders.csv", SKIP_FILE)
    before = table_contents(database)

    dry_rejects = tmp_path / "dry-rejects.csv"
    dry = run(cli, source, "--dry-run", "--on-error", "skip", "--batch-size", "2",
              "--rejects", str(dry_rejects), "-o", "json")  # fmt: skip
    assert dry.exit_code == 6, dry.stderr  # rejects make exit 6, in a dry run too
    assert "Traceback" not in dry.stderr
    dry_summary = _summary(dry.stdout)
    assert dry_summary["dry_run"] is True
    assert table_contents(database) == before

    real_rejects = tmp_path / "real-rejects.csv"
    real = run(cli, source, "--on-error", "skip", "--batch-size", "2",
               "--rejects", str(real_rejects), "-o", "json")  # fmt: skip
    assert real.exit_code == 6, real.stderr
    real_summary = _summary(real.stdout)
    counted = {"imported": 3, "imported_lines": 4, "skipped": 1, "skipped_lines": 1}
    counted |= {"rejected": 2, "rejected_lines": 3}
    assert _without_timing(dry_summary) == _without_timing(real_summary) == counted
    # The dry run's rejects file is the one the real run writes: the orders it would refuse.
    assert dry_rejects.read_bytes() == real_rejects.read_bytes()
    assert dry_rejects.read_text().count("BAD-") == 3
    assert table_contents(database) != before  # the file was worth importing


def test_skip_mode_dry_run_table_summary_says_nothing_was_written(
    cli: Cli, database: Database, samples: Path, tmp_path: Path
) -> None:
    _shop(cli, database, samples, tmp_path)
    before = table_contents(database)
    dry = run(cli, write(tmp_path, "o.csv", SKIP_FILE), "--dry-run", "--on-error", "skip")
    assert dry.exit_code == 6, dry.stderr
    assert "dry run: nothing written" in dry.stderr and "would import" in dry.stderr
    assert dry.stderr.strip().splitlines()[-1] == "error: 2 order(s) (3 line(s)) rejected"
    assert dry.stdout == ""
    assert table_contents(database) == before


def _jsonl(*orders: tuple[str, str, int]) -> str:
    return "".join(
        json.dumps(
            {
                "external_ref": ref,
                # OLD-1 repeats the stored order exactly (skipped); other content would conflict
                "customer_email": "a@b.co" if ref == "OLD-1" else "jo@example.com",
                "status": "shipped",
                "items": [{"sku": sku, "quantity": quantity}],
            }
        )
        + "\n"
        for ref, sku, quantity in orders
    )


def test_abort_mode_dry_run_counts_as_a_real_run_and_writes_nothing(
    cli: Cli, database: Database, samples: Path, tmp_path: Path
) -> None:
    _shop(cli, database, samples, tmp_path)
    valid = write(
        tmp_path,
        "valid.jsonl",
        _jsonl(("OLD-1", "MUG-01", 2), ("J-1", "MUG-01", 1), ("J-2", "TEE-M", 3)),
    )
    invalid = write(
        tmp_path,
        "invalid.jsonl",
        _jsonl(("J-3", "MUG-01", 1), ("J-4", "MUG-01", 0), ("J-5", "CAP-01", 1)),
    )
    before = table_contents(database)

    refused = run(cli, invalid, "--dry-run", "--on-error", "abort")
    assert refused.exit_code == 6, refused.stderr
    last_line = refused.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: line 2: items.0.quantity"), refused.stderr
    assert table_contents(database) == before

    dry = run(cli, valid, "--dry-run", "-o", "json")  # abort is the default
    assert dry.exit_code == 0, dry.stderr
    assert _summary(dry.stdout)["dry_run"] is True
    assert table_contents(database) == before

    real = run(cli, valid, "-o", "json")
    assert real.exit_code == 0, real.stderr
    assert _without_timing(_summary(dry.stdout)) == _without_timing(_summary(real.stdout))
    assert (_summary(real.stdout)["imported"], _summary(real.stdout)["skipped"]) == (2, 1)
    assert table_contents(database) != before
