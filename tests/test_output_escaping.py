"""Stored text never reaches a terminal raw (DESIGN.md §12 "Control characters", docs/output.md).

The hostile values are written straight into the database, as data stored before the input rule
(or by another program) would be: every table, view and message shows them escaped, one record
per line, while JSON and CSV carry them exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import Cli
from orderctl.cli import render
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import ApiToken, Customer, Order, OrderEvent, OrderItem, Product, User
from orderctl.services.uow import UnitOfWork

#: Clears the screen, retitles the window, rings the bell, reverses the text that follows,
#: breaks the line, and carries a CSI as one C1 byte; plus markup and a literal backslash escape.
SKU = "EVIL-\x1b[2J"
NAME = "Mug \x1b]0;pwned\x07 \u202eevil\u202c\nsecond\tline \x9b31m [bold red]markup[/] \\x1b"
EMAIL = "evil\x1b[31m@example.com"
CUSTOMER = "Ana \x1b[5mblink\x1b[0m \u2066isolate\u2069 \u200fmark \x7f\x00"[:-1]  # no NUL
REF = "REF-\x1b[H\x1b[2J"
NOTES = "first line\nsecond line\x1b[8m hidden"
REASON = "paid \x1b]2;title\x07 \u061cok"
USERNAME = "mallory\x1b[1m"
TOKEN_NAME = "laptop\r\x1b[Kspoofed"
STORED = (SKU, NAME, EMAIL, CUSTOMER, REF, NOTES, REASON, USERNAME, TOKEN_NAME)
#: What must never appear on the terminal from these values (Rich's own colours are `ESC[`
#: sequences too, so a terminal is checked for the values' own sequences instead).
RAW = ("\x1b[2J", "\x1b]", "\x07", "\u202e", "\u2066", "\u200f", "\x9b", "\x7f", "\x1b[H", "\r")
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def store_hostile(database: Database) -> None:
    """One product, customer, order (with an event), user and token holding control characters."""
    with UnitOfWork(database) as u:
        product = u.products.add(Product(sku=SKU, name=NAME, unit_price=Decimal("2.50")))
        customer = u.customers.add(Customer(email=EMAIL, name=CUSTOMER))
        u.session.add(
            Order(
                external_ref=REF,
                customer=customer,
                status="paid",
                currency="EUR",
                total=Decimal("2.50"),
                notes=NOTES,
                created_at=T0,
                updated_at=T0,
                created_by="seed",
                items=[
                    OrderItem(
                        product_id=product.id,
                        sku=SKU,
                        name=NAME,
                        quantity=1,
                        unit_price=Decimal("2.50"),
                        line_total=Decimal("2.50"),
                    ),
                ],
                events=[
                    OrderEvent(at=T0, actor="seed", action="created"),
                    OrderEvent(
                        at=T0,
                        actor="seed",
                        action="status_changed",
                        from_status="pending",
                        to_status="paid",
                        reason=REASON,
                    ),
                ],
            )
        )
        user = User(username=USERNAME, password_hash="x", role="viewer", active=True)
        u.users.add(user)
        u.session.flush()
        u.session.add(ApiToken(user_id=user.id, name=TOKEN_NAME, token_hash="h", prefix="oc_x"))
        u.commit()


@pytest.fixture
def hostile(cli: Cli) -> Cli:
    cli.token(Role.ADMIN)
    store_hostile(cli.database)
    return cli


VIEWS = [
    ["products", "list"],
    ["products", "show", SKU],
    ["customers", "list"],
    ["customers", "show", EMAIL],
    ["orders", "list"],
    ["orders", "show", "1"],
    ["orders", "history", "1"],
    ["users", "list"],
    ["auth", "token", "list", "--all"],
]


def assert_clean(text: str, where: object, *, tsv: bool = False) -> None:
    """No raw control character but a newline ending a line (and no ESC at all in a pipe).

    `tsv`: a list in a pipe, whose tabs separate fields: each line has as many as the header,
    so a tab from a value would show as one too many."""
    if tsv:
        assert len({line.count("\t") for line in text.splitlines()}) == 1, (where, text)
        text = text.replace("\t", " ")
    found = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    found += [c for c in text if c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]
    found += [c for c in text if c in "\u200e\u200f\u061c\u2028\u2029"]
    assert not found, (where, found, text)


def test_every_table_and_view_in_a_pipe_shows_escapes(hostile: Cli) -> None:
    for args in VIEWS:
        result = hostile(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert_clean(result.stdout, args, tsv="show" not in args)
        assert_clean(result.stderr, args)
        assert "\\x1b" in result.stdout, (args, result.stdout)
    listing = hostile("products", "list").stdout
    row = next(line for line in listing.splitlines() if "EVIL-" in line)
    # One record, one line: the newline and tab inside the name show as \n and \t.
    assert "\\nsecond\\tline" in row and "\\u202eevil\\u202c" in row and "\\x9b31m" in row
    assert "[bold red]markup[/]" in row  # Rich markup shown as text, not interpreted
    assert "\\\\x1b" in row  # the stored backslash is doubled: not mistaken for an ESC
    show = hostile("orders", "show", "1").stdout
    assert "REF-\\x1b[H\\x1b[2J" in show and "first line\\nsecond line\\x1b[8m hidden" in show
    assert "paid \\x1b]2;title\\x07 \\u061cok" in show  # the history's reason
    users = hostile("users", "list").stdout
    assert "mallory\\x1b[1m" in users
    tokens = hostile("auth", "token", "list", "--all").stdout
    assert "laptop\\r\\x1b[Kspoofed" in tokens


def test_json_jsonl_and_csv_carry_the_exact_stored_values(hostile: Cli) -> None:
    product = json.loads(hostile("products", "show", SKU, "-o", "json").stdout)
    assert (product["sku"], product["name"]) == (SKU, NAME)
    order = json.loads(hostile("orders", "show", "1", "-o", "json").stdout)
    assert (order["external_ref"], order["notes"]) == (REF, NOTES)
    assert (order["customer"]["email"], order["customer"]["name"]) == (EMAIL, CUSTOMER)
    assert order["items"][0]["name"] == NAME
    lines = hostile("orders", "list", "--all", "-o", "jsonl").stdout.splitlines()
    assert json.loads(lines[0])["notes"] == NOTES
    events = json.loads(hostile("orders", "history", "1", "-o", "json").stdout)
    assert events[1]["reason"] == REASON
    users = json.loads(hostile("users", "list", "-o", "json").stdout)
    assert USERNAME in [u["username"] for u in users]
    rows = list(csv.DictReader(io.StringIO(hostile("products", "list", "-o", "csv").stdout)))
    assert [(r["sku"], r["name"]) for r in rows] == [(SKU, NAME)]
    rows = list(csv.DictReader(io.StringIO(hostile("customers", "list", "-o", "csv").stdout)))
    assert (rows[0]["email"], rows[0]["name"]) == (EMAIL, CUSTOMER)


def test_a_real_terminal_gets_no_sequence_from_the_data(hostile: Cli, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("what reaches the terminal does not depend on the backend")
    for args in VIEWS:
        shown = hostile.on_terminal(*args, columns=80).output  # \r\n (onlcr) made \n
        assert "\\x1b" in shown or "\\x1" in shown, (args, shown)  # the escape, maybe folded
        for raw in RAW:
            assert raw not in shown, (args, raw, shown)
        # Whatever ESC is left is Rich's own styling: SGR sequences (ESC [ digits ; m) only.
        leftover = re.sub(r"\x1b\[[0-9;]*m", "", shown)
        assert "\x1b" not in leftover, (args, leftover)


def test_error_and_warning_lines_escape_what_they_quote(hostile: Cli, tmp_path: Path) -> None:
    # A file name is echoed as given; a stored SKU is echoed by the unknown-product message.
    bad = tmp_path / "cat\x1b[2J\u202e.csv"
    bad.write_text("sku,name\n", encoding="utf-8")
    result = hostile("products", "import", str(bad))
    assert result.exit_code == 6
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "cat\\x1b[2J\\u202e.csv" in result.stderr
    assert_clean(result.stderr, "products import")
    result = hostile("orders", "set-status", "1", "shipped", "--reason", "ok\x1b[2J")
    assert result.exit_code == 6 and "error: reason: must not contain control characters" in (
        result.stderr
    )
    assert_clean(result.stderr, "set-status")


def test_render_helpers(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.printable("plain ünïcödé 🍵") == "plain ünïcödé 🍵"
    assert render.printable("a\x1bb\x00c\x7fd\x9be\u202ef\u2028g") == (
        "a\\x1bb\\x00c\\x7fd\\x9be\\u202ef\\u2028g"
    )
    assert render.printable("a\nb\tc\rd\\e") == "a\\nb\\tc\\rd\\\\e"
    render.error("bad \x1b[2J value\nsecond line")
    render.warning("careful \u202e")
    render.message("plan:\n  delete \x1b[2J 3 orders")
    err = capsys.readouterr().err
    assert err == (
        "error: bad \\x1b[2J value\\nsecond line\n"
        "warning: careful \\u202e\n"
        "plan:\n  delete \\x1b[2J 3 orders\n"
    )
