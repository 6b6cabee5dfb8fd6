"""Hostile JSON on every face that reads it (docs/output.md "JSON input"): `orders create
--from-file` (a file and stdin), JSONL import lines (abort and skip) and the API bodies.

Each document is refused cleanly: exit 6 with one `error:` line (a rejected line in skip mode),
422 over HTTP, never exit 1 or 500, and the database is exactly as before.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import Api, Cli, database_snapshot, one_error
from orderctl.enums import Role
from orderctl.models import Product
from orderctl.parsing import JSON_MAX_BYTES, InvalidJson, load_json
from orderctl.services.uow import UnitOfWork

BOM = b"\xef\xbb\xbf"
GOOD = b'{"customer_email": "a@b.io", "items": [{"sku": "MUG-01", "quantity": 1}]}'


def order(item: str = '"sku": "MUG-01", "quantity": 1', extra: str = "") -> bytes:
    return ('{"customer_email": "a@b.io", "items": [{' + item + "}]" + extra + "}").encode()


#: (document, what the one error line says). All fit on one line, so each is a JSONL line too.
HOSTILE: dict[str, tuple[bytes, str]] = {
    "100,000 [": (b"[" * 100_000, "JSON nested deeper than 32 levels"),
    "50,000 objects": (b'{"a":' * 50_000, "JSON nested deeper than 32 levels"),
    "deep notes": (order(extra=', "notes": ' + "[" * 40 + "]" * 40), "nested deeper than 32"),
    "duplicate sku": (
        order('"sku": "MUG-01", "sku": "CAP-01", "quantity": 1'),
        "duplicate key 'sku'",
    ),
    "duplicate email": (
        b'{"customer_email": "a@b.io", "customer_email": "c@d.io", "items": []}',
        "duplicate key 'customer_email'",
    ),
    "not UTF-8": (
        order(extra=', "notes": "caf\xe9"').replace(b"\xc3\xa9", b"\xe9"),
        "not UTF-8 text (byte 0xe9",
    ),
    "latin-1 name": (
        b'{"customer_email": "a@b.io", "customer_name": "\xff\xfe", "items": []}',
        "not UTF-8 text",
    ),
    "BOM not first": (b" " + BOM + GOOD, "not valid JSON at column 2"),
    "NaN quantity": (order('"sku": "MUG-01", "quantity": NaN'), "NaN is not a JSON value"),
    "Infinity price": (
        order('"sku": "MUG-01", "quantity": 1, "unit_price": Infinity'),
        "Infinity is not a JSON value",
    ),
    "-Infinity price": (
        order('"sku": "MUG-01", "quantity": 1, "unit_price": -Infinity'),
        "-Infinity is not a JSON value",
    ),
    "1e999 quantity": (order('"sku": "MUG-01", "quantity": 1e999'), "the number 1e999 is too"),
    "1e999 price": (
        order('"sku": "MUG-01", "quantity": 1, "unit_price": 1e999'),
        "the number 1e999 is too large",
    ),
    "1e999999999 quantity": (order('"sku": "MUG-01", "quantity": 1e999999999'), "is too large"),
    "5,000 digits": (
        order('"sku": "MUG-01", "quantity": ' + "9" * 5000),
        "a number has more than 4300 digits",
    ),
    "lone surrogate": (
        order(extra=', "customer_name": "\\ud800"'),
        "customer_name: ",  # pydantic refuses a lone surrogate itself
    ),
    "escaped ESC in sku": (
        order('"sku": "MUG\\u001b[2J", "quantity": 1'),
        "items.0.sku: must not contain control characters",
    ),
    "truncated": (GOOD[:-3], "not valid JSON at column"),
}
#: Over the limit: a 50 MB document (a valid order padded with spaces, so only its size is wrong).
HUGE = GOOD + b" " * (50 * 1024 * 1024)


def with_ref(body: bytes, n: int) -> bytes:
    """`body` as an import line: with an `external_ref` when it is an object."""
    return body.replace(b"{", b'{"external_ref": "H-%d", ' % n, 1) if body[:1] == b"{" else body


@pytest.fixture
def shop(cli: Cli) -> Cli:
    cli.token(Role.OPERATOR)
    with UnitOfWork(cli.database) as u:
        u.products.add(Product(sku="MUG-01", name="Mug", unit_price=Decimal("12.50"), stock=5))
        u.products.add(Product(sku="CAP-01", name="Cap", unit_price=Decimal("9.99")))
        u.commit()
    return cli


def test_from_file_and_stdin_refuse_hostile_documents(shop: Cli, tmp_path: Path) -> None:
    before = database_snapshot(shop.database)
    path = tmp_path / "order.json"
    cases = [*HOSTILE.items(), ("50 MB", (HUGE, "larger than 1048576 bytes (1 MiB)"))]
    for name, (body, needle) in cases:
        path.write_bytes(body)
        for source, stdin in ((str(path), None), ("-", body)):
            result = shop(
                "orders", "create", "--from-file", source, input=stdin, role=Role.OPERATOR
            )
            where = "stdin" if source == "-" else str(path)
            one_error(result, 6, f"error: {where}: ")
            assert needle in result.stderr, (name, result.stderr)
            assert result.stdout == "", name
    assert database_snapshot(shop.database) == before


def test_from_file_size_limit_is_exact_and_a_leading_bom_is_fine(shop: Cli) -> None:
    at_limit = GOOD + b" " * (JSON_MAX_BYTES - len(GOOD))
    result = shop("orders", "create", "--from-file", "-", input=at_limit, role=Role.OPERATOR)
    assert result.exit_code == 0, result.stderr
    before = database_snapshot(shop.database)
    result = shop("orders", "create", "--from-file", "-", input=at_limit + b" ", role=Role.OPERATOR)
    one_error(result, 6, "stdin: larger than 1048576 bytes")
    assert database_snapshot(shop.database) == before
    result = shop("orders", "create", "--from-file", "-", input=BOM + GOOD, role=Role.OPERATOR)
    assert result.exit_code == 0, result.stderr  # RFC 8259 lets a parser ignore a leading BOM


def test_jsonl_import_abort_stops_at_the_hostile_line(shop: Cli, tmp_path: Path) -> None:
    good = b'{"external_ref": "G-1", ' + GOOD[1:]
    before = database_snapshot(shop.database)
    path = tmp_path / "orders.jsonl"
    for name, (body, needle) in [*HOSTILE.items(), ("50 MB", (HUGE, "longer than 1048576"))]:
        path.write_bytes(good + b"\n" + with_ref(body, 1) + b"\n")
        result = shop("import", "orders", str(path), role=Role.OPERATOR)
        one_error(result, 6, "error: line 2: ")
        assert needle in result.stderr, (name, result.stderr)
        assert database_snapshot(shop.database) == before, name


def test_jsonl_import_skip_rejects_each_hostile_line(shop: Cli, tmp_path: Path) -> None:
    bodies = [with_ref(body, n) for n, (body, _) in enumerate(HOSTILE.values())]
    lines = [
        b'{"external_ref": "G-1", ' + GOOD[1:],
        *bodies,
        HUGE,
        b'{"external_ref": "G-2", ' + GOOD[1:],
    ]
    path = tmp_path / "orders.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rejects = tmp_path / "rejects.jsonl"
    result = shop(
        "import", "orders", str(path), "--on-error", "skip", "--rejects", str(rejects),
        "-o", "json", role=Role.OPERATOR,
    )  # fmt: skip
    assert result.exit_code == 6, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"]) == (2, len(HOSTILE) + 1)
    # Bytes that were not UTF-8 go back to the rejects file as they were (docs/import.md).
    text = rejects.read_bytes().decode("utf-8", errors="surrogateescape")
    written = [json.loads(line) for line in text.split("\n") if line]
    assert len(written) == len(HOSTILE) + 1
    assert all(doc["error"].startswith("line ") for doc in written)
    assert "longer than 1048576 bytes" in written[-1]["error"]
    assert len(written[-1]["line"]) <= 1024  # the 50 MB line is not copied, nor held


API_CASES = {name: body for name, (body, _) in HOSTILE.items()}


def test_api_bodies_answer_422(api: Api) -> None:
    api.post("/api/products", json={"sku": "MUG-01", "name": "Mug", "unit_price": "1"})
    before = database_snapshot(api.database)
    headers = {"Content-Type": "application/json"}
    for name, body in API_CASES.items():
        for path in ("/api/orders", "/api/products", "/api/customers"):
            r = api.post(path, content=body, headers=headers, role=Role.ADMIN)
            assert r.status_code == 422, (name, path, r.status_code, r.text)
            assert r.json()["detail"].startswith("body"), (name, r.text)
        assert database_snapshot(api.database) == before, name
    r = api.post("/api/orders", content=HUGE, headers=headers)
    assert r.status_code == 413
    r = api.post("/api/orders", content=BOM + GOOD, headers=headers)
    assert r.status_code == 201, r.text
    dup = b'{"sku": "A", "sku": "B", "name": "n", "unit_price": "1"}'
    r = api.post("/api/products", content=dup, headers=headers)
    assert r.status_code == 422 and "duplicate key 'sku'" in r.json()["detail"]


def test_every_api_router_parses_bodies_strictly() -> None:
    from orderctl.api.jsonbody import JsonRoute
    from orderctl.api.routers import auth, customers, health, orders, products, users

    modules = (auth, customers, health, orders, products, users)
    for module in modules:
        assert module.router.route_class is JsonRoute, module.__name__
        assert all(isinstance(route, JsonRoute) for route in module.router.routes), module


def test_load_json() -> None:
    assert load_json(b'{"a": 1.50, "b": [1, {"c": null}]}') == {
        "a": Decimal("1.50"),
        "b": [1, {"c": None}],
    }
    assert load_json(BOM + b"[]") == []
    depth_32 = b"[" * 32 + b"]" * 32
    assert load_json(depth_32) == load_json(depth_32)  # the limit itself is allowed
    for body, needle in HOSTILE.values():
        if needle.endswith(": ") or "must not contain" in needle:
            continue  # valid JSON: the schema refuses it
        with pytest.raises(InvalidJson, match=needle.split("(")[0].split("'")[0]):
            load_json(body)
    with pytest.raises(InvalidJson, match="nested deeper"):
        load_json(b"[" * 33 + b"]" * 33)
    # Brackets inside strings are text, not nesting.
    assert load_json(b'{"notes": "' + b"[{" * 100 + b'"}') == {"notes": "[{" * 100}
