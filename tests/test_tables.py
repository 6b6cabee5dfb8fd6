"""Tables that fit a terminal, pipes that parse (DESIGN.md §12, docs/output.md).

On a real pseudo-terminal: no line wider than the terminal, one line per record, the important
columns kept; in a pipe (CliRunner's stdout, or a real pipe): tab-separated, a header line, full
values, ISO times; colours as `--color`, NO_COLOR and CLICOLOR_FORCE say.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import ANSI, TIMESTAMP, Cli, PipeRun, import_orders, run_in_pipe, write_file
from orderctl.cli.tables import Column, compact_time, cut, fit
from orderctl.enums import Role

LONG_EMAIL = "mateo.44.with-a-rather-long-mailbox-name@example-company-mail.com"
SGR = re.compile(r"\x1b\[[0-9;]*m")

#: (command, headers a person must see at 80 columns)
LISTS = [
    (["orders", "list"], ["ID", "STATUS", "CUSTOMER", "TOTAL", "CREATED"]),
    (["auth", "token", "list", "--all"], ["ID", "NAME", "USER", "STATE"]),
    (["users", "list"], ["ID", "USERNAME", "ROLE", "ACTIVE"]),
    (["products", "list"], ["SKU", "NAME", "PRICE", "STOCK"]),
    (["customers", "list"], ["ID", "EMAIL", "NAME"]),
    (["products", "history", "MUG-01"], ["AT", "REASON", "QUANTITY", "STOCK"]),
    (["orders", "history", "1"], ["AT", "ACTION", "TO"]),
]


@pytest.fixture
def listed(import_shop: Cli, tmp_path: Path) -> Cli:
    """Sample orders, one of a customer whose email is longer than a terminal can show, their
    history, and tokens of several users."""
    rows = (
        "external_ref,customer_email,customer_name,status,currency,created_at,notes,sku,"
        "quantity,unit_price\n"
        f"WEB-2001,{LONG_EMAIL},Mateo Álvarez-Fernández de la Cruz,paid,EUR,"
        "2026-11-03T10:00:00Z,,MUG-01,1,\n"
    )
    samples = Path(__file__).parent / "samples" / "orders.csv"
    assert import_orders(import_shop, str(samples)).exit_code == 0
    assert import_orders(import_shop, write_file(tmp_path, "long.csv", rows)).exit_code == 0
    assert (
        import_shop("orders", "set-status", "1", "shipped", "--reason", "DHL 00340434").exit_code
        == 0
    )
    import_shop.token(Role.VIEWER)
    for name in ("laptop", "nightly-backup-cron-on-the-warehouse-server"):
        assert import_shop("auth", "token", "create", "--name", name).exit_code == 0
    return import_shop


def _records(cli: Cli, args: list[str]) -> int:
    result = cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return len(json.loads(result.stdout))


def _shown_lines(output: str) -> list[str]:
    return [SGR.sub("", line) for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize(("args", "important"), LISTS, ids=[" ".join(a) for a, _ in LISTS])
def test_every_list_fits_the_terminal_one_line_per_record(
    listed: Cli, backend: str, columns: int, args: list[str], important: list[str]
) -> None:
    if columns == 200 and backend != "sqlite":
        pytest.skip("the layout does not depend on the backend; 80 columns runs on both")
    run = listed.on_terminal(*args, columns=columns)
    assert run.exit_code == 0, run.output
    lines = _shown_lines(run.output)
    assert max(len(line) for line in lines) <= columns, run.output
    header, *records = lines
    assert len(records) == _records(listed, args), run.output
    assert all(name in header.split("  ") or name in header for name in important), header
    assert ANSI in run.raw.decode()  # coloured (the header is bold)


def test_the_least_important_columns_go_first_then_cells_are_cut(listed: Cli) -> None:
    narrow = _shown_lines(listed.on_terminal("orders", "list", columns=80).output)
    # ITEMS (rank 7) and CUR (rank 8) made room; the long email is cut, not wrapped.
    assert narrow[0].split() == ["ID", "REF", "STATUS", "CUSTOMER", "TOTAL", "CREATED"], narrow[0]
    row = next(line for line in narrow if "mateo.44" in line)
    assert LONG_EMAIL not in row and re.search(r"mateo\.44\.with-a-rather-[a-z-]+… ", row), row
    assert "2026-11-03 10:00" in row  # compact UTC time, never cut
    wide = _shown_lines(listed.on_terminal("orders", "list", columns=200).output)
    assert wide[0].split() == [
        "ID", "REF", "STATUS", "CUSTOMER", "ITEMS", "TOTAL", "CUR", "CREATED"
    ]  # fmt: skip
    assert max(len(line) for line in wide) <= 200


def test_wide_shows_every_column_with_full_values(listed: Cli) -> None:
    run = listed.on_terminal("orders", "list", "-o", "wide", columns=80)
    lines = _shown_lines(run.output)
    assert lines[0].split() == [
        "ID",
        "REF",
        "STATUS",
        "CUSTOMER",
        "ITEMS",
        "TOTAL",
        "CUR",
        "CREATED",
    ]
    row = next(line for line in lines if "mateo.44" in line)
    assert LONG_EMAIL in row and "2026-11-03T10:00:00Z" in row and len(row) > 80
    assert len(lines) == 1 + _records(listed, ["orders", "list"])


def test_order_show_fits_80_columns(listed: Cli) -> None:
    run = listed.on_terminal("orders", "show", "4", columns=80)
    lines = _shown_lines(run.output)
    assert max(len(line) for line in lines) <= 80, run.output
    assert any(LONG_EMAIL in line for line in lines), run.output  # a value kept whole
    assert any(line.startswith("created") and "2026-11-03 10:00" in line for line in lines)


def test_a_pipe_gets_tab_separated_lines_with_full_values(listed: Cli) -> None:
    result = listed("orders", "list")
    assert result.exit_code == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split("\t") == [
        "ID", "REF", "STATUS", "CUSTOMER", "ITEMS", "TOTAL", "CUR", "CREATED"
    ]  # fmt: skip
    rows = [line.split("\t") for line in lines]
    assert len(rows) == _records(listed, ["orders", "list"])
    assert {len(row) for row in rows} == {8}
    assert LONG_EMAIL in [row[3] for row in rows]  # full values
    assert all(TIMESTAMP.match(row[7]) for row in rows)  # ISO times
    assert ANSI not in result.stdout and "│" not in result.stdout and "━" not in result.stdout
    no_headers = listed("orders", "list", "--no-headers").stdout
    assert no_headers.splitlines() == lines


@pytest.mark.parametrize("args", [args for args, _ in LISTS], ids="-".join)
def test_no_headers_on_every_list(listed: Cli, args: list[str]) -> None:
    with_header = listed(*args).stdout.splitlines()
    assert listed(*args, "--no-headers").stdout.splitlines() == with_header[1:]


def test_a_real_pipe_streams_tab_separated_text(listed: Cli) -> None:
    run = run_pipe(listed, ["orders", "list", "--all"])
    assert run.exit_code == 0, run.stderr
    assert run.first_line.rstrip("\n").split("\t")[:3] == ["ID", "REF", "STATUS"]
    assert run.lines == 1 + _records(listed, ["orders", "list"])


def run_pipe(cli: Cli, args: list[str]) -> PipeRun:
    """The installed `orderctl ARGS` as a viewer, stdout on a pipe."""
    return run_in_pipe(args, env=cli.subprocess_env(Role.VIEWER))


# ---- colour: --color > NO_COLOR > CLICOLOR_FORCE > auto ----

PAID = "\x1b[32mpaid\x1b[0m"


@pytest.mark.parametrize(
    ("flag", "env", "coloured"),
    [
        ([], {}, False),
        ([], {"CLICOLOR_FORCE": "1"}, True),
        ([], {"CLICOLOR_FORCE": "0"}, False),
        ([], {"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, False),
        (["--color", "always"], {"NO_COLOR": "1"}, True),
        (["--color", "never"], {"CLICOLOR_FORCE": "1"}, False),
        (["--color", "auto"], {"CLICOLOR_FORCE": "yes"}, True),
    ],
)
def test_colour_in_a_pipe(
    listed: Cli, flag: list[str], env: dict[str, str], coloured: bool
) -> None:
    result = listed(*flag, "orders", "list", env=env)
    assert result.exit_code == 0, result.stderr
    assert (PAID in result.stdout) is coloured, result.stdout
    # Colour only adds escapes: the text is the plain pipe's.
    plain = listed("orders", "list", env={"NO_COLOR": "1"}).stdout
    assert SGR.sub("", result.stdout) == plain


@pytest.mark.parametrize(
    ("flag", "env", "coloured"),
    [([], {}, True), ([], {"NO_COLOR": "1"}, False), (["--color", "never"], {}, False)],
)
def test_colour_on_a_terminal(
    listed: Cli, flag: list[str], env: dict[str, str], coloured: bool
) -> None:
    raw = listed.on_terminal(*flag, "orders", "list", env=env).raw.decode()
    assert ("\x1b[32mpaid" in raw) is coloured, raw
    assert (ANSI in raw) is coloured


# ---- the layout on its own ----


def test_fit_drops_by_rank_then_grows_the_cut_columns() -> None:
    cols = [Column("ID", "id", 1), Column("NOTE", "note", 3), Column("WHEN", "at", 2)]
    assert fit(cols, [4, 20, 16], 80) == [4, 20, 16]
    assert fit(cols, [4, 20, 16], 30) == [4, None, 16]  # the note (rank 3) goes first
    assert fit(cols, [4, 60, 16], 60) == [4, 36, 16]  # capped at 32 to fit, then grown
    assert fit(cols, [4, 60, 16], 40) == [4, None, 16]
    assert fit([Column("NOTE", "note")], [90], 80) == [80]  # the last column is cut


def test_cut_and_compact_time() -> None:
    assert cut("abcdef", 6) == "abcdef" and cut("abcdef", 4) == "abc…"
    assert cut("日本語テキスト", 6) == "日本…"  # wide characters take two cells
    assert compact_time("2026-11-30T14:05:59.123456Z") == "2026-11-30 14:05"
    assert compact_time("2026-11-30T15:05:00+01:00") == "2026-11-30 14:05"
    assert compact_time("not a time") == "not a time"
