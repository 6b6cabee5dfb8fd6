"""`-o csv` prints its header line also when there are no rows (§12), the same header as with
rows, on every list command."""

from __future__ import annotations

import csv
import io

from helpers import Cli
from orderctl.cli.render import _csv_header
from orderctl.schemas import OrderRead
from orderctl.services.order_listing import DOCUMENT_FIELDS

# Each list command that can come back empty, run the same way before and after data exists.
LISTS = [
    ("orders", "list"),
    ("orders", "list", "--all"),
    ("orders", "list", "--status", "refunded"),
    ("products", "list"),
    ("products", "list", "--all"),
    ("customers", "list"),
    ("customers", "list", "--all"),
    ("products", "history", "MUG-01"),
]


def header(cli: Cli, *args: str) -> tuple[list[str], int]:
    """The CSV header of `orderctl ARGS -o csv` and its number of data rows."""
    result = cli(*args, "-o", "csv")
    assert result.exit_code == 0, (args, result.stderr)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows, f"{args}: no header line"
    return rows[0], len(rows) - 1


def test_empty_lists_print_the_header_they_print_with_rows(cli: Cli) -> None:
    assert cli("products", "add", "MUG-01", "--name", "Mug", "--price", "12.50").exit_code == 0
    empty = {args: header(cli, *args) for args in LISTS[:3] + LISTS[5:]}
    # products list: one product, untracked stock, so its history stays empty
    assert all(n == 0 for args, (_, n) in empty.items() if args[0] != "products"), empty

    assert cli("products", "update", "MUG-01", "--stock", "5").exit_code == 0
    created = cli("orders", "create", "--customer", "ana@example.com", "--item", "MUG-01:2")
    assert created.exit_code == 0, created.stderr
    for args in LISTS:
        if args[-1] == "refunded":
            continue
        full, count = header(cli, *args)
        assert count >= 1, args
        if args in empty:
            assert empty[args][0] == full, args
    assert empty[("orders", "list")][0] == list(DOCUMENT_FIELDS)


def test_lists_that_are_never_empty_name_the_same_header(cli: Cli) -> None:
    """users and tokens always hold the one running the command: their header comes from the
    rows, and the declared fields must agree with it for the day the list is empty."""
    from orderctl.schemas import EventRead, TokenRead, UserRead

    created = cli("orders", "create", "--customer", "ana@example.com", "--item", "X:1")
    assert created.exit_code != 0  # no catalog: nothing created, nothing to list below
    assert header(cli, "users", "list")[0] == _csv_header(UserRead)
    assert header(cli, "auth", "token", "list")[0] == _csv_header(TokenRead)
    assert cli("products", "add", "MUG-01", "--name", "Mug", "--price", "1").exit_code == 0
    ok = cli("orders", "create", "--customer", "ana@example.com", "--item", "MUG-01:1")
    assert ok.exit_code == 0, ok.stderr
    assert header(cli, "orders", "history", "1")[0] == _csv_header(EventRead)


def test_the_listing_fields_are_those_of_the_order_document() -> None:
    assert list(DOCUMENT_FIELDS) == _csv_header(OrderRead)
