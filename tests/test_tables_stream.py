"""Table output streams (DESIGN.md §12): `orders list --all` in table form, on a terminal and in
a pipe, holds about as much memory as `-o jsonl` and prints its first line before the end."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import Cli, import_orders, run_in_pipe, write_file
from orderctl.cli.render import render_list
from orderctl.cli.tables import SAMPLE
from orderctl.enums import OutputFormat, Role

#: Enough orders that holding them (as the old Rich table did, ~3 KiB each) costs far more
#: than the slack below, and that their output overfills a pipe's buffer many times.
ORDERS = 20_000
#: What the table form may use beyond `-o jsonl`: Rich's cell-width code and a sample of rows.
SLACK_KB = 12 * 1024


@pytest.fixture
def many(import_shop: Cli, tmp_path: Path) -> Cli:
    lines = [
        "external_ref,customer_email,customer_name,status,currency,created_at,notes,sku,"
        "quantity,unit_price"
    ]
    lines += [
        f"BULK-{n:06d},c{n % 500}@example.com,Customer {n % 500},paid,EUR,"
        f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}T10:00:00Z,,CAP-01,1,"
        for n in range(ORDERS)
    ]
    result = import_orders(import_shop, write_file(tmp_path, "bulk.csv", "\n".join(lines) + "\n"))
    assert result.exit_code == 0, result.stderr
    return import_shop


def test_all_in_table_form_streams_like_jsonl(many: Cli) -> None:
    env = many.subprocess_env(Role.VIEWER)
    jsonl = run_in_pipe(["orders", "list", "--all", "-o", "jsonl"], env=env)
    piped = run_in_pipe(["orders", "list", "--all"], env=env)
    assert (jsonl.exit_code, piped.exit_code) == (0, 0), piped.stderr
    assert (jsonl.lines, piped.lines) == (ORDERS, ORDERS + 1)
    # The first line was read while the process still had most of its output to write (a
    # pipe's buffer holds a few hundred lines): written as it comes, not at the end.
    assert piped.running_after_first_line
    assert piped.first_line.startswith("ID\tREF\tSTATUS")
    assert piped.peak_kb <= jsonl.peak_kb + SLACK_KB, (piped, jsonl)

    terminal = many.on_terminal(
        "orders", "list", "--all", role=Role.VIEWER, columns=80, measure=True
    )
    assert terminal.exit_code == 0
    assert terminal.output.count("\n") == ORDERS + 1
    assert terminal.peak_kb <= jsonl.peak_kb + SLACK_KB, (terminal.peak_kb, jsonl)


class _Screen:
    """A stdout that notes how many records had been read when each line was written."""

    def __init__(self, tty: bool, read: list[int]) -> None:
        self.tty = tty
        self.read = read
        self.written_after: list[int] = []

    def write(self, text: str) -> int:
        self.written_after += [self.read[0]] * text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(("tty", "held"), [(False, 1), (True, SAMPLE)])
def test_rows_are_written_as_they_are_read(
    monkeypatch: pytest.MonkeyPatch, tty: bool, held: int
) -> None:
    """A pipe writes each record as it comes; a terminal holds one sample to size its columns,
    then does the same: never all the records."""
    read = [0]

    def records() -> Iterator[dict[str, Any]]:
        for n in range(1, 1000):
            read[0] = n
            yield {"id": n, "status": "paid", "created_at": "2026-11-30T14:05:00Z"}

    screen = _Screen(tty, read)
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setenv("COLUMNS", "80")
    columns = [("ID", "id"), ("STATUS", "status"), ("CREATED", "created_at")]
    assert render_list(records(), OutputFormat.TABLE, columns) == 999
    header, first, *rest = screen.written_after
    assert (header, first) == (held, held)
    assert rest[-1] == 999 and rest[held] == held + 2  # after the sample: one read, one line
