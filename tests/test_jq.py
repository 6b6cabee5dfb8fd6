"""`--jq EXPR` (DESIGN.md §12 *Field selection*, docs/output.md): built-in jq over the JSON a
command would print, per line with `-o jsonl`, without access to the environment or files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from helpers import SEED_EMAILS, Cli, database_snapshot, one_error, seed_orders
from orderctl.db import Database
from orderctl.enums import Role
from orderctl.models import Customer
from orderctl.services import order_listing
from orderctl.services.uow import UnitOfWork


def refs(cli: Cli) -> list[str]:
    docs = json.loads(cli("orders", "list", "-o", "json").stdout)
    return [doc["external_ref"] for doc in docs]


def test_jq_on_a_list_prints_strings_raw_one_per_line(cli: Cli, database: Database) -> None:
    seed_orders(database, 3)
    result = cli("orders", "list", "--jq", ".[].external_ref", role=Role.VIEWER)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "".join(ref + "\n" for ref in refs(cli))


def test_other_values_are_compact_json_one_per_line(cli: Cli, database: Database) -> None:
    seed_orders(database, 2)
    listed = cli("orders", "list", "--jq", ".[] | {id, n: (.items | length)}")
    assert listed.stdout == '{"id":2,"n":2}\n{"id":1,"n":2}\n'
    total = json.loads(cli("orders", "show", "1", "-o", "json").stdout)["total"]
    mixed = cli("orders", "show", "1", "--jq", "[.total, .id, null, true], .id, .notes")
    assert mixed.stdout == f'["{total}",1,null,true]\n1\nnull\n'


def test_jq_on_a_show_gets_the_object(cli: Cli, database: Database) -> None:
    seed_orders(database, 1)
    email = SEED_EMAILS[0]
    assert cli("orders", "show", "1", "--jq", ".customer.email").stdout == email + "\n"
    assert cli("orders", "show", "1", "--jq", ".items | length").stdout == "2\n"
    assert cli("orders", "show", "1", "--jq", ".history").stdout == "null\n"
    history = cli("orders", "show", "1", "--json", "history", "--jq", ".history[].action")
    assert history.stdout == "created\n"


def test_jq_applies_to_the_json_fields_selection(cli: Cli, database: Database) -> None:
    seed_orders(database, 2)
    result = cli("orders", "list", "--json", "id,status", "--jq", "map(keys)")
    assert result.stdout == '[["id","status"],["id","status"]]\n'


def test_jq_alone_implies_json_whatever_o_says(cli: Cli, database: Database) -> None:
    seed_orders(database, 2)
    for fmt in ("table", "csv", "json"):
        assert cli("products", "list", "-o", fmt, "--jq", "length").stdout == "2\n", fmt


def test_jsonl_applies_the_expression_to_each_line(cli: Cli, database: Database) -> None:
    seed_orders(database, 3)
    for args in (["--all"], ["--limit", "10"]):
        result = cli("orders", "list", *args, "-o", "jsonl", "--jq", ".external_ref")
        assert result.stdout == "".join(ref + "\n" for ref in refs(cli)), args
    selected = cli("orders", "list", "--all", "-o", "jsonl", "--json", "id", "--jq", ".id")
    assert selected.stdout == "3\n2\n1\n"


def test_jsonl_with_jq_streams(
    cli: Cli, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`orders list --all -o jsonl --jq` prints each batch's results before it reads the
    next batch: what stdout holds when each page query starts is recorded (no sleeps)."""
    seed_orders(database, 12)
    monkeypatch.setattr(order_listing, "STREAM_BATCH", 5)
    from orderctl.repositories.orders import _stream

    # Pages counted in this process (SQLite's forked reader is tested in test_performance.py).
    monkeypatch.setattr(_stream, "_sqlite_stream_in_two", lambda *_args: None)
    printed_at_page: list[int] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT ORDERS."):
            sys.stdout.flush()
            printed_at_page.append(sys.stdout.buffer.getvalue().count(b"\n"))  # type: ignore[attr-defined]

    event.listen(Engine, "before_cursor_execute", record)
    try:
        result = cli("orders", "list", "--all", "-o", "jsonl", "--jq", ".id", role=Role.VIEWER)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(n) for n in range(12, 0, -1)]
    assert printed_at_page == [0, 5, 10], printed_at_page


def test_a_syntax_error_is_a_usage_error_before_any_work(cli: Cli, database: Database) -> None:
    seed_orders(database, 1)
    cli.token(Role.ADMIN)
    before = database_snapshot(database)
    cases = {
        ".[": "error: --jq: syntax error, unexpected end of file at line 1, column 2\n",
        ".a | nosuch": "error: --jq: nosuch/0 is not defined at line 1, column 6\n",
        ".a,\n.b | )": "error: --jq: syntax error, unexpected INVALID_CHARACTER at line 2, "
        "column 6\n",
        "": "error: --jq needs an expression, e.g. --jq '.[].id'\n",
        "  ": "error: --jq needs an expression, e.g. --jq '.[].id'\n",
    }
    for expression, message in cases.items():
        for command in (
            ("orders", "list"),
            ("products", "add", "N", "--name", "N", "--price", "1"),
        ):
            assert one_error(cli(*command, "--jq", expression, role=None), 2) == message
    assert database_snapshot(database) == before


def test_a_runtime_error_is_exit_6_after_what_was_printed(cli: Cli, database: Database) -> None:
    """An expression that parses but fails on the data breaks no usage rule: exit 6 (the
    decision in docs/output.md), the record named in a stream, earlier lines kept."""
    seed_orders(database, 3)
    show = cli("orders", "show", "1", "--jq", ".items.sku")
    assert show.exit_code == 6 and show.stdout == ""
    assert show.stderr == 'error: --jq: Cannot index array with string ("sku")\n'
    stream = cli(
        "orders",
        "list",
        "--all",
        "-o",
        "jsonl",
        "--jq",
        'if .id == 1 then error("no one") else .id end',
    )
    assert stream.exit_code == 6 and stream.stdout == "3\n2\n"
    assert stream.stderr == "error: --jq (record 3): no one\n"


def test_jq_cannot_read_the_environment(cli: Cli, database: Database) -> None:
    """The token and the database URL are in the environment of every scripted run."""
    seed_orders(database, 1)
    env = {"SECRET_FOR_JQ": "s3cret"}
    for expression in ("env", "$ENV", "env.SECRET_FOR_JQ", "$ENV.ORDERCTL_TOKEN",
                       "def f: $ENV; f", '"\\(env)"', "[paths] | length > 0 | env"):  # fmt: skip
        result = cli("orders", "show", "1", "--jq", expression, env=env)
        assert result.exit_code == 0, (expression, result.stderr)
        assert "s3cret" not in result.stdout and "oct_" not in result.stdout, expression
        assert result.stdout in ("{}\n", "null\n", '"{}"\n'), (expression, result.stdout)


def test_jq_cannot_read_files(
    cli: Cli, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libjq reads modules (`include "m"`: ./m.jq) and data (`import "d" as $d`: ./d.json)
    from the working directory; after orderctl's guard they are syntax errors."""
    seed_orders(database, 1)
    (tmp_path / "m.jq").write_text('def leak: "from a file";')
    (tmp_path / "d.json").write_text('{"secret": "from a file"}')
    monkeypatch.chdir(tmp_path)
    for expression in ('include "m"; leak', 'import "m" as m; m::leak', 'import "d" as $d; $d'):
        one_error(cli("orders", "show", "1", "--jq", expression), 2, "syntax error, unexpected")
    for expression, output in (
        ("input_filename", "null\n"),
        ("get_search_list", "[]\n"),
        ("[inputs]", "[]\n"),
    ):
        assert cli("orders", "show", "1", "--jq", expression).stdout == output, expression
    one_error(cli("orders", "show", "1", "--jq", "input"), 6, "input is not available in --jq")
    quiet = cli("orders", "show", "1", "--jq", '.id | debug | stderr | debug("x")')
    assert quiet.stdout == "1\n" and quiet.stderr == ""


def test_hostile_expressions_are_refused_cleanly(cli: Cli, database: Database) -> None:
    seed_orders(database, 1)
    for expression in ("(" * 20000 + "." + ")" * 20000, ".a|" * 50000 + "."):
        one_error(cli("orders", "show", "1", "--jq", expression), 2, "--jq: memory exhausted")
    huge = cli("orders", "show", "1", "--jq", '"' + "x" * 1_000_000 + '" | length')
    assert huge.stdout == "1000000\n"
    limited = cli("orders", "show", "1", "--jq", "[limit(3; repeat(.id))]")
    assert limited.stdout == "[1,1,1]\n"


def test_stored_control_characters(cli: Cli, database: Database) -> None:
    """JSON results carry the exact stored value (JSON-escaped); a raw string result is the
    exact value in a pipe, and escaped on a terminal like every table cell (DESIGN.md §12)."""
    name = "Zoë \x1b]0;owned\x07\u202eRTL\nline ✓"
    with UnitOfWork(database) as u:
        u.customers.add(Customer(email="zoe@example.com", name=name))
        u.commit()
    as_json = cli("customers", "list", "--jq", ".[0] | {name}")
    assert json.loads(as_json.stdout) == {"name": name} and "\x1b" not in as_json.stdout
    raw = cli("customers", "list", "--jq", ".[0].name")
    assert raw.stdout == name + "\n"
    shown = cli.on_terminal("customers", "list", "--jq", ".[0].name")
    assert shown.exit_code == 0
    assert "Zoë \\x1b]0;owned\\x07\\u202eRTL\\nline ✓\n" in shown.output
    assert "\x1b]0" not in shown.raw.decode() and "\u202e" not in shown.raw.decode()
