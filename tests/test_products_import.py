"""`orderctl products import FILE.csv`: upsert by SKU, all or nothing, on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers import Cli, database_snapshot, one_error
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.services.uow import UnitOfWork

HEADER = b"sku,name,unit_price,stock\n"


def write(tmp_path: Path, data: bytes, name: str = "catalog.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def imported(cli: Cli, path: str, **kwargs: Any) -> dict[str, Any]:
    r = cli("products", "import", path, "-o", "json", **kwargs)
    assert r.exit_code == 0, r.stderr
    summary: dict[str, Any] = json.loads(r.stdout)
    return summary


def products(cli: Cli) -> dict[str, dict[str, Any]]:
    r = cli("products", "list", "--all", "-o", "json")
    return {p["sku"]: p for p in json.loads(r.stdout)}


def test_sample_file_creates_then_is_unchanged_then_updates(
    cli: Cli, database: Database, samples: Path, tmp_path: Path
) -> None:
    sample = str(samples / "products.csv")
    summary = imported(cli, sample)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (3, 0, 0)
    assert summary["rows"] == 3
    got = products(cli)
    assert got["MUG-01"] == {
        "sku": "MUG-01",
        "name": "Stoneware mug",
        "unit_price": "12.50",
        "stock": 120,
        "active": True,
    }
    assert got["CAP-01"]["stock"] is None  # empty cell: not tracked

    summary = imported(cli, sample)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 3)

    cli("products", "update", "CAP-01", "--inactive")
    changed = write(
        tmp_path,
        HEADER + b"MUG-01,Stoneware mug,13.00,120\nCAP-01,Cap,9.99,5\nNEW-1,New,1,\n",
    )
    summary = imported(cli, changed)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (1, 2, 0)
    got = products(cli)
    assert got["MUG-01"]["unit_price"] == "13.00"
    assert got["CAP-01"] == {
        "sku": "CAP-01",
        "name": "Cap",
        "unit_price": "9.99",
        "stock": 5,
        "active": False,  # import leaves the active flag alone
    }
    with UnitOfWork(database, write=False) as u:
        assert u.products.get_one_by_sku("NEW-1").updated_by == "test-admin"

    # the table summary goes to stdout as data; an empty stock cell untracks again
    r = cli("products", "import", write(tmp_path, HEADER + b"CAP-01,Cap,9.99,\n", "u.csv"))
    assert r.exit_code == 0 and "updated" in r.stdout
    assert products(cli)["CAP-01"]["stock"] is None


def test_stdin_bom_crlf_quoting_and_column_order(cli: Cli) -> None:
    data = (
        "\ufeffname,sku,stock,unit_price\r\n"
        '"Mug, large",MUG-L,1,12.50\r\n'
        '"Two ""quoted""",TWO,,3\r\n'
        "\r\n"
        "Ünïcödé 🍵 עברית,UNI,0,0.5\r\n"
    ).encode()
    r = cli("products", "import", "-", "-o", "json", input=data)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["created"] == 3
    got = products(cli)
    assert got["MUG-L"]["name"] == "Mug, large"
    assert got["TWO"]["name"] == 'Two "quoted"'
    assert got["UNI"] == {
        "sku": "UNI",
        "name": "Ünïcödé 🍵 עברית",
        "unit_price": "0.50",
        "stock": 0,
        "active": True,
    }


def test_header_only_imports_nothing_and_empty_file_is_an_error(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    summary = imported(cli, write(tmp_path, HEADER))
    assert (summary["rows"], summary["created"]) == (0, 0)
    one_error(cli("products", "import", write(tmp_path, b"", "empty.csv")), 6, "is empty")
    one_error(cli("products", "import", "-", input=b""), 6, "<stdin> is empty")
    one_error(cli("products", "import", str(tmp_path / "missing.csv")), 2, "cannot read")
    one_error(cli("products", "import", str(tmp_path)), 2, "cannot read")
    assert database_snapshot(database)["products"] == []


BAD_FILES: list[tuple[bytes, str]] = [
    (b"sku,name,unit_price\nA,a,1\n", "line 1: missing column 'stock'"),
    (b"sku,name,unit_price,stock,colour\nA,a,1,,red\n", "line 1: unknown column 'colour'"),
    (b"sku,name,price,stock\n", "unknown column 'price'"),
    (b"sku,name,unit_price,stock,sku\n", "column 'sku' appears twice"),
    (HEADER + b"A,a,1,\nB,b,1.234,\n", "line 3: unit_price: must have at most two decimals"),
    (HEADER + b"A,a,-1,\n", "line 2: unit_price: must not be negative"),
    (HEADER + b"A,a,NaN,\n", "line 2: unit_price: 'NaN' is not a plain decimal"),
    (HEADER + b"A,a,1e3,\n", "line 2: unit_price: '1e3' is not a plain decimal"),
    (HEADER + b'A,a,"12,50",\n', "line 2: unit_price: '12,50' is not a number (use a dot"),
    (HEADER + b"A,a,10000000000,\n", "unit_price: must be at most 9999999999.99"),
    (HEADER + b"A,a,,\n", "line 2: unit_price:"),
    (HEADER + b"A,a,1,ten\n", "line 2: stock: 'ten' is not a whole number"),
    (HEADER + b"A,a,1" + b"0" * 5000 + b"x,\n", "line 2: unit_price: '1000"),
    (HEADER + b"A,a,1,1.5\n", "line 2: stock: '1.5' is not a whole number"),
    (HEADER + b"A,a,1,-4\n", "line 2: stock: Input should be greater than or equal to 0"),
    (HEADER + b",a,1,\n", "line 2: sku: String should have at least 1 character"),
    (HEADER + b"A,,1,\n", "line 2: name: String should have at least 1 character"),
    (HEADER + b"A," + b"n" * 201 + b",1,\n", "line 2: name: String should have at most 200"),
    (HEADER + b"X" * 65 + b",a,1,\n", "line 2: sku: String should have at most 64"),
    (HEADER + b"A,a,1,\nB,b,2,\nA,again,3,\n", "line 4: sku: 'A' appears again (first on line 2)"),
    (HEADER + b"A,a,1\n", "line 2: expected 4 fields, found 3"),
    (HEADER + b"A,a,1,,extra\n", "line 2: expected 4 fields, found 5"),
    (HEADER + b'A,"a,1,\n', "malformed CSV"),
    (HEADER + b"A,a\x00b,1,\n", "line 2:"),
    (HEADER + b"A,caf\xe9,1,\n", "line 2: not valid UTF-8 (byte 0xe9"),
    (HEADER + b"A,a,1,\nB," + b"x" * 1_048_576 + b",1,\n", "line 3: longer than 65536 bytes"),
    (b"\xff\xfes\x00k\x00u\x00\n", "line 1: not valid UTF-8"),
]


def test_bad_files_write_nothing(cli: Cli, database: Database, tmp_path: Path) -> None:
    imported(cli, write(tmp_path, HEADER + b"KEEP,Kept,5.00,3\n", "seed.csv"))
    before = database_snapshot(database)
    for i, (data, needle) in enumerate(BAD_FILES):
        path = write(tmp_path, data, f"bad{i}.csv")
        r = cli("products", "import", path)
        one_error(r, 6, needle)
        assert f"bad{i}.csv" in r.stderr and len(r.stderr) < 300, r.stderr
        assert database_snapshot(database) == before, needle


def test_a_bad_row_after_many_good_ones_rolls_back_every_batch(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    rows = b"".join(b"SKU-%05d,Item %d,1.00,10\n" % (i, i) for i in range(1200))
    path = write(tmp_path, HEADER + rows + b"BAD,bad,1.001,\n")
    one_error(cli("products", "import", path), 6, "line 1202: unit_price")
    assert database_snapshot(database)["products"] == []
    summary = imported(cli, write(tmp_path, HEADER + rows, "good.csv"))
    assert summary["created"] == 1200
    assert len(database_snapshot(database)["products"]) == 1200


def test_import_needs_admin(cli: Cli, database: Database, samples: Path) -> None:
    for role in (Role.OPERATOR, Role.VIEWER):
        r = cli("products", "import", str(samples / "products.csv"), role=role)
        one_error(r, 4, "needs the admin role")
    one_error(cli("products", "import", str(samples / "products.csv"), role=None), 3, "login")
    assert database_snapshot(database)["products"] == []
