"""All output goes through here: data on stdout, messages and errors on stderr (DESIGN.md §6).

Nothing from stored data reaches a terminal raw (DESIGN.md §12, docs/output.md): every table
cell and view goes through `printable()` and every stderr line through `message()`, which show
control characters as escapes; cells are handed to Rich as `Text`, never as markup. JSON and
CSV carry the exact stored values.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from orderctl.enums import ColorMode, OutputFormat
from orderctl.parsing import CONTROL_CHARACTERS

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console, RenderableType
    from rich.text import Text

    from orderctl.cli.tables import Column

#: A table's columns in display order: `tables.Column`s (with their rank: which go first when
#: the terminal is narrow) or (header, key) pairs; a dotted key reaches into a nested document.
Columns = Sequence["Column | tuple[str, str]"]

#: `--color`, set by the root callback once per invocation.
_color_mode = ColorMode.AUTO


def set_color(mode: ColorMode) -> None:
    """The global `--color` choice of this invocation."""
    global _color_mode
    _color_mode = mode


def color_enabled(stream: IO[str]) -> bool:
    """Whether output on `stream` is coloured: `--color always|never`, else `NO_COLOR` (any
    non-empty value: no colour), else `CLICOLOR_FORCE` (non-empty and not `0`: colour even in
    a pipe), else colour on a terminal only."""
    if _color_mode is not ColorMode.AUTO:
        return _color_mode is ColorMode.ALWAYS
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("CLICOLOR_FORCE", "0") not in ("", "0"):
        return True
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def _console(stream: IO[str]) -> Console:
    from rich.console import Console

    # Not a terminal: a wide line so views are not squeezed into 80 columns.
    tty = stream.isatty()
    color = color_enabled(stream)
    return Console(
        file=stream,
        width=None if tty else 200,
        # Rich reads NO_COLOR and FORCE_COLOR itself: the choice made above is passed whole.
        color_system=("auto" if tty else "standard") if color else None,
        no_color=not color,
    )


def stdout_width() -> int:
    """The width views on stdout are laid out in: the terminal's, or 200 in a pipe."""
    if not sys.stdout.isatty():
        return 200
    from orderctl.cli.tables import terminal_width

    return terminal_width()


def stdout_console() -> Console:
    """The Rich console of data on stdout."""
    return _console(sys.stdout)


def stderr_console() -> Console:
    """The Rich console of messages and progress on stderr."""
    return _console(sys.stderr)


#: What a table cell escapes: the control characters, and the backslash that starts an escape.
_CELL_SPECIAL = re.compile(r"\\|" + CONTROL_CHARACTERS.pattern)
_NAMED = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` as a table cell shows it: one line with no control character (ESC, C1, bidi
    overrides, newline, tab...) but its escape (`\\x1b`, `\\u202e`, `\\n`, `\\t`), and a backslash
    doubled, so a shown cell maps back to exactly one stored value."""
    if "\\" not in text and CONTROL_CHARACTERS.search(text) is None:
        return text  # nearly every cell: no copy, no substitution
    return _CELL_SPECIAL.sub(_escape, text)


def cell_string(value: Any) -> str:
    """A value as one table cell shows it (`printable`; None is empty, booleans yes/no)."""
    return printable(_cell(value))


def cell_text(value: Any, style: str = "") -> Text:
    """A value for a Rich table or view: `printable`, and `Text` so `[bold]` in it stays text."""
    from rich.text import Text

    return Text(cell_string(value), style=style)


def _one_line(text: str) -> str:
    # Messages are for people and often quote values with repr(), which already doubles
    # backslashes: only control characters are escaped here, not the backslash.
    if CONTROL_CHARACTERS.search(text) is None:
        return text
    return CONTROL_CHARACTERS.sub(_escape, text)


def message(text: str) -> None:
    """A message for the person at the terminal (stderr, plain text, never markup).

    Its own line breaks are kept (a plan of several lines); any other control character, from
    a stored value or an exception's text, is shown escaped."""
    lines = text.rstrip("\n").split("\n")
    sys.stderr.write("\n".join(_one_line(line) for line in lines) + "\n")
    sys.stderr.flush()


def error(text: str) -> None:
    """`error: <text>` on stderr, always one line (exceptions quote stored values)."""
    message(_one_line(f"error: {text}".rstrip("\n")))


def warning(text: str) -> None:
    """`warning: <text>` on stderr, always one line."""
    message(_one_line(f"warning: {text}".rstrip("\n")))


def write_text(text: str) -> None:
    """Plain text data on stdout, as is (e.g. `maintenance crontab`)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def document(record: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """The JSON document of a record (money as strings, timestamps in ISO 8601 UTC)."""
    if isinstance(record, dict):
        return record
    result: dict[str, Any] = record.model_dump(mode="json")
    return result


def lookup(doc: dict[str, Any], key: str) -> Any:
    """The value at `key` in a document; a dotted key reaches into nested documents."""
    value: Any = doc
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    """A value as text, exactly (CSV cells); tables show it through `printable`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _write_line(text: str) -> None:
    sys.stdout.write(text + "\n")


def render_list(
    records: Iterable[BaseModel | dict[str, Any]],
    fmt: OutputFormat,
    columns: Columns,
    *,
    title: str | None = None,
    empty: str = "no records",
    fields: Sequence[str] | type[BaseModel] | None = None,
    headers: bool = True,
    json_fields: str | None = None,
    jq: str | None = None,
) -> int:
    """Print records in the chosen format, streamed (`tables.write_table` for table and wide:
    fitted on a terminal, tab-separated in a pipe). Returns the count.

    `headers=False` (`--no-headers`) drops a table's header line.

    `fields` (names, or the read schema of the records) is the CSV header when there is no
    record to take it from, so an empty CSV still has its header line; default: the keys of
    `columns`. `json_fields`/`jq` are the `--json`/`--jq` values (cli/fields.py).
    """
    if json_fields is not None or jq is not None:
        from orderctl.cli.fields import select_list

        return select_list(records, fmt, json_fields, jq)
    count = 0
    if fmt is OutputFormat.JSONL:
        for record in records:
            _write_line(json.dumps(document(record), ensure_ascii=False))
            count += 1
    elif fmt is OutputFormat.JSON:
        sys.stdout.write("[")
        for record in records:
            sys.stdout.write(("," if count else "") + "\n  ")
            sys.stdout.write(json.dumps(document(record), ensure_ascii=False))
            count += 1
        sys.stdout.write("\n]\n" if count else "]\n")
    elif fmt is OutputFormat.CSV:
        writer: Any = None
        for record in records:
            flat = _flatten(document(record))
            if writer is None:
                writer = csv.DictWriter(sys.stdout, fieldnames=list(flat), lineterminator="\n")
                writer.writeheader()
            writer.writerow({k: _cell(v) for k, v in flat.items()})
            count += 1
        if writer is None:
            names = _csv_header(fields) if fields is not None else _keys(columns)
            csv.writer(sys.stdout, lineterminator="\n").writerow(names)
    else:
        from orderctl.cli.tables import write_table

        count = write_table(
            records, columns, wide=fmt is OutputFormat.WIDE, headers=headers, title=title
        )
        if not count:
            message(empty)
    sys.stdout.flush()
    return count


def _keys(columns: Columns) -> list[str]:
    from orderctl.cli.tables import columns_of

    return [column.key for column in columns_of(columns)]


def _csv_header(fields: Sequence[str] | type[BaseModel], prefix: str = "") -> list[str]:
    """The CSV header of a schema's documents: its fields, nested documents flattened to
    dotted names as `_flatten` does (lists stay one JSON cell)."""
    if not isinstance(fields, type):
        return list(fields)
    from pydantic import BaseModel

    header: list[str] = []
    for name, info in fields.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            header += _csv_header(kind, f"{prefix}{name}.")
        else:
            header.append(prefix + name)
    return header


def render_json_text(
    documents: Iterable[str],
    fmt: OutputFormat,
    *,
    json_fields: str | None = None,
    jq: str | None = None,
) -> int:
    """Print JSON documents that are already text (streamed `orders list --all`) as `jsonl`
    or one `json` array, without parsing them again (`--json`/`--jq`: cli/fields.py). Returns
    the count."""
    if json_fields is not None or jq is not None:
        from orderctl.cli.fields import select_json_text

        return select_json_text(documents, fmt, json_fields, jq)
    count = 0
    write = sys.stdout.write
    if fmt is OutputFormat.JSONL:
        for text in documents:
            write(text + "\n")
            count += 1
    else:
        write("[")
        for text in documents:
            write(("," if count else "") + "\n  " + text)
            count += 1
        write("\n]\n" if count else "]\n")
    sys.stdout.flush()
    return count


def render_one(
    record: BaseModel | dict[str, Any],
    fmt: OutputFormat,
    *,
    table: Callable[[dict[str, Any]], RenderableType] | None = None,
    json_fields: str | None = None,
    jq: str | None = None,
) -> None:
    """Print one record: its document for json/jsonl/csv, a Rich view (or key/value) for table.
    `json_fields`/`jq` are the `--json`/`--jq` values (cli/fields.py)."""
    if json_fields is not None or jq is not None:
        from orderctl.cli.fields import select_one

        return select_one(record, fmt, json_fields, jq)
    doc = document(record)
    if fmt is OutputFormat.JSON:
        _write_line(json.dumps(doc, ensure_ascii=False, indent=2))
    elif fmt is OutputFormat.JSONL:
        _write_line(json.dumps(doc, ensure_ascii=False))
    elif fmt is OutputFormat.CSV:
        flat = _flatten(doc)
        writer = csv.DictWriter(sys.stdout, fieldnames=list(flat), lineterminator="\n")
        writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in flat.items()})
    else:
        stdout_console().print(table(doc) if table is not None else key_value_table(doc))
    sys.stdout.flush()


def key_value_table(doc: dict[str, Any]) -> RenderableType:
    """One record as `key  value` lines: times compact on a terminal, statuses coloured, and
    a long value wrapped at its spaces within the terminal's width."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in _flatten(doc).items():
        grid.add_row(cell_text(key), view_cell(key, value))
    return grid


def view_cell(key: str, value: Any) -> Text:
    """A value of a view on stdout: as `cell_text`, a time compact on a terminal, a status in
    its colour (`tables.STATUS_STYLES`)."""
    from orderctl.cli.tables import STATUS_STYLES, compact_time, is_status, is_time

    text = cell_string(value)
    if text and is_time(key) and sys.stdout.isatty():
        text = compact_time(text)
    from rich.text import Text

    return Text(text, style=STATUS_STYLES.get(text, "") if is_status(key) else "")


def stderr_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "") -> None:
    """A small Rich table on stderr (summaries of jobs whose stdout carries data, e.g. imports)."""
    from rich.table import Table

    table = Table(title=title or None, show_edge=False, header_style="bold")
    for n, header in enumerate(headers):
        table.add_column(header, justify="left" if n == 0 else "right")
    for row in rows:
        table.add_row(*(cell_text(value) for value in row))
    stderr_console().print(table)


class RowProgress:
    """A Rich progress line with rows and rows/s on stderr; a no-op when disabled."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        self.enabled = enabled
        self.label = label
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> RowProgress:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,.0f} rows"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=stderr_console(),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=None, rate="")
        return self

    def update(self, rows: int) -> None:
        if self._progress is not None:
            elapsed = self._progress.tasks[0].elapsed or 0.0
            rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
            self._progress.update(self._task, completed=rows, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
