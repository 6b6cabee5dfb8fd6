"""New input with control characters is refused on every face (DESIGN.md §12, docs/output.md).

SKUs, names, emails, usernames, token names and refs take none (exit 6 / 422, naming the field);
notes and reasons take newline and tab only. Each refusal is one `error:` line and leaves the
database exactly as it was.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import PASSWORD, Api, Cli, database_snapshot, one_error
from orderctl.enums import Role
from orderctl.models import Order, Product
from orderctl.parsing import free_text, single_line
from orderctl.services.uow import UnitOfWork

#: One of each kind the rule names: C0 (ESC, CR), DEL, C1 (CSI), bidi override and isolate,
#: direction marks, the Arabic letter mark, the line separator.
CONTROLS = ["\x1b", "\r", "\x7f", "\x9b", "\u202e", "\u2066", "\u200f", "\u061c", "\u2028"]


@pytest.fixture
def shop(cli: Cli) -> Cli:
    cli.token(Role.ADMIN)
    with UnitOfWork(cli.database) as u:
        u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50"), stock=5))
        u.commit()
    ok = cli("orders", "create", "--customer", "ana@example.com", "--item", "MUG-01:1")
    assert ok.exit_code == 0, ok.stderr
    return cli


def cli_cases(c: str) -> list[tuple[list[str], str, str | None]]:
    """(arguments, the field the error names, stdin) for each command taking new text.

    The character sits inside the value: surrounding whitespace (a trailing newline or CR
    included) is trimmed from names, SKUs and refs before they are checked."""
    return [
        (["products", "add", f"NEW{c}1", "--name", "n", "--price", "1"], "sku", None),
        (["products", "add", "NEW-1", "--name", f"a{c}b", "--price", "1"], "name", None),
        (["products", "update", "MUG-01", "--name", f"a{c}b"], "name", None),
        (["customers", "add", f"x{c}y@example.com"], "email", None),
        (["customers", "add", "x@example.com", "--name", f"a{c}b"], "name", None),
        (["users", "create", f"e{c}ve", "--role", "viewer", "--password-stdin"], "username",
         PASSWORD + "\n"),
        (["auth", "token", "create", "--name", f"c{c}i"], "name", None),
        (["orders", "create", "--customer", f"b{c}@x.io", "--item", "MUG-01:1"], "customer_email",
         None),
        (["orders", "create", "--customer", "b@x.io", "--item", f"MUG{c}01:1"], "items.0.sku",
         None),
        (["orders", "create", "--customer", "b@x.io", "--item", "MUG-01:1", "--external-ref",
          f"R{c}1"], "external_ref", None),
        (["orders", "create", "--customer", "b@x.io", "--item", "MUG-01:1", "--notes", f"n{c}"],
         "notes", None),
        (["orders", "create", "--from-file", "-"], "customer_name",
         json.dumps({"customer_email": "b@x.io", "customer_name": f"B{c}b",
                     "items": [{"sku": "MUG-01", "quantity": 1}]})),
        (["orders", "set-status", "1", "paid", "--reason", f"r{c}"], "reason", None),
    ]  # fmt: skip


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_cli_refuses_control_characters_in_new_text(shop: Cli, char: str) -> None:
    before = database_snapshot(shop.database)
    for args, field, stdin in cli_cases(char):
        result = shop(*args, input=stdin)
        # Usernames have their own pattern (letters, digits, . @ + - _); its message names it.
        needle = f"{field}: " if field == "username" else f"{field}: must not contain control"
        one_error(result, 6, needle)
        assert result.stdout == "", args
        assert database_snapshot(shop.database) == before, args


def test_notes_and_reasons_keep_newline_and_tab(shop: Cli) -> None:
    made = shop(
        "orders", "create", "--customer", "c@x.io", "--item", "MUG-01:1",
        "--notes", "line one\n\tline two", "-o", "json",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["notes"] == "line one\n\tline two"
    changed = shop("orders", "set-status", "2", "paid", "--reason", "a\nb\tc")
    assert changed.exit_code == 0, changed.stderr
    events = json.loads(shop("orders", "history", "2", "-o", "json").stdout)
    assert events[-1]["reason"] == "a\nb\tc"
    for name in ("tab\tname", "new\nline"):
        one_error(shop("customers", "add", "t@x.io", "--name", name), 6, "name: must not contain")


HEADER = "external_ref,customer_email,customer_name,notes,sku,quantity\n"


@pytest.mark.parametrize("mode", ["abort", "skip"])
def test_imports_refuse_control_characters(shop: Cli, tmp_path: Path, mode: str) -> None:
    csv_file = tmp_path / "o.csv"
    csv_file.write_text(
        HEADER
        + "R-1,a@x.io,Ann,,MUG-01,1\n"
        + 'R-2,b@x.io,"B\x1b[2Jb",,MUG-01,1\n'
        + 'R-3,c@x.io,C,"note \u202e",MUG-01,1\n'
        + 'R-4,d@x.io,D,"two\nlines\tok",MUG-01,1\n',
        encoding="utf-8",
        newline="",
    )
    jsonl_file = tmp_path / "o.jsonl"
    docs = [
        {"external_ref": ref, "customer_email": "a@x.io", "items": [{"sku": sku, "quantity": 1}]}
        for ref, sku in (("J-1", "MUG-01"), ("J\x1b2", "MUG-01"), ("J-3", "MUG\u20281"))
    ]
    jsonl_file.write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    before = database_snapshot(shop.database)
    for path, first_bad in ((csv_file, "line 3: customer_name: must not contain"),
                            (jsonl_file, "line 2: external_ref: must not contain")):  # fmt: skip
        result = shop("import", "orders", str(path), "--on-error", mode, "-o", "json")
        assert result.exit_code == 6, result.stderr
        assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
        if mode == "abort":
            one_error(result, 6, first_bad)
            assert database_snapshot(shop.database) == before
        else:
            assert first_bad in result.stderr
            assert json.loads(result.stdout)["rejected"] == 2
    if mode == "skip":
        with UnitOfWork(shop.database, write=False) as u:
            refs = set(u.session.scalars(select(Order.external_ref)))
        assert refs >= {"R-1", "R-4", "J-1"} and not refs & {"R-2", "R-3", "J\x1b2", "J-3"}


def test_products_import_refuses_control_characters(shop: Cli) -> None:
    before = database_snapshot(shop.database)
    for row, field in (('"A\x1bB",Name,1,\n', "sku"), ('B,"Na\u202eme",1,\n', "name"),
                       ('C,"two\nlines",1,\n', "name")):  # fmt: skip
        result = shop("products", "import", "-", input="sku,name,unit_price,stock\n" + row)
        one_error(result, 6, f"<stdin> line 2: {field}: must not contain")
        assert database_snapshot(shop.database) == before


def test_api_refuses_control_characters(api: Api) -> None:
    api.post("/api/products", json={"sku": "MUG-01", "name": "Mug", "unit_price": "1"})
    order = api.post("/api/orders", json={"customer_email": "a@x.io",
                                          "items": [{"sku": "MUG-01", "quantity": 1}]})  # fmt: skip
    assert order.status_code == 201, order.text
    before = database_snapshot(api.database)
    item = [{"sku": "MUG-01", "quantity": 1}]
    cases = [
        ("POST", "/api/products", {"sku": "X\x1b", "name": "n", "unit_price": "1"}, "sku"),
        ("POST", "/api/products", {"sku": "X", "name": "n\u202e", "unit_price": "1"}, "name"),
        ("PATCH", "/api/products/MUG-01", {"name": "n\x9b"}, "name"),
        ("POST", "/api/customers", {"email": "a\x1b@x.io"}, "email"),
        ("POST", "/api/customers", {"email": "n@x.io", "name": "a\nb"}, "name"),
        ("POST", "/api/orders", {"customer_email": "a@x.io", "items": item, "notes": "\x1b[2J"},
         "notes"),
        ("POST", "/api/orders", {"customer_email": "a@x.io", "items": item,
                                 "external_ref": "R\u2066"}, "external_ref"),
        ("POST", "/api/orders/1/status", {"status": "paid", "reason": "r\x07"}, "reason"),
        ("POST", "/api/users", {"username": "eve\x1b", "role": "viewer", "password": PASSWORD},
         "username"),
        ("POST", "/api/auth/tokens", {"name": "ci\x1b"}, "name"),
    ]  # fmt: skip
    for method, path, body, field in cases:
        r = api.request(method, path, json=body)
        assert r.status_code == 422, (path, body, r.text)
        assert field in r.json()["detail"], (path, r.text)
        assert database_snapshot(api.database) == before, (path, body)


def test_the_rules_themselves() -> None:
    for char in [*CONTROLS, "\x00", "\n", "\t", "\x85", "\ud800"]:
        with pytest.raises(ValueError, match="must not contain"):
            single_line(f"a{char}b")
    for char in [*CONTROLS, "\x00", "\x85", "\ud800"]:
        with pytest.raises(ValueError, match="must not contain"):
            free_text(f"a{char}b")
    assert free_text("a\nb\tc") == "a\nb\tc"
    for fine in ("Zoë 🍵 עברית مرحبا", "[bold]x[/]", "a\\x1b", "O'Brien; DROP TABLE"):
        assert single_line(fine) == fine and free_text(fine) == fine
    with pytest.raises(ValueError, match=r"U\+001B at position 2"):
        single_line("a\x1bb")
