"""Option types shared by several command groups."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Annotated, Any

import typer

from orderctl.cli import fields
from orderctl.enums import OutputFormat

Output = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        help="Output format: table (fits the terminal; tab-separated in a pipe), wide (every "
        "column, full values), json, jsonl or csv.",
        case_sensitive=False,
    ),
]


def json_option(*sources: str) -> Any:
    """The `--json FIELDS` option of a command that prints documents of `sources`: each a
    `"module:NAME"` declaring them (a read schema, or a tuple of names such as
    `order_listing.DOCUMENT_FIELDS`), or one more field's plain name. Use it in an alias:
    `ProductJson = Annotated[str | None, json_option("orderctl.schemas:ProductRead")]`, and
    pass the value on as `render_list/render_one(..., json_fields=...)`."""
    return typer.Option(
        "--json",
        metavar="FIELDS",
        callback=fields.json_check(*sources),
        help="Print JSON with just these comma-separated fields (`--json` alone lists them).",
        show_default=False,
    )


#: `--jq EXPR`, on every command that has `--json`; passed on as `jq=` to the render call.
Jq = Annotated[
    str | None,
    typer.Option(
        "--jq",
        metavar="EXPR",
        callback=fields.jq_check,
        help="Filter the JSON output with a jq expression (implies -o json; per line with "
        "-o jsonl).",
        show_default=False,
    ),
]
NoHeaders = Annotated[
    bool,
    typer.Option("--no-headers", help="table/wide: print no header line (for scripts)."),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]


def parse_when_option(value: str | None, *, end_of_day: bool, flag: str) -> datetime | None:
    """A `--since`/`--until` value (`parsing.parse_when`; with `end_of_day` a date means up to
    the end of that day); `UsageError` (exit 2) naming `flag` when it cannot be parsed."""
    from orderctl.errors import UsageError
    from orderctl.parsing import parse_when_or

    return parse_when_or(value, end_of_day=end_of_day, name=flag, error=UsageError)


def read_password(*, from_stdin: bool, confirm: bool, prompt: str = "Password") -> str:
    """Read a password from stdin's first line, or prompt (twice when `confirm`) on a terminal.

    Raises `UsageError` when there is no way to get one (no terminal and no --password-stdin).
    """
    import sys

    from orderctl.errors import UsageError

    stdin = sys.stdin  # None when the process was started with stdin closed (`<&-`)
    if from_stdin:
        try:
            line = stdin.readline() if stdin is not None else ""
        except UnicodeDecodeError:
            raise UsageError("the password on stdin is not valid UTF-8") from None
        except (OSError, ValueError):  # a closed or unreadable stdin
            line = ""
        password = line.rstrip("\r\n")
        if not password:
            raise UsageError("no password on stdin (expected it on the first line)")
        return password
    if stdin is None or stdin.closed or not stdin.isatty():
        raise UsageError("stdin is not a terminal: pass the password with --password-stdin")
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return value


def stdin_bytes() -> IO[bytes]:
    """stdin as a binary stream, for a FILE argument of `-`.

    Raises `UsageError` (exit 2) when the process was started with stdin closed (`<&-`).
    """
    import sys

    from orderctl.errors import UsageError

    if sys.stdin is None:
        raise UsageError("stdin is closed: pipe the input in, or give a file path")
    return sys.stdin.buffer
